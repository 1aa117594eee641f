// SPDX-License-Identifier: Apache-2.0
// Barriers in etcd. A Barrier holds any number of waiters until it is released. A DoubleBarrier
// lets a fixed number of participants start a computation together (enter) and end it together
// (leave). Keys as in etcd's Go recipes: the Barrier is one key; the DoubleBarrier keeps
// `<key>/waiters/<nanoseconds>` per participant and `<key>/ready`.
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <memory>
#include <string>

#include "etcdpp/client.hpp"
#include "etcdpp/detail/recipe_async.hpp"

namespace etcdpp::concurrency {

namespace detail {
struct DoubleBarrierState;
void start_barrier_wait(const Client& client, const std::string& key,
                        asio::any_io_executor executor, etcdpp::detail::RecipeCallback<> callback);
void start_double_barrier(const std::shared_ptr<DoubleBarrierState>& state, bool enter,
                          asio::any_io_executor executor, etcdpp::detail::RecipeCallback<> callback);
}  // namespace detail

/// A barrier: while its key exists, wait() blocks; release() (deleting the key) lets every
/// waiter through, each once.
///
/// wait() reads the key itself (not a prefix: a key `b0` does not hold barrier `b`) and, while
/// it is held, watches it from the read's revision on, so a release between the read and the
/// watch is not missed.
///
/// **Thread safety** Any thread; a Barrier is a cheap value (a Client and a key).
/// **Errors** Calls throw Error (the failed call's code, naming the key).
class Barrier {
 public:
  /// The barrier at `key` (not empty: Errc::invalid_option). Contacts no server.
  Barrier(Client client, std::string key);

  /// The barrier's key.
  const std::string& key() const noexcept { return key_; }

  /// Raises the barrier; false when it was raised already (by anyone).
  bool hold() const;
  /// Lowers the barrier: every waiter goes on.
  void release() const;
  /// Returns once the barrier is not held (at once if it is not). Must not be called on the
  /// client's executor's thread.
  void wait() const;
  /// As wait(), for at most about `timeout`: false when the barrier was still held then.
  bool wait(std::chrono::milliseconds timeout) const;

  /// @copydoc wait() const
  /// Handler signature: `void(std::exception_ptr)`. **Executor** The operation runs on the
  /// handler's associated executor when it is an I/O executor, else on the client's; the handler
  /// is invoked on its associated executor. **Object lifetimes** The operation keeps copies of
  /// the client and the key.
  template <class Token>
  auto async_wait(Token&& token) const {
    return etcdpp::detail::initiate_recipe<>(
        client_.executor(), std::forward<Token>(token),
        [client = client_, key = key_](asio::any_io_executor executor, auto callback) {
          detail::start_barrier_wait(client, key, std::move(executor), std::move(callback));
        });
  }

 private:
  Client client_;
  std::string key_;
};

/// A double barrier for `count` participants: enter() returns once `count` participants have
/// entered, leave() once all of them have left.
///
/// Each participant is a key under `<key>/waiters/`, attached to `lease` when one is given (a
/// participant that dies then frees its place when its lease expires; without a lease, its key
/// stays until deleted). The participant whose entry makes the count sets `<key>/ready`.
/// Participants beyond `count` are refused (Errc::failed_precondition) and leave no key. A
/// participant whose key has gone (its lease expired) is told so on leave(), which then does
/// not wait for the others.
///
/// **Thread safety** One DoubleBarrier per participant; its calls one at a time.
/// **Errors** Calls throw Error (the failed call's code, naming the key).
class DoubleBarrier {
 public:
  /// A participant of the double barrier at `key` (not empty) for `count` participants (at
  /// least 1), its key on `lease` if given. Throws Error (Errc::invalid_option) otherwise.
  /// Contacts no server.
  DoubleBarrier(Client client, std::string key, std::size_t count, LeaseId lease = {});
  /// Does not leave: an entered participant's key stays until its lease expires or it is
  /// deleted.
  ~DoubleBarrier();
  /// Takes over `other`'s participation; `other` may then only be assigned or destroyed.
  DoubleBarrier(DoubleBarrier&&) noexcept;
  /// Takes over `other`'s participation; this one's is dropped without leaving, as by the
  /// destructor.
  DoubleBarrier& operator=(DoubleBarrier&&) noexcept;

  /// Enters, and waits until `count` participants have. Throws Error
  /// (Errc::failed_precondition) when `count` participants are in already.
  void enter();
  /// As enter(), for at most about `timeout`: false when the others did not all come (this
  /// participant stays entered; leave() takes it out).
  bool enter(std::chrono::milliseconds timeout);
  /// Leaves, and waits until every participant has left. Throws Error (Errc::not_found) when
  /// this participant's key is gone (never entered, or its lease expired).
  void leave();
  /// As leave(), for at most about `timeout`: false when others were still in.
  bool leave(std::chrono::milliseconds timeout);

  /// @copydoc enter()
  /// Handler signature: `void(std::exception_ptr)`. **Executor** As Barrier::async_wait.
  /// **Object lifetimes** The operation shares this object's state, so the DoubleBarrier may go
  /// before it completes.
  template <class Token>
  auto async_enter(Token&& token) {
    return etcdpp::detail::initiate_recipe<>(
        executor(), std::forward<Token>(token),
        [state = state_](asio::any_io_executor executor, auto callback) {
          detail::start_double_barrier(state, true, std::move(executor), std::move(callback));
        });
  }
  /// @copydoc leave()
  /// Handler signature: `void(std::exception_ptr)`; as async_enter.
  template <class Token>
  auto async_leave(Token&& token) {
    return etcdpp::detail::initiate_recipe<>(
        executor(), std::forward<Token>(token),
        [state = state_](asio::any_io_executor executor, auto callback) {
          detail::start_double_barrier(state, false, std::move(executor), std::move(callback));
        });
  }

 private:
  asio::any_io_executor executor() const;
  std::shared_ptr<detail::DoubleBarrierState> state_;
};

}  // namespace etcdpp::concurrency
