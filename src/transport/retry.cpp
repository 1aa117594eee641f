// SPDX-License-Identifier: Apache-2.0
#include "transport/retry.hpp"

#include <algorithm>

namespace etcdpp::transport {
namespace {

constexpr int kUnavailable = 14;

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

bool never_sent(int code, std::string_view message) noexcept {
  // gRPC fails a call with this text when its load-balancing pick finds no connected
  // subchannel and wait_for_ready is off: the call was never written to any socket. The Go client
  // makes the same decision from the same kind of text ("there is no address available").
  return code == kUnavailable && starts_with(message, "failed to connect to all addresses");
}

Verdict classify(int code, std::string_view message, bool idempotent) noexcept {
  if (code != kUnavailable) return Verdict::fail;
  // etcd answers some requests with UNAVAILABLE itself ("etcdserver: no leader", "leader
  // changed", "request timed out"): the member is alive but cannot serve now. A write that got
  // such an answer reached the server and may still be applied, so only reads try again; another
  // member may have a leader, so they move on.
  const bool from_etcd = starts_with(message, "etcdserver:");
  if (never_sent(code, message)) return Verdict::retry_next_endpoint;
  if (!idempotent) return Verdict::fail;
  return from_etcd ? Verdict::retry : Verdict::retry_next_endpoint;
}

std::chrono::milliseconds backoff(int attempt, std::chrono::milliseconds base,
                                  std::chrono::milliseconds cap, double random01) noexcept {
  // Full jitter (a uniform wait in [0, min(cap, base * 2^attempt))) spreads the retries of many
  // clients after a shared failure, such as a leader election.
  const int shift = std::clamp(attempt - 1, 0, 30);
  const auto ceiling = std::min<long long>(cap.count(), base.count() << shift);
  const auto wait = static_cast<long long>(static_cast<double>(ceiling) * random01);
  return std::chrono::milliseconds(std::max<long long>(1, wait));
}

}  // namespace etcdpp::transport
