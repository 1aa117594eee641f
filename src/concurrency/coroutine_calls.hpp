// SPDX-License-Identifier: Apache-2.0
// Internal: what the recipes (Stm, Queue, Barrier, DoubleBarrier, sequential keys, v2) share:
// the Client calls as coroutines, waiting for one event of a watch, and running a coroutine for
// the blocking and the asynchronous face. Every Client call a recipe makes that is about to
// change shape (opening a watch, granting a lease) goes through one function here.
#pragma once

// GCC 12 at -O2 takes the frame allocation of Asio's awaitables for a mismatched new/delete pair
// (a false positive: the frame's operator new and delete are Asio's own, and match). It is
// silenced for the coroutines of every file that includes this.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/use_future.hpp>

#include "etcdpp/client.hpp"
#include "etcdpp/detail/recipe_async.hpp"

namespace etcdpp::detail {

using Deadline = std::optional<std::chrono::steady_clock::time_point>;

/// A deadline `timeout` from now.
inline Deadline deadline_in(std::chrono::milliseconds timeout) {
  return std::chrono::steady_clock::now() + timeout;
}

/// Options of a read of every key under `prefix`, sorted by `target` (ascending) when `limit`
/// is set: the first `limit` of them.
inline GetOptions prefix_read(std::int64_t limit = 0, SortTarget target = SortTarget::key) {
  GetOptions options;
  options.prefix = true;
  options.limit = limit;
  if (limit != 0) {
    options.sort_order = SortOrder::ascend;
    options.sort_target = target;
  }
  return options;
}

/// Options of a watch from `start_revision` on, of puts only or deletes only.
enum class Only { puts, deletes };
inline WatchOptions watch_from(std::int64_t start_revision, Only only, bool prefix = false) {
  WatchOptions options;
  options.prefix = prefix;
  options.start_revision = start_revision;
  options.no_put = only == Only::deletes;
  options.no_delete = only == Only::puts;
  return options;
}

/// The Client's calls, awaited: they throw the Client's Error, naming the call and the key (a
/// transaction's first key). Callers name their options before the co_await: GCC 12 mis-copies
/// an aggregate temporary holding a std::string inside a co_await expression (README, "Known
/// compiler issue").
asio::awaitable<GetResult> co_get(const Client& client, std::string key,
                                  const GetOptions& options);
asio::awaitable<TxnResult> co_txn(const Client& client, Txn txn);
asio::awaitable<PutResult> co_put(const Client& client, std::string key, std::string value);
/// Deletes one key.
asio::awaitable<DeleteResult> co_delete(const Client& client, std::string key);

/// Opens a pulled watch without blocking the coroutine's thread: done once etcd has created it.
asio::awaitable<Watch> open_watch(const Client& client, const std::string& key,
                                  const WatchOptions& options);

/// The one place recipes grant a lease (v2 set with a TTL). TODO(#13): take std::chrono::seconds
/// once the Client does.
LeaseGrantResult grant(const Client& client, std::chrono::seconds ttl);

/// Waits until a watch of `key` with `options` (range, start revision, filters) delivers an event
/// that `match` accepts, and returns it; std::nullopt once `deadline` passes. A watch that ends
/// with an error (a compacted start revision, the client gone) throws Error.
asio::awaitable<std::optional<Event>> wait_event(const Client& client, std::string key,
                                                 const WatchOptions& options,
                                                 std::function<bool(const Event&)> match,
                                                 Deadline deadline);

/// Creates `key` = `value` (with `lease`) if it does not exist: the revision of the put, or
/// std::nullopt when the key was there already.
asio::awaitable<std::optional<std::int64_t>> put_new(const Client& client, std::string key,
                                                     std::string value, LeaseId lease);

/// Creates a key `<prefix>/<nanoseconds since the epoch>` that did not exist (a new name on a
/// collision): its key and create revision.
asio::awaitable<std::pair<std::string, std::int64_t>> put_unique(const Client& client,
                                                                 std::string prefix,
                                                                 std::string value, LeaseId lease);

/// Runs `body` on the client's executor and waits for it: its result, or its exception. Must not
/// be called on that executor's own thread.
template <class T>
T block_on(const Client& client, asio::awaitable<T> body) {
  return asio::co_spawn(client.executor(), std::move(body), asio::use_future).get();
}

/// Runs `body` on `executor` and hands its end to `callback` (the asynchronous face).
template <class T>
void spawn(const asio::any_io_executor& executor, asio::awaitable<T> body,
           RecipeCallback<T> callback) {
  asio::co_spawn(executor, std::move(body),
                 [callback = std::move(callback)](std::exception_ptr e, T result) {
                   callback(e, std::move(result));
                 });
}
inline void spawn(const asio::any_io_executor& executor, asio::awaitable<void> body,
                  RecipeCallback<> callback) {
  asio::co_spawn(executor, std::move(body),
                 [callback = std::move(callback)](std::exception_ptr e) { callback(e); });
}

}  // namespace etcdpp::detail
