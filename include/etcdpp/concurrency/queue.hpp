// SPDX-License-Identifier: Apache-2.0
// Queues in etcd, shared by any number of producers and consumers: Queue hands items out in
// the order they were enqueued (by create revision), PriorityQueue by priority, then in order.
// Each item is handed to exactly one consumer. Keys: `<prefix>/<nanoseconds>` for Queue, and
// `<prefix>/<5-digit priority>/<16-digit number>` for PriorityQueue (sequential_key.hpp), as
// etcd's Go recipes lay them out.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "etcdpp/client.hpp"
#include "etcdpp/detail/recipe_async.hpp"

namespace etcdpp::concurrency {

namespace detail {
/// How a queue picks its next item: the first key under `prefix/` by this target.
struct QueueSpec {
  std::string dir;  ///< `<prefix>/`
  SortTarget order;
};
/// The asynchronous core of dequeue.
void start_dequeue(const Client& client, const QueueSpec& spec, asio::any_io_executor executor,
                   etcdpp::detail::RecipeCallback<std::string> callback);

/// What Queue and PriorityQueue share: taking items. Each item is read first in the queue's
/// order, then deleted by a Txn conditioned on its revision, so that among consumers racing for
/// it exactly one gets it; the others try the next one. With nothing to take, a consumer watches
/// the prefix for the next put.
class QueueBase {
 public:
  const std::string& prefix() const noexcept { return prefix_; }

  /// Takes the first item; std::nullopt when the queue is empty. Does not wait.
  std::optional<std::string> try_dequeue() const;
  /// Takes the first item, waiting for one as long as it takes. Must not be called on the
  /// client's executor's thread.
  std::string dequeue() const;
  /// Takes the first item, waiting at most about `timeout`; std::nullopt when none came.
  std::optional<std::string> dequeue(std::chrono::milliseconds timeout) const;

  /// Takes the first item, waiting for one.
  /// Handler signature: `void(std::exception_ptr, std::string)`. **Executor** The operation
  /// runs on the handler's associated executor when it is an I/O executor, else on the
  /// client's; the handler is invoked on its associated executor. **Object lifetimes** The
  /// operation keeps copies of the client and the prefix.
  template <class Token>
  auto async_dequeue(Token&& token) const {
    return etcdpp::detail::initiate_recipe<std::string>(
        client_.executor(), std::forward<Token>(token),
        [client = client_, spec = QueueSpec{prefix_ + "/", order_}](
            asio::any_io_executor executor, auto callback) {
          start_dequeue(client, spec, std::move(executor), std::move(callback));
        });
  }

 protected:
  /// Throws Error (Errc::invalid_option) for an empty prefix, naming `what`.
  QueueBase(Client client, std::string prefix, SortTarget order, std::string_view what);

  Client client_;
  std::string prefix_;
  SortTarget order_;
};
}  // namespace detail

/// A FIFO queue under `prefix/`: items come out in the order etcd created them, each to exactly
/// one consumer (see detail::QueueBase for dequeuing).
///
/// **Thread safety** Any thread; a Queue is a cheap value (a Client and a prefix).
/// **Errors** Calls throw Error (the failed call's code, naming the key).
/// **Example** @snippet examples/queue.cpp queue
class Queue : public detail::QueueBase {
 public:
  /// A queue whose items are the keys under `prefix + "/"` (only those: `q` does not see `q2/`).
  Queue(Client client, std::string prefix);

  /// Appends `value`; returns its key.
  std::string enqueue(std::string_view value) const;
};

/// A priority queue under `prefix/`: the item of the lowest priority number comes out first
/// (0 before 1), and items of one priority in the order they were enqueued.
///
/// **Thread safety**, **Errors** As for Queue.
class PriorityQueue : public detail::QueueBase {
 public:
  /// A priority queue whose items are the keys under `prefix + "/"`. Throws Error
  /// (Errc::invalid_option) for an empty prefix.
  PriorityQueue(Client client, std::string prefix);

  /// Adds `value` with `priority` (0 is served first); returns its key.
  std::string enqueue(std::string_view value, std::uint16_t priority) const;
};

}  // namespace etcdpp::concurrency
