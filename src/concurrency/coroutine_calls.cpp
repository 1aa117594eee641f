// SPDX-License-Identifier: Apache-2.0
#include "concurrency/coroutine_calls.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>


namespace etcdpp::detail {
namespace {

constexpr auto as_tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace

asio::awaitable<GetResult> co_get(const Client& client, std::string key,
                                  const GetOptions& options) {
  co_return co_await client.async_get(key, options, asio::use_awaitable);
}

asio::awaitable<TxnResult> co_txn(const Client& client, Txn txn) {
  co_return co_await client.async_txn(txn, asio::use_awaitable);
}

asio::awaitable<PutResult> co_put(const Client& client, std::string key, std::string value) {
  co_return co_await client.async_put(key, value, asio::use_awaitable);
}

asio::awaitable<DeleteResult> co_delete(const Client& client, std::string key) {
  co_return co_await client.async_delete_range(key, asio::use_awaitable);
}

asio::awaitable<Watch> open_watch(const Client& client, const std::string& key,
                                  const WatchOptions& options) {
  const Watch::Callback pulled;  // no callback: batches are pulled with async_next
  co_return co_await client.async_watch(key, options, pulled, asio::use_awaitable);
}

LeaseGrantResult grant(const Client& client, std::chrono::seconds ttl) {
  return client.lease_grant(ttl);
}

asio::awaitable<std::optional<Event>> wait_event(const Client& client, std::string key,
                                                 const WatchOptions& options,
                                                 std::function<bool(const Event&)> match,
                                                 Deadline deadline) {
  using namespace asio::experimental::awaitable_operators;
  Watch watch = co_await open_watch(client, key, options);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  if (deadline) timer.expires_at(*deadline);
  for (;;) {
    std::exception_ptr error;  // the watch's end: Error, or CompactedError with the revision
    WatchBatch batch;
    if (deadline) {
      auto either = co_await (watch.async_next(as_tuple_awaitable) ||
                              timer.async_wait(as_tuple_awaitable));
      if (either.index() == 1) co_return std::nullopt;
      std::tie(error, batch) = std::move(std::get<0>(either));
    } else {
      std::tie(error, batch) = co_await watch.async_next(as_tuple_awaitable);
    }
    if (error) std::rethrow_exception(error);
    for (const Event& event : batch.events) {
      if (match(event)) co_return event;
    }
  }
}

asio::awaitable<std::optional<std::int64_t>> put_new(const Client& client, std::string key,
                                                     std::string value, LeaseId lease) {
  auto txn = Txn{}
                 .if_(Compare::version(key) == 0)
                 .then(Op::put(key, value, {.lease = lease}));
  const TxnResult result = co_await co_txn(client, std::move(txn));
  if (!result.succeeded) co_return std::nullopt;
  co_return result.header.revision;
}

asio::awaitable<std::pair<std::string, std::int64_t>> put_unique(const Client& client,
                                                                 std::string prefix,
                                                                 std::string value, LeaseId lease) {
  for (;;) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    std::string key = prefix + "/" +
        std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
    if (auto revision = co_await put_new(client, key, value, lease)) {
      co_return std::pair{std::move(key), *revision};
    }
  }
}

}  // namespace etcdpp::detail
