// SPDX-License-Identifier: Apache-2.0
// The plain data of etcd's Auth API: users, roles and the key permissions of roles. Client
// (client.hpp) makes the calls (auth_enable, user_add, role_grant_permission, ...); a Client
// authenticates itself with ClientOptions::username and password.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

/// What Client::auth_status answers.
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

/// What Client::user_get answers.
struct UserGetResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;
  std::vector<std::string> roles;  ///< The roles granted to the user.

  bool operator==(const UserGetResult&) const = default;  ///< Member-wise comparison.
};

/// What Client::user_list answers.
struct UserListResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;
  std::vector<std::string> users;  ///< The name of every user.

  bool operator==(const UserListResult&) const = default;  ///< Member-wise comparison.
};

/// What Client::role_get answers.
struct RoleGetResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;
  std::vector<Permission> permissions;  ///< The role's key permissions.

  bool operator==(const RoleGetResult&) const = default;  ///< Member-wise comparison.
};

/// What Client::role_list answers.
struct RoleListResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;
  std::vector<std::string> roles;  ///< The name of every role.

  bool operator==(const RoleListResult&) const = default;  ///< Member-wise comparison.
};

namespace detail {

/// One write of the Auth API, as Client's asynchronous templates carry it to the core.
struct AuthRequest {
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
  Kind kind = Kind::auth_enable;
  std::string name;      ///< The user, or the role for role_* calls.
  std::string password;  ///< user_add, user_change_password.
  std::string role;      ///< user_grant_role, user_revoke_role.
  bool no_password = false;
  Permission permission;  ///< role_grant_permission; key and range_end for the revoke.

  AuthRequest() = default;
  AuthRequest(Kind k, std::string_view n = {}, std::string_view pw = {}, std::string_view r = {},
              bool no_pw = false, Permission perm = {})
      : kind(k), name(n), password(pw), role(r), no_password(no_pw), permission(std::move(perm)) {}
};

}  // namespace detail
}  // namespace etcdpp
