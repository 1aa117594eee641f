// SPDX-License-Identifier: Apache-2.0
// The transport seam: everything above it (KV, Txn, and later Watch and Lease) speaks protobuf
// messages through this interface, and only src/transport/ knows how they travel (gRPC today).
#pragma once

#include <google/protobuf/message_lite.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcdpp/client_options.hpp"
#include "etcdpp/detail/async.hpp"
#include "etcdpp/endpoint.hpp"
#include "etcdpp/error.hpp"

namespace etcdpp::transport {

using Message = google::protobuf::MessageLite;
using Clock = std::chrono::steady_clock;

/// A gRPC method by its full path, and whether calling it twice is harmless.
struct Method {
  const char* path;  ///< "/etcdserverpb.KV/Range"
  bool idempotent;
};

/// The outcome of a call: gRPC's status code (0 is OK) and message.
struct Status {
  int code = 0;
  std::string message;
  bool ok() const noexcept { return code == 0; }
};

struct UnaryOptions {
  Clock::time_point deadline;
  /// Overrides Method::idempotent for this call (a read-only Txn is safe to retry).
  bool idempotent = false;
  /// Cancels the call, in flight or waiting to retry; may be null.
  std::shared_ptr<detail::Canceller> canceller;
  /// Pins the call to endpoints()[*endpoint]: one attempt there, no failover, no retry (calls
  /// about one member: its status, its hash, a defragmentation).
  std::optional<std::size_t> endpoint;
};

/// Receives what arrives on a bidirectional stream, on a transport thread; must not block.
class StreamObserver {
 public:
  virtual ~StreamObserver() = default;
  /// A message arrived; `message` is only valid during the call.
  virtual void on_message(const Message& message) = 0;
  /// The stream ended (once, last).
  virtual void on_done(const Status& status) = 0;
};

/// A bidirectional stream. Writes are queued and sent in order. Destroying it cancels the stream
/// and waits until the observer has seen on_done.
class BidiStream {
 public:
  virtual ~BidiStream() = default;
  virtual void write(std::unique_ptr<Message> message) = 0;
  /// Ends the stream from this side (cancels it); on_done follows.
  virtual void cancel() = 0;
  /// The index of the endpoint the stream went to.
  virtual std::size_t endpoint() const noexcept = 0;
};

/// How a server stream (one request, a stream of answers) is started.
struct ServerStreamOptions {
  Clock::time_point deadline;
  /// Cancels the stream; may be null.
  std::shared_ptr<detail::Canceller> canceller;
  /// As in UnaryOptions; empty: the current endpoint.
  std::optional<std::size_t> endpoint;
};

/// What the transport knows of one endpoint now.
struct EndpointState {
  enum class Connectivity { idle, connecting, ready, failing };
  Connectivity connectivity = Connectivity::idle;
  /// Set while calls prefer other endpoints, after a failure on this one.
  std::optional<Clock::time_point> avoided_until;
  std::size_t streams = 0;
  /// Whether its member was the leader at its last status known (see note_leader).
  std::optional<bool> is_leader;
};

class Transport {
 public:
  virtual ~Transport() = default;

  /// Sends `request` and fills `response`, failing over and retrying as the call allows; calls
  /// `done` exactly once, on a transport thread. Both messages must live until then.
  virtual void unary(const Method& method, const Message& request, Message* response,
                     const UnaryOptions& options, std::function<void(Status)> done) = 0;

  /// Opens a stream on the current endpoint; `make_message` gives an empty message of the type
  /// that the server sends. `metadata` is sent with the call (etcd's "hasleader"). The observer
  /// must outlive the stream.
  virtual std::unique_ptr<BidiStream> open_stream(
      const Method& method, std::function<std::unique_ptr<Message>()> make_message,
      StreamObserver* observer,
      const std::vector<std::pair<std::string, std::string>>& metadata = {}) = 0;

  /// Starts a server stream: sends `request`, then hands each answer to `observer` and the end
  /// to its on_done (also for a stream that could not start). The transport owns the stream
  /// and the observer until on_done has returned; destroying the transport cancels it. Returns
  /// the index of the endpoint it went to.
  virtual std::size_t server_stream(const Method& method, std::unique_ptr<Message> request,
                                    std::function<std::unique_ptr<Message>()> make_message,
                                    std::shared_ptr<StreamObserver> observer,
                                    const ServerStreamOptions& options) = 0;

  /// Marks `endpoint` as failing, so that the next stream or call prefers another one: a
  /// stream there broke, went unanswered, or its member lost its leader.
  virtual void stream_failed(std::size_t endpoint) = 0;

  /// The endpoints, in the order of their indices (those given, then those added).
  virtual std::vector<Endpoint> endpoints() const = 0;
  /// Adds the endpoints not known yet, after the others (auto-sync); never removes one. Beyond
  /// kMaxEndpoints in all, the rest are left out, and a log line says so once per transport.
  virtual void add_endpoints(const std::vector<Endpoint>& endpoints) = 0;

  /// Each endpoint's state, in endpoints() order.
  virtual std::vector<EndpointState> endpoint_states() const = 0;
  /// Records whether the member at endpoints()[endpoint] said it was the leader.
  virtual void note_leader(std::size_t endpoint, bool is_leader) = 0;

  // ---- Authentication (ClientOptions::username and password) ----
  // Unary calls get, carry and renew their token inside the transport. Streams carry the token
  // current when they open; their owners ask for a new one when etcd refuses it (see
  // is_token_error) and open the stream again.

  /// Whether the client has credentials.
  virtual bool has_credentials() const noexcept = 0;
  /// The token that calls and new streams carry now; empty before the first authentication,
  /// without credentials, or when auth is off on the server.
  virtual std::string token() const = 0;
  /// Authenticates again unless the token already differs from `stale` (someone else renewed
  /// it), then calls `done` once, on a transport thread: ok, or why authentication failed
  /// (Errc::auth_failed for wrong credentials). Without credentials, `done` gets ok at once.
  virtual void refresh_token(const std::string& stale, std::function<void(Status)> done) = 0;
  /// How many times the client has authenticated successfully.
  virtual std::uint64_t authentications() const noexcept = 0;
};

/// Whether etcd refused a call for want of a valid token: an invalid or expired token, no
/// token where auth is on, or a token older than the auth store. A new token may cure it.
bool is_token_error(std::string_view message) noexcept;

/// The most endpoints a transport serves (ClientOptions refuses more; auto-sync adds no more).
inline constexpr std::size_t kMaxEndpoints = 64;

/// A transport over gRPC channels, one per endpoint.
std::unique_ptr<Transport> make_grpc_transport(const ClientOptions& options,
                                               std::vector<Endpoint> endpoints);

}  // namespace etcdpp::transport
