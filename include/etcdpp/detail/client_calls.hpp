// SPDX-License-Identifier: Apache-2.0
// Internal: the descriptions of the Client's own calls (key-value, transactions, watches and
// leases), which client.hpp's two faces hand to the core (detail/call.hpp). Not part of the
// public API.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "etcdpp/detail/call.hpp"
#include "etcdpp/kv.hpp"
#include "etcdpp/lease.hpp"
#include "etcdpp/txn.hpp"
#include "etcdpp/watch.hpp"

namespace etcdpp {
namespace detail::calls {

// The descriptions of the Client's calls (see detail/call.hpp): each owns its arguments, so that
// nothing of the caller's is read once the call has started, and names its result and the
// cancellation types it honours. The library starts each with one `start` overload.

using CancellerPtr = std::shared_ptr<Canceller>;

struct GetOne {
  using Result = std::optional<KeyValue>;
  static constexpr auto cancellation = kReadCancellation;
  std::string key;
};
struct Get {
  using Result = GetResult;
  static constexpr auto cancellation = kReadCancellation;
  Get(std::string_view k, const GetOptions& o) : key(k), options(o), range_end(o.range_end) {
    options.range_end = {};  // start() points it at range_end, the description's own bytes
  }
  std::string key;
  GetOptions options;
  std::string range_end;
};
struct Put {
  using Result = PutResult;
  static constexpr auto cancellation = kWriteCancellation;
  std::string key;
  std::string value;
  PutOptions options;
};
struct DeleteRange {
  using Result = DeleteResult;
  static constexpr auto cancellation = kWriteCancellation;
  DeleteRange(std::string_view k, const DeleteOptions& o)
      : key(k), options(o), range_end(o.range_end) {
    options.range_end = {};
  }
  std::string key;
  DeleteOptions options;
  std::string range_end;
};
struct RunTxn {
  using Result = TxnResult;
  static constexpr auto cancellation = kWriteCancellation;
  Txn txn;
};
struct Compact {
  using Result = CompactResult;
  static constexpr auto cancellation = kWriteCancellation;
  std::int64_t revision;
  CompactOptions options;
};
struct MakeWatch {
  using Result = etcdpp::Watch;
  static constexpr auto cancellation = kReadCancellation;
  MakeWatch(std::string_view k, const WatchOptions& o, etcdpp::Watch::Callback c)
      : key(k), options(o), range_end(o.range_end), callback(std::move(c)) {
    options.range_end = {};
  }
  std::string key;
  WatchOptions options;
  std::string range_end;
  etcdpp::Watch::Callback callback;
};
struct MakeKeepAlive {
  using Result = etcdpp::KeepAlive;
  static constexpr auto cancellation = kReadCancellation;
  LeaseId id;
  KeepAliveOptions options;
};
struct LeaseGrant {
  using Result = LeaseGrantResult;
  static constexpr auto cancellation = kWriteCancellation;
  std::chrono::seconds ttl;
  LeaseId id;
};
struct LeaseRevoke {
  using Result = LeaseRevokeResult;
  static constexpr auto cancellation = kWriteCancellation;
  LeaseId id;
};
struct LeaseTimeToLive {
  using Result = LeaseTimeToLiveResult;
  static constexpr auto cancellation = kReadCancellation;
  LeaseId id;
  LeaseTimeToLiveOptions options;
};
struct LeaseLeases {
  using Result = std::vector<LeaseId>;
  static constexpr auto cancellation = kReadCancellation;
};
/// Not cancellable: the renewal may have been sent on the keep-alive stream.
struct LeaseKeepAliveOnce {
  using Result = LeaseKeepAliveResult;
  static constexpr auto cancellation = asio::cancellation_type::none;
  LeaseId id;
};

void start(const CallContext&, GetOne, Callback<GetOne::Result>, CancellerPtr);
void start(const CallContext&, Get, Callback<GetResult>, CancellerPtr);
void start(const CallContext&, Put, Callback<PutResult>, CancellerPtr);
void start(const CallContext&, DeleteRange, Callback<DeleteResult>, CancellerPtr);
void start(const CallContext&, RunTxn, Callback<TxnResult>, CancellerPtr);
void start(const CallContext&, Compact, Callback<CompactResult>, CancellerPtr);
void start(const CallContext&, MakeWatch, Callback<etcdpp::Watch>, CancellerPtr);
void start(const CallContext&, MakeKeepAlive, Callback<etcdpp::KeepAlive>, CancellerPtr);
void start(const CallContext&, LeaseGrant, Callback<LeaseGrantResult>, CancellerPtr);
void start(const CallContext&, LeaseRevoke, Callback<LeaseRevokeResult>, CancellerPtr);
void start(const CallContext&, LeaseTimeToLive, Callback<LeaseTimeToLiveResult>, CancellerPtr);
void start(const CallContext&, LeaseLeases, Callback<std::vector<LeaseId>>, CancellerPtr);
void start(const CallContext&, LeaseKeepAliveOnce, Callback<LeaseKeepAliveResult>, CancellerPtr);

}  // namespace detail::calls

}  // namespace etcdpp
