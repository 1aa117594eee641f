// SPDX-License-Identifier: Apache-2.0
// The gRPC transport: one channel per endpoint; unary calls and streams on a completion queue
// of its own, driven by one thread that is also gRPC's poller (docs/adr/0004), with protobuf
// messages in and out and no generated service code; failover between endpoints, and retries
// with capped exponential backoff and jitter, timed by grpc::Alarm.
#include <absl/synchronization/mutex.h>
#include <grpcpp/alarm.h>
#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/async_stream.h>
#include <grpcpp/support/async_unary_call.h>
#include <grpcpp/support/client_callback.h>
#include <pthread.h>

#include <array>
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
#include "detail/log_routing.hpp"
#include "transport/retry.hpp"
#include "transport/transport.hpp"

namespace etcdpp::transport {
namespace {

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

/// A read attempt is never abandoned for silence sooner than this.
constexpr std::chrono::milliseconds kMinSilenceLimit{250};

/// Whether a failed call's status came from the server (its member is alive), rather than from
/// the client's side: a deadline, a cancellation, a connection that failed.
bool answered_by_server(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
      return false;
    case grpc::StatusCode::UNAVAILABLE:
      return status.error_message().rfind("etcdserver:", 0) == 0;
    default:
      return true;
  }
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
  /// Until when (steady clock, ns) calls should prefer other endpoints.
  std::atomic<std::int64_t> failing_until{0};
  /// When (steady clock, ns) its member last answered anything: a call's outcome that came from
  /// the server, or a message on one of its streams. A member that answers is alive, however
  /// long one of its calls takes.
  std::atomic<std::int64_t> last_answer{0};
  /// Streams open on it (watch, keep-alive, snapshot).
  std::atomic<std::size_t> streams{0};
  /// Whether its member was the leader at its last known status: -1 unknown, 0 no, 1 yes.
  std::atomic<int> leader{-1};

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

/// What the transport's completion queue returns: each tag knows what to do with its outcome.
struct CqTag {
  virtual void complete(bool ok) = 0;

 protected:
  ~CqTag() = default;
};

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
struct UnaryCall final : CqTag {
  explicit UnaryCall(GrpcTransport& t) : live(t) {}
  /// Finish's tag: comes back once per attempt, `ok` always true; the status says how.
  void complete(bool ok) override;
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
  /// How long an attempt of a read may go without any answer from its member before the read
  /// tries the next endpoint (zero: the whole deadline; see arm_watchdog).
  std::chrono::nanoseconds silence_limit{0};
  /// When the attempt in flight started (steady clock, ns).
  std::int64_t attempt_started = 0;

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
  /// Wakes at silence_limit into an attempt, to abandon it if its member has said nothing; the
  /// previous one is kept until the next is set (an alarm is not destroyed in its own callback).
  std::unique_ptr<grpc::Alarm> watchdog;
  std::unique_ptr<grpc::Alarm> spent_watchdog;
  /// An attempt is in flight; it was cancelled because its member went silent.
  bool attempt_running = false;
  bool abandoned = false;

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

class GrpcServerStream;

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
    if (endpoints_.size() > kMaxEndpoints) endpoints_.resize(kMaxEndpoints);
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
    for (const auto& e : endpoints_) {
      if (uses_tls(e) && !tls_) tls_ = tls_credentials(options.tls);
    }
    for (const auto& e : endpoints_) add_channel(e);
    // gRPC is initialised by now (it has read GRPC_VERBOSITY): its lines go where etcdpp says.
    detail::route_transport_logs();
    poller_ = std::make_shared<Poller>();
    poller_->thread = std::thread([poller = poller_] {
      ::pthread_setname_np(::pthread_self(), "etcdpp-poller");
      void* tag = nullptr;
      bool ok = false;
      while (poller->cq.Next(&tag, &ok)) static_cast<CqTag*>(tag)->complete(ok);
    });
  }

  void add_endpoints(const std::vector<Endpoint>& endpoints) override {
    std::lock_guard lock(endpoints_mutex_);
    for (const auto& e : endpoints) {
      if (count_.load(std::memory_order_relaxed) >= kMaxEndpoints) return;
      bool known = false;
      for (const auto& k : endpoints_) known = known || k == e;
      if (known) continue;
      endpoints_.push_back(e);
      add_channel(e);
    }
  }

  /// Makes the channel of endpoint `e` and publishes it after the others. Serialised by the
  /// constructor or endpoints_mutex_; readers see channels_[i] for i < count().
  /// Whether `e` is reached over TLS: https://, or any host:port once a TLS option is set.
  bool uses_tls(const Endpoint& e) const {
    return e.scheme == Endpoint::Scheme::https ||
           (e.scheme == Endpoint::Scheme::http && options_.tls.any());
  }

  void add_channel(const Endpoint& e) {
    const ClientOptions& options = options_;
    const bool tls = uses_tls(e);
    // An endpoint learnt later (auto-sync) may be the first to need TLS.
    if (tls && !tls_) tls_ = tls_credentials(options.tls);
    grpc::ChannelArguments args;
    if (tls && !options.tls.server_name.empty()) {
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
    channel->tls = tls;
    channel->channel = grpc::CreateCustomChannel(
        grpc_target(e), tls ? tls_ : grpc::InsecureChannelCredentials(), args);
    const std::size_t n = count_.load(std::memory_order_relaxed);
    channels_[n] = std::move(channel);
    count_.store(n + 1, std::memory_order_release);
  }

  ~GrpcTransport() override {
    // Cancel what is in flight and wait for its callbacks: they use this object. Cancelled
    // calls end promptly, but the wait is bounded all the same.
    std::unique_lock lock(mutex_);
    closing_ = true;
    // A call in the list is alive: whoever holds it removes it, under this lock, before
    // letting it go.
    for (UnaryCall* call = calls_; call != nullptr; call = call->next) cancel(*call);
    cancel_server_streams();
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

  /// True on the thread that drives the completion queue (and runs every completion).
  bool on_poller_thread() const { return poller_->thread.get_id() == std::this_thread::get_id(); }
  grpc::CompletionQueue& queue() { return poller_->cq; }
  Channel& channel(std::size_t endpoint) { return *channels_[endpoint]; }

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
      if (options_.max_calls_in_flight != 0 && in_flight_ >= options_.max_calls_in_flight) {
        call->done(Status{8, std::to_string(in_flight_) +
                                 " calls are in flight, the most ClientOptions::max_calls_in_flight "
                                 "allows: nothing was sent; wait for some to complete, or raise "
                                 "the bound"});
        return;
      }
      ++in_flight_;
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
    if (call->options.endpoint && *call->options.endpoint >= count()) {
      finish(call, Status{3, "no endpoint " + std::to_string(*call->options.endpoint)});
      return;
    }
    call->endpoint = call->options.endpoint ? *call->options.endpoint : choose_endpoint();
    if (call->options.idempotent && !call->options.endpoint && count() > 1) {
      // A read need not wait out its whole deadline on a member that has stopped answering (a
      // frozen process, a partition that leaves the socket open): after a quarter of it, the
      // next endpoint may serve within the rest.
      call->silence_limit = std::max<std::chrono::nanoseconds>(
          kMinSilenceLimit, (call->options.deadline - Clock::now()) / 4);
    }
    if (auth_ && !call->authenticating) {
      with_token(call);
      return;
    }
    attempt(call);
  }

  std::size_t server_stream(const Method& method, std::unique_ptr<Message> request,
                            std::function<std::unique_ptr<Message>()> make_message,
                            std::shared_ptr<StreamObserver> observer,
                            const ServerStreamOptions& options) override;

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

  void stream_failed(std::size_t k) override { avoid(k); }

  /// Makes calls and streams prefer other endpoints than `k` for a while, and moves the current
  /// endpoint off it.
  void avoid(std::size_t k) {
    if (k >= count()) return;
    channels_[k]->failing_until.store(to_ns(Clock::now() + options_.reconnect_backoff_max),
                                      std::memory_order_relaxed);
    std::size_t expected = k;
    current_.compare_exchange_strong(expected, (k + 1) % count());
  }

  /// Records that endpoint `k`'s member answered something just now.
  void heard_from(std::size_t k) {
    channels_[k]->last_answer.store(to_ns(Clock::now()), std::memory_order_relaxed);
  }

  std::vector<Endpoint> endpoints() const override {
    std::lock_guard lock(endpoints_mutex_);
    return endpoints_;
  }
  /// The number of endpoints (and channels) published so far.
  std::size_t count() const noexcept { return count_.load(std::memory_order_acquire); }

  void stream_started(std::size_t endpoint) {
    channels_[endpoint]->streams.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(mutex_);
    ++streams_;
  }
  void stream_ended(std::size_t endpoint) {
    channels_[endpoint]->streams.fetch_sub(1, std::memory_order_relaxed);
    std::lock_guard lock(mutex_);
    --streams_;
    idle_.notify_all();
  }

  void note_leader(std::size_t endpoint, bool is_leader) override {
    if (endpoint < count()) channels_[endpoint]->leader.store(is_leader ? 1 : 0);
  }

  std::vector<EndpointState> endpoint_states() const override {
    std::vector<EndpointState> out;
    const auto now = to_ns(Clock::now());
    for (std::size_t i = 0, n = count(); i < n; ++i) {
      const auto& c = channels_[i];
      EndpointState state;
      switch (c->channel->GetState(false)) {
        case GRPC_CHANNEL_IDLE:
          state.connectivity = EndpointState::Connectivity::idle;
          break;
        case GRPC_CHANNEL_CONNECTING:
          state.connectivity = EndpointState::Connectivity::connecting;
          break;
        case GRPC_CHANNEL_READY:
          state.connectivity = EndpointState::Connectivity::ready;
          break;
        default:
          state.connectivity = EndpointState::Connectivity::failing;
          break;
      }
      const auto until = c->failing_until.load(std::memory_order_relaxed);
      if (until > now) {
        state.avoided_until = Clock::time_point(std::chrono::nanoseconds(until));
        // A call failed on it lately, whatever gRPC says of the connection since.
        if (state.connectivity != EndpointState::Connectivity::ready) {
          state.connectivity = EndpointState::Connectivity::failing;
        }
      }
      state.streams = c->streams.load(std::memory_order_relaxed);
      const int leader = c->leader.load();
      if (leader >= 0) state.is_leader = leader == 1;
      out.push_back(state);
    }
    return out;
  }
  std::size_t choose_endpoint() const {
    // The current endpoint unless it failed recently; else the next that did not; else the one
    // whose failure is oldest (its channel may well have reconnected by now).
    const auto now = to_ns(Clock::now());
    const std::size_t n = count();
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
  void on_attempt_done(const std::shared_ptr<UnaryCall>& call, const grpc::Status& status) {
    attempt_done(call, status);
  }
  /// Server streams in flight, cancelled by the destructor (guarded by mutex_).
  void server_stream_started(GrpcServerStream* stream, std::size_t endpoint);
  void server_stream_ending(GrpcServerStream* stream);

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
    const UnaryOptions options{Clock::now() + options_.call_timeout, true, nullptr, std::nullopt};
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
        call->abandoned = false;
        call->attempt_running = true;
        call->attempt_started = to_ns(Clock::now());
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
    if (call->silence_limit.count() > 0) arm_watchdog(call, Clock::now() + call->silence_limit);
  }

  /// Abandons the attempt in flight once its member has been silent for silence_limit: no
  /// answer to anything on that endpoint since the later of the attempt's start and the last
  /// answer heard there. A member that answers other calls or streams meanwhile is alive and
  /// merely slow on this one, which then keeps its whole deadline.
  void arm_watchdog(const std::shared_ptr<UnaryCall>& call, Clock::time_point when) {
    std::lock_guard lock(call->mutex);
    if (call->cancelled || !call->context) return;
    if (when >= call->options.deadline) return;  // the deadline comes first anyway
    const int attempt = call->attempt;
    const std::size_t endpoint = call->endpoint;
    call->spent_watchdog = std::move(call->watchdog);
    call->watchdog = std::make_unique<grpc::Alarm>();
    std::weak_ptr<UnaryCall> weak = call;
    call->watchdog->Set(to_system(when), [this, weak, attempt, endpoint](bool fired) {
      auto c = weak.lock();
      if (!fired || !c) return;
      const auto heard = channels_[endpoint]->last_answer.load(std::memory_order_relaxed);
      Clock::time_point silent_since;
      {
        std::lock_guard watchdog_lock(c->mutex);
        if (c->attempt != attempt || c->cancelled || !c->attempt_running) return;
        silent_since = Clock::time_point(std::chrono::nanoseconds(std::max(heard, c->attempt_started)));
        if (Clock::now() - silent_since >= c->silence_limit) {
          c->abandoned = true;
          c->context->TryCancel();
          return;
        }
      }
      arm_watchdog(c, silent_since + c->silence_limit);  // it spoke lately: look again then
    });
  }

  void attempt_done(const std::shared_ptr<UnaryCall>& call, const grpc::Status& status) {
    auto& channel = *channels_[call->endpoint];
    bool abandoned = false;
    {
      std::lock_guard lock(call->mutex);
      if (call->watchdog) call->watchdog->Cancel();
      call->attempt_running = false;
      abandoned = call->abandoned && !call->cancelled;
    }
    if (status.ok()) {
      heard_from(call->endpoint);
      channel.failing_until.store(0, std::memory_order_relaxed);
      finish(call, Status{});
      return;
    }
    if (answered_by_server(status)) heard_from(call->endpoint);
    if (abandoned) {
      // Its member said nothing for silence_limit: it is hung, or cut off with its socket still
      // open. Later calls go elsewhere too; this read tries the next endpoint at once.
      call->last = Status{4, "no answer from " + channel.endpoint.to_string() + " within " +
                                 std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                    call->silence_limit)
                                                    .count()) +
                                 "ms (is its member hung?), nor from the endpoints tried after it"};
      avoid(call->endpoint);
      call->endpoint = choose_endpoint();
      attempt(call);
      return;
    }
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && !call->options.endpoint &&
        count() > 1) {
      // A call (a write) that waited out its deadline while its member said nothing for the
      // last third of it (or more): the next calls should not go there.
      const auto now = to_ns(Clock::now());
      const auto quiet = now - std::max(channel.last_answer.load(std::memory_order_relaxed),
                                        call->attempt_started);
      if (quiet >= (now - call->attempt_started) / 3) avoid(call->endpoint);
    }
    if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && call->last.code != 0) {
      // The deadline ran out during a retry: the earlier attempt's failure (a refused
      // connection, say) tells the caller more than "deadline exceeded" does, and which one a
      // caller sees must not depend on how the time fell between attempts.
      finish(call, call->last);
      return;
    }
    call->last = Status{static_cast<int>(status.error_code()), status.error_message()};
    {
      std::lock_guard lock(call->mutex);
      if (call->cancelled) {
        call->last = Status{1, "cancelled"};
      }
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
    if (call->last.code == 1 || call->options.endpoint) {
      // Cancelled, or pinned to its endpoint: no other attempt. An endpoint found down is
      // avoided by the calls that may go elsewhere, as after any failure there.
      if (call->options.endpoint && call->last.code == 14) {
        channel.failing_until.store(to_ns(Clock::now() + options_.reconnect_backoff_max),
                                    std::memory_order_relaxed);
      }
      finish(call, call->last);
      return;
    }
    const Verdict verdict = classify(call->last.code, call->last.message, call->options.idempotent);
    if (verdict == Verdict::fail) {
      finish(call, call->last);
      return;
    }
    const std::size_t n = count();
    bool immediately = false;
    if (verdict == Verdict::retry_next_endpoint) {
      const auto until = Clock::now() + options_.reconnect_backoff_max;
      channel.failing_until.store(to_ns(until), std::memory_order_relaxed);
      std::size_t expected = call->endpoint;
      current_.compare_exchange_strong(expected, (call->endpoint + 1) % n);
      const std::size_t next = choose_endpoint();
      // Another endpoint that has not failed lately is worth trying at once.
      immediately = next != call->endpoint && channels_[next]->failing_until.load(
                                                  std::memory_order_relaxed) <= to_ns(Clock::now());
      call->endpoint = next;
    } else if (n > 1) {
      call->endpoint = (call->endpoint + 1) % n;
    }
    if (immediately) {
      attempt(call);
      return;
    }
    const auto wait =
        backoff(call->attempt, options_.retry_backoff_base, options_.retry_backoff_max, random01());
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
    --in_flight_;
    if (call->prev != nullptr) {
      call->prev->next = call->next;
    } else {
      calls_ = call->next;
    }
    if (call->next != nullptr) call->next->prev = call->prev;
    call->prev = call->next = nullptr;
  }

  void cancel_server_streams();

  ClientOptions options_;
  /// TLS credentials of the endpoints that use TLS; made with the first of them.
  std::shared_ptr<grpc::ChannelCredentials> tls_;
  static constexpr std::size_t kMaxEndpoints = 64;
  mutable std::mutex endpoints_mutex_;
  std::vector<Endpoint> endpoints_;  // guarded by endpoints_mutex_ once the constructor is done
  std::vector<GrpcServerStream*> server_streams_;  // guarded by mutex_
  // Only ever added to (add_endpoints), published through count_.
  std::array<std::unique_ptr<Channel>, kMaxEndpoints> channels_;
  std::atomic<std::size_t> count_{0};
  std::shared_ptr<Poller> poller_;
  std::atomic<std::size_t> current_{0};

  std::mutex mutex_;
  std::condition_variable idle_;
  UnaryCall* calls_ = nullptr;  // head of the list of calls not yet finished
  std::size_t in_flight_ = 0;   // calls in that list
  std::atomic<std::size_t> live_calls_{0};
  std::size_t streams_ = 0;
  std::atomic<bool> closing_{false};
  std::unique_ptr<AuthState> auth_;
};

Liveness::Liveness(GrpcTransport& t) : transport(t) { transport.call_created(); }
Liveness::~Liveness() { transport.call_destroyed(); }

void UnaryCall::complete(bool) {
  std::shared_ptr<UnaryCall> held = std::move(in_flight);
  live.transport.on_attempt_done(held, held->status);
}

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
      observer->on_done(Status{static_cast<int>(status_.error_code()), status_.error_message()});
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
    observer_->on_done(Status{static_cast<int>(status.error_code()), status.error_message()});
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
