// SPDX-License-Identifier: Apache-2.0
// lease grant, revoke, timetolive, list and keep-alive, with etcdctl's messages and output.
#include <csignal>
#include <iostream>

#include "commands.hpp"
#include "output.hpp"

namespace etcdpp::cli {
namespace {

void no_table(const Context& ctx) {
  if (ctx.format() == Format::table) throw unsupported_format(Format::table);
}

// etcdctl wraps the errors of grant and revoke in a sentence; those of timetolive, list and
// keep-alive it passes as they are, with its "bad connection" exit code.
template <class F>
auto lease_call(const char* what, F&& f) {
  try {
    return f();
  } catch (const std::system_error& e) {
    ExitError error = call_error(e);
    if (what != nullptr) {
      error.message = std::string(what) + " (" + error.message + ")";
    } else {
      error.code = exit_bad_connection;
    }
    throw error;
  }
}

}  // namespace

int run_lease_grant(Context& ctx, const std::vector<std::string>& args) {
  no_table(ctx);
  if (args.size() != 1) throw ExitError{exit_bad_args, "lease grant command needs TTL argument"};
  const std::string& ttl_text = args[0];
  std::string error;
  const auto ttl = parse_int(ttl_text, 10, &error);
  if (!ttl) throw ExitError{exit_bad_args, "bad TTL (" + error + ")"};
  const LeaseGrantResult r = lease_call("failed to grant lease", [&] {
    return ctx.client().lease_grant(std::chrono::seconds(*ttl));
  });
  if (ctx.format() == Format::json) {
    // clientv3.LeaseGrantResponse embeds the header: its fields come first, at the top level.
    Json out = Json::object();
    add_header_fields(out, r.header);
    out["ID"] = static_cast<std::int64_t>(r.id);
    out["TTL"] = r.ttl.count();
    out["Error"] = "";
    print_json(out);
  } else {
    std::cout << "lease " << lease_hex(r.id) << " granted with TTL(" << r.ttl.count() << "s)\n";
  }
  return exit_success;
}

int run_lease_revoke(Context& ctx, const std::vector<std::string>& args) {
  no_table(ctx);
  if (args.size() != 1) throw ExitError{exit_bad_args, "lease revoke command needs 1 argument"};
  const std::string& id_text = args[0];
  const LeaseId id = parse_lease_id(id_text, false);
  const LeaseRevokeResult r =
      lease_call("failed to revoke lease", [&] { return ctx.client().lease_revoke(id); });
  if (ctx.format() == Format::json) {
    print_json({{"header", to_json(r.header)}});
  } else {
    std::cout << "lease " << lease_hex(id) << " revoked\n";
  }
  return exit_success;
}

int run_lease_timetolive(Context& ctx, const std::vector<std::string>& args, bool keys) {
  no_table(ctx);
  if (args.size() != 1) {
    throw ExitError{exit_bad_args, "lease timetolive command needs lease ID as argument"};
  }
  const std::string& id_text = args[0];
  const LeaseId id = parse_lease_id(id_text, false);
  const LeaseTimeToLiveResult r =
      lease_call(nullptr, [&] { return ctx.client().lease_time_to_live(id, {.keys = keys}); });
  if (ctx.format() == Format::json) {
    Json out = Json::object();
    add_header_fields(out, r.header);
    out["id"] = static_cast<std::int64_t>(r.id);
    out["ttl"] = r.ttl.count();
    out["granted-ttl"] = r.granted_ttl.count();
    Json key_list = nullptr;
    for (const auto& k : r.keys) key_list.push_back(base64(k));
    out["keys"] = std::move(key_list);
    print_json(out);
    return exit_success;
  }
  if (r.granted_ttl.count() == 0 && r.ttl.count() == -1) {
    std::cout << "lease " << lease_hex(id) << " already expired\n";
    return exit_success;
  }
  std::cout << "lease " << lease_hex(id) << " granted with TTL(" << r.granted_ttl.count()
            << "s), remaining(" << r.ttl.count() << "s)";
  if (keys) {
    std::cout << ", attached keys([";
    for (std::size_t i = 0; i < r.keys.size(); ++i) std::cout << (i > 0 ? " " : "") << r.keys[i];
    std::cout << "])";
  }
  std::cout << '\n';
  return exit_success;
}

int run_lease_list(Context& ctx) {
  no_table(ctx);
  const std::vector<LeaseId> leases =
      lease_call(nullptr, [&] { return ctx.client().lease_leases(); });
  if (ctx.format() == Format::json) {
    // The list carries no header of its own here: take the member's, as it answers now.
    const StatusResult status = lease_call(nullptr, [&] { return ctx.client().maintenance().status(); });
    Json out = Json::object();
    add_header_fields(out, status.header);
    Json list = nullptr;
    for (const LeaseId id : leases) list.push_back({{"id", static_cast<std::int64_t>(id)}});
    out["leases"] = std::move(list);
    print_json(out);
    return exit_success;
  }
  std::cout << "found " << leases.size() << " leases\n";
  for (const LeaseId id : leases) std::cout << lease_hex(id) << '\n';
  return exit_success;
}

int run_lease_keep_alive(Context& ctx, const std::vector<std::string>& args, bool once) {
  // As in watch: before any thread starts, so that only this one receives SIGINT and SIGTERM.
  if (!once) block_stop_signals();
  no_table(ctx);
  if (args.size() != 1) {
    throw ExitError{exit_bad_args, "lease keep-alive command needs lease ID as argument"};
  }
  const std::string& id_text = args[0];
  const LeaseId id = parse_lease_id(id_text, false);
  const auto print = [&](const LeaseKeepAliveResult& r) {
    if (ctx.format() == Format::json) {
      Json out = Json::object();
      add_header_fields(out, r.header);
      out["ID"] = static_cast<std::int64_t>(r.id);
      out["TTL"] = r.ttl.count();
      print_json(out);
    } else {
      std::cout << "lease " << lease_hex(id) << " keepalived with TTL(" << r.ttl.count() << ")\n";
    }
    std::cout << std::flush;
  };
  if (once) {
    print(lease_call(nullptr, [&] { return ctx.client().lease_keep_alive_once(id); }));
    return exit_success;
  }
  // Renews a third of the TTL after each answer, as clientv3 does, until the lease is gone or
  // SIGINT/SIGTERM comes. A failed renewal is retried at the next tick while the lease may live.
  for (;;) {
    std::chrono::seconds next{1};
    try {
      const LeaseKeepAliveResult r = ctx.client().lease_keep_alive_once(id);
      if (r.ttl.count() <= 0) break;
      print(r);
      next = std::chrono::seconds(std::max<std::int64_t>(r.ttl.count() / 3, 1));
    } catch (const Error& e) {
      if (e.code() == make_error_code(Errc::lease_not_found)) break;
      if (!is_transient(e.code())) throw call_error(e);
    }
    const int sig = wait_for_signal(next);
    if (sig == SIGINT || sig == SIGTERM) return exit_success;
  }
  std::cout << "lease " << lease_hex(id) << " expired or revoked.\n";
  return exit_success;
}

}  // namespace etcdpp::cli
