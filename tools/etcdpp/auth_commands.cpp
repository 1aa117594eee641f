// SPDX-License-Identifier: Apache-2.0
// auth, user and role: etcdctl's messages and output on the Auth API.
#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "commands.hpp"
#include "output.hpp"

namespace etcdpp::cli {
namespace {

void no_table(const Context& ctx) {
  if (ctx.format() == Format::table) throw unsupported_format(Format::table);
}

void print_header_json(const ResponseHeader& h) { print_json({{"header", to_json(h)}}); }

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i > 0 ? separator : "") + items[i];
  return out;
}

}  // namespace

std::string read_password(const std::string& prompt, bool interactive) {
  std::string password;
  if (!interactive || ::isatty(STDIN_FILENO) == 0) {
    // As etcdctl with --interactive=false: the password is the first line of stdin.
    std::getline(std::cin, password);
    return password;
  }
  std::cerr << prompt << std::flush;
  termios old{};
  const bool echo_off = ::tcgetattr(STDIN_FILENO, &old) == 0;
  if (echo_off) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::getline(std::cin, password);
  if (echo_off) ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
  std::cerr << '\n';
  return password;
}

namespace {

// A new password, asked twice when asked on a terminal.
std::string new_password(const std::string& name, bool interactive) {
  const std::string first = read_password("Password of " + name + ": ", interactive);
  if (interactive && ::isatty(STDIN_FILENO) != 0) {
    const std::string again =
        read_password("Type password of " + name + " again for confirmation: ", true);
    if (again != first) throw ExitError{exit_bad_args, "given passwords are different."};
  }
  return first;
}

}  // namespace

int run_auth_enable(Context& ctx) {
  no_table(ctx);
  // As etcdctl: when only the root role is missing, create it, grant it to root, try again.
  for (int attempt = 0;; ++attempt) {
    try {
      ctx.client().auth().auth_enable();
      break;
    } catch (const Error& e) {
      if (attempt > 0 || e.code() != make_error_code(Errc::root_role_not_exist)) {
        throw call_error(e);
      }
      call([&] { return ctx.client().auth().role_add("root"); });
      call([&] { return ctx.client().auth().user_grant_role("root", "root"); });
    }
  }
  std::cout << "Authentication Enabled\n";
  return exit_success;
}

int run_auth_disable(Context& ctx) {
  no_table(ctx);
  call([&] { return ctx.client().auth().auth_disable(); });
  std::cout << "Authentication Disabled\n";
  return exit_success;
}

int run_auth_status(Context& ctx) {
  no_table(ctx);
  const AuthStatusResult r = call([&] { return ctx.client().auth().auth_status(); });
  if (ctx.format() == Format::json) {
    Json out = {{"header", to_json(r.header)}};
    if (r.enabled) out["enabled"] = true;
    if (r.revision != 0) out["authRevision"] = r.revision;
    print_json(out);
  } else {
    std::cout << "Authentication Status: " << (r.enabled ? "true" : "false")
              << "\nAuthRevision: " << r.revision << '\n';
  }
  return exit_success;
}

int run_user_add(Context& ctx, const UserArgs& a) {
  no_table(ctx);
  if (a.args.size() != 1) {
    throw ExitError{exit_bad_args, "user add command requires user name as its argument"};
  }
  std::string name = a.args[0];
  std::string password;
  if (!a.no_password) {
    if (const auto colon = name.find(':'); colon != std::string::npos) {
      password = name.substr(colon + 1);
      name = name.substr(0, colon);
      // etcdctl checks this one itself, before it connects.
      if (name.empty()) throw ExitError{exit_bad_args, "empty user name is not allowed"};
    } else {
      password = new_password(name, a.interactive);
    }
  }
  const AuthResult r = call([&] { return ctx.client().auth().user_add(name, password, {.no_password = a.no_password}); });
  if (ctx.format() == Format::json) {
    print_header_json(r.header);
  } else {
    std::cout << "User " << name << " created\n";
  }
  return exit_success;
}

int run_user_delete(Context& ctx, const UserArgs& a) {
  no_table(ctx);
  if (a.args.size() != 1) {
    throw ExitError{exit_bad_args, "user delete command requires user name as its argument"};
  }
  const AuthResult r = call([&] { return ctx.client().auth().user_delete(a.args[0]); });
  if (ctx.format() == Format::json) {
    print_header_json(r.header);
  } else {
    std::cout << "User " << a.args[0] << " deleted\n";
  }
  return exit_success;
}

void print_role(const std::string& role, const RoleGetResult& r);

int run_user_get(Context& ctx, const UserArgs& a) {
  no_table(ctx);
  if (a.args.size() != 1) {
    throw ExitError{exit_bad_args, "user get command requires user name as its argument"};
  }
  const UserGetResult r = call([&] { return ctx.client().auth().user_get(a.args[0]); });
  if (ctx.format() == Format::json) {
    Json out = {{"header", to_json(r.header)}};
    if (!r.roles.empty()) out["roles"] = r.roles;
    print_json(out);
    return exit_success;
  }
  std::cout << "User: " << a.args[0] << '\n';
  if (!a.detail) {
    std::cout << "Roles: " << join(r.roles, " ") << '\n';
    return exit_success;
  }
  for (const auto& role : r.roles) {
    std::cout << '\n';
    print_role(role, call([&] { return ctx.client().auth().role_get(role); }));
  }
  return exit_success;
}

int run_user_list(Context& ctx) {
  no_table(ctx);
  const UserListResult r = call([&] { return ctx.client().auth().user_list(); });
  if (ctx.format() == Format::json) {
    Json out = {{"header", to_json(r.header)}};
    if (!r.users.empty()) out["users"] = r.users;
    print_json(out);
  } else {
    for (const auto& u : r.users) std::cout << u << '\n';
  }
  return exit_success;
}

int run_user_passwd(Context& ctx, const UserArgs& a) {
  no_table(ctx);
  if (a.args.size() != 1) {
    throw ExitError{exit_bad_args, "user passwd command requires user name as its argument"};
  }
  const std::string password = new_password(a.args[0], a.interactive);
  const AuthResult r = call([&] { return ctx.client().auth().user_change_password(a.args[0], password); });
  if (ctx.format() == Format::json) {
    print_header_json(r.header);
  } else {
    std::cout << "Password updated\n";
  }
  return exit_success;
}

int run_user_grant_role(Context& ctx, const UserArgs& a) {
  no_table(ctx);
  if (a.args.size() != 2) {
    throw ExitError{exit_bad_args,
                    "user grant command requires user name and role name as its argument"};
  }
  const AuthResult r = call([&] { return ctx.client().auth().user_grant_role(a.args[0], a.args[1]); });
  if (ctx.format() == Format::json) {
    print_header_json(r.header);
  } else {
    std::cout << "Role " << a.args[1] << " is granted to user " << a.args[0] << '\n';
  }
  return exit_success;
}

int run_user_revoke_role(Context& ctx, const UserArgs& a) {
  no_table(ctx);
  if (a.args.size() != 2) {
    throw ExitError{exit_bad_args,
                    "user revoke-role requires user name and role name as its argument"};
  }
  const AuthResult r = call([&] { return ctx.client().auth().user_revoke_role(a.args[0], a.args[1]); });
  if (ctx.format() == Format::json) {
    print_header_json(r.header);
  } else {
    std::cout << "Role " << a.args[1] << " is revoked from user " << a.args[0] << '\n';
  }
  return exit_success;
}

// ---- role ----

void print_role(const std::string& role, const RoleGetResult& r) {
  const auto print_range = [](const Permission& p) {
    if (p.range_end.empty()) {
      std::cout << '\t' << p.key << '\n';
      return;
    }
    if (p.range_end != std::string(1, '\0')) {
      std::cout << "\t[" << p.key << ", " << p.range_end << ')';
    } else {
      std::cout << "\t[" << p.key << ", <open ended>";
    }
    if (prefix_range_end(p.key) == p.range_end) std::cout << " (prefix " << p.key << ')';
    std::cout << '\n';
  };
  std::cout << "Role " << role << "\nKV Read:\n";
  for (const auto& p : r.permissions) {
    if (p.type != Permission::Type::write) print_range(p);
  }
  std::cout << "KV Write:\n";
  for (const auto& p : r.permissions) {
    if (p.type != Permission::Type::read) print_range(p);
  }
}

int run_role_add(Context& ctx, const RoleArgs& a) {
  no_table(ctx);
  if (a.args.size() != 1) {
    throw ExitError{exit_bad_args, "role add command requires role name as its argument"};
  }
  const AuthResult r = call([&] { return ctx.client().auth().role_add(a.args[0]); });
  if (ctx.format() == Format::json) {
    print_header_json(r.header);
  } else {
    std::cout << "Role " << a.args[0] << " created\n";
  }
  return exit_success;
}

int run_role_delete(Context& ctx, const RoleArgs& a) {
  no_table(ctx);
  if (a.args.size() != 1) {
    throw ExitError{exit_bad_args, "role delete command requires role name as its argument"};
  }
  const AuthResult r = call([&] { return ctx.client().auth().role_delete(a.args[0]); });
  if (ctx.format() == Format::json) {
    print_header_json(r.header);
  } else {
    std::cout << "Role " << a.args[0] << " deleted\n";
  }
  return exit_success;
}

int run_role_get(Context& ctx, const RoleArgs& a) {
  no_table(ctx);
  if (a.args.size() != 1) {
    throw ExitError{exit_bad_args, "role get command requires role name as its argument"};
  }
  const RoleGetResult r = call([&] { return ctx.client().auth().role_get(a.args[0]); });
  if (ctx.format() == Format::json) {
    Json perms = Json::array();
    for (const auto& p : r.permissions) {
      Json item = Json::object();
      if (p.type != Permission::Type::read) item["permType"] = static_cast<int>(p.type);
      if (!p.key.empty()) item["key"] = base64(p.key);
      if (!p.range_end.empty()) item["range_end"] = base64(p.range_end);
      perms.push_back(std::move(item));
    }
    Json out = {{"header", to_json(r.header)}};
    if (!perms.empty()) out["perm"] = std::move(perms);
    print_json(out);
  } else {
    print_role(a.args[0], r);
  }
  return exit_success;
}

int run_role_list(Context& ctx) {
  no_table(ctx);
  const RoleListResult r = call([&] { return ctx.client().auth().role_list(); });
  if (ctx.format() == Format::json) {
    Json out = {{"header", to_json(r.header)}};
    if (!r.roles.empty()) out["roles"] = r.roles;
    print_json(out);
  } else {
    for (const auto& role : r.roles) std::cout << role << '\n';
  }
  return exit_success;
}

namespace {

// The range of a permission command: [key, range_end), a prefix or from a key on.
std::string range_end_of(const RoleArgs& a, const std::string& key, std::size_t end_index,
                         const char* verb) {
  if (a.prefix && a.from_key) {
    throw ExitError{exit_bad_args, "--from-key and --prefix flags are mutually exclusive"};
  }
  if (a.args.size() > end_index) {
    if (a.prefix || a.from_key) {
      throw ExitError{exit_bad_args, std::string("unexpected endkey argument with --prefix or "
                                                 "--from-key flag for role ") +
                                         verb};
    }
    return a.args[end_index];
  }
  if (a.prefix) return prefix_range_end(key);
  if (a.from_key) return std::string(1, '\0');
  return {};
}

}  // namespace

int run_role_grant_permission(Context& ctx, const RoleArgs& a) {
  no_table(ctx);
  if (a.args.size() < 3 || a.args.size() > 4) {
    throw ExitError{exit_bad_args,
                    "role grant command requires role name, permission type, and key [endkey] "
                    "as its argument"};
  }
  std::string type = a.args[1];
  for (auto& c : type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  Permission p;
  if (type == "READ") {
    p.type = Permission::Type::read;
  } else if (type == "WRITE") {
    p.type = Permission::Type::write;
  } else if (type == "READWRITE") {
    p.type = Permission::Type::readwrite;
  } else {
    throw ExitError{exit_bad_args, "invalid permission type: " + a.args[1]};
  }
  p.key = a.args[2];
  p.range_end = range_end_of(a, p.key, 3, "grant-permission");
  const AuthResult r = call([&] { return ctx.client().auth().role_grant_permission(a.args[0], p); });
  if (ctx.format() == Format::json) {
    print_header_json(r.header);
  } else {
    std::cout << "Role " << a.args[0] << " updated\n";
  }
  return exit_success;
}

int run_role_revoke_permission(Context& ctx, const RoleArgs& a) {
  no_table(ctx);
  if (a.args.size() < 2 || a.args.size() > 3) {
    throw ExitError{exit_bad_args,
                    "role revoke-permission command requires role name and key [endkey] as its "
                    "argument"};
  }
  const std::string& key = a.args[1];
  const std::string range_end = range_end_of(a, key, 2, "revoke-permission");
  const AuthResult r =
      call([&] { return ctx.client().auth().role_revoke_permission(a.args[0], key, range_end); });
  if (ctx.format() == Format::json) {
    print_header_json(r.header);
  } else if (range_end.empty()) {
    std::cout << "Permission of key " << key << " is revoked from role " << a.args[0] << '\n';
  } else {
    std::cout << "Permission of range [" << key << ", "
              << (range_end == std::string(1, '\0') ? "<open ended>" : range_end)
              << ") is revoked from role " << a.args[0] << '\n';
  }
  return exit_success;
}

}  // namespace etcdpp::cli
