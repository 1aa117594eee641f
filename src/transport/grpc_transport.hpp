// SPDX-License-Identifier: Apache-2.0
// The gRPC transport: one channel per endpoint; unary calls and streams on a completion queue
// of its own, driven by one thread that is also gRPC's poller (docs/adr/0004), with protobuf
// messages in and out and no generated service code; failover between endpoints, and retries
// with capped exponential backoff and jitter, timed by grpc::Alarm.
//
// What the files of src/transport/grpc_*.cpp share. grpc_transport.cpp makes and destroys the
// transport and its channels (TLS credentials, channel arguments); grpc_endpoints.cpp chooses
// endpoints and reports their state; grpc_unary.cpp runs unary calls with their retries and
// watchdogs; grpc_auth.cpp gets and renews the auth token; grpc_streams.cpp runs bidirectional
// and server streams.
#pragma once

#include <grpcpp/alarm.h>
#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/completion_queue.h>
#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/async_unary_call.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "transport/transport.hpp"
#include "transport/words.hpp"

namespace etcdpp::transport {

inline std::chrono::system_clock::time_point to_system(Clock::time_point deadline) {
  const auto left = deadline - Clock::now();
  return std::chrono::system_clock::now() +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(left);
}

inline std::int64_t to_ns(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
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
  /// When the call started, and the endpoint of the attempt whose failure `last` is.
  Clock::time_point started;
  std::size_t last_endpoint = 0;
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

inline constexpr Method kAuthenticate{"/etcdserverpb.Auth/Authenticate", true};

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
  // ---- grpc_transport.cpp: construction, channels, destruction ----
  GrpcTransport(const ClientOptions& options, std::vector<Endpoint> endpoints);
  ~GrpcTransport() override;

  void add_endpoints(const std::vector<Endpoint>& endpoints) override;

  /// Whether `e` is reached over TLS: https://, or any host:port once a TLS option is set.
  bool uses_tls(const Endpoint& e) const {
    return e.scheme == Endpoint::Scheme::https ||
           (e.scheme == Endpoint::Scheme::http && options_.tls.any());
  }

  /// Makes the channel of endpoint `e` and publishes it after the others. Serialised by the
  /// constructor or endpoints_mutex_; readers see channels_[i] for i < count().
  void add_channel(const Endpoint& e);

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

  // ---- grpc_unary.cpp: unary calls ----
  void unary(const Method& method, const Message& request, Message* response,
             const UnaryOptions& options, std::function<void(Status)> done) override {
    start_unary(method, request, response, options, std::move(done),
                std::string_view(method.path) == kAuthenticate.path);
  }

  void start_unary(const Method& method, const Message& request, Message* response,
                   const UnaryOptions& options, std::function<void(Status)> done,
                   bool authenticating);

  void on_attempt_done(const std::shared_ptr<UnaryCall>& call, const grpc::Status& status) {
    attempt_done(call, status);
  }

  // ---- grpc_auth.cpp: the auth token ----
  bool has_credentials() const noexcept override { return auth_ != nullptr; }
  std::string token() const override;
  std::uint64_t authentications() const noexcept override {
    return auth_ ? auth_->authentications.load() : 0;
  }
  void refresh_token(const std::string& stale, std::function<void(Status)> done) override;

  // ---- grpc_streams.cpp: bidirectional and server streams ----
  std::unique_ptr<BidiStream> open_stream(
      const Method& method, std::function<std::unique_ptr<Message>()> make_message,
      StreamObserver* observer,
      const std::vector<std::pair<std::string, std::string>>& metadata) override;

  std::size_t server_stream(const Method& method, std::unique_ptr<Message> request,
                            std::function<std::unique_ptr<Message>()> make_message,
                            std::shared_ptr<StreamObserver> observer,
                            const ServerStreamOptions& options) override;

  /// What the words of a failure on `endpoint` depend on, for a read (transport/words.hpp).
  CallFacts facts_of(std::size_t endpoint) const;
  /// A stream's final status on `endpoint`, in etcdpp's words (plain_words).
  Status stream_words(std::size_t endpoint, Status status) const;
  void stream_started(std::size_t endpoint);
  void stream_ended(std::size_t endpoint);
  /// Server streams in flight, cancelled by the destructor (guarded by mutex_).
  void server_stream_started(GrpcServerStream* stream, std::size_t endpoint);
  void server_stream_ending(GrpcServerStream* stream);

  // ---- grpc_endpoints.cpp: endpoint selection and state ----
  void stream_failed(std::size_t k) override { avoid(k); }

  /// Makes calls and streams prefer other endpoints than `k` for a while, and moves the current
  /// endpoint off it.
  void avoid(std::size_t k);

  /// Records that endpoint `k`'s member answered something just now.
  void heard_from(std::size_t k) {
    channels_[k]->last_answer.store(to_ns(Clock::now()), std::memory_order_relaxed);
  }

  std::vector<Endpoint> endpoints() const override;
  /// The number of endpoints (and channels) published so far.
  std::size_t count() const noexcept { return count_.load(std::memory_order_acquire); }

  void note_leader(std::size_t endpoint, bool is_leader) override;
  std::vector<EndpointState> endpoint_states() const override;
  std::size_t choose_endpoint() const;

 private:
  // grpc_unary.cpp
  /// Whether an unavailability on a TLS channel is TLS refusing the connection. A server that
  /// requires a client certificate the client lacks closes the connection just after the
  /// handshake (TLS 1.3), which gRPC reports only as a failed read: with no client certificate
  /// configured, that is named for what it most likely is.
  bool tls_refused(Status& status) const;
  static void cancel(UnaryCall& call);
  void attempt(const std::shared_ptr<UnaryCall>& call);
  /// Abandons the attempt in flight once its member has been silent for silence_limit: no
  /// answer to anything on that endpoint since the later of the attempt's start and the last
  /// answer heard there. A member that answers other calls or streams meanwhile is alive and
  /// merely slow on this one, which then keeps its whole deadline.
  void arm_watchdog(const std::shared_ptr<UnaryCall>& call, Clock::time_point when);
  void attempt_done(const std::shared_ptr<UnaryCall>& call, const grpc::Status& status);
  /// Ends the call with `status`, in etcdpp's words (plain_words), `note` after them.
  void finish(const std::shared_ptr<UnaryCall>& call, Status status, std::string_view note = {});

  // grpc_auth.cpp
  /// Starts `call` with the current token, after authenticating when there is none yet.
  void with_token(const std::shared_ptr<UnaryCall>& call);
  void after_token(const std::shared_ptr<UnaryCall>& call, Status status);
  /// One Authenticate call, on the endpoint calls use; its outcome goes to every waiter.
  void authenticate();

  // grpc_streams.cpp
  void cancel_server_streams();

  /// Counts the transports alive, from before the first member to after the last (see
  /// await_grpc_teardown in grpc_transport.cpp).
  struct Counted {
    Counted();
    ~Counted();
    Counted(const Counted&) = delete;
    Counted& operator=(const Counted&) = delete;
  } counted_;
  ClientOptions options_;
  /// TLS credentials of the endpoints that use TLS; made with the first of them.
  std::shared_ptr<grpc::ChannelCredentials> tls_;
  mutable std::mutex endpoints_mutex_;
  std::vector<Endpoint> endpoints_;  // guarded by endpoints_mutex_ once the constructor is done
  /// An endpoint learnt beyond kMaxEndpoints was logged (once per client); endpoints_mutex_.
  bool said_endpoints_full_ = false;
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

}  // namespace etcdpp::transport
