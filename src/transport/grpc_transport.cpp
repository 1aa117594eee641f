// SPDX-License-Identifier: Apache-2.0
// The gRPC transport: one channel per endpoint; unary calls on a completion queue of its own,
// driven by one thread that is also gRPC's poller (docs/adr/0004), and streams on gRPC's
// callback API, both with protobuf messages in and out and no generated service code; failover
// between endpoints, and retries with capped exponential backoff and jitter, timed by
// grpc::Alarm.
#include <absl/synchronization/mutex.h>
#include <grpcpp/alarm.h>
#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/async_unary_call.h>
#include <grpcpp/support/client_callback.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"
#include "transport/retry.hpp"
#include "transport/transport.hpp"

namespace etcdpp::transport {
namespace {

using Stub = grpc::TemplatedGenericStub<Message, Message>;

std::chrono::system_clock::time_point to_system(Clock::time_point deadline) {
  const auto left = deadline - Clock::now();
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(left);
}

std::int64_t to_ns(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

double random01() {
  thread_local std::minstd_rand engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

/// A PEM from a file or from text (ClientOptions::tls); empty when neither is set.
std::string read_pem(const std::string& file, const std::string& pem, const char* field) {
  const auto bad = [&](const std::string& why) {
    throw_error(make_error_code(Errc::invalid_option),
                std::string("ClientOptions::tls.") + field + ": " + why);
  };
  if (!file.empty() && !pem.empty()) bad("set the file or the PEM text, not both");
  if (file.empty()) return pem;
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) bad("cannot read \"" + file + "\"");
  if (text.empty()) bad("cannot read \"" + file + "\" (missing or empty)");
  return text;
}

/// gRPC's TLS credentials from ClientOptions::tls; files are read here, once.
std::shared_ptr<grpc::ChannelCredentials> tls_credentials(const TlsOptions& tls) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = read_pem(tls.ca_file, tls.ca_pem, "ca_file");
  ssl.pem_cert_chain = read_pem(tls.cert_file, tls.cert_pem, "cert_file");
  ssl.pem_private_key = read_pem(tls.key_file, tls.key_pem, "key_file");
  if (ssl.pem_cert_chain.empty() != ssl.pem_private_key.empty()) {
    throw_error(
        make_error_code(Errc::invalid_option),
        "ClientOptions::tls: a client certificate needs its key, and a key its certificate");
  }
  return grpc::SslCredentials(ssl);
}

std::string grpc_target(const Endpoint& e) {
  if (e.scheme == Endpoint::Scheme::unix_socket) return "unix:" + e.path;
  return e.to_string();
}

/// One endpoint's channel, and when it last proved unreachable.
struct Channel {
  Endpoint endpoint;
  bool tls = false;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<Stub> stub;
  /// Until when (steady clock, ns) calls should prefer other endpoints.
  std::atomic<std::int64_t> failing_until{0};

  /// The unary methods registered with this channel, by the address of their path. A
  /// registered method is what generated stubs use: gRPC then starts each call from a
  /// prepared path instead of copying and interning the path string on every call.
  const grpc::internal::RpcMethod& method(const char* path) {
    std::lock_guard lock(methods_mutex);
    for (const auto& m : methods) {
      if (m->name() == path) return *m;
    }
    methods.push_back(std::make_unique<grpc::internal::RpcMethod>(
        path, grpc::internal::RpcMethod::NORMAL_RPC, channel));
    return *methods.back();
  }
  std::mutex methods_mutex;
  std::vector<std::unique_ptr<grpc::internal::RpcMethod>> methods;
};

class GrpcTransport;

/// Counts a call as alive from its creation until the very end of its destruction.
struct Liveness {
  explicit Liveness(GrpcTransport& t);
  ~Liveness();
  Liveness(const Liveness&) = delete;
  Liveness& operator=(const Liveness&) = delete;
  GrpcTransport& transport;
};

/// One unary call, across its attempts. Owned by shared_ptr: the gRPC callback holds it while an
/// attempt is in flight, `retained` while it waits to retry, and the canceller's action holds it
/// weakly.
struct UnaryCall {
  explicit UnaryCall(GrpcTransport& t) : live(t) {}
  // First member, so destroyed last: after the ClientContext, which holds a reference to the
  // channel (see GrpcTransport::~GrpcTransport).
  Liveness live;
  /// The method's path: a string with static storage (Method::path).
  const char* method = nullptr;
  const Message* request = nullptr;
  Message* response = nullptr;
  UnaryOptions options;
  std::function<void(Status)> done;

  int attempt = 0;
  std::size_t endpoint = 0;
  Status last;

  std::mutex mutex;  // guards context, alarm and retained against a concurrent cancel
  // In place rather than on the heap: one allocation less per attempt.
  std::optional<grpc::ClientContext> context;
  /// The attempt in flight on the transport's completion queue (in the call's arena; destroyed
  /// before its context) and its outcome; `in_flight` holds the call until the queue returns it.
  std::unique_ptr<grpc::ClientAsyncResponseReader<Message>> reader;
  grpc::Status status;
  std::shared_ptr<UnaryCall> in_flight;
  std::unique_ptr<grpc::Alarm> alarm;
  /// Holds the call while it waits for its retry alarm (whose callback holds it only weakly).
  std::shared_ptr<UnaryCall> retained;
  bool cancelled = false;

  /// The token this call's attempts carry, whether it is Authenticate itself (which carries
  /// none), and whether it has authenticated again already (once per call, never a loop).
  std::string token;
  bool authenticating = false;
  bool reauthenticated = false;

  // The transport's list of calls in flight (guarded by GrpcTransport::mutex_): an intrusive
  // list, so that starting a call allocates no node and hashes nothing.
  UnaryCall* prev = nullptr;
  UnaryCall* next = nullptr;
};

class GrpcStream;

constexpr Method kAuthenticate{"/etcdserverpb.Auth/Authenticate", true};

/// The client's credentials and its current token. A token is asked for on first need, and
/// again when etcd refuses one; calls that need it meanwhile wait in `waiters`.
struct AuthState {
  std::string username;
  std::string password;
  mutable std::mutex mutex;
  enum class Phase { none, token, auth_off } phase = Phase::none;
  std::string token;
  bool busy = false;  // an Authenticate call is in flight
  std::vector<std::function<void(Status)>> waiters;
  std::atomic<std::uint64_t> authentications{0};
};

/// The completion queue of a transport's unary calls and the thread that drives it. That thread
/// is gRPC's poller as well (it reads the sockets while it waits in Next), so an answer is read
/// and completed on one thread, with no hand-off between gRPC threads. Shared with the thread,
/// so that it stays valid should the transport be destroyed from a completion.
struct Poller {
  grpc::CompletionQueue cq;
  std::thread thread;
};

class GrpcTransport final : public Transport {
 public:
  GrpcTransport(const ClientOptions& options, std::vector<Endpoint> endpoints)
      : options_(options), endpoints_(std::move(endpoints)) {
    if (!options.username.empty()) {
      auth_ = std::make_unique<AuthState>();
      auth_->username = options.username;
      auth_->password = options.password;
    }
    static std::once_flag quiet_absl;
    std::call_once(quiet_absl, [] {
      // Debian builds Abseil without NDEBUG, so every absl::Mutex that gRPC locks or destroys
      // goes through Abseil's debug-only deadlock detector, which keeps a global graph of lock
      // orders under a global lock: about 5% of the client's CPU per request in callgrind
      // (docs/adr/0004). A release build of Abseil skips it; so do we. This only changes
      // Abseil's debugging aid for the whole process, never the behaviour of a lock.
      absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
    });
    std::shared_ptr<grpc::ChannelCredentials> tls;
    const auto uses_tls = [&](const Endpoint& e) {
      return e.scheme == Endpoint::Scheme::https ||
             (e.scheme == Endpoint::Scheme::http && options.tls.any());
    };
    for (const auto& e : endpoints_) {
      if (uses_tls(e) && !tls) tls = tls_credentials(options.tls);
    }
    for (const auto& e : endpoints_) {
      grpc::ChannelArguments args;
      if (uses_tls(e) && !options.tls.server_name.empty()) {
        args.SetSslTargetNameOverride(options.tls.server_name);
      }
      args.SetMaxSendMessageSize(options.max_send_message_size);
      args.SetMaxReceiveMessageSize(options.max_receive_message_size);
      if (options.keepalive_time.count() > 0) {
        // etcd refuses pings more often than every 5 s and pings without a stream
        // (--grpc-keepalive-min-time, PermitWithoutStream=false), so neither is sent.
        args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(options.keepalive_time.count()));
        args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                    static_cast<int>(options.keepalive_timeout.count()));
        args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
      }
      // gRPC's default reconnect backoff grows to 120 s: a member back after a restart would
      // stay unused for minutes. Cap it so that calls resume within about a second.
      args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
      args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
                  static_cast<int>(options.reconnect_backoff_max.count()));
      args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
                  static_cast<int>(options.connect_timeout.count()));
      // Bandwidth-delay probing sizes flow-control windows for bulk transfers; etcd's messages
      // are small, and its ping timers wake gRPC's timer manager, which then starts threads.
      args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
      // gRPC keeps subchannels in a process-wide pool by default, so two channels with equal
      // arguments share one TCP connection: separate Client objects would then all queue on
      // one connection and one HTTP/2 flow. Each Client (its copies still share it) gets a
      // connection of its own, as each clientv3.Client of the Go client does.
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      // etcdpp retries calls itself (retry.hpp: only what is safe to send again, across
      // endpoints), so gRPC's own retry layer, on by default, would only add a filter that
      // buffers every call's messages. Channelz's per-call counters serve no one here.
      args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
      args.SetInt(GRPC_ARG_ENABLE_CHANNELZ, 0);
      auto channel = std::make_unique<Channel>();
      channel->endpoint = e;
      channel->tls = uses_tls(e);
      channel->channel = grpc::CreateCustomChannel(
          grpc_target(e), uses_tls(e) ? tls : grpc::InsecureChannelCredentials(), args);
      channel->stub = std::make_unique<Stub>(channel->channel);
      channels_.push_back(std::move(channel));
    }
    poller_ = std::make_shared<Poller>();
    poller_->thread = std::thread([this, poller = poller_] {
      void* tag = nullptr;
      bool ok = false;
      while (poller->cq.Next(&tag, &ok)) {
        // Finish's tag comes back once per attempt, `ok` always true; the status says how.
        auto* call = static_cast<UnaryCall*>(tag);
        std::shared_ptr<UnaryCall> held = std::move(call->in_flight);
        on_attempt_done(held, held->status);
      }
    });
  }

  ~GrpcTransport() override {
    // Cancel what is in flight and wait for its callbacks: they use this object. Cancelled
    // calls end promptly, but the wait is bounded all the same.
    std::unique_lock lock(mutex_);
    closing_ = true;
    // A call in the list is alive: whoever holds it removes it, under this lock, before
    // letting it go.
    for (UnaryCall* call = calls_; call != nullptr; call = call->next) cancel(*call);
    // A call's last reference dies on a gRPC thread just after its callback, and with it its
    // ClientContext and that context's reference to the channel. Were that the channel's last
    // reference, gRPC would tear its callback queue down from one of that queue's own threads
    // (which joins itself and aborts). So the channels stay until every call is gone.
    idle_.wait_for(lock, std::chrono::seconds(10),
                   [&] { return live_calls_.load() == 0 && streams_ == 0; });
    lock.unlock();
    poller_->cq.Shutdown();
    if (poller_->thread.get_id() == std::this_thread::get_id()) {
      // Destroyed from a completion, on the poller's own thread: it cannot join itself. It
      // holds the queue and ends once Next returns false.
      poller_->thread.detach();
    } else {
      poller_->thread.join();
    }
  }

  void call_created() { live_calls_.fetch_add(1); }
  void call_destroyed() {
    // Only the destructor waits for the count to reach zero, after setting closing_ under the
    // lock; until then nobody needs a notification, and calls pay no lock for it.
    if (live_calls_.fetch_sub(1) == 1 && closing_.load()) {
      std::lock_guard lock(mutex_);
      idle_.notify_all();
    }
  }

  void unary(const Method& method, const Message& request, Message* response,
             const UnaryOptions& options, std::function<void(Status)> done) override {
    start_unary(method, request, response, options, std::move(done),
                std::string_view(method.path) == kAuthenticate.path);
  }

  void start_unary(const Method& method, const Message& request, Message* response,
                   const UnaryOptions& options, std::function<void(Status)> done,
                   bool authenticating) {
    auto call = std::make_shared<UnaryCall>(*this);
    call->authenticating = authenticating;
    call->method = method.path;
    call->request = &request;
    call->response = response;
    call->options = options;
    call->options.idempotent = options.idempotent || method.idempotent;
    call->done = std::move(done);
    {
      std::lock_guard lock(mutex_);
      if (closing_) {
        call->done(Status{1, "client is shutting down"});
        return;
      }
      call->next = calls_;
      if (calls_ != nullptr) calls_->prev = call.get();
      calls_ = call.get();
    }
    if (call->options.canceller) {
      std::weak_ptr<UnaryCall> weak = call;
      const bool live = call->options.canceller->set_action([weak] {
        if (auto c = weak.lock()) cancel(*c);
      });
      if (!live) {
        finish(call, Status{1, "cancelled"});
        return;
      }
    }
    call->endpoint = choose_endpoint();
    if (auth_ && !call->authenticating) {
      with_token(call);
      return;
    }
    attempt(call);
  }

  bool has_credentials() const noexcept override { return auth_ != nullptr; }

  std::string token() const override {
    if (!auth_) return {};
    std::lock_guard lock(auth_->mutex);
    return auth_->token;
  }

  std::uint64_t authentications() const noexcept override {
    return auth_ ? auth_->authentications.load() : 0;
  }

  void refresh_token(const std::string& stale, std::function<void(Status)> done) override {
    if (!auth_) {
      done(Status{});
      return;
    }
    std::unique_lock lock(auth_->mutex);
    if (auth_->phase != AuthState::Phase::none && auth_->token != stale) {
      // Renewed since the caller's token was taken: use the new one.
      lock.unlock();
      done(Status{});
      return;
    }
    auth_->phase = AuthState::Phase::none;
    auth_->token.clear();
    auth_->waiters.push_back(std::move(done));
    if (auth_->busy) return;
    auth_->busy = true;
    lock.unlock();
    authenticate();
  }

  std::unique_ptr<BidiStream> open_stream(
      const Method& method, std::function<std::unique_ptr<Message>()> make_message,
      StreamObserver* observer,
      const std::vector<std::pair<std::string, std::string>>& metadata) override;

  void stream_failed() override {
    const std::size_t k = last_stream_endpoint_.load(std::memory_order_relaxed);
    channels_[k]->failing_until.store(to_ns(Clock::now() + options_.reconnect_backoff_max),
                                      std::memory_order_relaxed);
    std::size_t expected = k;
    current_.compare_exchange_strong(expected, (k + 1) % channels_.size());
  }

  const std::vector<Endpoint>& endpoints() const noexcept override { return endpoints_; }

  void stream_started() {
    std::lock_guard lock(mutex_);
    ++streams_;
  }
  void stream_ended() {
    std::lock_guard lock(mutex_);
    --streams_;
    idle_.notify_all();
  }
  std::size_t choose_endpoint() const {
    // The current endpoint unless it failed recently; else the next that did not; else the one
    // whose failure is oldest (its channel may well have reconnected by now).
    const auto now = to_ns(Clock::now());
    const std::size_t n = channels_.size();
    const std::size_t start = current_.load(std::memory_order_relaxed);
    std::size_t best = start % n;
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t k = (start + i) % n;
      const auto until = channels_[k]->failing_until.load(std::memory_order_relaxed);
      if (until <= now) return k;
      if (until < channels_[best]->failing_until.load(std::memory_order_relaxed)) best = k;
    }
    return best;
  }
  Stub& stub(std::size_t endpoint) { return *channels_[endpoint]->stub; }

 private:
  /// Whether an unavailability on a TLS channel is TLS refusing the connection. A server that
  /// requires a client certificate the client lacks closes the connection just after the
  /// handshake (TLS 1.3), which gRPC reports only as a failed read: with no client certificate
  /// configured, that is named for what it most likely is.
  bool tls_refused(Status& status) const {
    if (status.message.find("Ssl handshake failed") != std::string::npos) return true;
    const bool has_certificate = !options_.tls.cert_file.empty() || !options_.tls.cert_pem.empty();
    if (!has_certificate &&
        status.message.find("failed to connect to all addresses") != std::string::npos &&
        status.message.find("Endpoint read failed") != std::string::npos) {
      status.message =
          "TLS handshake refused by the server (does it require a client certificate?): " +
          status.message;
      return true;
    }
    return false;
  }

  /// Starts `call` with the current token, after authenticating when there is none yet.
  void with_token(const std::shared_ptr<UnaryCall>& call) {
    std::unique_lock lock(auth_->mutex);
    if (auth_->phase != AuthState::Phase::none) {
      call->token = auth_->token;
      lock.unlock();
      attempt(call);
      return;
    }
    auth_->waiters.push_back([this, call](Status status) { after_token(call, std::move(status)); });
    if (auth_->busy) return;
    auth_->busy = true;
    lock.unlock();
    authenticate();
  }

  void after_token(const std::shared_ptr<UnaryCall>& call, Status status) {
    if (!status.ok()) {
      // The call fails with the reason authentication did (wrong credentials, no server).
      finish(call, std::move(status));
      return;
    }
    call->token = token();
    attempt(call);
  }

  /// One Authenticate call, on the endpoint calls use; its outcome goes to every waiter.
  void authenticate() {
    struct Exchange {
      etcdserverpb::AuthenticateRequest request;
      etcdserverpb::AuthenticateResponse response;
    };
    auto exchange = std::make_shared<Exchange>();
    exchange->request.set_name(auth_->username);
    exchange->request.set_password(auth_->password);
    const UnaryOptions options{Clock::now() + options_.call_timeout, true, nullptr};
    start_unary(
        kAuthenticate, exchange->request, &exchange->response, options,
        [this, exchange](Status status) {
          std::vector<std::function<void(Status)>> waiters;
          {
            std::lock_guard lock(auth_->mutex);
            auth_->busy = false;
            if (status.ok()) {
              auth_->phase = AuthState::Phase::token;
              auth_->token = exchange->response.token();
              auth_->authentications.fetch_add(1);
            } else if (status.message == "etcdserver: authentication is not enabled") {
              // As the Go client does: with auth off, calls go without a token. Should auth
              // be turned on later, etcd's "user name is empty" brings us back here.
              auth_->phase = AuthState::Phase::auth_off;
              auth_->token.clear();
              status = Status{};
            }
            waiters.swap(auth_->waiters);
          }
          for (auto& waiter : waiters) waiter(status);
        },
        true);
  }

  static void cancel(UnaryCall& call) {
    std::lock_guard lock(call.mutex);
    call.cancelled = true;
    if (call.context) call.context->TryCancel();
    if (call.alarm) call.alarm->Cancel();
  }

  void attempt(const std::shared_ptr<UnaryCall>& call) {
    ++call->attempt;
    call->response->Clear();
    grpc::ClientContext* context;
    {
      std::lock_guard lock(call->mutex);
      if (call->cancelled) {
        // Cancelled between attempts: finish outside the lock.
        context = nullptr;
      } else {
        call->reader.reset();  // lives in the previous attempt's arena
        call->context.emplace();
        call->context->set_deadline(to_system(call->options.deadline));
        // Fail fast on an endpoint that is down rather than wait for it: the next one may serve.
        call->context->set_wait_for_ready(false);
        if (!call->token.empty()) call->context->AddMetadata("token", call->token);
        context = &*call->context;
      }
    }
    if (context == nullptr) {
      finish(call, Status{1, "cancelled"});
      return;
    }
    auto& channel = *channels_[call->endpoint];
    // What a generated stub's async unary call does, with the channel's registered method, on
    // the transport's own completion queue (see Poller).
    call->in_flight = call;
    call->reader.reset(grpc::internal::ClientAsyncResponseReaderHelper::Create<Message>(
        channel.channel.get(), &poller_->cq, channel.method(call->method), context,
        *call->request));
    call->reader->StartCall();
    call->reader->Finish(call->response, &call->status, call.get());
  }

  void on_attempt_done(const std::shared_ptr<UnaryCall>& call, const grpc::Status& status) {
    auto& channel = *channels_[call->endpoint];
    if (status.ok()) {
      channel.failing_until.store(0, std::memory_order_relaxed);
      finish(call, Status{});
      return;
    }
    call->last = Status{static_cast<int>(status.error_code()), status.error_message()};
    {
      std::lock_guard lock(call->mutex);
      if (call->cancelled) {
        call->last = Status{1, "cancelled"};
      }
    }
    if (call->last.code == 1) {
      finish(call, call->last);
      return;
    }
    if (channel.tls && call->last.code == 14 && tls_refused(call->last)) {
      // A certificate the client does not trust, or a server that refuses the client: no
      // retry cures it, so say so now rather than retry until the deadline.
      finish(call, call->last);
      return;
    }
    if (auth_ && !call->authenticating && !call->reauthenticated &&
        is_token_error(call->last.message)) {
      // The token expired or auth came on: authenticate again, once, and repeat the call once.
      // etcd refused the call before doing anything, so repeating a write is safe.
      call->reauthenticated = true;
      refresh_token(call->token,
                    [this, call](Status outcome) { after_token(call, std::move(outcome)); });
      return;
    }
    const Verdict verdict =
        classify(call->last.code, call->last.message, call->options.idempotent);
    if (verdict == Verdict::fail) {
      finish(call, call->last);
      return;
    }
    const std::size_t n = channels_.size();
    bool immediately = false;
    if (verdict == Verdict::retry_next_endpoint) {
      const auto until = Clock::now() + options_.reconnect_backoff_max;
      channel.failing_until.store(to_ns(until), std::memory_order_relaxed);
      std::size_t expected = call->endpoint;
      current_.compare_exchange_strong(expected, (call->endpoint + 1) % n);
      const std::size_t next = choose_endpoint();
      // Another endpoint that has not failed lately is worth trying at once.
      immediately = next != call->endpoint &&
                    channels_[next]->failing_until.load(std::memory_order_relaxed) <=
                        to_ns(Clock::now());
      call->endpoint = next;
    } else if (n > 1) {
      call->endpoint = (call->endpoint + 1) % n;
    }
    if (immediately) {
      attempt(call);
      return;
    }
    const auto wait = backoff(call->attempt, options_.retry_backoff_base,
                              options_.retry_backoff_max, random01());
    if (Clock::now() + wait >= call->options.deadline) {
      // No time left for another try: report the real failure, not a deadline.
      finish(call, call->last);
      return;
    }
    {
      std::lock_guard lock(call->mutex);
      if (!call->cancelled) {
        call->alarm = std::make_unique<grpc::Alarm>();
        // The alarm keeps its callback: a strong reference there would be a cycle. `retained`
        // holds the call until the alarm fires or is cancelled.
        call->retained = call;
        std::weak_ptr<UnaryCall> weak = call;
        call->alarm->Set(std::chrono::system_clock::now() + wait, [this, weak](bool fired) {
          auto c = weak.lock();
          if (!c) return;
          {
            std::lock_guard retained_lock(c->mutex);
            c->retained.reset();  // `c` holds it now
          }
          if (fired) {
            attempt(c);
          } else {
            finish(c, Status{1, "cancelled"});
          }
        });
        return;
      }
    }
    finish(call, Status{1, "cancelled"});
  }

  void finish(const std::shared_ptr<UnaryCall>& call, Status status) {
    if (call->options.canceller) call->options.canceller->clear_action();
    auto done = std::move(call->done);
    done(std::move(status));
    std::lock_guard lock(mutex_);
    if (call->prev != nullptr) {
      call->prev->next = call->next;
    } else {
      calls_ = call->next;
    }
    if (call->next != nullptr) call->next->prev = call->prev;
    call->prev = call->next = nullptr;
  }

  ClientOptions options_;
  std::vector<Endpoint> endpoints_;
  std::vector<std::unique_ptr<Channel>> channels_;
  std::shared_ptr<Poller> poller_;
  std::atomic<std::size_t> current_{0};
  std::atomic<std::size_t> last_stream_endpoint_{0};

  std::mutex mutex_;
  std::condition_variable idle_;
  UnaryCall* calls_ = nullptr;  // head of the list of calls not yet finished
  std::atomic<std::size_t> live_calls_{0};
  std::size_t streams_ = 0;
  std::atomic<bool> closing_{false};
  std::unique_ptr<AuthState> auth_;
};

Liveness::Liveness(GrpcTransport& t) : transport(t) { transport.call_created(); }
Liveness::~Liveness() { transport.call_destroyed(); }

/// A bidirectional stream on gRPC's callback reactor. Writes are queued and sent one at a time,
/// as the reactor requires.
class GrpcStream final : public BidiStream, public grpc::ClientBidiReactor<Message, Message> {
 public:
  GrpcStream(GrpcTransport& transport, std::size_t endpoint, const std::string& method,
             std::function<std::unique_ptr<Message>()> make_message, StreamObserver* observer,
             const std::vector<std::pair<std::string, std::string>>& metadata)
      : transport_(transport), observer_(observer), incoming_(make_message()) {
    transport_.stream_started();
    for (const auto& [key, value] : metadata) context_.AddMetadata(key, value);
    transport_.stub(endpoint).PrepareBidiStreamingCall(&context_, method, grpc::StubOptions(),
                                                       this);
    // gRPC frees the call's internals as soon as nothing is outstanding, before OnDone; a write
    // from outside a reaction could then touch freed memory. The hold keeps the call until the
    // read side has ended (OnReadDone(false)), after which write() sends nothing.
    AddHold();
    StartRead(incoming_.get());
    StartCall();
  }

  ~GrpcStream() override {
    context_.TryCancel();
    std::unique_lock lock(mutex_);
    finished_cv_.wait(lock, [&] { return finished_; });
  }

  void write(std::unique_ptr<Message> message) override {
    std::lock_guard lock(mutex_);
    if (released_) return;
    queue_.push_back(std::move(message));
    if (!writing_) {
      writing_ = true;
      StartWrite(queue_.front().get());
    }
  }

  void cancel() override { context_.TryCancel(); }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The stream is over; OnDone tells how, once the hold is gone.
      std::lock_guard lock(mutex_);
      released_ = true;
      RemoveHold();
      return;
    }
    observer_->on_message(*incoming_);
    incoming_->Clear();
    StartRead(incoming_.get());
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mutex_);
    queue_.pop_front();
    if (ok && !queue_.empty()) {
      StartWrite(queue_.front().get());
    } else {
      writing_ = false;
    }
  }

  void OnDone(const grpc::Status& status) override {
    observer_->on_done(Status{static_cast<int>(status.error_code()), status.error_message()});
    // Once finished_ is seen, the destructor may free this object: touch no member after it.
    GrpcTransport& transport = transport_;
    {
      std::lock_guard lock(mutex_);
      finished_ = true;
      queue_.clear();
      finished_cv_.notify_all();
    }
    transport.stream_ended();
  }

 private:
  GrpcTransport& transport_;
  StreamObserver* observer_;
  grpc::ClientContext context_;
  std::unique_ptr<Message> incoming_;
  std::mutex mutex_;
  std::condition_variable finished_cv_;
  std::deque<std::unique_ptr<Message>> queue_;
  bool writing_ = false;
  bool released_ = false;  // the hold is gone: no more writes
  bool finished_ = false;
};

std::unique_ptr<BidiStream> GrpcTransport::open_stream(
    const Method& method, std::function<std::unique_ptr<Message>()> make_message,
    StreamObserver* observer, const std::vector<std::pair<std::string, std::string>>& metadata) {
  const std::size_t endpoint = choose_endpoint();
  last_stream_endpoint_.store(endpoint, std::memory_order_relaxed);
  auto with_token = metadata;
  if (std::string t = token(); !t.empty()) with_token.emplace_back("token", std::move(t));
  return std::make_unique<GrpcStream>(*this, endpoint, method.path, std::move(make_message),
                                      observer, with_token);
}

}  // namespace

bool is_token_error(std::string_view message) noexcept {
  return message == "etcdserver: invalid auth token" ||
         message == "etcdserver: user name is empty" ||
         message == "etcdserver: revision of auth store is old";
}

std::unique_ptr<Transport> make_grpc_transport(const ClientOptions& options,
                                               std::vector<Endpoint> endpoints) {
  return std::make_unique<GrpcTransport>(options, std::move(endpoints));
}

}  // namespace etcdpp::transport
