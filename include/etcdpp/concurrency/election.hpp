// SPDX-License-Identifier: Apache-2.0
// Leader election on a Session (session.hpp), with the key layout and the algorithm of the Go
// client's concurrency.Election and of `etcdctl elect`, so that all three take part in one
// election. Observer follows who leads; ElectionOptions' callbacks tell a process its own role.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <asio/any_io_executor.hpp>

#include "etcdpp/concurrency/session.hpp"
#include "etcdpp/detail/async.hpp"
#include "etcdpp/txn.hpp"

namespace etcdpp::detail {
class ElectionState;
class ObserverState;
struct ObserverAccess;
}  // namespace etcdpp::detail

namespace etcdpp::concurrency {

/// Who leads an election, as of a store revision.
struct LeaderEvent {
  /// The leader's key (`<name>/<lease hex>`) and value (its proclamation); empty when no one
  /// leads (a vacancy).
  std::optional<KeyValue> leader;
  /// The store revision at which it became so; for the first event of an observation, the
  /// revision at which the election was read.
  std::int64_t revision = 0;

  bool operator==(const LeaderEvent&) const = default;  ///< Member-wise comparison.
};

/// A process's own role in an election.
enum class Role { follower, leader };

/// "follower" or "leader".
const char* to_string(Role role) noexcept;

/// A running observation of an election (Election::observe): the callback gets the current
/// leader first, then every change of leader or of the leader's value, and each vacancy, once
/// and in revision order. It resumes without a gap across reconnects and failovers (and reads
/// the election again after a compaction, reporting only what changed).
///
/// **Lifetime** Destroying it (or cancel()) stops it: after that returns, the callback is not
/// called again (unless cancel() is called from inside the callback, which then finishes).
class Observer {
 public:
  /// `(error, event)`: a non-empty error is the last call (the observation has ended).
  using Callback = std::function<void(std::error_code, LeaderEvent)>;

  /// No observation; assign one to it.
  Observer() = default;
  /// Takes over `other`'s observation; `other` is left empty.
  Observer(Observer&&) noexcept;
  /// Stops this observation, as cancel() does, then takes over `other`'s.
  Observer& operator=(Observer&&) noexcept;
  ~Observer();
  /// Stops the observation and waits until no callback runs (except the calling one).
  void cancel() noexcept;

 private:
  friend struct etcdpp::detail::ObserverAccess;
  std::shared_ptr<etcdpp::detail::ObserverState> state_;
};

/// What an Election tells its own process about its role, and where. With no callback set,
/// the Election does not observe.
struct ElectionOptions {
  /// Called when this candidate becomes the leader (etcd shows its key first).
  std::function<void(const LeaderEvent&)> on_leader;
  /// Called when this process is not the leader: at the start (someone else or no one leads),
  /// and whenever it stops leading (resign, a lost session, a deleted key).
  std::function<void(const LeaderEvent&)> on_follower;
  /// Called with the new role on every change of role (after on_leader / on_follower).
  std::function<void(Role, const LeaderEvent&)> on_role_change;
  /// Where the callbacks run (one at a time); by default the client's executor.
  asio::any_io_executor executor;
};

/// An election named `name`: each candidate puts a key `<name>/<lease ID in lowercase hex>`
/// holding its proposal on its session's lease, and the leader is the key under `<name>/` with
/// the smallest create revision. A candidate waits for the key just before its own to go.
///
/// Beyond the Go client: a candidate whose session ends while it waits fails with
/// Errc::session_lost and leaves no key; observe() reports vacancies and never skips a leader;
/// the role callbacks say when this process leads; leader_compare() guards writes that only the
/// leader may make.
///
/// **Thread safety** One campaign, proclaim or resign at a time per object; the getters from any
/// thread.
///
/// **Blocking calls** campaign(), proclaim(), resign() and leader() run on the client's
/// executor and wait for it: do not call them on that executor's own thread.
///
/// **Lifetime** Move-only. Destroying it cancels a pending campaign and resigns.
///
/// **Example**
/// @snippet examples/election.cpp election
class Election {
 public:
  /// An election named `name` (not empty) on `session`'s lease. With role callbacks set, it
  /// observes the election from now on (see ElectionOptions).
  Election(const Session& session, std::string_view name, ElectionOptions options = {});
  /// Takes over `other`'s candidacy and role callbacks; `other` may then only be assigned or
  /// destroyed.
  Election(Election&&) noexcept;
  /// Cancels a pending campaign of this one and resigns (a blocking resign(), errors ignored),
  /// as the destructor does, then takes over `other`'s.
  Election& operator=(Election&&) noexcept;
  ~Election();

  /// Stands with `value` and waits until elected. A candidate that already stands (this object,
  /// or another on the same session) keeps its place and proclaims `value` if it differs.
  /// Throws Error: Errc::session_lost when the session ends (or the key is deleted) before the
  /// election; etcd's error otherwise. A failed campaign leaves no key.
  void campaign(std::string_view value);
  /// As leader, sets a new value. Throws Error (Errc::not_elected) when not the leader.
  void proclaim(std::string_view value);
  /// Steps down: deletes the key if it is still the one this candidate made. Does nothing when
  /// not a candidate. Throws Error when etcd cannot be reached.
  void resign();
  /// The current leader, or std::nullopt when no one leads.
  std::optional<KeyValue> leader() const;
  /// The current leader of election `name`, without a session.
  static std::optional<KeyValue> leader(const Client& client, std::string_view name);

  /// @copydoc campaign
  /// Handler signature: `void(std::exception_ptr, ResponseHeader)`: the header of the read that
  /// found this candidate elected. Executor: the handler's associated executor, else the
  /// client's. A connected cancellation slot cancels the wait (Errc::cancelled), and the key
  /// goes. Object lifetimes: `value` is copied.
  template <class Token>
  auto async_campaign(std::string_view value, Token&& token) {
    return etcdpp::detail::initiate<ResponseHeader>(
        executor(), std::forward<Token>(token),
        [state = state_, value = std::string(value)](auto callback, auto canceller) {
          start_campaign(state, value, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc proclaim
  /// Handler signature: `void(std::exception_ptr, ResponseHeader)`.
  template <class Token>
  auto async_proclaim(std::string_view value, Token&& token) {
    return etcdpp::detail::initiate<ResponseHeader>(
        executor(), std::forward<Token>(token),
        [state = state_, value = std::string(value)](auto callback, auto canceller) {
          start_proclaim(state, value, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc resign
  /// Handler signature: `void(std::exception_ptr, bool)`: whether this call deleted the key.
  template <class Token>
  auto async_resign(Token&& token) {
    return etcdpp::detail::initiate<bool>(
        executor(), std::forward<Token>(token), [state = state_](auto callback, auto canceller) {
          start_resign(state, std::move(callback), std::move(canceller));
        });
  }

  /// Observes this election (see Observer); the first event comes soon after, asynchronously.
  /// `executor`: where the callback runs (one at a time); by default the client's.
  Observer observe(Observer::Callback callback, asio::any_io_executor executor = {}) const;
  /// Observes election `name` without a session.
  static Observer observe(const Client& client, std::string_view name, Observer::Callback callback,
                          asio::any_io_executor executor = {});

  /// The name given.
  const std::string& name() const noexcept;
  /// This candidate's key, `<name>/<lease ID in lowercase hex>`.
  const std::string& key() const noexcept;
  /// Whether this candidate was elected and has not resigned, lost its session or been
  /// displaced since.
  bool is_leader() const noexcept;
  /// The create revision of this candidate's key while it leads, else 0.
  std::int64_t revision() const noexcept;
  /// A Compare that holds only while this candidate leads: add it to a Txn to write only as the
  /// leader. Throws Error (Errc::not_elected) when it does not lead.
  Compare leader_compare() const;

 private:
  asio::any_io_executor executor() const;
  using StatePtr = std::shared_ptr<etcdpp::detail::ElectionState>;
  using CancellerPtr = std::shared_ptr<etcdpp::detail::Canceller>;
  static void start_campaign(const StatePtr& state, const std::string& value,
                             etcdpp::detail::Callback<ResponseHeader> callback,
                             CancellerPtr canceller);
  static void start_proclaim(const StatePtr& state, const std::string& value,
                             etcdpp::detail::Callback<ResponseHeader> callback,
                             CancellerPtr canceller);
  static void start_resign(const StatePtr& state, etcdpp::detail::Callback<bool> callback,
                           CancellerPtr canceller);
  void release() noexcept;
  StatePtr state_;
};

}  // namespace etcdpp::concurrency
