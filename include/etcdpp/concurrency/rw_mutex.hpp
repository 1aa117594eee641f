// SPDX-License-Identifier: Apache-2.0
// A distributed readers-writer lock on a Session (session.hpp), with the key layout of the Go
// client's recipes: readers share it, a writer holds it alone, in order of arrival. It meets
// the standard Lockable and SharedLockable requirements (std::unique_lock, std::shared_lock).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <asio/any_io_executor.hpp>

#include "etcdpp/concurrency/session.hpp"
#include "etcdpp/detail/async.hpp"
#include "etcdpp/txn.hpp"

namespace etcdpp::detail {
class RWMutexState;
}

namespace etcdpp::concurrency {

/// A readers-writer lock named `name`. A reader puts `<name>/read/<unique>` and a writer
/// `<name>/write/<unique>` on the session's lease; a reader waits until no writer's key older
/// than its own is left, a writer until no key at all older than its own is left, each
/// watching only the one key just before its own that it waits for.
///
/// Beyond the Go recipe: a waiter whose session ends (or whose key is deleted) fails with
/// Errc::session_lost instead of acquiring, and leaves no key; unlock is fenced on the key's
/// create revision.
///
/// **Thread safety** One operation at a time per object; the getters from any thread.
///
/// **Blocking calls** They run on the client's executor and wait for it: do not call them on
/// that executor's own thread (use the async_ forms there).
///
/// **Lifetime** Move-only. Destroying it cancels a pending lock and releases a held one.
class RWMutex {
 public:
  /// A lock named `name` (not empty) on `session`'s lease. Contacts no server.
  RWMutex(const Session& session, std::string_view name);
  /// Takes over `other`'s lock (held or pending); `other` may then only be assigned or
  /// destroyed.
  RWMutex(RWMutex&&) noexcept;
  /// Cancels a pending lock of this one and releases a held one (a blocking unlock(), as the
  /// destructor does), then takes over `other`'s.
  RWMutex& operator=(RWMutex&&) noexcept;
  ~RWMutex();

  /// Waits until this object holds the lock alone (as a writer). Throws Error:
  /// Errc::session_lost when the session ends (or the key is deleted) first; Errc::invalid_option
  /// when this object holds it already.
  void lock();
  /// Waits until this object shares the lock (as a reader). Throws as lock().
  void lock_shared();
  /// Releases what this object holds (shared or not). Does not throw: when etcd cannot be
  /// reached the key stays until the session ends; async_unlock tells that error.
  void unlock() noexcept;
  /// The same as unlock(), for SharedLockable.
  void unlock_shared() noexcept { unlock(); }

  /// @copydoc lock
  /// Handler signature: `void(std::exception_ptr, ResponseHeader)`. Executor: the handler's
  /// associated executor, else the client's. A connected cancellation slot cancels the wait
  /// (Errc::cancelled), and the key goes.
  template <class Token>
  auto async_lock(Token&& token) {
    return async_acquire(true, std::forward<Token>(token));
  }
  /// @copydoc lock_shared
  /// Handler signature: `void(std::exception_ptr, ResponseHeader)`.
  template <class Token>
  auto async_lock_shared(Token&& token) {
    return async_acquire(false, std::forward<Token>(token));
  }
  /// Releases what this object holds. Handler signature: `void(std::exception_ptr, bool)`: whether
  /// this call deleted the key.
  template <class Token>
  auto async_unlock(Token&& token) {
    return etcdpp::detail::initiate<bool>(
        executor(), std::forward<Token>(token), [state = state_](auto callback, auto canceller) {
          start_unlock(state, std::move(callback), std::move(canceller));
        });
  }

  /// The name given.
  const std::string& name() const noexcept;
  /// The key while held (`<name>/read/...` or `<name>/write/...`), else empty.
  std::string key() const;
  /// Whether this object holds the lock (shared or not) and its session is alive.
  bool held() const noexcept;
  /// The create revision of the key while held (a fencing token), else 0.
  std::int64_t revision() const noexcept;
  /// A Compare that holds only while this object holds the lock. Throws Error
  /// (Errc::session_lost) when the lock went with its session, and Error
  /// (Errc::invalid_option) when it was not taken or was released.
  Compare owner_compare() const;

 private:
  template <class Token>
  auto async_acquire(bool write, Token&& token) {
    return etcdpp::detail::initiate<ResponseHeader>(
        executor(), std::forward<Token>(token),
        [state = state_, write](auto callback, auto canceller) {
          start_lock(state, write, std::move(callback), std::move(canceller));
        });
  }
  asio::any_io_executor executor() const;
  using StatePtr = std::shared_ptr<etcdpp::detail::RWMutexState>;
  using CancellerPtr = std::shared_ptr<etcdpp::detail::Canceller>;
  static void start_lock(const StatePtr& state, bool write,
                         etcdpp::detail::Callback<ResponseHeader> callback, CancellerPtr canceller);
  static void start_unlock(const StatePtr& state, etcdpp::detail::Callback<bool> callback,
                           CancellerPtr canceller);
  void release() noexcept;
  StatePtr state_;
};

}  // namespace etcdpp::concurrency
