// SPDX-License-Identifier: Apache-2.0
// A distributed lock on a Session (session.hpp), with the key layout and the algorithm of the
// Go client's concurrency.Mutex and of `etcdctl lock`, so that all three exclude each other on
// one name. It meets the standard Lockable requirements (std::lock_guard, std::unique_lock).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

#include <asio/any_io_executor.hpp>

#include "etcdpp/concurrency/session.hpp"
#include "etcdpp/detail/async.hpp"
#include "etcdpp/txn.hpp"

namespace etcdpp::detail {
class MutexState;
}

namespace etcdpp::concurrency {

/// What a Mutex tells its holder, and where.
struct MutexOptions {
  /// Called once, on `executor`, when the session is lost while the lock is held
  /// (Errc::session_lost): another process may hold the lock from then on.
  std::function<void(std::error_code)> on_lost;
  /// Where on_lost runs; by default the client's executor.
  asio::any_io_executor executor;
};

/// A lock named `name`, held through a key `<name>/<lease ID in lowercase hex>` on the session's
/// lease. The holder is the key under `<name>/` with the smallest create revision; a waiter
/// watches only the key just before its own, so a release wakes one waiter.
///
/// Beyond the Go client: a waiter whose session ends (or whose key is deleted) fails at once
/// with Errc::session_lost and never gets the lock, and leaves no key; unlock() deletes the key
/// only if it is still the one this lock created (its create revision), so a repeated unlock
/// cannot release a later holder; the holder is told when its session is lost
/// (MutexOptions::on_lost, held()); revision() is a fencing token and owner_compare() a Compare
/// for writes that must happen only while the lock is held.
///
/// Ownership is per session, as in the Go client: two Mutex objects of one name on one session
/// share one key, so both "hold" the lock at once.
///
/// **Thread safety** One lock, try_lock or unlock at a time per object; the getters from any
/// thread.
///
/// **Blocking calls** lock(), try_lock() and unlock() run on the client's executor and wait for
/// it: do not call them on that executor's own thread (use the async_ forms there).
///
/// **Lifetime** Move-only. Destroying it cancels a pending lock and releases a held one.
///
/// **Example**
/// @snippet examples/lock.cpp lock
class Mutex {
 public:
  /// A lock named `name` (not empty; its keys are `<name>/...`) on `session`'s lease. Contacts
  /// no server.
  Mutex(const Session& session, std::string_view name, MutexOptions options = {});
  /// Takes over `other`'s lock (held or pending); `other` may then only be assigned or
  /// destroyed.
  Mutex(Mutex&&) noexcept;
  /// Cancels a pending lock of this one and releases a held one (a blocking unlock(), as the
  /// destructor does), then takes over `other`'s.
  Mutex& operator=(Mutex&&) noexcept;
  ~Mutex();

  /// Waits until the lock is held. Returns at once when it is held already.
  /// Throws Error: Errc::session_lost when the session ends (or the key is deleted) before
  /// the lock is taken; the error of etcd otherwise. A failed lock leaves no key.
  void lock();
  /// Takes the lock if no one holds it; never waits for a holder.
  bool try_lock();
  /// Releases the lock: deletes the key if it is still the one this lock created. Does not
  /// throw (as Lockable requires): when etcd cannot be reached the key stays until the session
  /// ends; use async_unlock to learn of that error.
  void unlock() noexcept;

  /// @copydoc lock
  /// Handler signature: `void(std::exception_ptr, ResponseHeader)`: the header of the read that
  /// found the lock taken. Executor: the handler's associated executor, else the client's.
  /// A connected cancellation slot cancels the wait (Errc::cancelled), and the key goes.
  template <class Token>
  auto async_lock(Token&& token) {
    return etcdpp::detail::initiate<ResponseHeader>(
        executor(), std::forward<Token>(token), [state = state_](auto callback, auto canceller) {
          start_lock(state, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc try_lock
  /// Handler signature: `void(std::exception_ptr, bool)`.
  template <class Token>
  auto async_try_lock(Token&& token) {
    return etcdpp::detail::initiate<bool>(
        executor(), std::forward<Token>(token), [state = state_](auto callback, auto canceller) {
          start_try_lock(state, std::move(callback), std::move(canceller));
        });
  }
  /// Releases the lock. Handler signature: `void(std::exception_ptr, bool)`: whether this call
  /// deleted the key (false when it was already released, or had gone with the session).
  template <class Token>
  auto async_unlock(Token&& token) {
    return etcdpp::detail::initiate<bool>(
        executor(), std::forward<Token>(token), [state = state_](auto callback, auto canceller) {
          start_unlock(state, std::move(callback), std::move(canceller));
        });
  }

  /// The name given.
  const std::string& name() const noexcept;
  /// This lock's key, `<name>/<lease ID in lowercase hex>` (the value etcdctl prints).
  const std::string& key() const noexcept;
  /// Whether the lock is held: taken, not released, and its session not lost.
  bool held() const noexcept;
  /// The fencing token: the create revision of the key while the lock is held (it grows with
  /// every new holder), else 0.
  std::int64_t revision() const noexcept;
  /// The header of the read that found the lock taken (`etcdctl lock` exports its revision as
  /// ETCD_LOCK_REV).
  ResponseHeader header() const noexcept;
  /// A Compare that holds only while this lock is held: add it to a Txn to write only as the
  /// holder. Throws Error (Errc::session_lost) when the lock went with its session, and
  /// Error (Errc::invalid_option) when it was not taken or was released.
  Compare owner_compare() const;

 private:
  asio::any_io_executor executor() const;
  using StatePtr = std::shared_ptr<etcdpp::detail::MutexState>;
  using CancellerPtr = std::shared_ptr<etcdpp::detail::Canceller>;
  static void start_lock(const StatePtr& state, etcdpp::detail::Callback<ResponseHeader> callback,
                         CancellerPtr canceller);
  static void start_try_lock(const StatePtr& state, etcdpp::detail::Callback<bool> callback,
                             CancellerPtr canceller);
  static void start_unlock(const StatePtr& state, etcdpp::detail::Callback<bool> callback,
                           CancellerPtr canceller);
  void release() noexcept;
  StatePtr state_;
};

}  // namespace etcdpp::concurrency
