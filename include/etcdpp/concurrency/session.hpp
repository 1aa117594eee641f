// SPDX-License-Identifier: Apache-2.0
// A Session is a lease that the client keeps alive for as long as the Session lives. The locks
// (mutex.hpp, rw_mutex.hpp) and the elections (election.hpp) of this namespace hang their keys
// on a session's lease, so that they go when the process that holds them dies.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <asio/any_io_executor.hpp>

#include "etcdpp/client.hpp"
#include "etcdpp/detail/async.hpp"

namespace etcdpp::detail {
class SessionCore;
struct SessionAccess;
}

namespace etcdpp::concurrency {

/// Where a session stands.
enum class SessionState {
  alive,    ///< Its lease is kept alive.
  revoked,  ///< etcd said the lease is gone before its time: revoked (by anyone) or unknown.
  expired,  ///< No renewal succeeded within the lease's TTL.
  closed,   ///< close() or orphan() was called, or the Session was destroyed.
};

/// "alive", "revoked", "expired" or "closed".
const char* to_string(SessionState state) noexcept;

/// How a Session gets and keeps its lease.
struct SessionOptions {
  /// The lease's TTL. A process that dies holds its locks and leadership this long at most.
  /// At least 2 s (etcd raises any smaller TTL to its minimum anyway).
  std::chrono::seconds ttl{60};
  /// Adopt this existing lease instead of granting one, for example to take back a lock or a
  /// leadership after a restart. Its TTL is the one it was granted; `ttl` is then ignored.
  LeaseId lease{};
  /// Called once, on `executor`, when the lease is lost (revoked or expired), not after close().
  std::function<void(SessionState)> on_lost;
  /// Where on_lost runs; by default the client's executor.
  asio::any_io_executor executor;
};

/// A lease kept alive, the base of the Mutex, RWMutex and Election of this namespace.
///
/// The keys made on a session (a lock's key, a candidate's key) carry its lease: they go when it
/// is revoked or expires. A lost session is told once (SessionOptions::on_lost) and is queryable
/// (state()); the locks and elections on it then fail with Errc::session_lost.
///
/// **Lifetime** Move-only. Destroying it closes it (the lease is revoked, so its keys go at
/// once), as close() does, but ignores errors; orphan() stops renewing without revoking.
///
/// **Thread safety** Any thread.
///
/// **Errors** The constructor throws Error: Errc::invalid_option for a TTL below 2 s,
/// Errc::lease_not_found for a lease to adopt that does not exist, or the error of the grant.
class Session {
 public:
  /// A session that is already closed; assign one to it.
  Session() = default;
  /// Grants a lease (or adopts SessionOptions::lease) and keeps it alive; returns once etcd has
  /// answered the first renewal.
  explicit Session(Client client, SessionOptions options = {});
  /// Takes over `other`'s lease; `other` is left closed, as a default-made Session.
  Session(Session&&) noexcept;
  /// Closes this session (revoking its lease, ignoring errors), then takes over `other`'s.
  Session& operator=(Session&&) noexcept;
  ~Session();

  /// Makes a Session asynchronously.
  /// Handler signature: `void(std::exception_ptr, Session)`. Executor: the handler's associated
  /// executor, else the client's. Object lifetimes: the arguments are copied.
  template <class Token>
  static auto async_create(Client client, SessionOptions options, Token&& token) {
    auto executor = client.executor();
    return etcdpp::detail::initiate<Session>(
        executor, std::forward<Token>(token),
        [client = std::move(client), options = std::move(options)](auto callback, auto) {
          start_create(client, options, std::move(callback));
        });
  }

  /// The lease.
  LeaseId lease() const noexcept;
  /// The lease's TTL as granted.
  std::chrono::seconds ttl() const noexcept;
  /// The client the session was made with.
  const Client& client() const;
  /// Where the session stands now; SessionState::closed for a default-made or moved-from one.
  SessionState state() const noexcept;
  /// Whether state() is SessionState::alive.
  bool alive() const noexcept { return state() == SessionState::alive; }

  /// Stops renewing and revokes the lease: its keys (locks held, candidacies) go at once.
  /// Idempotent. Throws Error when etcd cannot be told (the lease then expires after its TTL).
  void close();
  /// Stops renewing without revoking: the lease and its keys live until its TTL runs out
  /// (another process may adopt it meanwhile, SessionOptions::lease).
  void orphan() noexcept;

 private:
  friend struct etcdpp::detail::SessionAccess;
  static void start_create(const Client& client, const SessionOptions& options,
                           etcdpp::detail::Callback<Session> callback);
  explicit Session(std::shared_ptr<etcdpp::detail::SessionCore> core) : core_(std::move(core)) {}
  std::shared_ptr<etcdpp::detail::SessionCore> core_;
};

}  // namespace etcdpp::concurrency
