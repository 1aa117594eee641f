// SPDX-License-Identifier: Apache-2.0
// In-order keys: create_sequential_key makes `<prefix>/<16-digit number>` keys whose numbers
// grow with every key made under the prefix, by any client, so listing the prefix by key gives
// them in the order they were made. PriorityQueue (queue.hpp) and v2::create_in_order build on it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "etcdpp/client.hpp"

namespace etcdpp::concurrency {

/// A key made by create_sequential_key.
struct SequentialKey {
  std::string key;            ///< `<prefix>/<number, 16 digits>`.
  std::int64_t number = 0;    ///< Its number: one more than the highest under the prefix.
  std::int64_t revision = 0;  ///< The revision that created it.

  bool operator==(const SequentialKey&) const = default;  ///< Member-wise comparison.
};

/// Creates `<prefix>/<n>` = `value` (n zero-padded to 16 digits), n one more than the highest
/// number under `prefix/` (0 for the first), atomically against other creators.
///
/// Only keys of `prefix/` whose next segment starts with a digit count, so other keys under
/// the prefix and keys of a longer prefix (`q2/...` for `q`) do not disturb it. A guard key
/// `__<prefix>`, written with every new key and holding the last number given, keeps two
/// creators from taking one number and a number from being given again after the highest key
/// is deleted. The layout is that of etcd's Go recipes, which interoperate.
///
/// **Errors** Throws Error: Errc::invalid_option for an empty prefix or a numbered key whose
/// segment is not a number; the failed call's code otherwise.
SequentialKey create_sequential_key(const Client& client, std::string_view prefix,
                                    std::string_view value, LeaseId lease = {});

}  // namespace etcdpp::concurrency
