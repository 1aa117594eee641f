// SPDX-License-Identifier: Apache-2.0
// Leases: the results of Client::lease_grant and friends (client.hpp), and KeepAlive, a lease
// renewed in the background over one stream shared by all the leases of a Client, which says
// when the lease is lost instead of failing silently.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <asio/any_io_executor.hpp>

#include "etcdpp/kv.hpp"

namespace etcdpp {

namespace detail {
class ClientCore;
class KeepAliveState;
struct HandleAccess;
}  // namespace detail

/// What Client::lease_grant answers: the new lease and its TTL.
struct LeaseGrantResult {
  ResponseHeader header;  ///< The header of etcd's response (cluster, member, revision, term).
  LeaseId id{};  ///< The lease's ID: the one asked for, or the one etcd picked.
  std::chrono::seconds ttl{0};  ///< As granted (etcd may raise a very small TTL).

  bool operator==(const LeaseGrantResult&) const = default;  ///< Member-wise comparison.
};

/// What Client::lease_revoke answers.
struct LeaseRevokeResult {
  ResponseHeader header;  ///< The header of etcd's response (cluster, member, revision, term).

  bool operator==(const LeaseRevokeResult&) const = default;  ///< Member-wise comparison.
};

/// Options of Client::lease_time_to_live (etcd's LeaseTimeToLiveRequest).
struct LeaseTimeToLiveOptions {
  /// Also list the keys attached to the lease (LeaseTimeToLiveResult::keys; empty without it).
  bool keys = false;
};

/// What Client::lease_time_to_live answers.
struct LeaseTimeToLiveResult {
  ResponseHeader header;  ///< The header of etcd's response (cluster, member, revision, term).
  LeaseId id{};  ///< The lease asked about.
  /// The time left; -1 s when the lease has expired: etcd no longer has it (granted_ttl is
  /// then 0), or its time is up and etcd has yet to revoke it (granted_ttl as granted). Never
  /// below -1 s.
  std::chrono::seconds ttl{-1};
  std::chrono::seconds granted_ttl{0};  ///< As granted.
  std::vector<std::string> keys;  ///< The keys attached, when asked for.

  bool operator==(const LeaseTimeToLiveResult&) const = default;  ///< Member-wise comparison.
};

/// What Client::lease_keep_alive_once answers.
struct LeaseKeepAliveResult {
  ResponseHeader header;  ///< The header of etcd's response (cluster, member, revision, term).
  LeaseId id{};  ///< The lease renewed.
  /// The time from now; 0 when the lease is gone (the call then fails with
  /// Errc::lease_not_found).
  std::chrono::seconds ttl{0};

  bool operator==(const LeaseKeepAliveResult&) const = default;  ///< Member-wise comparison.
};

/// Why a kept-alive lease is lost.
enum class LeaseLoss {
  revoked,  ///< etcd says the lease is gone while it should still live: revoked (or never was).
  expired,  ///< No renewal succeeded before the lease's TTL ran out.
};

/// Options of Client::keep_alive.
struct KeepAliveOptions {
  /// Called once, on `executor` (default: the client's), when the lease is lost after
  /// keep_alive returned it. A lease already gone when keep_alive is made is reported by
  /// keep_alive's own error (Errc::lease_not_found) instead, and on_lost is not called.
  std::function<void(LeaseId, LeaseLoss)> on_lost;
  /// Where on_lost runs; empty: the client's executor (ClientOptions::executor, else its thread).
  asio::any_io_executor executor;
  /// Revoke the lease when the KeepAlive is destroyed (its keys go at once) instead of letting
  /// it expire.
  bool revoke_on_destroy = false;
};

/// A lease kept alive by the client: renewed about every TTL/3 over the client's one keep-alive
/// stream, on whatever endpoint is healthy. Whether it lives is decided by its deadline (the
/// time of the last successful renewal's request plus the TTL), not by the state of a socket.
///
/// **Lifetime** Destroying it stops the renewals (and revokes the lease if asked to).
/// **Thread safety** Any thread; on_lost runs on the executor.
class KeepAlive {
 public:
  KeepAlive() = default;
  /// Takes over the lease of the KeepAlive moved from, which is left empty.
  KeepAlive(KeepAlive&&) noexcept;
  /// Stops this one's renewals, as stop() does, then takes over the other's lease.
  KeepAlive& operator=(KeepAlive&&) noexcept;
  ~KeepAlive();

  /// The lease kept alive; LeaseId{0} for an empty KeepAlive (default-made, moved from, or
  /// stopped).
  LeaseId id() const noexcept;
  /// True until the lease is lost; false for an empty KeepAlive.
  bool alive() const noexcept;
  /// Why it was lost; meaningful once alive() is false (LeaseLoss::expired when empty).
  LeaseLoss loss() const noexcept;
  /// The TTL the last renewal got; 0 when empty.
  std::chrono::seconds ttl() const noexcept;
  /// Stops renewing (and revokes if KeepAliveOptions::revoke_on_destroy, waiting up to 2 s for
  /// the answer); idempotent. The KeepAlive is empty afterwards.
  void stop() noexcept;

 private:
  friend struct detail::HandleAccess;
  std::shared_ptr<detail::ClientCore> client_;
  std::shared_ptr<detail::KeepAliveState> state_;
};

}  // namespace etcdpp
