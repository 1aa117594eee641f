// SPDX-License-Identifier: Apache-2.0
// The Client: a cheap, copyable, thread-safe handle on a connection to an etcd cluster, with the
// key-value and transaction calls (kv.hpp, txn.hpp), watches (watch.hpp), leases (lease.hpp) and
// paging (paginator.hpp), each in two faces, blocking and asynchronous. The Cluster, Maintenance
// and Auth APIs are facets of it: client.cluster(), client.maintenance(), client.auth()
// (cluster.hpp, maintenance.hpp, auth.hpp). How it connects is in client_options.hpp, its
// endpoints in endpoint.hpp.
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
#include "etcdpp/detail/call.hpp"
#include "etcdpp/detail/client_calls.hpp"
#include "etcdpp/endpoint.hpp"
#include "etcdpp/error.hpp"
#include "etcdpp/kv.hpp"
#include "etcdpp/lease.hpp"
#include "etcdpp/maintenance.hpp"
#include "etcdpp/paginator.hpp"
#include "etcdpp/txn.hpp"
#include "etcdpp/watch.hpp"

namespace etcdpp {

/// A handle on a connection to an etcd cluster.
///
/// **Thread safety** A Client may be used from any number of threads at once. Copies are cheap
/// and share one connection (and its threads); the connection closes when the last copy goes.
///
/// **Two faces** Each call has a blocking form that throws and an asynchronous form that takes
/// an Asio completion token (a callback, `asio::use_future`, `asio::use_awaitable`, ...). Both
/// take the same arguments in the same order, with the same defaults; the asynchronous one adds
/// the token. Both are thin over one core: each call is started once, the same way, whichever
/// face waits for it.
///
/// **Facets** The Cluster, Maintenance and Auth APIs are handles of their own, as cheap as a
/// Client and sharing its connection and deadline: cluster(), maintenance(), auth().
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
/// (Errc::cancelled) when it emits a cancellation type the call honours: reads (get, a watch's or
/// a keep-alive's creation, lease_time_to_live, lease_leases) honour every type; writes (put,
/// delete_range, txn, compact, lease_grant, lease_revoke), which may already be on their way,
/// honour terminal and partial but not total, as their effect is then unknown;
/// lease_keep_alive_once honours none. Destroying the last copy of a Client cancels the calls
/// still in flight.
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
  const std::string& key_namespace() const noexcept { return context_.ns; }

  /// The endpoints, as parsed: those given, then those learnt by auto-sync.
  std::vector<Endpoint> endpoints() const;
  /// Each endpoint's connection state, whether its member is the leader as last seen, and the
  /// streams open on it; in endpoints() order. Asks no server.
  std::vector<EndpointInfo> connection_info() const;
  /// The executor of asynchronous completions whose handler has none.
  asio::any_io_executor executor() const noexcept;

  /// The Cluster API (members: list, add, remove, update, promote) on this client's connection,
  /// with its deadline.
  ClusterClient cluster() const;
  /// The Maintenance API (status, alarms, defragmentation, hashes, leader transfer, snapshots)
  /// on this client's connection, with its deadline.
  MaintenanceClient maintenance() const;
  /// The Auth API (enabling auth, users, roles, permissions) on this client's connection, with
  /// its deadline.
  AuthClient auth() const;

  /// Reads one key; std::nullopt when it does not exist.
  std::optional<KeyValue> get(std::string_view key) const {
    return detail::run(context_, detail::calls::GetOne{std::string(key)});
  }
  /// Reads a key, a range or a prefix, with every option of etcd's RangeRequest.
  GetResult get(std::string_view key, const GetOptions& options) const {
    return detail::run(context_, detail::calls::Get(key, options));
  }
  /// Writes `value` at `key`.
  PutResult put(std::string_view key, std::string_view value,
                const PutOptions& options = {}) const {
    return detail::run(context_,
                       detail::calls::Put{std::string(key), std::string(value), options});
  }
  /// Deletes a key, a range or a prefix.
  DeleteResult delete_range(std::string_view key, const DeleteOptions& options = {}) const {
    return detail::run(context_, detail::calls::DeleteRange(key, options));
  }
  /// Runs a transaction. A compare that fails is not an error: TxnResult::succeeded is false.
  TxnResult txn(const Txn& txn) const { return detail::run(context_, detail::calls::RunTxn{txn}); }
  /// Compacts the history up to `revision`.
  CompactResult compact(std::int64_t revision, const CompactOptions& options = {}) const {
    return detail::run(context_, detail::calls::Compact{revision, options});
  }

  /// Iterates over a large range page by page, `page_size` keys at a time, all read at the
  /// revision of the first page; only the current page is held in memory. The options choose the
  /// range as for get(); sorting other than ascending by key, limit and count_only are refused.
  /// Making it reads nothing; its pages are read by Paginator::next_page() or, asynchronously,
  /// Paginator::async_next_page().
  Paginator paginate(std::string_view key, GetOptions options, std::int64_t page_size = 1000) const;

  /// Watches a key, a range or a prefix; returns once etcd has created the watch. With a
  /// callback, batches are pushed to it (on WatchOptions::executor, else the client's); without
  /// one, pull them with Watch::next or Watch::async_next. All watches of a client share one
  /// stream. Throws Error if the watch cannot be created within the call timeout, and
  /// CompactedError if its start revision is compacted. (It waits on its own thread, not on the
  /// client's executor, so it may be called from a handler running there.)
  Watch watch(std::string_view key, const WatchOptions& options = {},
              Watch::Callback callback = {}) const;

  /// Grants a lease of `ttl` (whole seconds, as etcd counts them), with the given ID or
  /// (LeaseId{0}) one etcd picks.
  LeaseGrantResult lease_grant(std::chrono::seconds ttl, LeaseId id = {}) const {
    return detail::run(context_, detail::calls::LeaseGrant{ttl, id});
  }
  /// Revokes a lease: its keys are deleted. Errc::lease_not_found when there is no such lease.
  LeaseRevokeResult lease_revoke(LeaseId id) const {
    return detail::run(context_, detail::calls::LeaseRevoke{id});
  }
  /// A lease's remaining and granted TTL, and with `{.keys = true}` its keys; ttl -1 when it
  /// has expired, whether or not etcd has revoked it yet (etcd itself then reports -1 or,
  /// before it revokes it, the seconds since expiry as a negative number), and when there is no
  /// such lease.
  LeaseTimeToLiveResult lease_time_to_live(LeaseId id,
                                           const LeaseTimeToLiveOptions& options = {}) const {
    return detail::run(context_, detail::calls::LeaseTimeToLive{id, options});
  }
  /// The IDs of every lease.
  std::vector<LeaseId> lease_leases() const {
    return detail::run(context_, detail::calls::LeaseLeases{});
  }
  /// Renews a lease once, on the keep-alive stream. Errc::lease_not_found when it is gone;
  /// Errc::deadline_exceeded when no answer comes within the call timeout.
  LeaseKeepAliveResult lease_keep_alive_once(LeaseId id) const {
    return detail::run(context_, detail::calls::LeaseKeepAliveOnce{id});
  }
  /// Keeps a lease alive until the KeepAlive goes; returns once the first renewal is answered.
  /// Throws Error with Errc::lease_not_found when the lease does not exist. (It waits on its own
  /// thread, as watch() does.)
  KeepAlive keep_alive(LeaseId id, KeepAliveOptions options = {}) const;

  // ---- The asynchronous face: the same calls, the same arguments, a completion token last ----

  /// @copydoc get(std::string_view) const
  /// Handler signature: `void(std::exception_ptr, std::optional<KeyValue>)`.
  template <class Token>
  auto async_get(std::string_view key, Token&& token) const {
    return run_async(detail::calls::GetOne{std::string(key)}, std::forward<Token>(token));
  }
  /// @copydoc get(std::string_view, const GetOptions&) const
  /// Handler signature: `void(std::exception_ptr, GetResult)`.
  template <class Token>
  auto async_get(std::string_view key, const GetOptions& options, Token&& token) const {
    return run_async(detail::calls::Get(key, options), std::forward<Token>(token));
  }
  /// @copydoc put
  /// Handler signature: `void(std::exception_ptr, PutResult)`.
  template <class Token>
  auto async_put(std::string_view key, std::string_view value, const PutOptions& options,
                 Token&& token) const {
    return run_async(detail::calls::Put{std::string(key), std::string(value), options},
                     std::forward<Token>(token));
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
    return run_async(detail::calls::DeleteRange(key, options), std::forward<Token>(token));
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
    return run_async(detail::calls::RunTxn{txn}, std::forward<Token>(token));
  }
  /// @copydoc compact
  /// Handler signature: `void(std::exception_ptr, CompactResult)`.
  template <class Token>
  auto async_compact(std::int64_t revision, const CompactOptions& options, Token&& token) const {
    return run_async(detail::calls::Compact{revision, options}, std::forward<Token>(token));
  }
  /// As async_compact(revision, options, token) with default CompactOptions.
  template <class Token>
  auto async_compact(std::int64_t revision, Token&& token) const {
    return async_compact(revision, CompactOptions{}, std::forward<Token>(token));
  }

  /// @copydoc watch
  /// Handler signature: `void(std::exception_ptr, Watch)`: the running watch, once etcd has
  /// created it, or the exception watch() would throw (CompactedError for a compacted start
  /// revision). No thread waits meanwhile. The third argument is always the watch's own
  /// callback (pass `{}` to pull batches); the token comes last.
  template <class Token>
  auto async_watch(std::string_view key, const WatchOptions& options,
                   const Watch::Callback& callback, Token&& token) const {
    return run_async(detail::calls::MakeWatch(key, options, callback), std::forward<Token>(token));
  }
  /// As async_watch(key, options, {}, token): a watch whose batches are pulled.
  template <class Token>
  auto async_watch(std::string_view key, const WatchOptions& options, Token&& token) const {
    return async_watch(key, options, Watch::Callback{}, std::forward<Token>(token));
  }
  /// As async_watch(key, {}, {}, token): a pulled watch of the one key `key`.
  template <class Token>
  auto async_watch(std::string_view key, Token&& token) const {
    return async_watch(key, WatchOptions{}, Watch::Callback{}, std::forward<Token>(token));
  }

  /// @copydoc lease_grant
  /// Handler signature: `void(std::exception_ptr, LeaseGrantResult)`.
  template <class Token>
  auto async_lease_grant(std::chrono::seconds ttl, LeaseId id, Token&& token) const {
    return run_async(detail::calls::LeaseGrant{ttl, id}, std::forward<Token>(token));
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
    return run_async(detail::calls::LeaseRevoke{id}, std::forward<Token>(token));
  }
  /// @copydoc lease_time_to_live
  /// Handler signature: `void(std::exception_ptr, LeaseTimeToLiveResult)`.
  template <class Token>
  auto async_lease_time_to_live(LeaseId id, const LeaseTimeToLiveOptions& options,
                                Token&& token) const {
    return run_async(detail::calls::LeaseTimeToLive{id, options}, std::forward<Token>(token));
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
    return run_async(detail::calls::LeaseLeases{}, std::forward<Token>(token));
  }
  /// @copydoc lease_keep_alive_once
  /// Handler signature: `void(std::exception_ptr, LeaseKeepAliveResult)`. Completes within the
  /// call timeout (Errc::deadline_exceeded then); a cancellation slot is not honoured, as the
  /// renewal may have been sent.
  template <class Token>
  auto async_lease_keep_alive_once(LeaseId id, Token&& token) const {
    return run_async(detail::calls::LeaseKeepAliveOnce{id}, std::forward<Token>(token));
  }
  /// @copydoc keep_alive
  /// Handler signature: `void(std::exception_ptr, KeepAlive)`: the keep-alive once the first
  /// renewal is answered, or the exception keep_alive() would throw. No thread waits meanwhile.
  template <class Token>
  auto async_keep_alive(LeaseId id, const KeepAliveOptions& options, Token&& token) const {
    return run_async(detail::calls::MakeKeepAlive{id, options}, std::forward<Token>(token));
  }
  /// As async_keep_alive(id, options, token) with default KeepAliveOptions.
  template <class Token>
  auto async_keep_alive(LeaseId id, Token&& token) const {
    return async_keep_alive(id, KeepAliveOptions{}, std::forward<Token>(token));
  }

 private:
  template <class Call, class Token>
  auto run_async(Call call, Token&& token) const {
    return detail::async_run(context_, std::move(call), std::forward<Token>(token));
  }

  /// The connection, the deadline and the namespace every call of this handle carries.
  detail::CallContext context_;
};

}  // namespace etcdpp
