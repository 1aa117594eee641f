// SPDX-License-Identifier: Apache-2.0
#include "etcdpp/concurrency/sequential_key.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>

#include "concurrency/coroutine_calls.hpp"

namespace etcdpp::concurrency {
namespace detail {

asio::awaitable<SequentialKey> create_sequential(Client client, std::string prefix,
                                                 std::string value, LeaseId lease) {
  if (prefix.empty()) {
    throw Error(make_error_code(Errc::invalid_option),
                "create_sequential_key: the prefix is empty; give the directory the keys go in");
  }
  const std::string dir = prefix + "/";
  const std::string guard = "__" + prefix;
  const std::string digits_end = dir + ":";  // GetOptions::range_end is a view of it
  GetOptions highest;
  highest.range_end = digits_end;
  highest.limit = 1;
  highest.sort_order = SortOrder::descend;
  for (;;) {
    // The highest numbered key (those whose segment starts with a digit, ['0', ':')) and the
    // guard, whose value is the last number given (empty when a Go program wrote it).
    auto read = Txn{}.then({Op::get(dir + "0", highest), Op::get(guard)});
    const TxnResult both = co_await etcdpp::detail::co_txn(client, std::move(read));
    const GetResult& last = both.responses.at(0).get();
    const GetResult& guarded = both.responses.at(1).get();
    std::int64_t next = 0;
    const auto parse = [&](std::string_view text, const std::string& key) {
      std::int64_t n = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec != std::errc() || end != text.data() + text.size()) {
        throw Error(make_error_code(Errc::invalid_option),
                    "create_sequential_key \"" + prefix + "\": key \"" + key +
                        "\" does not hold a number; remove it or use another prefix");
      }
      return n;
    };
    if (!last.kvs.empty()) {
      std::string_view segment = std::string_view(last.kvs.front().key).substr(dir.size());
      next = parse(segment.substr(0, segment.find('/')), last.kvs.front().key) + 1;
    }
    // A number is never given twice, even after the highest key was deleted.
    if (!guarded.kvs.empty() && !guarded.kvs.front().value.empty()) {
      next = std::max(next, parse(guarded.kvs.front().value, guard) + 1);
    }
    char number[32];
    std::snprintf(number, sizeof number, "%016lld", static_cast<long long>(next));
    std::string key = dir + number;
    // Nobody made a key since the read: the guard moves with every key made.
    auto txn = Txn{}
                   .if_(Compare::mod_revision(guard) < both.header.revision + 1)
                   .then(Op::put(guard, std::to_string(next)))
                   .then(Op::put(key, value, {.lease = lease}));
    const TxnResult result = co_await etcdpp::detail::co_txn(client, std::move(txn));
    if (result.succeeded) co_return SequentialKey{std::move(key), next, result.header.revision};
  }
}

}  // namespace detail

SequentialKey create_sequential_key(const Client& client, std::string_view prefix,
                                    std::string_view value, LeaseId lease) {
  return etcdpp::detail::block_on(
      client, detail::create_sequential(client, std::string(prefix), std::string(value), lease));
}

}  // namespace etcdpp::concurrency
