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
}  // namespace detail

struct LeaseGrantResult {
  ResponseHeader header;
  LeaseId id{};
  std::int64_t ttl = 0;  ///< Seconds, as granted (etcd may raise a very small TTL).

  bool operator==(const LeaseGrantResult&) const = default;
};

struct LeaseRevokeResult {
  ResponseHeader header;

  bool operator==(const LeaseRevokeResult&) const = default;
};

struct LeaseTimeToLiveResult {
  ResponseHeader header;
  LeaseId id{};
  /// Seconds left; -1 when the lease has expired: etcd no longer has it (granted_ttl is then
  /// 0), or its time is up and etcd has yet to revoke it (granted_ttl as granted). Never below -1.
  std::int64_t ttl = -1;
  std::int64_t granted_ttl = 0;   ///< Seconds, as granted.
  std::vector<std::string> keys;  ///< The keys attached, when asked for.

  bool operator==(const LeaseTimeToLiveResult&) const = default;
};

struct LeaseKeepAliveResult {
  ResponseHeader header;
  LeaseId id{};
  std::int64_t ttl = 0;  ///< Seconds from now; 0 when the lease is gone.

  bool operator==(const LeaseKeepAliveResult&) const = default;
};

/// Why a kept-alive lease is lost.
enum class LeaseLoss {
  revoked,  ///< etcd says the lease is gone while it should still live: revoked (or never was).
  expired,  ///< No renewal succeeded before the lease's TTL ran out.
};

struct KeepAliveOptions {
  /// Called once, on `executor` (default: the client's), when the lease is lost.
  std::function<void(LeaseId, LeaseLoss)> on_lost;
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
  KeepAlive(KeepAlive&&) noexcept;
  KeepAlive& operator=(KeepAlive&&) noexcept;
  ~KeepAlive();

  LeaseId id() const noexcept;
  /// True until the lease is lost.
  bool alive() const noexcept;
  /// Why it was lost; meaningful once alive() is false.
  LeaseLoss loss() const noexcept;
  /// The TTL the last renewal got, in seconds.
  std::int64_t ttl() const noexcept;
  /// Stops renewing (and revokes if KeepAliveOptions::revoke_on_destroy); idempotent.
  void stop() noexcept;

 private:
  friend class Client;
  std::shared_ptr<detail::ClientCore> client_;
  std::shared_ptr<detail::KeepAliveState> state_;
};

}  // namespace etcdpp
