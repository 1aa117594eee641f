// SPDX-License-Identifier: Apache-2.0
#include "support/fake_transport.hpp"

#include <stdexcept>

namespace etcdpp::test {

std::unique_ptr<transport::Message> copy_message(const transport::Message& message) {
  std::unique_ptr<transport::Message> copy(message.New());
  copy->CheckTypeAndMergeFrom(message);
  return copy;
}

// ---- FakeStream ------------------------------------------------------------------------------

FakeStream::FakeStream(std::string method, std::size_t endpoint,
                       transport::StreamObserver* observer,
                       std::vector<std::pair<std::string, std::string>> metadata)
    : method_(std::move(method)),
      endpoint_(endpoint),
      metadata_(std::move(metadata)),
      observer_(observer) {}

std::size_t FakeStream::written() const {
  std::lock_guard lock(mutex_);
  return written_.size();
}

bool FakeStream::cancelled() const {
  std::lock_guard lock(mutex_);
  return cancelled_;
}

bool FakeStream::released() const {
  std::lock_guard lock(mutex_);
  return released_;
}

bool FakeStream::ended() const {
  std::lock_guard lock(mutex_);
  return ended_;
}

void FakeStream::push(const transport::Message& message) {
  std::lock_guard deliver(deliver_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (ended_ || released_) return;
  }
  observer_->on_message(message);
}

void FakeStream::end(transport::Status status) {
  std::lock_guard deliver(deliver_mutex_);
  transport::StreamObserver* observer = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (ended_ || released_) return;
    ended_ = true;
    observer = observer_;
    observer_ = nullptr;
  }
  observer->on_done(status);
}

void FakeStream::on_write(std::unique_ptr<transport::Message> message) {
  std::lock_guard lock(mutex_);
  // A real stream drops writes once its read side is over; so does this one.
  if (ended_ || released_) return;
  written_.push_back(std::move(message));
}

void FakeStream::on_cancel() {
  // The real stream's on_done (CANCELLED) comes later, on a transport thread: here, when the
  // test ends the stream or the owner lets go of its handle.
  std::lock_guard lock(mutex_);
  cancelled_ = true;
}

void FakeStream::on_release() {
  // As the real handle's destructor: the observer sees on_done before it returns.
  end(transport::Status{1, "cancelled"});
  std::lock_guard deliver(deliver_mutex_);
  std::lock_guard lock(mutex_);
  released_ = true;
}

namespace {

class FakeBidiStream final : public transport::BidiStream {
 public:
  explicit FakeBidiStream(std::shared_ptr<FakeStream> stream) : stream_(std::move(stream)) {}
  ~FakeBidiStream() override { stream_->on_release(); }
  void write(std::unique_ptr<transport::Message> message) override {
    stream_->on_write(std::move(message));
  }
  void cancel() override { stream_->on_cancel(); }
  std::size_t endpoint() const noexcept override { return stream_->endpoint(); }

 private:
  std::shared_ptr<FakeStream> stream_;
};

}  // namespace

// ---- FakeCall --------------------------------------------------------------------------------

FakeCall::FakeCall(std::string method, const transport::Message& request,
                   transport::Message* response, transport::UnaryOptions options,
                   std::function<void(transport::Status)> done)
    : method_(std::move(method)),
      request_(copy_message(request)),
      response_(response),
      options_(std::move(options)),
      done_(std::move(done)) {}

void FakeCall::reply(const transport::Message& response) {
  response_->Clear();
  response_->CheckTypeAndMergeFrom(response);
  auto done = std::move(done_);
  done_ = nullptr;
  done(transport::Status{});
}

void FakeCall::fail(transport::Status status) {
  auto done = std::move(done_);
  done_ = nullptr;
  done(std::move(status));
}

// ---- FakeTransport ---------------------------------------------------------------------------

FakeTransport::FakeTransport(std::size_t endpoints) {
  for (std::size_t i = 0; i < endpoints; ++i) {
    endpoints_.push_back(Endpoint::parse("127.0.0.1:" + std::to_string(2379 + i)));
  }
}

FakeTransport::~FakeTransport() {
  // As the gRPC transport's destructor: calls still in flight end, cancelled.
  std::vector<std::shared_ptr<FakeCall>> calls;
  {
    std::lock_guard lock(mutex_);
    calls.swap(calls_);
  }
  for (auto& call : calls) call->fail(transport::Status{1, "client is shutting down"});
}

std::size_t FakeTransport::streams_opened() const {
  std::lock_guard lock(mutex_);
  return streams_.size();
}

std::shared_ptr<FakeStream> FakeTransport::stream(std::size_t i) const {
  std::lock_guard lock(mutex_);
  if (i >= streams_.size()) {
    throw std::out_of_range("FakeTransport: stream " + std::to_string(i) + " was never opened");
  }
  return streams_[i];
}

std::vector<std::size_t> FakeTransport::failed_endpoints() const {
  std::lock_guard lock(mutex_);
  return failed_;
}

std::vector<std::vector<Endpoint>> FakeTransport::added_endpoints() const {
  std::lock_guard lock(mutex_);
  return added_;
}

std::size_t FakeTransport::pending_calls() const {
  std::lock_guard lock(mutex_);
  return calls_.size();
}

std::shared_ptr<FakeCall> FakeTransport::take_call() {
  std::lock_guard lock(mutex_);
  if (calls_.empty()) throw std::out_of_range("FakeTransport: no call pending");
  auto call = calls_.front();
  calls_.erase(calls_.begin());
  return call;
}

std::size_t FakeTransport::calls_made() const {
  std::lock_guard lock(mutex_);
  return calls_made_;
}

void FakeTransport::unary(const transport::Method& method, const transport::Message& request,
                          transport::Message* response, const transport::UnaryOptions& options,
                          std::function<void(transport::Status)> done) {
  auto call = std::make_shared<FakeCall>(method.path, request, response, options, std::move(done));
  std::lock_guard lock(mutex_);
  ++calls_made_;
  calls_.push_back(std::move(call));
}

std::unique_ptr<transport::BidiStream> FakeTransport::open_stream(
    const transport::Method& method, std::function<std::unique_ptr<transport::Message>()>,
    transport::StreamObserver* observer,
    const std::vector<std::pair<std::string, std::string>>& metadata) {
  std::lock_guard lock(mutex_);
  auto stream = std::make_shared<FakeStream>(method.path, current_, observer, metadata);
  streams_.push_back(stream);
  return std::make_unique<FakeBidiStream>(std::move(stream));
}

std::size_t FakeTransport::server_stream(
    const transport::Method&, std::unique_ptr<transport::Message>,
    std::function<std::unique_ptr<transport::Message>()>,
    std::shared_ptr<transport::StreamObserver> observer, const transport::ServerStreamOptions&) {
  observer->on_done(transport::Status{12, "FakeTransport: server streams are not scripted"});
  std::lock_guard lock(mutex_);
  return current_;
}

void FakeTransport::stream_failed(std::size_t endpoint) {
  std::lock_guard lock(mutex_);
  failed_.push_back(endpoint);
  if (endpoint == current_) current_ = (current_ + 1) % endpoints_.size();
}

std::vector<Endpoint> FakeTransport::endpoints() const {
  std::lock_guard lock(mutex_);
  return endpoints_;
}

void FakeTransport::add_endpoints(const std::vector<Endpoint>& endpoints) {
  std::lock_guard lock(mutex_);
  added_.push_back(endpoints);
  for (const auto& e : endpoints) {
    bool known = false;
    for (const auto& k : endpoints_) known = known || k == e;
    if (!known) endpoints_.push_back(e);
  }
}

std::vector<transport::EndpointState> FakeTransport::endpoint_states() const {
  std::lock_guard lock(mutex_);
  return std::vector<transport::EndpointState>(endpoints_.size());
}

void FakeTransport::note_leader(std::size_t, bool) {}

void FakeTransport::refresh_token(const std::string&, std::function<void(transport::Status)> done) {
  done(transport::Status{});
}

}  // namespace etcdpp::test
