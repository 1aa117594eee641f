// SPDX-License-Identifier: Apache-2.0
// When a failed call may be made again, and how long to wait first. Pure logic, unit-tested.
#pragma once

#include <chrono>
#include <string_view>

namespace etcdpp::transport {

/// What a failed attempt means for the call.
enum class Verdict {
  fail,                ///< Give the error to the caller.
  retry,               ///< Try again, on the same or the next endpoint.
  retry_next_endpoint  ///< The endpoint is unreachable: mark it failing, try the next.
};

/// Decides from an attempt's gRPC status code and message. `idempotent` calls (reads, compact,
/// read-only txns) are retried on any unavailability. Other calls are retried only when the
/// request provably never left the process: gRPC found no connection to send it on.
Verdict classify(int code, std::string_view message, bool idempotent) noexcept;

/// True when the status says no connection could be made (the request was not sent).
bool never_sent(int code, std::string_view message) noexcept;

/// The wait before retry number `attempt` (1 for the first retry): exponential from `base`,
/// capped at `cap`, with full jitter (`random01` uniform in [0, 1)).
std::chrono::milliseconds backoff(int attempt, std::chrono::milliseconds base,
                                  std::chrono::milliseconds cap, double random01) noexcept;

}  // namespace etcdpp::transport
