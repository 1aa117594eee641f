// SPDX-License-Identifier: Apache-2.0
// etcd's Auth API: users, roles and the key permissions of roles; AuthClient, the facet of a
// Client (client.auth()) that makes those calls (auth_enable, user_add, role_grant_permission,
// ...). A Client authenticates itself with ClientOptions::username and password.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "etcdpp/detail/call.hpp"
#include "etcdpp/kv.hpp"

namespace etcdpp {

/// A permission of a role over one key, a range [key, range_end), or a prefix.
struct Permission {
  /// What a permission allows: reading (ranges, watches), writing (puts, deletes), or both.
  enum class Type { read, write, readwrite };

  Type type = Type::read;  ///< What the permission allows.
  /// The one key, or the first key of the range (the prefix itself, for of_prefix).
  std::string key;
  /// Empty for the one key `key`; "\0" for every key from `key` on.
  std::string range_end;

  /// On the one key `key`.
  static Permission of_key(Type type, std::string_view key);
  /// On the keys in [key, range_end).
  static Permission of_range(Type type, std::string_view key, std::string_view range_end);
  /// On every key that starts with `prefix` (every key when it is empty).
  static Permission of_prefix(Type type, std::string_view prefix);

  bool operator==(const Permission&) const = default;  ///< Member-wise comparison.
};

/// What the Auth API's writes answer (enable, disable, user and role changes).
struct AuthResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;

  bool operator==(const AuthResult&) const = default;  ///< Member-wise comparison.
};

/// What AuthClient::auth_status answers.
struct AuthStatusResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term); all zero when
  /// `enabled` was inferred from a refusal (etcd 3.4, or auth on and no credentials given).
  ResponseHeader header;
  bool enabled = false;  ///< Whether authentication is on.
  /// The revision of the auth store when etcd reports it (its AuthStatus call, etcd 3.5 and
  /// later); 0 from etcd 3.4, which has no such call, and when auth is on but this Client has
  /// no credentials.
  std::uint64_t revision = 0;

  bool operator==(const AuthStatusResult&) const = default;  ///< Member-wise comparison.
};

/// What AuthClient::user_get answers.
struct UserGetResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;
  std::vector<std::string> roles;  ///< The roles granted to the user.

  bool operator==(const UserGetResult&) const = default;  ///< Member-wise comparison.
};

/// What AuthClient::user_list answers.
struct UserListResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;
  std::vector<std::string> users;  ///< The name of every user.

  bool operator==(const UserListResult&) const = default;  ///< Member-wise comparison.
};

/// What AuthClient::role_get answers.
struct RoleGetResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;
  std::vector<Permission> permissions;  ///< The role's key permissions.

  bool operator==(const RoleGetResult&) const = default;  ///< Member-wise comparison.
};

/// What AuthClient::role_list answers.
struct RoleListResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;
  std::vector<std::string> roles;  ///< The name of every role.

  bool operator==(const RoleListResult&) const = default;  ///< Member-wise comparison.
};

/// How AuthClient::user_add adds a user.
struct UserAddOptions {
  /// A user without a password, who can only authenticate by other means (a client
  /// certificate's common name); the password given is then ignored.
  bool no_password = false;
};

namespace detail::calls {

/// One write of the Auth API: which one, and its arguments.
struct AuthWrite {
  using Result = AuthResult;
  static constexpr auto cancellation = kWriteCancellation;
  enum class Kind {
    auth_enable,
    auth_disable,
    user_add,
    user_delete,
    user_change_password,
    user_grant_role,
    user_revoke_role,
    role_add,
    role_delete,
    role_grant_permission,
    role_revoke_permission,
  };
  AuthWrite(Kind k, std::string n = {}, std::string pw = {}, std::string r = {},
            bool no_pw = false, Permission perm = {})
      : kind(k),
        name(std::move(n)),
        password(std::move(pw)),
        role(std::move(r)),
        no_password(no_pw),
        permission(std::move(perm)) {}
  Kind kind = Kind::auth_enable;
  std::string name;      ///< The user, or the role for role_* calls.
  std::string password;  ///< user_add, user_change_password.
  std::string role;      ///< user_grant_role, user_revoke_role.
  bool no_password = false;
  Permission permission;  ///< role_grant_permission; key and range_end for the revoke.
};
struct AuthStatus {
  using Result = AuthStatusResult;
  static constexpr auto cancellation = kReadCancellation;
};
struct UserGet {
  using Result = UserGetResult;
  static constexpr auto cancellation = kReadCancellation;
  std::string name;
};
struct UserList {
  using Result = UserListResult;
  static constexpr auto cancellation = kReadCancellation;
};
struct RoleGet {
  using Result = RoleGetResult;
  static constexpr auto cancellation = kReadCancellation;
  std::string role;
};
struct RoleList {
  using Result = RoleListResult;
  static constexpr auto cancellation = kReadCancellation;
};

void start(const CallContext&, AuthWrite, Callback<AuthResult>, std::shared_ptr<Canceller>);
void start(const CallContext&, AuthStatus, Callback<AuthStatusResult>,
           std::shared_ptr<Canceller>);
void start(const CallContext&, UserGet, Callback<UserGetResult>, std::shared_ptr<Canceller>);
void start(const CallContext&, UserList, Callback<UserListResult>, std::shared_ptr<Canceller>);
void start(const CallContext&, RoleGet, Callback<RoleGetResult>, std::shared_ptr<Canceller>);
void start(const CallContext&, RoleList, Callback<RoleListResult>, std::shared_ptr<Canceller>);

}  // namespace detail::calls

/// etcd's Auth API on a Client's connection: `client.auth()`. As cheap to copy as a Client, it
/// shares the client's connection, credentials and call deadline, and may be used from any
/// number of threads. Each call has a blocking face that throws Error and an asynchronous one
/// that takes an Asio completion token, as Client's do. While auth is on, these calls need a
/// Client whose credentials (ClientOptions::username and password) hold the root role.
class AuthClient {
 public:
  /// Turns authentication on. etcd requires a user "root" holding the role "root" first
  /// (Errc::root_user_not_exist, Errc::root_role_not_exist). Afterwards every call needs
  /// credentials (ClientOptions::username and password).
  AuthResult auth_enable() const { return write({Kind::auth_enable}); }
  /// Turns authentication off (needs the root user's credentials while it is on).
  AuthResult auth_disable() const { return write({Kind::auth_disable}); }
  /// Whether authentication is on, and the auth store's revision: etcd 3.5's AuthStatus call.
  /// etcd 3.4 has no such call: etcdpp then asks the member to authenticate an empty user name,
  /// which it refuses differently whether auth is on or off, and the revision is 0.
  AuthStatusResult auth_status() const {
    return detail::run(context_, detail::calls::AuthStatus{});
  }
  /// Adds a user (`{.no_password = true}`: one who can only authenticate by a client
  /// certificate's common name). Errc::user_already_exists when the name is taken.
  AuthResult user_add(std::string_view name, std::string_view password,
                      const UserAddOptions& options = {}) const {
    return write(user_add_call(name, password, options));
  }
  /// Deletes a user. Errc::user_not_found when there is no such user.
  AuthResult user_delete(std::string_view name) const {
    return write({Kind::user_delete, std::string(name)});
  }
  /// A user's roles. Errc::user_not_found when there is no such user.
  UserGetResult user_get(std::string_view name) const {
    return detail::run(context_, detail::calls::UserGet{std::string(name)});
  }
  /// The names of every user.
  UserListResult user_list() const { return detail::run(context_, detail::calls::UserList{}); }
  /// Sets a user's password. Errc::user_not_found when there is no such user.
  AuthResult user_change_password(std::string_view name, std::string_view password) const {
    return write({Kind::user_change_password, std::string(name), std::string(password)});
  }
  /// Grants a role to a user (Errc::user_not_found, Errc::role_not_found).
  AuthResult user_grant_role(std::string_view user, std::string_view role) const {
    return write({Kind::user_grant_role, std::string(user), {}, std::string(role)});
  }
  /// Revokes a role from a user (Errc::role_not_granted when the user does not hold it).
  AuthResult user_revoke_role(std::string_view user, std::string_view role) const {
    return write({Kind::user_revoke_role, std::string(user), {}, std::string(role)});
  }
  /// Adds a role. Errc::role_already_exists when the name is taken.
  AuthResult role_add(std::string_view role) const {
    return write({Kind::role_add, std::string(role)});
  }
  /// Deletes a role. Errc::role_not_found when there is no such role.
  AuthResult role_delete(std::string_view role) const {
    return write({Kind::role_delete, std::string(role)});
  }
  /// A role's key permissions. Errc::role_not_found when there is no such role.
  RoleGetResult role_get(std::string_view role) const {
    return detail::run(context_, detail::calls::RoleGet{std::string(role)});
  }
  /// The names of every role.
  RoleListResult role_list() const { return detail::run(context_, detail::calls::RoleList{}); }
  /// Grants a role read, write or both on a key, a range or a prefix (see Permission).
  AuthResult role_grant_permission(std::string_view role, const Permission& permission) const {
    return write({Kind::role_grant_permission, std::string(role), {}, {}, false, permission});
  }
  /// Revokes the permission of a role on exactly [key, range_end) (an empty range_end: the one
  /// key), as it was granted. Errc::permission_not_granted when the role has no such permission.
  AuthResult role_revoke_permission(std::string_view role, std::string_view key,
                                    std::string_view range_end = {}) const {
    return write(revoke_call(role, key, range_end));
  }

  /// @copydoc auth_enable
  /// Handler signature: `void(std::exception_ptr, AuthResult)`.
  template <class Token>
  auto async_auth_enable(Token&& token) const {
    return async_write({Kind::auth_enable}, std::forward<Token>(token));
  }
  /// @copydoc auth_disable
  /// Handler signature: `void(std::exception_ptr, AuthResult)`.
  template <class Token>
  auto async_auth_disable(Token&& token) const {
    return async_write({Kind::auth_disable}, std::forward<Token>(token));
  }
  /// @copydoc auth_status
  /// Handler signature: `void(std::exception_ptr, AuthStatusResult)`.
  template <class Token>
  auto async_auth_status(Token&& token) const {
    return detail::async_run(context_, detail::calls::AuthStatus{}, std::forward<Token>(token));
  }
  /// @copydoc user_add
  /// Handler signature: `void(std::exception_ptr, AuthResult)`.
  template <class Token>
  auto async_user_add(std::string_view name, std::string_view password,
                      const UserAddOptions& options, Token&& token) const {
    return async_write(user_add_call(name, password, options), std::forward<Token>(token));
  }
  /// As async_user_add(name, password, options, token) for a user with a password.
  template <class Token>
  auto async_user_add(std::string_view name, std::string_view password, Token&& token) const {
    return async_user_add(name, password, UserAddOptions{}, std::forward<Token>(token));
  }
  /// @copydoc user_delete
  /// Handler signature: `void(std::exception_ptr, AuthResult)`.
  template <class Token>
  auto async_user_delete(std::string_view name, Token&& token) const {
    return async_write({Kind::user_delete, std::string(name)}, std::forward<Token>(token));
  }
  /// @copydoc user_get
  /// Handler signature: `void(std::exception_ptr, UserGetResult)`.
  template <class Token>
  auto async_user_get(std::string_view name, Token&& token) const {
    return detail::async_run(context_, detail::calls::UserGet{std::string(name)},
                             std::forward<Token>(token));
  }
  /// @copydoc user_list
  /// Handler signature: `void(std::exception_ptr, UserListResult)`.
  template <class Token>
  auto async_user_list(Token&& token) const {
    return detail::async_run(context_, detail::calls::UserList{}, std::forward<Token>(token));
  }
  /// @copydoc user_change_password
  /// Handler signature: `void(std::exception_ptr, AuthResult)`.
  template <class Token>
  auto async_user_change_password(std::string_view name, std::string_view password,
                                  Token&& token) const {
    return async_write({Kind::user_change_password, std::string(name), std::string(password)},
                       std::forward<Token>(token));
  }
  /// @copydoc user_grant_role
  /// Handler signature: `void(std::exception_ptr, AuthResult)`.
  template <class Token>
  auto async_user_grant_role(std::string_view user, std::string_view role, Token&& token) const {
    return async_write({Kind::user_grant_role, std::string(user), {}, std::string(role)},
                       std::forward<Token>(token));
  }
  /// @copydoc user_revoke_role
  /// Handler signature: `void(std::exception_ptr, AuthResult)`.
  template <class Token>
  auto async_user_revoke_role(std::string_view user, std::string_view role, Token&& token) const {
    return async_write({Kind::user_revoke_role, std::string(user), {}, std::string(role)},
                       std::forward<Token>(token));
  }
  /// @copydoc role_add
  /// Handler signature: `void(std::exception_ptr, AuthResult)`.
  template <class Token>
  auto async_role_add(std::string_view role, Token&& token) const {
    return async_write({Kind::role_add, std::string(role)}, std::forward<Token>(token));
  }
  /// @copydoc role_delete
  /// Handler signature: `void(std::exception_ptr, AuthResult)`.
  template <class Token>
  auto async_role_delete(std::string_view role, Token&& token) const {
    return async_write({Kind::role_delete, std::string(role)}, std::forward<Token>(token));
  }
  /// @copydoc role_get
  /// Handler signature: `void(std::exception_ptr, RoleGetResult)`.
  template <class Token>
  auto async_role_get(std::string_view role, Token&& token) const {
    return detail::async_run(context_, detail::calls::RoleGet{std::string(role)},
                             std::forward<Token>(token));
  }
  /// @copydoc role_list
  /// Handler signature: `void(std::exception_ptr, RoleListResult)`.
  template <class Token>
  auto async_role_list(Token&& token) const {
    return detail::async_run(context_, detail::calls::RoleList{}, std::forward<Token>(token));
  }
  /// @copydoc role_grant_permission
  /// Handler signature: `void(std::exception_ptr, AuthResult)`.
  template <class Token>
  auto async_role_grant_permission(std::string_view role, const Permission& permission,
                                   Token&& token) const {
    return async_write({Kind::role_grant_permission, std::string(role), {}, {}, false, permission},
                       std::forward<Token>(token));
  }
  /// @copydoc role_revoke_permission
  /// Handler signature: `void(std::exception_ptr, AuthResult)`.
  template <class Token>
  auto async_role_revoke_permission(std::string_view role, std::string_view key,
                                    std::string_view range_end, Token&& token) const {
    return async_write(revoke_call(role, key, range_end), std::forward<Token>(token));
  }
  /// As async_role_revoke_permission(role, key, range_end, token) for the one key `key`.
  template <class Token>
  auto async_role_revoke_permission(std::string_view role, std::string_view key,
                                    Token&& token) const {
    return async_role_revoke_permission(role, key, {}, std::forward<Token>(token));
  }

 private:
  friend class Client;
  using Kind = detail::calls::AuthWrite::Kind;
  explicit AuthClient(detail::CallContext context) : context_(std::move(context)) {}

  static detail::calls::AuthWrite user_add_call(std::string_view name, std::string_view password,
                                                const UserAddOptions& options) {
    return {Kind::user_add, std::string(name), std::string(password), {}, options.no_password, {}};
  }
  static detail::calls::AuthWrite revoke_call(std::string_view role, std::string_view key,
                                              std::string_view range_end) {
    return {Kind::role_revoke_permission, std::string(role), {}, {}, false,
            Permission{Permission::Type::read, std::string(key), std::string(range_end)}};
  }
  AuthResult write(detail::calls::AuthWrite call) const {
    return detail::run(context_, std::move(call));
  }
  template <class Token>
  auto async_write(detail::calls::AuthWrite call, Token&& token) const {
    return detail::async_run(context_, std::move(call), std::forward<Token>(token));
  }

  detail::CallContext context_;
};

}  // namespace etcdpp
