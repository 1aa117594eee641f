// SPDX-License-Identifier: Apache-2.0
// The gRPC transport's making and unmaking: its channels, one per endpoint, with their TLS
// credentials and channel arguments; its poller thread; and its destruction, which waits for
// every call and stream (see grpc_transport.hpp for the whole transport).
#include <absl/synchronization/mutex.h>
#include <grpc/grpc.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <openssl/ssl.h>
#include <pthread.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "detail/log_routing.hpp"
#include "transport/grpc_transport.hpp"

namespace etcdpp::transport {
namespace {

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

// gRPC tears itself down when its last object goes. The objects of a channel that was
// connecting or waiting to reconnect (its subchannels, their HTTP/2 transports) go a little
// after the channel, on one of gRPC's threads, and when one of them is gRPC's last object gRPC
// hands its teardown to a detached thread of its own. A program that ends just after its last
// Client (a test, a command-line tool) would then exit while that thread still joins gRPC's
// threads, racing OpenSSL's exit handler and the program's static destructors: the threads'
// OpenSSL state is lost, and a destructor may run under a thread still at work. So at exit,
// once every transport is gone, etcdpp waits for gRPC's teardown to end, for at most
// kTeardownWait, and only when a transport went shortly before (within kTeardownRecent): the
// leftovers of a channel are gone long before that, so a program that holds gRPC objects of
// its own pays the wait only when it just destroyed a Client.
constexpr auto kTeardownWait = std::chrono::seconds(1);
constexpr auto kTeardownRecent = std::chrono::seconds(5);
std::atomic<int> g_live_transports{0};
std::atomic<std::int64_t> g_last_destroyed{0};  // steady clock, ns; 0: never

void await_grpc_teardown() {
  if (g_live_transports.load() != 0) return;  // a Client outlives main: gRPC stays up
  const std::int64_t last = g_last_destroyed.load();
  if (last == 0 || to_ns(Clock::now()) - last > std::chrono::nanoseconds(kTeardownRecent).count()) {
    return;
  }
  const auto until = Clock::now() + kTeardownWait;
  // False once gRPC's teardown has ended: it holds gRPC's init lock until then.
  while (grpc_is_initialized() != 0 && Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

/// Registers await_grpc_teardown to run at exit, before the exit handlers registered so far
/// (they run in reverse order): once with the first channel, and once more with the first TLS
/// channel, after initialising OpenSSL, which registers OpenSSL's cleanup then. gRPC would
/// initialise it only at its first connection, on one of its threads, after ours: OpenSSL's
/// cleanup would then run first, under gRPC's threads still at work.
void wait_for_grpc_at_exit(bool tls) {
  static std::once_flag any, with_tls;
  std::call_once(tls ? with_tls : any, [tls] {
    if (tls) OPENSSL_init_ssl(0, nullptr);
    std::atexit(await_grpc_teardown);
  });
}

std::string grpc_target(const Endpoint& e) {
  if (e.scheme == Endpoint::Scheme::unix_socket) return "unix:" + e.path;
  return e.to_string();
}

}  // namespace

GrpcTransport::GrpcTransport(const ClientOptions& options, std::vector<Endpoint> endpoints)
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

void GrpcTransport::add_endpoints(const std::vector<Endpoint>& endpoints) {
  std::lock_guard lock(endpoints_mutex_);
  for (const auto& e : endpoints) {
    bool known = false;
    for (const auto& k : endpoints_) known = known || k == e;
    if (known) continue;
    if (count_.load(std::memory_order_relaxed) >= kMaxEndpoints) {
      if (!said_endpoints_full_) {
        said_endpoints_full_ = true;
        detail::log_line(LogSeverity::error,
                         "etcdpp: auto-sync learnt endpoint " + e.to_string() +
                             " (and maybe others) but the client already has " +
                             std::to_string(kMaxEndpoints) +
                             " endpoints, the most it takes; it is not added");
      }
      continue;
    }
    endpoints_.push_back(e);
    add_channel(e);
  }
}

void GrpcTransport::add_channel(const Endpoint& e) {
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
  wait_for_grpc_at_exit(tls);
}

GrpcTransport::~GrpcTransport() {
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

GrpcTransport::Counted::Counted() { g_live_transports.fetch_add(1); }
GrpcTransport::Counted::~Counted() {
  g_last_destroyed.store(to_ns(Clock::now()));
  g_live_transports.fetch_sub(1);
}

Liveness::Liveness(GrpcTransport& t) : transport(t) { transport.call_created(); }
Liveness::~Liveness() { transport.call_destroyed(); }

std::unique_ptr<Transport> make_grpc_transport(const ClientOptions& options,
                                               std::vector<Endpoint> endpoints) {
  return std::make_unique<GrpcTransport>(options, std::move(endpoints));
}

}  // namespace etcdpp::transport
