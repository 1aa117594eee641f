// SPDX-License-Identifier: Apache-2.0
// The Auth API: enable, disable and status; users and roles; key permissions of roles. Each call
// is one unary RPC of etcd's Auth service, implemented once on the asynchronous core.
#include "etcdpp/auth.hpp"

#include "client_core.hpp"
#include "detail/convert.hpp"
#include "detail/status.hpp"
#include "etcd_3_5.pb.h"

namespace etcdpp {

Permission Permission::of_key(Type type, std::string_view key) {
  return Permission{type, std::string(key), {}};
}

Permission Permission::of_range(Type type, std::string_view key, std::string_view range_end) {
  return Permission{type, std::string(key), std::string(range_end)};
}

Permission Permission::of_prefix(Type type, std::string_view prefix) {
  // An empty prefix means every key: etcd takes key "\0" with range end "\0" as "from the first
  // key on" (an empty key would be refused).
  if (prefix.empty()) return Permission{type, std::string(1, '\0'), std::string(1, '\0')};
  return Permission{type, std::string(prefix), prefix_range_end(prefix)};
}

namespace {

namespace pb = detail::pb;
namespace pb35 = etcdpp::etcd35;
using detail::CallStatus;
using detail::calls::CancellerPtr;
using Kind = detail::calls::AuthWrite::Kind;

constexpr transport::Method kAuthEnable{"/etcdserverpb.Auth/AuthEnable", false};
constexpr transport::Method kAuthDisable{"/etcdserverpb.Auth/AuthDisable", false};
constexpr transport::Method kAuthenticate{"/etcdserverpb.Auth/Authenticate", true};
constexpr transport::Method kUserAdd{"/etcdserverpb.Auth/UserAdd", false};
constexpr transport::Method kUserGet{"/etcdserverpb.Auth/UserGet", true};
constexpr transport::Method kUserList{"/etcdserverpb.Auth/UserList", true};
constexpr transport::Method kUserDelete{"/etcdserverpb.Auth/UserDelete", false};
constexpr transport::Method kUserChangePassword{"/etcdserverpb.Auth/UserChangePassword", false};
constexpr transport::Method kUserGrantRole{"/etcdserverpb.Auth/UserGrantRole", false};
constexpr transport::Method kUserRevokeRole{"/etcdserverpb.Auth/UserRevokeRole", false};
constexpr transport::Method kRoleAdd{"/etcdserverpb.Auth/RoleAdd", false};
constexpr transport::Method kRoleGet{"/etcdserverpb.Auth/RoleGet", true};
constexpr transport::Method kRoleList{"/etcdserverpb.Auth/RoleList", true};
constexpr transport::Method kRoleDelete{"/etcdserverpb.Auth/RoleDelete", false};
constexpr transport::Method kRoleGrantPermission{"/etcdserverpb.Auth/RoleGrantPermission", false};
constexpr transport::Method kRoleRevokePermission{"/etcdserverpb.Auth/RoleRevokePermission", false};
// From etcd 3.5 on.
constexpr transport::Method kAuthStatus{"/etcdserverpb.Auth/AuthStatus", true};

/// Whether auth is on, from a server without AuthStatus (etcd 3.4): with auth off, Authenticate
/// answers "authentication is not enabled" before it looks at the user; with auth on, an empty
/// user name fails to authenticate. Nothing is written either way; no revision is known. Made
/// from another call's callback, so through the transport, holding no Client.
void probe_auth_status(transport::Transport& transport, std::chrono::milliseconds timeout,
                       std::shared_ptr<detail::Canceller> canceller,
                       detail::Callback<AuthStatusResult> cb) {
  detail::ClientCore::call_via<pb::AuthenticateResponse>(
      transport, std::nullopt, kAuthenticate, std::make_unique<pb::AuthenticateRequest>(), timeout,
      std::move(canceller), true,
      [cb = std::move(cb)](CallStatus status, pb::AuthenticateResponse&& r) {
        AuthStatusResult out;
        out.header = detail::from_proto(r.header());
        if (status.code == Errc::auth_not_enabled) {
          cb(CallStatus{}, out);
        } else if (status.code == Errc::auth_failed || !status.code) {
          out.enabled = true;
          cb(CallStatus{}, out);
        } else {
          cb(std::move(status), out);
        }
      });
}

authpb::Permission::Type permission_to_proto(Permission::Type type) {
  switch (type) {
    case Permission::Type::read:
      return authpb::Permission::READ;
    case Permission::Type::write:
      return authpb::Permission::WRITE;
    case Permission::Type::readwrite:
      return authpb::Permission::READWRITE;
  }
  return authpb::Permission::READ;
}

Permission::Type permission_from_proto(authpb::Permission::Type type) {
  switch (type) {
    case authpb::Permission::WRITE:
      return Permission::Type::write;
    case authpb::Permission::READWRITE:
      return Permission::Type::readwrite;
    default:
      return Permission::Type::read;
  }
}

/// The name of a call, for the message of its error.
const char* call_name(Kind kind) {
  switch (kind) {
    case Kind::auth_enable:
      return "auth_enable";
    case Kind::auth_disable:
      return "auth_disable";
    case Kind::user_add:
      return "user_add";
    case Kind::user_delete:
      return "user_delete";
    case Kind::user_change_password:
      return "user_change_password";
    case Kind::user_grant_role:
      return "user_grant_role";
    case Kind::user_revoke_role:
      return "user_revoke_role";
    case Kind::role_add:
      return "role_add";
    case Kind::role_delete:
      return "role_delete";
    case Kind::role_grant_permission:
      return "role_grant_permission";
    case Kind::role_revoke_permission:
      return "role_revoke_permission";
  }
  return "auth";
}

/// What an error message names after the call: the user or role, and for calls that involve
/// a second name (a role, a key) that one too: `user_grant_role "alice" "reader": ...`.
std::pair<std::string, std::string> subject(const detail::calls::AuthWrite& r) {
  const std::string call = call_name(r.kind);
  switch (r.kind) {
    case Kind::user_grant_role:
    case Kind::user_revoke_role:
      return {call + " \"" + r.name + "\"", r.role};
    case Kind::role_grant_permission:
    case Kind::role_revoke_permission:
      return {call + " \"" + r.name + "\"", r.permission.key};
    default:
      return {call, r.name};
  }
}

}  // namespace

namespace detail::calls {

void start(const CallContext& cx, AuthWrite r, Callback<AuthResult> cb, CancellerPtr canceller) {
  {
    auto [call, name] = subject(r);
    cb = described(std::move(call), std::move(name), std::move(cb));
  }
  // Every write answers a header only; `send` makes the call for one request type.
  auto send = [&]<class Request, class Response>(const transport::Method& method, auto fill) {
    cx.core->call_with<Request, Response>(
        method, fill, cx.timeout, std::move(canceller), false,
        [cb = std::move(cb)](CallStatus status, Response&& response) {
          cb(std::move(status), AuthResult{from_proto(response.header())});
        });
  };
  switch (r.kind) {
    case Kind::auth_enable:
      send.template operator()<pb::AuthEnableRequest, pb::AuthEnableResponse>(
          kAuthEnable, [](pb::AuthEnableRequest&) {});
      return;
    case Kind::auth_disable:
      send.template operator()<pb::AuthDisableRequest, pb::AuthDisableResponse>(
          kAuthDisable, [](pb::AuthDisableRequest&) {});
      return;
    case Kind::user_add:
      send.template operator()<pb::AuthUserAddRequest, pb::AuthUserAddResponse>(
          kUserAdd, [&](pb::AuthUserAddRequest& q) {
            q.set_name(r.name);
            q.set_password(r.password);
            q.mutable_options()->set_no_password(r.no_password);
          });
      return;
    case Kind::user_delete:
      send.template operator()<pb::AuthUserDeleteRequest, pb::AuthUserDeleteResponse>(
          kUserDelete, [&](pb::AuthUserDeleteRequest& q) { q.set_name(r.name); });
      return;
    case Kind::user_change_password:
      send.template
      operator()<pb::AuthUserChangePasswordRequest, pb::AuthUserChangePasswordResponse>(
          kUserChangePassword, [&](pb::AuthUserChangePasswordRequest& q) {
            q.set_name(r.name);
            q.set_password(r.password);
          });
      return;
    case Kind::user_grant_role:
      send.template operator()<pb::AuthUserGrantRoleRequest, pb::AuthUserGrantRoleResponse>(
          kUserGrantRole, [&](pb::AuthUserGrantRoleRequest& q) {
            q.set_user(r.name);
            q.set_role(r.role);
          });
      return;
    case Kind::user_revoke_role:
      send.template operator()<pb::AuthUserRevokeRoleRequest, pb::AuthUserRevokeRoleResponse>(
          kUserRevokeRole, [&](pb::AuthUserRevokeRoleRequest& q) {
            q.set_name(r.name);
            q.set_role(r.role);
          });
      return;
    case Kind::role_add:
      send.template operator()<pb::AuthRoleAddRequest, pb::AuthRoleAddResponse>(
          kRoleAdd, [&](pb::AuthRoleAddRequest& q) { q.set_name(r.name); });
      return;
    case Kind::role_delete:
      send.template operator()<pb::AuthRoleDeleteRequest, pb::AuthRoleDeleteResponse>(
          kRoleDelete, [&](pb::AuthRoleDeleteRequest& q) { q.set_role(r.name); });
      return;
    case Kind::role_grant_permission:
      send.template
      operator()<pb::AuthRoleGrantPermissionRequest, pb::AuthRoleGrantPermissionResponse>(
          kRoleGrantPermission, [&](pb::AuthRoleGrantPermissionRequest& q) {
            q.set_name(r.name);
            auto* perm = q.mutable_perm();
            perm->set_permtype(permission_to_proto(r.permission.type));
            perm->set_key(r.permission.key);
            perm->set_range_end(r.permission.range_end);
          });
      return;
    case Kind::role_revoke_permission:
      send.template
      operator()<pb::AuthRoleRevokePermissionRequest, pb::AuthRoleRevokePermissionResponse>(
          kRoleRevokePermission, [&](pb::AuthRoleRevokePermissionRequest& q) {
            q.set_role(r.name);
            q.set_key(r.permission.key);
            q.set_range_end(r.permission.range_end);
          });
      return;
  }
}

void start(const CallContext& cx, AuthStatus, Callback<AuthStatusResult> cb,
           CancellerPtr canceller) {
  cb = described("auth_status", "", std::move(cb));
  // etcd 3.5's AuthStatus tells whether auth is on and the auth store's revision. etcd 3.4 has no
  // such call (UNIMPLEMENTED): Authenticate tells it instead, without the revision. With auth on,
  // 3.5 answers a caller without credentials "user name is empty", which says auth is on too.
  cx.core->call_with<pb35::AuthStatusRequest, pb35::AuthStatusResponse>(
      kAuthStatus, [](pb35::AuthStatusRequest&) {}, cx.timeout, canceller, true,
      [transport = &cx.core->transport(), timeout = cx.timeout, canceller, cb = std::move(cb)](
          CallStatus status, pb35::AuthStatusResponse&& r) mutable {
        AuthStatusResult out;
        out.header = from_proto(r.header());
        if (!status.code) {
          out.enabled = r.enabled();
          out.revision = r.auth_revision();
          cb(CallStatus{}, out);
        } else if (status.code == Errc::user_empty) {
          out.enabled = true;
          cb(CallStatus{}, out);
        } else if (status.code == Errc::unimplemented) {
          probe_auth_status(*transport, timeout, std::move(canceller), std::move(cb));
        } else {
          cb(std::move(status), out);
        }
      });
}

void start(const CallContext& cx, UserGet call, Callback<UserGetResult> cb,
           CancellerPtr canceller) {
  const std::string& name = call.name;
  cb = described("user_get", name, std::move(cb));
  cx.core->call_with<pb::AuthUserGetRequest, pb::AuthUserGetResponse>(
      kUserGet, [&](pb::AuthUserGetRequest& q) { q.set_name(name); }, cx.timeout,
      std::move(canceller), false,
      [cb = std::move(cb)](CallStatus status, pb::AuthUserGetResponse&& r) {
        UserGetResult out{from_proto(r.header()), {}};
        for (auto& role : *r.mutable_roles()) out.roles.push_back(std::move(role));
        cb(std::move(status), std::move(out));
      });
}

void start(const CallContext& cx, UserList, Callback<UserListResult> cb, CancellerPtr canceller) {
  cb = described("user_list", "", std::move(cb));
  cx.core->call_with<pb::AuthUserListRequest, pb::AuthUserListResponse>(
      kUserList, [](pb::AuthUserListRequest&) {}, cx.timeout, std::move(canceller), false,
      [cb = std::move(cb)](CallStatus status, pb::AuthUserListResponse&& r) {
        UserListResult out{from_proto(r.header()), {}};
        for (auto& user : *r.mutable_users()) out.users.push_back(std::move(user));
        cb(std::move(status), std::move(out));
      });
}

void start(const CallContext& cx, RoleGet call, Callback<RoleGetResult> cb,
           CancellerPtr canceller) {
  const std::string& role = call.role;
  cb = described("role_get", role, std::move(cb));
  cx.core->call_with<pb::AuthRoleGetRequest, pb::AuthRoleGetResponse>(
      kRoleGet, [&](pb::AuthRoleGetRequest& q) { q.set_role(role); }, cx.timeout,
      std::move(canceller), false,
      [cb = std::move(cb)](CallStatus status, pb::AuthRoleGetResponse&& r) {
        RoleGetResult out{from_proto(r.header()), {}};
        for (auto& p : *r.mutable_perm()) {
          out.permissions.push_back(Permission{permission_from_proto(p.permtype()),
                                               std::move(*p.mutable_key()),
                                               std::move(*p.mutable_range_end())});
        }
        cb(std::move(status), std::move(out));
      });
}

void start(const CallContext& cx, RoleList, Callback<RoleListResult> cb, CancellerPtr canceller) {
  cb = described("role_list", "", std::move(cb));
  cx.core->call_with<pb::AuthRoleListRequest, pb::AuthRoleListResponse>(
      kRoleList, [](pb::AuthRoleListRequest&) {}, cx.timeout, std::move(canceller), false,
      [cb = std::move(cb)](CallStatus status, pb::AuthRoleListResponse&& r) {
        RoleListResult out{from_proto(r.header()), {}};
        for (auto& role : *r.mutable_roles()) out.roles.push_back(std::move(role));
        cb(std::move(status), std::move(out));
      });
}

}  // namespace detail::calls
}  // namespace etcdpp
