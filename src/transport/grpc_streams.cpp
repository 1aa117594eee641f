// SPDX-License-Identifier: Apache-2.0
// The gRPC transport's streams: bidirectional streams (watch, keep-alive) on the transport's
// completion queue, and server streams (snapshot) on gRPC's callback reactor.
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/async_stream.h>
#include <grpcpp/support/client_callback.h>

#include <deque>

#include "transport/grpc_transport.hpp"
#include "transport/words.hpp"

namespace etcdpp::transport {

Status GrpcTransport::stream_words(std::size_t endpoint, Status status) const {
  if (status.code == 0) return status;
  return plain_words(std::move(status), facts_of(endpoint));
}

void GrpcTransport::stream_started(std::size_t endpoint) {
  channels_[endpoint]->streams.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  ++streams_;
}

void GrpcTransport::stream_ended(std::size_t endpoint) {
  channels_[endpoint]->streams.fetch_sub(1, std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  --streams_;
  idle_.notify_all();
}

namespace {

/// A bidirectional stream on the transport's completion queue: its reads complete on the poller
/// thread that read them from the socket, with no hand-off to another gRPC thread. One read is
/// outstanding at a time, and one write; further writes wait in a queue. The stream owns
/// itself while any operation is outstanding, so that a handle destroyed on the poller thread
/// (which cannot wait for its own completions) lets it finish alone.
class CqStream final : public std::enable_shared_from_this<CqStream> {
 public:
  CqStream(GrpcTransport& transport, std::size_t endpoint, const char* method,
           std::function<std::unique_ptr<Message>()> make_message, StreamObserver* observer,
           const std::vector<std::pair<std::string, std::string>>& metadata)
      : transport_(transport),
        endpoint_(endpoint),
        method_(method),
        observer_(observer),
        incoming_(make_message()) {
    for (const auto& [key, value] : metadata) context_.AddMetadata(key, value);
  }

  void start() {
    transport_.stream_started(endpoint_);
    self_ = shared_from_this();
    std::lock_guard lock(mutex_);
    const grpc::internal::RpcMethod method(method_, grpc::internal::RpcMethod::BIDI_STREAMING);
    stream_.reset(grpc::internal::ClientAsyncReaderWriterFactory<Message, Message>::Create(
        transport_.channel(endpoint_).channel.get(), &transport_.queue(), method, &context_,
        /*start=*/true, &started_));
  }

  void write(std::unique_ptr<Message> message) {
    std::lock_guard lock(mutex_);
    if (read_over_) return;
    queue_.push_back(std::move(message));
    if (running_ && !writing_) write_next_locked();
  }

  void cancel() { context_.TryCancel(); }
  std::size_t endpoint() const noexcept { return endpoint_; }

  /// Cancels and waits until the observer has seen on_done; on the poller thread, where that
  /// cannot happen while it waits, stops calling the observer instead.
  void close() {
    context_.TryCancel();
    std::unique_lock lock(mutex_);
    if (transport_.on_poller_thread()) {
      observer_ = nullptr;
      return;
    }
    done_cv_.wait(lock, [&] { return done_; });
  }

 private:
  struct Op final : CqTag {
    Op(CqStream& s, void (CqStream::*f)(bool)) : stream(s), fn(f) {}
    void complete(bool ok) override { (stream.*fn)(ok); }
    CqStream& stream;
    void (CqStream::*fn)(bool);
  };

  void on_started(bool ok) {
    std::lock_guard lock(mutex_);
    if (!ok) {
      finish_locked();
      return;
    }
    running_ = true;
    stream_->Read(incoming_.get(), &read_);
    if (!queue_.empty() && !writing_) write_next_locked();
  }

  void on_read(bool ok) {
    if (!ok) {
      std::lock_guard lock(mutex_);
      finish_locked();
      return;
    }
    transport_.heard_from(endpoint_);
    // The observer is only cleared on this thread (close), so no lock is needed to read it.
    if (observer_ != nullptr) observer_->on_message(*incoming_);
    incoming_->Clear();
    std::lock_guard lock(mutex_);
    stream_->Read(incoming_.get(), &read_);
  }

  void on_written(bool ok) {
    std::unique_lock lock(mutex_);
    writing_ = false;
    queue_.pop_front();
    if (ok && !read_over_ && !queue_.empty()) {
      write_next_locked();
      return;
    }
    maybe_done(lock);
  }

  void on_finished(bool) {
    std::unique_lock lock(mutex_);
    finished_ = true;
    maybe_done(lock);
  }

  void write_next_locked() {
    writing_ = true;
    stream_->Write(*queue_.front(), &written_);
  }

  /// The read side is over (or the call never started): ask for the status.
  void finish_locked() {
    read_over_ = true;
    stream_->Finish(&status_, &finished_op_);
  }

  /// Once the status is in and no write is outstanding, nothing more comes back: tell the
  /// observer, and let go of this stream.
  void maybe_done(std::unique_lock<std::mutex>& lock) {
    if (!finished_ || writing_ || done_) return;
    queue_.clear();
    StreamObserver* observer = observer_;
    lock.unlock();
    if (observer != nullptr) {
      observer->on_done(transport_.stream_words(
          endpoint_, Status{static_cast<int>(status_.error_code()), status_.error_message()}));
    }
    GrpcTransport& transport = transport_;
    const std::size_t endpoint = endpoint_;
    {
      auto self = std::move(self_);  // may be the last reference: no member is touched after
      lock.lock();
      done_ = true;
      done_cv_.notify_all();
      lock.unlock();
    }
    transport.stream_ended(endpoint);
  }

  GrpcTransport& transport_;
  std::size_t endpoint_;
  const char* method_;
  StreamObserver* observer_;
  // Before stream_, so destroyed after it: the stream lives in the call's arena.
  grpc::ClientContext context_;
  std::unique_ptr<Message> incoming_;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<Message, Message>> stream_;
  grpc::Status status_;
  Op started_{*this, &CqStream::on_started};
  Op read_{*this, &CqStream::on_read};
  Op written_{*this, &CqStream::on_written};
  Op finished_op_{*this, &CqStream::on_finished};
  std::shared_ptr<CqStream> self_;  // while operations are outstanding

  std::mutex mutex_;
  std::condition_variable done_cv_;
  std::deque<std::unique_ptr<Message>> queue_;
  bool running_ = false;    // the call has started: reads and writes may go
  bool writing_ = false;    // a write is outstanding
  bool read_over_ = false;  // reads have ended: no more writes
  bool finished_ = false;   // Finish's status is in
  bool done_ = false;       // on_done has been called
};

/// The handle the transport's users hold: destroying it cancels the stream and waits for the
/// observer's on_done.
class GrpcStream final : public BidiStream {
 public:
  explicit GrpcStream(std::shared_ptr<CqStream> stream) : stream_(std::move(stream)) {}
  ~GrpcStream() override { stream_->close(); }
  void write(std::unique_ptr<Message> message) override { stream_->write(std::move(message)); }
  void cancel() override { stream_->cancel(); }
  std::size_t endpoint() const noexcept override { return stream_->endpoint(); }

 private:
  std::shared_ptr<CqStream> stream_;
};

}  // namespace

std::unique_ptr<BidiStream> GrpcTransport::open_stream(
    const Method& method, std::function<std::unique_ptr<Message>()> make_message,
    StreamObserver* observer, const std::vector<std::pair<std::string, std::string>>& metadata) {
  const std::size_t endpoint = choose_endpoint();
  auto with_token = metadata;
  if (std::string t = token(); !t.empty()) with_token.emplace_back("token", std::move(t));
  auto stream = std::make_shared<CqStream>(*this, endpoint, method.path, std::move(make_message),
                                           observer, with_token);
  stream->start();
  return std::make_unique<GrpcStream>(std::move(stream));
}

/// A server stream on gRPC's callback reactor. It owns itself: it is deleted in OnDone, after
/// its observer's on_done. Cancelled by its Canceller, or by the transport's destructor.
class GrpcServerStream final : public grpc::ClientReadReactor<Message> {
 public:
  GrpcServerStream(GrpcTransport& transport, std::size_t endpoint, const char* path,
                   std::unique_ptr<Message> request,
                   std::function<std::unique_ptr<Message>()> make_message,
                   std::shared_ptr<StreamObserver> observer, const ServerStreamOptions& options)
      : transport_(transport),
        endpoint_(endpoint),
        request_(std::move(request)),
        incoming_(make_message()),
        observer_(std::move(observer)),
        canceller_(options.canceller),
        control_(std::make_shared<Control>()) {
    context_.set_deadline(to_system(options.deadline));
    context_.set_wait_for_ready(false);
    if (std::string t = transport.token(); !t.empty()) context_.AddMetadata("token", std::move(t));
    control_->context = &context_;
    grpc::internal::ClientCallbackReaderFactory<Message>::Create<Message>(
        transport_.channel(endpoint).channel.get(),
        grpc::internal::RpcMethod(path, grpc::internal::RpcMethod::SERVER_STREAMING), &context_,
        request_.get(), this);
  }

  void start() {
    transport_.server_stream_started(this, endpoint_);
    if (canceller_) {
      const bool live = canceller_->set_action([control = control_] { control->cancel(); });
      if (!live) context_.TryCancel();
    }
    StartRead(incoming_.get());
    StartCall();
  }

  void cancel() { control_->cancel(); }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone tells how it ended
    transport_.heard_from(endpoint_);
    observer_->on_message(*incoming_);
    incoming_->Clear();
    StartRead(incoming_.get());
  }

  void OnDone(const grpc::Status& status) override {
    if (canceller_) canceller_->clear_action();
    {
      std::lock_guard lock(control_->mutex);
      control_->context = nullptr;
    }
    observer_->on_done(transport_.stream_words(
        endpoint_, Status{static_cast<int>(status.error_code()), status.error_message()}));
    GrpcTransport& transport = transport_;
    const std::size_t endpoint = endpoint_;
    transport.server_stream_ending(this);
    // The context (and its reference to the channel) goes before the transport may.
    delete this;
    transport.stream_ended(endpoint);
  }

 private:
  /// What a Canceller may still reach once the stream is gone.
  struct Control {
    std::mutex mutex;
    grpc::ClientContext* context = nullptr;
    void cancel() {
      std::lock_guard lock(mutex);
      if (context != nullptr) context->TryCancel();
    }
  };

  GrpcTransport& transport_;
  std::size_t endpoint_;
  grpc::ClientContext context_;
  std::unique_ptr<Message> request_;
  std::unique_ptr<Message> incoming_;
  std::shared_ptr<StreamObserver> observer_;
  std::shared_ptr<detail::Canceller> canceller_;
  std::shared_ptr<Control> control_;
};

void GrpcTransport::server_stream_started(GrpcServerStream* stream, std::size_t endpoint) {
  channels_[endpoint]->streams.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  ++streams_;
  server_streams_.push_back(stream);
  if (closing_) stream->cancel();
}

void GrpcTransport::server_stream_ending(GrpcServerStream* stream) {
  std::lock_guard lock(mutex_);
  std::erase(server_streams_, stream);
}

void GrpcTransport::cancel_server_streams() {
  // Under mutex_: a stream leaves the list under it before it is deleted.
  for (auto* stream : server_streams_) stream->cancel();
}

std::size_t GrpcTransport::server_stream(const Method& method, std::unique_ptr<Message> request,
                                         std::function<std::unique_ptr<Message>()> make_message,
                                         std::shared_ptr<StreamObserver> observer,
                                         const ServerStreamOptions& options) {
  std::size_t endpoint = choose_endpoint();
  if (options.endpoint) {
    if (*options.endpoint >= count()) {
      observer->on_done(Status{3, "no endpoint " + std::to_string(*options.endpoint)});
      return endpoint;
    }
    endpoint = *options.endpoint;
  }
  {
    std::lock_guard lock(mutex_);
    if (closing_) {
      observer->on_done(Status{1, "client is shutting down"});
      return endpoint;
    }
  }
  auto* stream = new GrpcServerStream(*this, endpoint, method.path, std::move(request),
                                      std::move(make_message), std::move(observer), options);
  stream->start();
  return endpoint;
}

}  // namespace etcdpp::transport
