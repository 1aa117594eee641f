// SPDX-License-Identifier: Apache-2.0
// What the concurrency recipes share: the session's core, the few Client calls whose shape is
// about to change (one function each), the bridge from a coroutine to the Client's async core,
// and the queue of keys ordered by create revision that a lock and an election both are.
#pragma once

// GCC 12's false positive on Asio's awaitable frames (see coroutine_calls.hpp), silenced for the
// coroutines of every file that includes this too.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

#include <asio/awaitable.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "detail/status.hpp"
#include "etcdpp/client.hpp"
#include "etcdpp/concurrency/session.hpp"

namespace etcdpp::detail {

using Strand = asio::strand<asio::any_io_executor>;

// ---- The Client calls that change shape soon: each is wrapped once, here. -----------------

/// Grants a lease of `ttl`.
asio::awaitable<LeaseGrantResult> grant_lease(const Client& client, std::chrono::seconds ttl);
/// Keeps `lease` alive; `on_lost` runs on `executor` when it is lost. Throws Error
/// (Errc::lease_not_found) when the lease does not exist.
asio::awaitable<KeepAlive> keep_lease_alive(const Client& client, LeaseId lease,
                                            asio::any_io_executor executor,
                                            std::function<void(LeaseLoss)>&& on_lost);
/// Watches one key (or with `prefix` every key under it) from `start_revision`, delivering to
/// `callback` on `executor`.
asio::awaitable<Watch> open_watch(const Client& client, std::string_view key, bool prefix,
                                  std::int64_t start_revision, asio::any_io_executor executor,
                                  Watch::Callback&& callback);

// ---- Session ------------------------------------------------------------------------------

/// What a Session and the recipes on it share.
class SessionCore : public std::enable_shared_from_this<SessionCore> {
 public:
  SessionCore(Client c, LeaseId id, std::chrono::seconds granted_ttl,
              std::function<void(concurrency::SessionState)> on_lost,
              asio::any_io_executor executor)
      : client(std::move(c)),
        lease(id),
        ttl(granted_ttl),
        on_lost_(std::move(on_lost)),
        executor_(std::move(executor)) {}

  const Client client;
  const LeaseId lease;
  const std::chrono::seconds ttl;

  /// Keeps the lease alive (throws as keep_lease_alive does).
  asio::awaitable<void> start_keep_alive();
  concurrency::SessionState state() const;
  /// Registers `listener`, called once (on any thread, it must not block) when the session
  /// ends; returns 0, registering nothing, when it has ended already.
  std::uint64_t subscribe(std::function<void()> listener);
  void unsubscribe(std::uint64_t id);
  /// Ends the session: stops renewing, revokes the lease if asked (throws Error when that
  /// fails for another reason than the lease being gone already).
  void close(bool revoke);

 private:
  void lose(concurrency::SessionState why);
  /// Moves to `state` if still alive; returns the listeners to tell.
  std::map<std::uint64_t, std::function<void()>> end_locked(concurrency::SessionState state);

  const std::function<void(concurrency::SessionState)> on_lost_;
  const asio::any_io_executor executor_;
  mutable std::mutex mutex_;
  concurrency::SessionState state_ = concurrency::SessionState::alive;
  KeepAlive keep_alive_;
  std::uint64_t next_listener_ = 1;
  std::map<std::uint64_t, std::function<void()>> listeners_;
};

/// The recipes' way into a Session.
struct SessionAccess {
  static concurrency::Session make(std::shared_ptr<SessionCore> core) {
    return concurrency::Session(std::move(core));
  }
  /// The session's core; throws Error (Errc::invalid_option) naming `what` for an empty one.
  static std::shared_ptr<SessionCore> core(const concurrency::Session& session,
                                           std::string_view what) {
    if (!session.core_) {
      throw Error(make_error_code(Errc::invalid_option),
                  std::string(what) + ": the Session is empty (default-made or moved from)");
    }
    return session.core_;
  }
};

/// Go's `%x` of a lease ID: lowercase hex, unpadded, `-` before a negative one.
std::string lease_hex(LeaseId lease);

// ---- From a coroutine to the async core ---------------------------------------------------

/// The CallStatus of a coroutine's outcome: its exception's code (operation_aborted as
/// Errc::cancelled) and text; empty when `e` is null.
CallStatus status_of(const std::exception_ptr& e);

/// Runs `body` (a callable returning asio::awaitable<R>) on a new strand of `executor`, then
/// calls `callback` with its result or its exception's code. `canceller`, when set, cancels the
/// coroutine (terminal cancellation of its awaited operations).
template <class R, class Body>
void spawn(const asio::any_io_executor& executor, Callback<R> callback,
           std::shared_ptr<Canceller> canceller, Body body) {
  Strand strand = asio::make_strand(executor);
  auto signal = std::make_shared<asio::cancellation_signal>();
  if (canceller && !canceller->set_action([strand, signal] {
        asio::post(strand, [signal] { signal->emit(asio::cancellation_type::terminal); });
      })) {
    callback(CallStatus{make_error_code(Errc::cancelled), "cancelled"}, R{});
    return;
  }
  auto slot = signal->slot();
  asio::co_spawn(strand, std::move(body),
                 asio::bind_cancellation_slot(
                     slot, [callback = std::move(callback), signal, canceller, strand](
                               std::exception_ptr e, R result) mutable {
                       if (canceller) canceller->clear_action();
                       // The coroutine's machinery may still touch the slot as this returns:
                       // the signal that owns it goes in a later turn of the strand.
                       asio::post(strand, [signal = std::move(signal)] {});
                       callback(status_of(e), std::move(result));
                     }));
}

/// Throws Error(Errc::cancelled) when the calling coroutine has been cancelled.
asio::awaitable<void> throw_if_cancelled();

/// A coroutine's wait for "something happened": flags it checks, set on its strand by
/// notify(), which any thread may call.
class Wakeup : public std::enable_shared_from_this<Wakeup> {
 public:
  explicit Wakeup(const asio::any_io_executor& strand) : strand_(strand), timer_(strand) {}
  /// Runs `change` on the strand, then wakes the waiting coroutine.
  void notify(std::function<void()> change);
  /// Waits for the next notify() (one that came before is not lost as long as the caller
  /// checks its flags before waiting); throws Error(Errc::cancelled) when cancelled.
  asio::awaitable<void> wait();

 private:
  asio::any_io_executor strand_;
  asio::steady_timer timer_;
};

// ---- A queue of keys ordered by create revision (lock, election) -------------------------

/// The caller's place in a queue.
struct Place {
  std::int64_t revision = 0;  ///< The create revision of my key.
  ResponseHeader header;      ///< The header of the transaction that made or found it.
  bool created = false;       ///< This call created the key (it did not exist).
  bool first = false;         ///< No key under the prefix was created before mine.
  std::string value;          ///< My key's value when it existed already.
};

/// Puts `key` = `value` with `lease` unless it exists, and reads the first-created key under
/// `prefix`, in one transaction (the Go client's acquire).
asio::awaitable<Place> enqueue(const Client& client, const std::string& prefix,
                               const std::string& key, const std::string& value, LeaseId lease);

/// Waits until no key under `prefix` older than `revision` is left, watching only my direct
/// predecessor each time (and my own key, and the session). Throws Error(Errc::session_lost)
/// when my key goes or the session ends meanwhile, or the watch's or a read's error. Returns
/// the header of the final read of my key, which confirms it is still there.
asio::awaitable<ResponseHeader> wait_predecessors(const Client& client, SessionCore& session,
                                                  const std::string& prefix,
                                                  const std::string& key, std::int64_t revision);

/// Deletes `key` if its create revision is still `revision`; returns whether it did.
asio::awaitable<bool> delete_own(const Client& client, const std::string& key,
                                 std::int64_t revision);

/// The Compare that holds while `key` is the one created at `revision`.
inline Compare owner_compare(const std::string& key, std::int64_t revision) {
  return Compare::create_revision(key) == revision;
}

/// Deletes the key a failed operation made (as delete_own), even when the calling coroutine
/// was cancelled; never throws: a key left behind goes with its session.
asio::awaitable<void> undo(const Client& client, const std::string& key, std::int64_t revision);

/// A new canceller for an operation, which `caller`'s (when set) also cancels.
inline std::shared_ptr<Canceller> chain(const std::shared_ptr<Canceller>& caller) {
  auto op = std::make_shared<Canceller>();
  if (caller && !caller->set_action([op] { op->cancel(); })) op->cancel();
  return op;
}

/// The blocking face of a recipe's operation: `start(callback)` starts it; this waits for the
/// outcome and returns it, or throws Error naming `call` and `what`.
template <class R>
R wait_blocking(std::string_view call, std::string_view what,
                const std::function<void(Callback<R>)>& start) {
  Waiter<R> waiter;
  start(waiter.callback());
  std::optional<R> result;
  throw_if_failed(call, what, waiter.wait(result));
  return std::move(*result);
}

/// Throws Error(Errc::session_lost) naming `what` unless the session is alive.
void require_alive(const SessionCore& session, std::string_view what);

}  // namespace etcdpp::detail
