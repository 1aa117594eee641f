// SPDX-License-Identifier: Apache-2.0
// The Client: a cheap, copyable, thread-safe handle on a connection to an etcd cluster, with the
// key-value and transaction calls (kv.hpp, txn.hpp), member status (maintenance.hpp), the
// member list (cluster.hpp) and the Auth API (auth.hpp), in two faces, blocking and asynchronous.
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
#include "etcdpp/cluster.hpp"
#include "etcdpp/detail/async.hpp"
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

/// An etcd endpoint, parsed. Accepted forms: `host:port`, `http://host:port`,
/// `https://host:port` (TLS, see TlsOptions), `[v6addr]:port`, `unix:///path`, `unix:path`.
struct Endpoint {
  enum class Scheme { http, https, unix_socket };
  Scheme scheme = Scheme::http;
  std::string host;      ///< Host name or address (IPv6 without brackets); empty for unix.
  std::uint16_t port = 0;
  std::string path;      ///< Socket path, for unix.

  /// Parses `text`; throws Error (Errc::invalid_endpoint) naming the endpoint and the fault.
  static Endpoint parse(std::string_view text);
  /// Back to text: `host:port`, `[v6]:port` or `unix:///path` (without http:// or https://).
  std::string to_string() const;

  bool operator==(const Endpoint&) const = default;
};

/// TLS for https:// endpoints (and for every `host:port` endpoint once any field is set). The
/// CA, the client certificate and its key may each be given as a file or as PEM text, not both.
struct TlsOptions {
  /// CA certificates that sign the servers' certificates. Neither: the system's CAs.
  std::string ca_file{};
  std::string ca_pem{};
  /// The client's certificate and private key, for servers that require one (mutual TLS,
  /// etcd's --client-cert-auth). Both or neither.
  std::string cert_file{};
  std::string cert_pem{};
  std::string key_file{};
  std::string key_pem{};
  /// The name the server's certificate must carry, instead of the endpoint's host.
  std::string server_name{};

  /// Whether any field is set.
  bool any() const noexcept {
    return !ca_file.empty() || !ca_pem.empty() || !cert_file.empty() || !cert_pem.empty() ||
           !key_file.empty() || !key_pem.empty() || !server_name.empty();
  }
};

/// How a Client connects. Fill it with designated initializers:
/// `Client client({.endpoints = {"127.0.0.1:2379"}, .call_timeout = 2s});`
struct ClientOptions {
  /// Endpoints of the cluster's members. Calls go to one of them and fail over to the next when
  /// it is unreachable.
  std::vector<std::string> endpoints;
  /// How long a connection attempt to one endpoint may take before the next one is tried.
  std::chrono::milliseconds connect_timeout{2000};
  /// Deadline of each call that has none of its own (see Client::with_timeout). Retries happen
  /// within it.
  std::chrono::milliseconds call_timeout{5000};
  /// HTTP/2 keep-alive pings on idle connections, and how long to wait for their answer; a dead
  /// peer is noticed within their sum. Zero disables the pings.
  std::chrono::milliseconds keepalive_time{10000};
  std::chrono::milliseconds keepalive_timeout{5000};
  /// Largest message sent or received. etcd's own limit on requests is 1.5 MiB by default
  /// (--max-request-bytes); its answers may be larger.
  int max_send_message_size = 2 * 1024 * 1024;
  int max_receive_message_size = 256 * 1024 * 1024;
  /// Backoff between retries of a call: exponential from `retry_backoff_base`, capped at
  /// `retry_backoff_max`, with full jitter. Reads are retried; writes only when the request
  /// never left this process.
  std::chrono::milliseconds retry_backoff_base{25};
  std::chrono::milliseconds retry_backoff_max{1000};
  /// How fast a lost connection is retried: gRPC's reconnect backoff, capped at this.
  std::chrono::milliseconds reconnect_backoff_max{1000};
  /// A watch stream that receives nothing, not even answers to the progress requests etcdpp
  /// sends when it is idle, for this long is abandoned and its watches resumed on another.
  std::chrono::milliseconds watch_stall_timeout{30000};
  /// Executor on which asynchronous completions run when their handler has no associated
  /// executor. When empty, the client runs one thread of its own for them.
  asio::any_io_executor executor;
  /// Credentials for etcd's authentication. With a username, the client authenticates
  /// (Auth.Authenticate) before its first call, sends the token with every call, watch and
  /// keep-alive stream, and when etcd says the token is invalid or expired, authenticates again
  /// once and repeats the call once. Wrong credentials fail the call with Errc::auth_failed.
  /// Against a server with auth off the calls go without a token. Empty: no authentication.
  std::string username{};
  std::string password{};
  /// TLS for https:// endpoints. Files are read when the Client is made: one that cannot be
  /// read throws Error (Errc::invalid_option) naming it. A server whose certificate is not
  /// trusted, or that refuses the client's, fails calls with Errc::tls_handshake_failed.
  TlsOptions tls{};
};

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
/// names the call and the key. Asynchronous calls pass the same std::error_code to their handler.
///
/// **Threads** The library starts a fixed number of threads whatever the number of calls: gRPC's
/// own; one per Client (shared by its copies) that reads its connections and completes its
/// calls; and, unless ClientOptions::executor is set, one more per Client to run asynchronous
/// completions. No thread per call.
///
/// **Async handlers** The handler signature is `void(std::error_code, Result)`. It runs on its
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

  /// The endpoints, as parsed.
  const std::vector<Endpoint>& endpoints() const noexcept;
  /// The executor of asynchronous completions whose handler has none.
  asio::any_io_executor executor() const noexcept;

  /// Reads one key; std::nullopt when it does not exist.
  /// @see https://etcd.io/docs/v3.4/learning/api/#range
  std::optional<KeyValue> get(std::string_view key) const;
  /// Reads a key, a range or a prefix, with every option of etcd's RangeRequest.
  GetResult get(std::string_view key, const GetOptions& options) const;
  /// Writes `value` at `key`. @see https://etcd.io/docs/v3.4/learning/api/#put
  PutResult put(std::string_view key, std::string_view value, const PutOptions& options = {}) const;
  /// Deletes a key, a range or a prefix. @see https://etcd.io/docs/v3.4/learning/api/#delete-range
  DeleteResult delete_range(std::string_view key, const DeleteOptions& options = {}) const;
  /// Runs a transaction. A compare that fails is not an error: TxnResult::succeeded is false.
  /// @see https://etcd.io/docs/v3.4/learning/api/#transaction
  TxnResult txn(const Txn& txn) const;
  /// Compacts the history up to `revision`. @see https://etcd.io/docs/v3.4/op-guide/maintenance/
  CompactResult compact(std::int64_t revision, const CompactOptions& options = {}) const;

  /// The status of the member this call reaches (with one endpoint, that endpoint's member):
  /// its id, the leader it knows, raft index and term, database size, version.
  /// @see https://etcd.io/docs/v3.4/dev-guide/api_reference_v3/ (Maintenance.Status)
  StatusResult status() const;
  /// The members of the cluster. @see https://etcd.io/docs/v3.4/op-guide/runtime-configuration/
  std::vector<Member> member_list() const;

  /// Turns authentication on. etcd requires a user "root" holding the role "root" first
  /// (Errc::root_user_not_exist, Errc::root_role_not_exist). Afterwards every call needs
  /// credentials (ClientOptions::username and password).
  /// @see https://etcd.io/docs/v3.4/op-guide/authentication/
  AuthResult auth_enable() const;
  /// Turns authentication off (needs the root user's credentials while it is on).
  AuthResult auth_disable() const;
  /// Whether authentication is on. etcd 3.4 has no call for it: etcdpp asks the member to
  /// authenticate an empty user name, which it refuses differently whether auth is on or off.
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
  /// @see https://etcd.io/docs/v3.4/learning/api/#watch-api
  Watch watch(std::string_view key, const WatchOptions& options = {},
              Watch::Callback callback = {}) const;

  /// Grants a lease of `ttl` seconds, with the given ID or (LeaseId{0}) one etcd picks.
  /// @see https://etcd.io/docs/v3.4/learning/api/#lease-api
  LeaseGrantResult lease_grant(std::int64_t ttl, LeaseId id = {}) const;
  /// Revokes a lease: its keys are deleted. Errc::lease_not_found when there is no such lease.
  LeaseRevokeResult lease_revoke(LeaseId id) const;
  /// A lease's remaining and granted TTL, and with `keys` its keys; ttl -1 when it is gone.
  LeaseTimeToLiveResult lease_time_to_live(LeaseId id, bool keys = false) const;
  /// The IDs of every lease.
  std::vector<LeaseId> lease_leases() const;
  /// Renews a lease once. Errc::lease_not_found when it is gone.
  LeaseKeepAliveResult lease_keep_alive_once(LeaseId id) const;
  /// Keeps a lease alive until the KeepAlive goes; returns once the first renewal is answered.
  /// Throws Error with Errc::lease_not_found when the lease does not exist.
  KeepAlive keep_alive(LeaseId id, KeepAliveOptions options = {}) const;

  /// @copydoc lease_grant
  /// Handler signature: `void(std::error_code, LeaseGrantResult)`.
  template <class Token>
  auto async_lease_grant(std::int64_t ttl, LeaseId id, Token&& token) const {
    return detail::initiate<LeaseGrantResult>(
        executor(), std::forward<Token>(token), [self = *this, ttl, id](auto cb, auto canceller) {
          self.start_lease_grant(ttl, id, std::move(cb), std::move(canceller));
        });
  }
  /// @copydoc lease_revoke
  /// Handler signature: `void(std::error_code, LeaseRevokeResult)`.
  template <class Token>
  auto async_lease_revoke(LeaseId id, Token&& token) const {
    return detail::initiate<LeaseRevokeResult>(
        executor(), std::forward<Token>(token), [self = *this, id](auto cb, auto canceller) {
          self.start_lease_revoke(id, std::move(cb), std::move(canceller));
        });
  }
  /// @copydoc lease_time_to_live
  /// Handler signature: `void(std::error_code, LeaseTimeToLiveResult)`.
  template <class Token>
  auto async_lease_time_to_live(LeaseId id, bool keys, Token&& token) const {
    return detail::initiate<LeaseTimeToLiveResult>(
        executor(), std::forward<Token>(token), [self = *this, id, keys](auto cb, auto canceller) {
          self.start_lease_time_to_live(id, keys, std::move(cb), std::move(canceller));
        });
  }

  /// @copydoc get(std::string_view) const
  /// Handler signature: `void(std::error_code, std::optional<KeyValue>)`.
  template <class Token>
  auto async_get(std::string_view key, Token&& token) const {
    return detail::initiate<std::optional<KeyValue>>(
        executor(), std::forward<Token>(token),
        [self = *this, key = std::string(key)](auto callback, auto canceller) {
          self.start_get_one(key, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc get(std::string_view, const GetOptions&) const
  /// Handler signature: `void(std::error_code, GetResult)`.
  template <class Token>
  auto async_get(std::string_view key, const GetOptions& options, Token&& token) const {
    return detail::initiate<GetResult>(
        executor(), std::forward<Token>(token),
        [self = *this, key = std::string(key), options](auto callback, auto canceller) {
          self.start_get(key, options, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc put
  /// Handler signature: `void(std::error_code, PutResult)`.
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
  template <class Token>
  auto async_put(std::string_view key, std::string_view value, Token&& token) const {
    return async_put(key, value, PutOptions{}, std::forward<Token>(token));
  }
  /// @copydoc delete_range
  /// Handler signature: `void(std::error_code, DeleteResult)`.
  template <class Token>
  auto async_delete_range(std::string_view key, const DeleteOptions& options, Token&& token) const {
    return detail::initiate<DeleteResult>(
        executor(), std::forward<Token>(token),
        [self = *this, key = std::string(key), options](auto callback, auto canceller) {
          self.start_delete(key, options, std::move(callback), std::move(canceller));
        });
  }
  template <class Token>
  auto async_delete_range(std::string_view key, Token&& token) const {
    return async_delete_range(key, DeleteOptions{}, std::forward<Token>(token));
  }
  /// @copydoc txn
  /// Handler signature: `void(std::error_code, TxnResult)`.
  template <class Token>
  auto async_txn(const Txn& txn, Token&& token) const {
    return detail::initiate<TxnResult>(
        executor(), std::forward<Token>(token),
        [self = *this, txn](auto callback, auto canceller) {
          self.start_txn(txn, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc compact
  /// Handler signature: `void(std::error_code, CompactResult)`.
  template <class Token>
  auto async_compact(std::int64_t revision, const CompactOptions& options, Token&& token) const {
    return detail::initiate<CompactResult>(
        executor(), std::forward<Token>(token),
        [self = *this, revision, options](auto callback, auto canceller) {
          self.start_compact(revision, options, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc status
  /// Handler signature: `void(std::error_code, StatusResult)`.
  template <class Token>
  auto async_status(Token&& token) const {
    return detail::initiate<StatusResult>(
        executor(), std::forward<Token>(token), [self = *this](auto callback, auto canceller) {
          self.start_status(std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc member_list
  /// Handler signature: `void(std::error_code, std::vector<Member>)`.
  template <class Token>
  auto async_member_list(Token&& token) const {
    return detail::initiate<std::vector<Member>>(
        executor(), std::forward<Token>(token), [self = *this](auto callback, auto canceller) {
          self.start_member_list(std::move(callback), std::move(canceller));
        });
  }

  /// @copydoc auth_enable
  /// Handler signature: `void(std::error_code, AuthResult)`.
  template <class Token>
  auto async_auth_enable(Token&& token) const {
    return async_auth(detail::AuthRequest(detail::AuthRequest::Kind::auth_enable),
                      std::forward<Token>(token));
  }
  /// @copydoc auth_disable
  /// Handler signature: `void(std::error_code, AuthResult)`.
  template <class Token>
  auto async_auth_disable(Token&& token) const {
    return async_auth(detail::AuthRequest(detail::AuthRequest::Kind::auth_disable),
                      std::forward<Token>(token));
  }
  /// @copydoc auth_status
  /// Handler signature: `void(std::error_code, AuthStatusResult)`.
  template <class Token>
  auto async_auth_status(Token&& token) const {
    return detail::initiate<AuthStatusResult>(
        executor(), std::forward<Token>(token), [self = *this](auto callback, auto canceller) {
          self.start_auth_status(std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc user_add
  /// Handler signature: `void(std::error_code, AuthResult)`.
  template <class Token>
  auto async_user_add(std::string_view name, std::string_view password, bool no_password,
                      Token&& token) const {
    return async_auth(
        detail::AuthRequest(detail::AuthRequest::Kind::user_add, name, password, {}, no_password),
        std::forward<Token>(token));
  }
  template <class Token>
  auto async_user_add(std::string_view name, std::string_view password, Token&& token) const {
    return async_user_add(name, password, false, std::forward<Token>(token));
  }
  /// @copydoc user_delete
  /// Handler signature: `void(std::error_code, AuthResult)`.
  template <class Token>
  auto async_user_delete(std::string_view name, Token&& token) const {
    return async_auth(detail::AuthRequest(detail::AuthRequest::Kind::user_delete, name),
                      std::forward<Token>(token));
  }
  /// @copydoc user_get
  /// Handler signature: `void(std::error_code, UserGetResult)`.
  template <class Token>
  auto async_user_get(std::string_view name, Token&& token) const {
    return detail::initiate<UserGetResult>(
        executor(), std::forward<Token>(token),
        [self = *this, name = std::string(name)](auto callback, auto canceller) {
          self.start_user_get(name, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc user_list
  /// Handler signature: `void(std::error_code, UserListResult)`.
  template <class Token>
  auto async_user_list(Token&& token) const {
    return detail::initiate<UserListResult>(
        executor(), std::forward<Token>(token), [self = *this](auto callback, auto canceller) {
          self.start_user_list(std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc user_change_password
  /// Handler signature: `void(std::error_code, AuthResult)`.
  template <class Token>
  auto async_user_change_password(std::string_view name, std::string_view password,
                                  Token&& token) const {
    return async_auth(
        detail::AuthRequest(detail::AuthRequest::Kind::user_change_password, name, password),
        std::forward<Token>(token));
  }
  /// @copydoc user_grant_role
  /// Handler signature: `void(std::error_code, AuthResult)`.
  template <class Token>
  auto async_user_grant_role(std::string_view user, std::string_view role, Token&& token) const {
    return async_auth(
        detail::AuthRequest(detail::AuthRequest::Kind::user_grant_role, user, {}, role),
        std::forward<Token>(token));
  }
  /// @copydoc user_revoke_role
  /// Handler signature: `void(std::error_code, AuthResult)`.
  template <class Token>
  auto async_user_revoke_role(std::string_view user, std::string_view role, Token&& token) const {
    return async_auth(
        detail::AuthRequest(detail::AuthRequest::Kind::user_revoke_role, user, {}, role),
        std::forward<Token>(token));
  }
  /// @copydoc role_add
  /// Handler signature: `void(std::error_code, AuthResult)`.
  template <class Token>
  auto async_role_add(std::string_view role, Token&& token) const {
    return async_auth(detail::AuthRequest(detail::AuthRequest::Kind::role_add, role),
                      std::forward<Token>(token));
  }
  /// @copydoc role_delete
  /// Handler signature: `void(std::error_code, AuthResult)`.
  template <class Token>
  auto async_role_delete(std::string_view role, Token&& token) const {
    return async_auth(detail::AuthRequest(detail::AuthRequest::Kind::role_delete, role),
                      std::forward<Token>(token));
  }
  /// @copydoc role_get
  /// Handler signature: `void(std::error_code, RoleGetResult)`.
  template <class Token>
  auto async_role_get(std::string_view role, Token&& token) const {
    return detail::initiate<RoleGetResult>(
        executor(), std::forward<Token>(token),
        [self = *this, role = std::string(role)](auto callback, auto canceller) {
          self.start_role_get(role, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc role_list
  /// Handler signature: `void(std::error_code, RoleListResult)`.
  template <class Token>
  auto async_role_list(Token&& token) const {
    return detail::initiate<RoleListResult>(
        executor(), std::forward<Token>(token), [self = *this](auto callback, auto canceller) {
          self.start_role_list(std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc role_grant_permission
  /// Handler signature: `void(std::error_code, AuthResult)`.
  template <class Token>
  auto async_role_grant_permission(std::string_view role, const Permission& permission,
                                   Token&& token) const {
    return async_auth(detail::AuthRequest(detail::AuthRequest::Kind::role_grant_permission, role,
                                          {}, {}, false, permission),
                      std::forward<Token>(token));
  }
  /// @copydoc role_revoke_permission
  /// Handler signature: `void(std::error_code, AuthResult)`.
  template <class Token>
  auto async_role_revoke_permission(std::string_view role, std::string_view key,
                                    std::string_view range_end, Token&& token) const {
    return async_auth(
        detail::AuthRequest(detail::AuthRequest::Kind::role_revoke_permission, role, {}, {}, false,
                            Permission::of_range(Permission::Type::read, key, range_end)),
        std::forward<Token>(token));
  }
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
  void start_get(const std::string& key, const GetOptions& options,
                 detail::Callback<GetResult> cb, CancellerPtr canceller) const;
  void start_put(std::string key, std::string value, const PutOptions& options,
                 detail::Callback<PutResult> cb, CancellerPtr canceller) const;
  void start_delete(const std::string& key, const DeleteOptions& options,
                    detail::Callback<DeleteResult> cb, CancellerPtr canceller) const;
  void start_txn(const Txn& txn, detail::Callback<TxnResult> cb, CancellerPtr canceller) const;
  void start_compact(std::int64_t revision, const CompactOptions& options,
                     detail::Callback<CompactResult> cb, CancellerPtr canceller) const;
  void start_lease_grant(std::int64_t ttl, LeaseId id, detail::Callback<LeaseGrantResult> cb,
                         CancellerPtr canceller) const;
  void start_lease_revoke(LeaseId id, detail::Callback<LeaseRevokeResult> cb,
                          CancellerPtr canceller) const;
  void start_lease_time_to_live(LeaseId id, bool keys, detail::Callback<LeaseTimeToLiveResult> cb,
                                CancellerPtr canceller) const;
  void start_status(detail::Callback<StatusResult> cb, CancellerPtr canceller) const;
  void start_member_list(detail::Callback<std::vector<Member>> cb, CancellerPtr canceller) const;
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
};

}  // namespace etcdpp
