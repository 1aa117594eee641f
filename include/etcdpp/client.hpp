// SPDX-License-Identifier: Apache-2.0
// The Client: a cheap, copyable, thread-safe handle on a connection to an etcd cluster, with the
// key-value and transaction calls (kv.hpp, txn.hpp), the Maintenance API (maintenance.hpp), the
// Cluster API (cluster.hpp) and the Auth API (auth.hpp), in two faces, blocking and asynchronous.
// How it connects is in client_options.hpp, its endpoints in endpoint.hpp.
#pragma once

#include <asio/any_io_executor.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcdpp/auth.hpp"
#include "etcdpp/client_options.hpp"
#include "etcdpp/cluster.hpp"
#include "etcdpp/detail/async.hpp"
#include "etcdpp/endpoint.hpp"
#include "etcdpp/error.hpp"
#include "etcdpp/kv.hpp"
#include "etcdpp/lease.hpp"
#include "etcdpp/maintenance.hpp"
#include "etcdpp/paginator.hpp"
#include "etcdpp/txn.hpp"
#include "etcdpp/watch.hpp"

namespace etcdpp {

namespace detail {
class ClientCore;
}

/// A handle on a connection to an etcd cluster.
///
/// **Thread safety** A Client may be used from any number of threads at once. Copies are cheap
/// and share one connection (and its threads); the connection closes when the last copy goes.
///
/// **Two faces** Each call has a blocking form that throws and an asynchronous form that takes
/// an Asio completion token (a callback, `asio::use_future`, `asio::use_awaitable`, ...). Both
/// take the same arguments in the same order; the asynchronous one adds the token.
///
/// **Errors** Blocking calls throw Error (CompactedError for a compacted revision) whose message
/// names the call and the key. Asynchronous calls complete with that same exception, as a
/// std::exception_ptr: `co_await` and `future::get()` throw it, a callback gets it first (and
/// error_code_of(e) is its code).
///
/// **Threads** The library starts a fixed number of threads whatever the number of calls: gRPC's
/// own; one per Client (shared by its copies) that reads its connections and completes its
/// calls; and, unless ClientOptions::executor is set, one more per Client to run asynchronous
/// completions. No thread per call.
///
/// **Async handlers** The handler signature is `void(std::exception_ptr, Result)`. It runs on its
/// associated executor, or on the client's executor (ClientOptions::executor or the client's
/// own thread), never on a gRPC thread. The arguments are copied before the call returns, so
/// they may be temporaries. A connected cancellation slot cancels the call
/// (Errc::cancelled). Destroying the last copy of a Client cancels the calls still in flight.
class Client {
 public:
  /// Connects lazily: throws Error (Errc::invalid_endpoint) for an endpoint it cannot parse, or
  /// when there is none, but contacts no server until the first call.
  explicit Client(ClientOptions options);

  /// A copy of this client whose calls have `timeout` as their deadline.
  Client with_timeout(std::chrono::milliseconds timeout) const;

  /// A copy of this client that sees only the keys under `prefix`, as if they were the whole
  /// keyspace: a namespace view, mapped as Go's clientv3/namespace maps it. The view shares
  /// this client's connection, watch stream and kept-alive leases, and costs what a copy costs.
  /// Views compose: `with_namespace("a/").with_namespace("b/")` lives under "a/b/", and
  /// `with_namespace("")` is the same view. The recipes (Mutex, Election, Stm, PrefixCache, the
  /// registry, ...) take a view like any Client and keep their keys inside it.
  ///
  /// **Requests** In get, put, delete_range, txn, watch and paginate, blocking and async alike,
  /// a key becomes prefix + key. A range end (GetOptions, DeleteOptions and WatchOptions
  /// range_end, Compare's range) becomes prefix + end, except "\0", "every key from the start
  /// on", which becomes the end of the namespace, prefix_range_end(prefix) (itself "\0" when the
  /// prefix is only 0xff bytes). So `.prefix = true` covers the keys under prefix + key, and
  /// `.from_key = true` runs from prefix + key to the end of the namespace: nothing a view asks
  /// for reaches outside it. A transaction's compares (key and range) and operations are mapped
  /// likewise, nested transactions too.
  ///
  /// **Answers** The prefix is cut from every key returned: get's kvs, put's prev_kv,
  /// delete_range's prev_kvs, the results of a transaction's operations (nested ones too), and
  /// watch events' kv and prev_kv. lease_time_to_live leaves out the keys outside the namespace
  /// and cuts the others. Error messages name keys as the caller gave them.
  ///
  /// **The empty key** of a view is the key equal to the prefix: put(""), get("") and
  /// delete_range("") act on it, and `get("", {.prefix = true})` (or `.from_key = true`) lists
  /// exactly the view, that key included (returned as ""), so every key a view lists can be
  /// read, written and deleted through it. (A plain client has no empty key: etcd refuses it.)
  /// Go differs: its namespace refuses an empty key with ErrEmptyKey, and its "list all"
  /// (Get("\x00", WithFromKey), or on etcd main Get("", WithPrefix)) skips the key equal to the
  /// prefix, while its Watch("", WithPrefix) covers it.
  ///
  /// **Not namespaced** Leases (grant, revoke, keep-alive, the list of leases: a lease is not a
  /// key, and views share them), compact, and the cluster, maintenance and auth calls act as on
  /// this client. Auth permissions name real keys: grant them on the prefixed ones.
  Client with_namespace(std::string_view prefix) const;
  /// The prefix this client's keys live under ("" for a client that is no namespace view).
  const std::string& key_namespace() const noexcept { return namespace_; }

  /// The endpoints, as parsed: those given, then those learnt by auto-sync.
  std::vector<Endpoint> endpoints() const;
  /// Each endpoint's connection state, whether its member is the leader as last seen, and the
  /// streams open on it; in endpoints() order. Asks no server.
  std::vector<EndpointInfo> connection_info() const;
  /// The executor of asynchronous completions whose handler has none.
  asio::any_io_executor executor() const noexcept;

  /// Reads one key; std::nullopt when it does not exist.
  std::optional<KeyValue> get(std::string_view key) const;
  /// Reads a key, a range or a prefix, with every option of etcd's RangeRequest.
  GetResult get(std::string_view key, const GetOptions& options) const;
  /// Writes `value` at `key`.
  PutResult put(std::string_view key, std::string_view value, const PutOptions& options = {}) const;
  /// Deletes a key, a range or a prefix.
  DeleteResult delete_range(std::string_view key, const DeleteOptions& options = {}) const;
  /// Runs a transaction. A compare that fails is not an error: TxnResult::succeeded is false.
  TxnResult txn(const Txn& txn) const;
  /// Compacts the history up to `revision`.
  CompactResult compact(std::int64_t revision, const CompactOptions& options = {}) const;

  /// The status of the member this call reaches (with one endpoint, that endpoint's member):
  /// its id, the leader it knows, raft index and term, database size, version.
  StatusResult status() const;
  /// The members of the cluster.
  std::vector<Member> member_list() const;

  /// Adds a member that peers reach on `peer_urls`; a `learner` receives the log but does not
  /// vote until member_promote. Start its etcd afterwards with --initial-cluster-state=existing
  /// and the returned members as --initial-cluster. Throws Error: Errc::peer_url_exists,
  /// Errc::member_bad_urls, Errc::too_many_learners, Errc::member_not_enough_started.
  MemberAddResult member_add(const std::vector<std::string>& peer_urls,
                             bool learner = false) const;
  /// Removes member `id` (its etcd stops once it learns). Errc::member_not_found when there is
  /// no such member.
  MemberRemoveResult member_remove(std::uint64_t id) const;
  /// Changes the peer URLs of member `id`. Errc::member_not_found, Errc::peer_url_exists.
  MemberUpdateResult member_update(std::uint64_t id,
                                   const std::vector<std::string>& peer_urls) const;
  /// Makes learner `id` a voting member. Errc::member_not_learner when it is a voter already,
  /// Errc::learner_not_ready while it has not caught up with the leader.
  MemberPromoteResult member_promote(std::uint64_t id) const;

  /// The status of the member at `endpoint`, one of endpoints() (in any form Endpoint::parse
  /// takes). The call goes there and nowhere else. Errc::invalid_endpoint for an endpoint the
  /// client does not have.
  StatusResult status(std::string_view endpoint) const;
  /// The status of every endpoint, in endpoints() order, asked at once. One that does not
  /// answer has its error in its EndpointStatus; the call itself does not fail.
  std::vector<EndpointStatus> status_all() const;
  /// The alarms raised in the cluster (none when all is well).
  std::vector<Alarm> alarm_list() const;
  /// Disarms alarm `type` of member `member_id` (AlarmType::none and 0: every alarm of every
  /// member); returns the alarms disarmed.
  std::vector<Alarm> alarm_disarm(std::uint64_t member_id, AlarmType type) const;
  /// Defragments the backend of the member at `endpoint`, which blocks it meanwhile.
  DefragmentResult defragment(std::string_view endpoint) const;
  /// A hash of the whole backend of the member at `endpoint` (for testing; see hash_kv).
  HashResult hash(std::string_view endpoint) const;
  /// A hash of the key-value store of the member at `endpoint` up to `revision` (0: the
  /// latest). Members that applied the same history give the same hash.
  HashKvResult hash_kv(std::string_view endpoint, std::int64_t revision = 0) const;
  /// Makes member `target_member_id` the leader. The request must reach the current leader:
  /// the client asks every endpoint's status to find it, and sends it there. Errc::not_leader
  /// when the leader is not among endpoints(), Errc::bad_leader_transferee for a target that
  /// cannot lead (a learner, an unknown member).
  MoveLeaderResult move_leader(std::uint64_t target_member_id) const;
  /// Saves a snapshot of the backend of a member to `path`. It is written to `path + ".part"`,
  /// synced, and renamed to `path` once the member has sent it all; on any failure (the
  /// member, the deadline, a cancellation, the disk) the partial file is removed and `path` is
  /// left as it was. Give the call time for a large database (with_timeout).
  SnapshotResult snapshot(std::string_view path) const;
  /// Turns authentication on. etcd requires a user "root" holding the role "root" first
  /// (Errc::root_user_not_exist, Errc::root_role_not_exist). Afterwards every call needs
  /// credentials (ClientOptions::username and password).
  AuthResult auth_enable() const;
  /// Turns authentication off (needs the root user's credentials while it is on).
  AuthResult auth_disable() const;
  /// Whether authentication is on, and the auth store's revision: etcd 3.5's AuthStatus call.
  /// etcd 3.4 has no such call: etcdpp then asks the member to authenticate an empty user name,
  /// which it refuses differently whether auth is on or off, and the revision is 0.
  AuthStatusResult auth_status() const;
  /// Adds a user; with `no_password` the user can only authenticate by other means (a client
  /// certificate's common name). Errc::user_already_exists when the name is taken.
  AuthResult user_add(std::string_view name, std::string_view password,
                      bool no_password = false) const;
  /// Deletes a user. Errc::user_not_found when there is no such user.
  AuthResult user_delete(std::string_view name) const;
  /// A user's roles. Errc::user_not_found when there is no such user.
  UserGetResult user_get(std::string_view name) const;
  /// The names of every user.
  UserListResult user_list() const;
  /// Sets a user's password. Errc::user_not_found when there is no such user.
  AuthResult user_change_password(std::string_view name, std::string_view password) const;
  /// Grants a role to a user (Errc::user_not_found, Errc::role_not_found).
  AuthResult user_grant_role(std::string_view user, std::string_view role) const;
  /// Revokes a role from a user (Errc::role_not_granted when the user does not hold it).
  AuthResult user_revoke_role(std::string_view user, std::string_view role) const;
  /// Adds a role. Errc::role_already_exists when the name is taken.
  AuthResult role_add(std::string_view role) const;
  /// Deletes a role. Errc::role_not_found when there is no such role.
  AuthResult role_delete(std::string_view role) const;
  /// A role's key permissions. Errc::role_not_found when there is no such role.
  RoleGetResult role_get(std::string_view role) const;
  /// The names of every role.
  RoleListResult role_list() const;
  /// Grants a role read, write or both on a key, a range or a prefix (see Permission).
  AuthResult role_grant_permission(std::string_view role, const Permission& permission) const;
  /// Revokes the permission of a role on exactly [key, range_end) (an empty range_end: the one
  /// key), as it was granted. Errc::permission_not_granted when the role has no such permission.
  AuthResult role_revoke_permission(std::string_view role, std::string_view key,
                                    std::string_view range_end = {}) const;

  /// Iterates over a large range page by page, `page_size` keys at a time, all read at the
  /// revision of the first page; only the current page is held in memory. The options choose the
  /// range as for get(); sorting other than ascending by key, limit and count_only are refused.
  Paginator paginate(std::string_view key, GetOptions options, std::int64_t page_size = 1000) const;

  /// Watches a key, a range or a prefix; returns once etcd has created the watch. With a
  /// callback, batches are pushed to it (on WatchOptions::executor, else the client's); without
  /// one, pull them with Watch::next or Watch::async_next. All watches of a client share one
  /// stream. Throws Error if the watch cannot be created within the call timeout, and
  /// CompactedError if its start revision is compacted.
  Watch watch(std::string_view key, const WatchOptions& options = {},
              Watch::Callback callback = {}) const;

  /// Grants a lease of `ttl` (whole seconds, as etcd counts them), with the given ID or
  /// (LeaseId{0}) one etcd picks.
  LeaseGrantResult lease_grant(std::chrono::seconds ttl, LeaseId id = {}) const;
  /// Revokes a lease: its keys are deleted. Errc::lease_not_found when there is no such lease.
  LeaseRevokeResult lease_revoke(LeaseId id) const;
  /// A lease's remaining and granted TTL, and with `{.keys = true}` its keys; ttl -1 when it
  /// has expired, whether or not etcd has revoked it yet (etcd itself then reports -1 or,
  /// before it revokes it, the seconds since expiry as a negative number), and when there is no
  /// such lease.
  LeaseTimeToLiveResult lease_time_to_live(LeaseId id,
                                           const LeaseTimeToLiveOptions& options = {}) const;
  /// The IDs of every lease.
  std::vector<LeaseId> lease_leases() const;
  /// Renews a lease once, on the keep-alive stream. Errc::lease_not_found when it is gone;
  /// Errc::deadline_exceeded when no answer comes within the call timeout.
  LeaseKeepAliveResult lease_keep_alive_once(LeaseId id) const;
  /// Keeps a lease alive until the KeepAlive goes; returns once the first renewal is answered.
  /// Throws Error with Errc::lease_not_found when the lease does not exist.
  KeepAlive keep_alive(LeaseId id, KeepAliveOptions options = {}) const;

  /// @copydoc watch
  /// Handler signature: `void(std::exception_ptr, Watch)`: the running watch, once etcd has
  /// created it, or the exception watch() would throw (CompactedError for a compacted start
  /// revision). No thread waits meanwhile. The third argument is always the watch's own
  /// callback (pass `{}` to pull batches); the token comes last.
  template <class Token>
  auto async_watch(std::string_view key, const WatchOptions& options,
                   const Watch::Callback& callback, Token&& token) const {
    return detail::initiate<Watch>(
        executor(), std::forward<Token>(token),
        // The range end is a view (WatchOptions::range_end): the initiation owns a copy, as a
        // deferred token may run it after the caller's string is gone.
        [self = *this, key = std::string(key), o = options, end = std::string(options.range_end),
         callback](auto done, auto canceller) mutable {
          o.range_end = end;
          self.start_watch(std::move(key), std::move(o), std::move(callback),
                           std::move(done), std::move(canceller));
        });
  }
  /// @copydoc keep_alive
  /// Handler signature: `void(std::exception_ptr, KeepAlive)`: the keep-alive once the first
  /// renewal is answered, or the exception keep_alive() would throw. No thread waits meanwhile.
  template <class Token>
  auto async_keep_alive(LeaseId id, const KeepAliveOptions& options, Token&& token) const {
    return detail::initiate<KeepAlive>(
        executor(), std::forward<Token>(token),
        [self = *this, id, options](auto done, auto canceller) mutable {
          self.start_keep_alive(id, std::move(options), std::move(done), std::move(canceller));
        });
  }

  /// @copydoc lease_grant
  /// Handler signature: `void(std::exception_ptr, LeaseGrantResult)`.
  template <class Token>
  auto async_lease_grant(std::chrono::seconds ttl, LeaseId id, Token&& token) const {
    return detail::initiate<LeaseGrantResult>(
        executor(), std::forward<Token>(token), [self = *this, ttl, id](auto cb, auto canceller) {
          self.start_lease_grant(ttl, id, std::move(cb), std::move(canceller));
        });
  }
  /// As async_lease_grant(ttl, id, token) with LeaseId{0}: etcd picks the lease's ID.
  template <class Token>
  auto async_lease_grant(std::chrono::seconds ttl, Token&& token) const {
    return async_lease_grant(ttl, LeaseId{}, std::forward<Token>(token));
  }
  /// @copydoc lease_revoke
  /// Handler signature: `void(std::exception_ptr, LeaseRevokeResult)`.
  template <class Token>
  auto async_lease_revoke(LeaseId id, Token&& token) const {
    return detail::initiate<LeaseRevokeResult>(
        executor(), std::forward<Token>(token), [self = *this, id](auto cb, auto canceller) {
          self.start_lease_revoke(id, std::move(cb), std::move(canceller));
        });
  }
  /// @copydoc lease_time_to_live
  /// Handler signature: `void(std::exception_ptr, LeaseTimeToLiveResult)`.
  template <class Token>
  auto async_lease_time_to_live(LeaseId id, const LeaseTimeToLiveOptions& options,
                                Token&& token) const {
    return detail::initiate<LeaseTimeToLiveResult>(
        executor(), std::forward<Token>(token),
        [self = *this, id, options](auto cb, auto canceller) {
          self.start_lease_time_to_live(id, options, std::move(cb), std::move(canceller));
        });
  }
  /// As async_lease_time_to_live(id, options, token) with default options: without the keys.
  template <class Token>
  auto async_lease_time_to_live(LeaseId id, Token&& token) const {
    return async_lease_time_to_live(id, LeaseTimeToLiveOptions{}, std::forward<Token>(token));
  }
  /// @copydoc lease_leases
  /// Handler signature: `void(std::exception_ptr, std::vector<LeaseId>)`.
  template <class Token>
  auto async_lease_leases(Token&& token) const {
    return detail::initiate<std::vector<LeaseId>>(
        executor(), std::forward<Token>(token), [self = *this](auto cb, auto canceller) {
          self.start_lease_leases(std::move(cb), std::move(canceller));
        });
  }
  /// @copydoc lease_keep_alive_once
  /// Handler signature: `void(std::exception_ptr, LeaseKeepAliveResult)`. Completes within the
  /// call timeout (Errc::deadline_exceeded then); a cancellation slot is not honoured, as the
  /// renewal may have been sent.
  template <class Token>
  auto async_lease_keep_alive_once(LeaseId id, Token&& token) const {
    return detail::initiate<LeaseKeepAliveResult>(
        executor(), std::forward<Token>(token), [self = *this, id](auto cb, auto canceller) {
          self.start_lease_keep_alive_once(id, std::move(cb), std::move(canceller));
        });
  }

  /// @copydoc get(std::string_view) const
  /// Handler signature: `void(std::exception_ptr, std::optional<KeyValue>)`.
  template <class Token>
  auto async_get(std::string_view key, Token&& token) const {
    return detail::initiate<std::optional<KeyValue>>(
        executor(), std::forward<Token>(token),
        [self = *this, key = std::string(key)](auto callback, auto canceller) {
          self.start_get_one(key, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc get(std::string_view, const GetOptions&) const
  /// Handler signature: `void(std::exception_ptr, GetResult)`.
  template <class Token>
  auto async_get(std::string_view key, const GetOptions& options, Token&& token) const {
    return detail::initiate<GetResult>(
        executor(), std::forward<Token>(token),
        [self = *this, key = std::string(key), o = options, end = std::string(options.range_end)](
            auto callback, auto canceller) mutable {
          o.range_end = end;  // a view of the initiation's own copy (as in async_watch)
          self.start_get(key, o, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc put
  /// Handler signature: `void(std::exception_ptr, PutResult)`.
  template <class Token>
  auto async_put(std::string_view key, std::string_view value, const PutOptions& options,
                 Token&& token) const {
    return detail::initiate<PutResult>(
        executor(), std::forward<Token>(token),
        [self = *this, key = std::string(key), value = std::string(value), options](
            auto callback, auto canceller) mutable {
          self.start_put(std::move(key), std::move(value), options, std::move(callback),
                         std::move(canceller));
        });
  }
  /// As async_put(key, value, options, token) with default PutOptions.
  template <class Token>
  auto async_put(std::string_view key, std::string_view value, Token&& token) const {
    return async_put(key, value, PutOptions{}, std::forward<Token>(token));
  }
  /// @copydoc delete_range
  /// Handler signature: `void(std::exception_ptr, DeleteResult)`.
  template <class Token>
  auto async_delete_range(std::string_view key, const DeleteOptions& options, Token&& token) const {
    return detail::initiate<DeleteResult>(
        executor(), std::forward<Token>(token),
        [self = *this, key = std::string(key), o = options, end = std::string(options.range_end)](
            auto callback, auto canceller) mutable {
          o.range_end = end;  // a view of the initiation's own copy (as in async_watch)
          self.start_delete(key, o, std::move(callback), std::move(canceller));
        });
  }
  /// As async_delete_range(key, options, token) with default DeleteOptions: deletes one key.
  template <class Token>
  auto async_delete_range(std::string_view key, Token&& token) const {
    return async_delete_range(key, DeleteOptions{}, std::forward<Token>(token));
  }
  /// @copydoc txn
  /// Handler signature: `void(std::exception_ptr, TxnResult)`.
  template <class Token>
  auto async_txn(const Txn& txn, Token&& token) const {
    return detail::initiate<TxnResult>(
        executor(), std::forward<Token>(token),
        [self = *this, txn](auto callback, auto canceller) {
          self.start_txn(txn, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc compact
  /// Handler signature: `void(std::exception_ptr, CompactResult)`.
  template <class Token>
  auto async_compact(std::int64_t revision, const CompactOptions& options, Token&& token) const {
    return detail::initiate<CompactResult>(
        executor(), std::forward<Token>(token),
        [self = *this, revision, options](auto callback, auto canceller) {
          self.start_compact(revision, options, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc status
  /// Handler signature: `void(std::exception_ptr, StatusResult)`.
  template <class Token>
  auto async_status(Token&& token) const {
    return detail::initiate<StatusResult>(
        executor(), std::forward<Token>(token), [self = *this](auto callback, auto canceller) {
          self.start_status(std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc member_list
  /// Handler signature: `void(std::exception_ptr, std::vector<Member>)`.
  template <class Token>
  auto async_member_list(Token&& token) const {
    return detail::initiate<std::vector<Member>>(
        executor(), std::forward<Token>(token), [self = *this](auto callback, auto canceller) {
          self.start_member_list(std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc member_add
  /// Handler signature: `void(std::exception_ptr, MemberAddResult)`.
  template <class Token>
  auto async_member_add(const std::vector<std::string>& peer_urls, bool learner,
                        Token&& token) const {
    return detail::initiate<MemberAddResult>(
        executor(), std::forward<Token>(token),
        [self = *this, peer_urls, learner](auto callback, auto canceller) {
          self.start_member_add(peer_urls, learner, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc member_remove
  /// Handler signature: `void(std::exception_ptr, MemberRemoveResult)`.
  template <class Token>
  auto async_member_remove(std::uint64_t id, Token&& token) const {
    return detail::initiate<MemberRemoveResult>(
        executor(), std::forward<Token>(token), [self = *this, id](auto callback, auto canceller) {
          self.start_member_remove(id, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc member_update
  /// Handler signature: `void(std::exception_ptr, MemberUpdateResult)`.
  template <class Token>
  auto async_member_update(std::uint64_t id, const std::vector<std::string>& peer_urls,
                           Token&& token) const {
    return detail::initiate<MemberUpdateResult>(
        executor(), std::forward<Token>(token),
        [self = *this, id, peer_urls](auto callback, auto canceller) {
          self.start_member_update(id, peer_urls, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc member_promote
  /// Handler signature: `void(std::exception_ptr, MemberPromoteResult)`.
  template <class Token>
  auto async_member_promote(std::uint64_t id, Token&& token) const {
    return detail::initiate<MemberPromoteResult>(
        executor(), std::forward<Token>(token), [self = *this, id](auto callback, auto canceller) {
          self.start_member_promote(id, std::move(callback), std::move(canceller));
        });
  }

  /// @copydoc status(std::string_view) const
  /// Handler signature: `void(std::exception_ptr, StatusResult)`.
  template <class Token>
  auto async_status(std::string_view endpoint, Token&& token) const {
    return detail::initiate<StatusResult>(
        executor(), std::forward<Token>(token),
        [self = *this, endpoint = std::string(endpoint)](auto callback, auto canceller) {
          self.start_status_of(endpoint, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc status_all
  /// Handler signature: `void(std::exception_ptr, std::vector<EndpointStatus>)`; the exception
  /// is only set for a cancelled call.
  template <class Token>
  auto async_status_all(Token&& token) const {
    return detail::initiate<std::vector<EndpointStatus>>(
        executor(), std::forward<Token>(token), [self = *this](auto callback, auto canceller) {
          self.start_status_all(std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc alarm_list
  /// Handler signature: `void(std::exception_ptr, std::vector<Alarm>)`.
  template <class Token>
  auto async_alarm_list(Token&& token) const {
    return detail::initiate<std::vector<Alarm>>(
        executor(), std::forward<Token>(token), [self = *this](auto callback, auto canceller) {
          self.start_alarm(0, 0, AlarmType::none, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc alarm_disarm
  /// Handler signature: `void(std::exception_ptr, std::vector<Alarm>)`.
  template <class Token>
  auto async_alarm_disarm(std::uint64_t member_id, AlarmType type, Token&& token) const {
    return detail::initiate<std::vector<Alarm>>(
        executor(), std::forward<Token>(token),
        [self = *this, member_id, type](auto callback, auto canceller) {
          self.start_alarm(2, member_id, type, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc defragment
  /// Handler signature: `void(std::exception_ptr, DefragmentResult)`.
  template <class Token>
  auto async_defragment(std::string_view endpoint, Token&& token) const {
    return detail::initiate<DefragmentResult>(
        executor(), std::forward<Token>(token),
        [self = *this, endpoint = std::string(endpoint)](auto callback, auto canceller) {
          self.start_defragment(endpoint, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc hash
  /// Handler signature: `void(std::exception_ptr, HashResult)`.
  template <class Token>
  auto async_hash(std::string_view endpoint, Token&& token) const {
    return detail::initiate<HashResult>(
        executor(), std::forward<Token>(token),
        [self = *this, endpoint = std::string(endpoint)](auto callback, auto canceller) {
          self.start_hash(endpoint, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc hash_kv
  /// Handler signature: `void(std::exception_ptr, HashKvResult)`.
  template <class Token>
  auto async_hash_kv(std::string_view endpoint, std::int64_t revision, Token&& token) const {
    return detail::initiate<HashKvResult>(
        executor(), std::forward<Token>(token),
        [self = *this, endpoint = std::string(endpoint), revision](auto callback,
                                                                    auto canceller) {
          self.start_hash_kv(endpoint, revision, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc move_leader
  /// Handler signature: `void(std::exception_ptr, MoveLeaderResult)`.
  template <class Token>
  auto async_move_leader(std::uint64_t target_member_id, Token&& token) const {
    return detail::initiate<MoveLeaderResult>(
        executor(), std::forward<Token>(token),
        [self = *this, target_member_id](auto callback, auto canceller) {
          self.start_move_leader(target_member_id, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc snapshot
  /// Handler signature: `void(std::exception_ptr, SnapshotResult)`.
  template <class Token>
  auto async_snapshot(std::string_view path, Token&& token) const {
    return detail::initiate<SnapshotResult>(
        executor(), std::forward<Token>(token),
        [self = *this, path = std::string(path)](auto callback, auto canceller) {
          self.start_snapshot(path, std::move(callback), std::move(canceller));
        });
  }

  /// @copydoc auth_enable
  /// Handler signature: `void(std::exception_ptr, AuthResult)`.
  template <class Token>
  auto async_auth_enable(Token&& token) const {
    return async_auth(detail::AuthRequest(detail::AuthRequest::Kind::auth_enable),
                      std::forward<Token>(token));
  }
  /// @copydoc auth_disable
  /// Handler signature: `void(std::exception_ptr, AuthResult)`.
  template <class Token>
  auto async_auth_disable(Token&& token) const {
    return async_auth(detail::AuthRequest(detail::AuthRequest::Kind::auth_disable),
                      std::forward<Token>(token));
  }
  /// @copydoc auth_status
  /// Handler signature: `void(std::exception_ptr, AuthStatusResult)`.
  template <class Token>
  auto async_auth_status(Token&& token) const {
    return detail::initiate<AuthStatusResult>(
        executor(), std::forward<Token>(token), [self = *this](auto callback, auto canceller) {
          self.start_auth_status(std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc user_add
  /// Handler signature: `void(std::exception_ptr, AuthResult)`.
  template <class Token>
  auto async_user_add(std::string_view name, std::string_view password, bool no_password,
                      Token&& token) const {
    return async_auth(
        detail::AuthRequest(detail::AuthRequest::Kind::user_add, name, password, {}, no_password),
        std::forward<Token>(token));
  }
  /// As async_user_add(name, password, no_password, token) for a user with a password.
  template <class Token>
  auto async_user_add(std::string_view name, std::string_view password, Token&& token) const {
    return async_user_add(name, password, false, std::forward<Token>(token));
  }
  /// @copydoc user_delete
  /// Handler signature: `void(std::exception_ptr, AuthResult)`.
  template <class Token>
  auto async_user_delete(std::string_view name, Token&& token) const {
    return async_auth(detail::AuthRequest(detail::AuthRequest::Kind::user_delete, name),
                      std::forward<Token>(token));
  }
  /// @copydoc user_get
  /// Handler signature: `void(std::exception_ptr, UserGetResult)`.
  template <class Token>
  auto async_user_get(std::string_view name, Token&& token) const {
    return detail::initiate<UserGetResult>(
        executor(), std::forward<Token>(token),
        [self = *this, name = std::string(name)](auto callback, auto canceller) {
          self.start_user_get(name, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc user_list
  /// Handler signature: `void(std::exception_ptr, UserListResult)`.
  template <class Token>
  auto async_user_list(Token&& token) const {
    return detail::initiate<UserListResult>(
        executor(), std::forward<Token>(token), [self = *this](auto callback, auto canceller) {
          self.start_user_list(std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc user_change_password
  /// Handler signature: `void(std::exception_ptr, AuthResult)`.
  template <class Token>
  auto async_user_change_password(std::string_view name, std::string_view password,
                                  Token&& token) const {
    return async_auth(
        detail::AuthRequest(detail::AuthRequest::Kind::user_change_password, name, password),
        std::forward<Token>(token));
  }
  /// @copydoc user_grant_role
  /// Handler signature: `void(std::exception_ptr, AuthResult)`.
  template <class Token>
  auto async_user_grant_role(std::string_view user, std::string_view role, Token&& token) const {
    return async_auth(
        detail::AuthRequest(detail::AuthRequest::Kind::user_grant_role, user, {}, role),
        std::forward<Token>(token));
  }
  /// @copydoc user_revoke_role
  /// Handler signature: `void(std::exception_ptr, AuthResult)`.
  template <class Token>
  auto async_user_revoke_role(std::string_view user, std::string_view role, Token&& token) const {
    return async_auth(
        detail::AuthRequest(detail::AuthRequest::Kind::user_revoke_role, user, {}, role),
        std::forward<Token>(token));
  }
  /// @copydoc role_add
  /// Handler signature: `void(std::exception_ptr, AuthResult)`.
  template <class Token>
  auto async_role_add(std::string_view role, Token&& token) const {
    return async_auth(detail::AuthRequest(detail::AuthRequest::Kind::role_add, role),
                      std::forward<Token>(token));
  }
  /// @copydoc role_delete
  /// Handler signature: `void(std::exception_ptr, AuthResult)`.
  template <class Token>
  auto async_role_delete(std::string_view role, Token&& token) const {
    return async_auth(detail::AuthRequest(detail::AuthRequest::Kind::role_delete, role),
                      std::forward<Token>(token));
  }
  /// @copydoc role_get
  /// Handler signature: `void(std::exception_ptr, RoleGetResult)`.
  template <class Token>
  auto async_role_get(std::string_view role, Token&& token) const {
    return detail::initiate<RoleGetResult>(
        executor(), std::forward<Token>(token),
        [self = *this, role = std::string(role)](auto callback, auto canceller) {
          self.start_role_get(role, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc role_list
  /// Handler signature: `void(std::exception_ptr, RoleListResult)`.
  template <class Token>
  auto async_role_list(Token&& token) const {
    return detail::initiate<RoleListResult>(
        executor(), std::forward<Token>(token), [self = *this](auto callback, auto canceller) {
          self.start_role_list(std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc role_grant_permission
  /// Handler signature: `void(std::exception_ptr, AuthResult)`.
  template <class Token>
  auto async_role_grant_permission(std::string_view role, const Permission& permission,
                                   Token&& token) const {
    return async_auth(detail::AuthRequest(detail::AuthRequest::Kind::role_grant_permission, role,
                                          {}, {}, false, permission),
                      std::forward<Token>(token));
  }
  /// @copydoc role_revoke_permission
  /// Handler signature: `void(std::exception_ptr, AuthResult)`.
  template <class Token>
  auto async_role_revoke_permission(std::string_view role, std::string_view key,
                                    std::string_view range_end, Token&& token) const {
    return async_auth(
        detail::AuthRequest(detail::AuthRequest::Kind::role_revoke_permission, role, {}, {}, false,
                            Permission::of_range(Permission::Type::read, key, range_end)),
        std::forward<Token>(token));
  }
  /// As async_role_revoke_permission(role, key, range_end, token) for the one key `key`.
  template <class Token>
  auto async_role_revoke_permission(std::string_view role, std::string_view key,
                                    Token&& token) const {
    return async_role_revoke_permission(role, key, {}, std::forward<Token>(token));
  }

 private:
  friend class Paginator;
  using CancellerPtr = std::shared_ptr<detail::Canceller>;

  void start_get_one(const std::string& key, detail::Callback<std::optional<KeyValue>> cb,
                     CancellerPtr canceller) const;
  void start_watch(std::string key, WatchOptions options, Watch::Callback callback,
                   detail::Callback<Watch> done, CancellerPtr canceller) const;
  void start_keep_alive(LeaseId id, KeepAliveOptions options, detail::Callback<KeepAlive> done,
                        CancellerPtr canceller) const;
  void start_get(const std::string& key, const GetOptions& options,
                 detail::Callback<GetResult> cb, CancellerPtr canceller) const;
  void start_put(std::string key, std::string value, const PutOptions& options,
                 detail::Callback<PutResult> cb, CancellerPtr canceller) const;
  void start_delete(const std::string& key, const DeleteOptions& options,
                    detail::Callback<DeleteResult> cb, CancellerPtr canceller) const;
  void start_txn(const Txn& txn, detail::Callback<TxnResult> cb, CancellerPtr canceller) const;
  void start_compact(std::int64_t revision, const CompactOptions& options,
                     detail::Callback<CompactResult> cb, CancellerPtr canceller) const;
  void start_lease_grant(std::chrono::seconds ttl, LeaseId id,
                         detail::Callback<LeaseGrantResult> cb, CancellerPtr canceller) const;
  void start_lease_revoke(LeaseId id, detail::Callback<LeaseRevokeResult> cb,
                          CancellerPtr canceller) const;
  void start_lease_time_to_live(LeaseId id, const LeaseTimeToLiveOptions& options,
                                detail::Callback<LeaseTimeToLiveResult> cb,
                                CancellerPtr canceller) const;
  void start_lease_leases(detail::Callback<std::vector<LeaseId>> cb, CancellerPtr canceller) const;
  void start_lease_keep_alive_once(LeaseId id, detail::Callback<LeaseKeepAliveResult> cb,
                                   CancellerPtr canceller) const;
  void start_status(detail::Callback<StatusResult> cb, CancellerPtr canceller) const;
  void start_member_list(detail::Callback<std::vector<Member>> cb, CancellerPtr canceller) const;
  void start_member_add(const std::vector<std::string>& peer_urls, bool learner,
                        detail::Callback<MemberAddResult> cb, CancellerPtr canceller) const;
  void start_member_remove(std::uint64_t id, detail::Callback<MemberRemoveResult> cb,
                           CancellerPtr canceller) const;
  void start_member_update(std::uint64_t id, const std::vector<std::string>& peer_urls,
                           detail::Callback<MemberUpdateResult> cb, CancellerPtr canceller) const;
  void start_member_promote(std::uint64_t id, detail::Callback<MemberPromoteResult> cb,
                            CancellerPtr canceller) const;
  void start_status_of(const std::string& endpoint, detail::Callback<StatusResult> cb,
                       CancellerPtr canceller) const;
  void start_status_all(detail::Callback<std::vector<EndpointStatus>> cb,
                        CancellerPtr canceller) const;
  /// `action` is etcd's AlarmRequest.AlarmAction: 0 get, 2 deactivate.
  void start_alarm(int action, std::uint64_t member_id, AlarmType type,
                   detail::Callback<std::vector<Alarm>> cb, CancellerPtr canceller) const;
  void start_defragment(const std::string& endpoint, detail::Callback<DefragmentResult> cb,
                        CancellerPtr canceller) const;
  void start_hash(const std::string& endpoint, detail::Callback<HashResult> cb,
                  CancellerPtr canceller) const;
  void start_hash_kv(const std::string& endpoint, std::int64_t revision,
                     detail::Callback<HashKvResult> cb, CancellerPtr canceller) const;
  void start_move_leader(std::uint64_t target, detail::Callback<MoveLeaderResult> cb,
                         CancellerPtr canceller) const;
  void start_snapshot(const std::string& path, detail::Callback<SnapshotResult> cb,
                      CancellerPtr canceller) const;
  void start_auth(const detail::AuthRequest& request, detail::Callback<AuthResult> cb,
                  CancellerPtr canceller) const;
  void start_auth_status(detail::Callback<AuthStatusResult> cb, CancellerPtr canceller) const;
  void start_user_get(const std::string& name, detail::Callback<UserGetResult> cb,
                      CancellerPtr canceller) const;
  void start_user_list(detail::Callback<UserListResult> cb, CancellerPtr canceller) const;
  void start_role_get(const std::string& role, detail::Callback<RoleGetResult> cb,
                      CancellerPtr canceller) const;
  void start_role_list(detail::Callback<RoleListResult> cb, CancellerPtr canceller) const;

  template <class Token>
  auto async_auth(detail::AuthRequest request, Token&& token) const {
    return detail::initiate<AuthResult>(
        executor(), std::forward<Token>(token),
        [self = *this, request = std::move(request)](auto callback, auto canceller) {
          self.start_auth(request, std::move(callback), std::move(canceller));
        });
  }

  std::shared_ptr<detail::ClientCore> core_;
  std::chrono::milliseconds timeout_;
  /// The namespace of a view (with_namespace), empty for a plain client. Every key request is
  /// mapped into it, and every answer out of it, where the messages are built (src/kv.cpp,
  /// src/txn.cpp, src/watch.cpp, src/lease.cpp).
  std::string namespace_;
};

}  // namespace etcdpp
