// SPDX-License-Identifier: Apache-2.0
#include "etcdpp/concurrency/queue.hpp"

#include <cstdio>

#include "concurrency/coroutine_calls.hpp"
#include "etcdpp/concurrency/sequential_key.hpp"

namespace etcdpp::concurrency {
namespace detail {
namespace {

/// Takes the first item of the queue: read it, delete it if it is still that item (same mod
/// revision); a consumer that lost the race reads again. With `wait`, an empty queue waits for
/// a put under the prefix after the read's revision (none is missed between the read and the
/// watch), until `deadline`.
asio::awaitable<std::optional<std::string>> take(const Client& client, const QueueSpec& spec,
                                                 bool wait,
                                                 etcdpp::detail::Deadline deadline) {
  // Options are named before co_await: GCC 12 mis-copies aggregate temporaries there (README).
  const GetOptions oldest = etcdpp::detail::prefix_read(1, spec.order);
  for (;;) {
    const GetResult first = co_await etcdpp::detail::co_get(client, spec.dir, oldest);
    if (!first.kvs.empty()) {
      const KeyValue& kv = first.kvs.front();
      auto claim = Txn{}
                       .if_(Compare::mod_revision(kv.key) == kv.mod_revision)
                       .then(Op::delete_range(kv.key));
      const TxnResult claimed = co_await etcdpp::detail::co_txn(client, std::move(claim));
      if (claimed.succeeded) co_return kv.value;
      continue;  // another consumer took it
    }
    if (!wait) co_return std::nullopt;
    const WatchOptions puts =
        etcdpp::detail::watch_from(first.header.revision + 1, etcdpp::detail::Only::puts, true);
    const auto put = co_await etcdpp::detail::wait_event(
        client, spec.dir, puts, [](const Event& e) { return e.type == Event::Type::put; },
        deadline);
    if (!put) co_return std::nullopt;
  }
}

asio::awaitable<std::string> take_waiting(Client client, QueueSpec spec) {
  co_return *co_await take(client, spec, true, std::nullopt);
}

}  // namespace

void start_dequeue(const Client& client, const QueueSpec& spec, asio::any_io_executor executor,
                   etcdpp::detail::RecipeCallback<std::string> callback) {
  etcdpp::detail::spawn(executor, take_waiting(client, spec), std::move(callback));
}

}  // namespace detail

namespace detail {

QueueBase::QueueBase(Client client, std::string prefix, SortTarget order, std::string_view what)
    : client_(std::move(client)), prefix_(std::move(prefix)), order_(order) {
  if (prefix_.empty()) {
    throw Error(make_error_code(Errc::invalid_option),
                std::string(what) + ": the prefix is empty; give the key the items go under");
  }
}

std::optional<std::string> QueueBase::try_dequeue() const {
  return etcdpp::detail::block_on(client_,
                                  take(client_, {prefix_ + "/", order_}, false, std::nullopt));
}
std::string QueueBase::dequeue() const {
  return *etcdpp::detail::block_on(client_,
                                   take(client_, {prefix_ + "/", order_}, true, std::nullopt));
}
std::optional<std::string> QueueBase::dequeue(std::chrono::milliseconds timeout) const {
  return etcdpp::detail::block_on(
      client_, take(client_, {prefix_ + "/", order_}, true, etcdpp::detail::deadline_in(timeout)));
}

}  // namespace detail

Queue::Queue(Client client, std::string prefix)
    : QueueBase(std::move(client), std::move(prefix), SortTarget::create_revision, "Queue") {}

std::string Queue::enqueue(std::string_view value) const {
  return etcdpp::detail::block_on(client_, etcdpp::detail::put_unique(client_, prefix_,
                                                                      std::string(value), {}))
      .first;
}

PriorityQueue::PriorityQueue(Client client, std::string prefix)
    : QueueBase(std::move(client), std::move(prefix), SortTarget::key, "PriorityQueue") {}

std::string PriorityQueue::enqueue(std::string_view value, std::uint16_t priority) const {
  char level[8];
  std::snprintf(level, sizeof level, "%05u", static_cast<unsigned>(priority));
  return create_sequential_key(client_, prefix_ + "/" + level, value).key;
}

}  // namespace etcdpp::concurrency
