// SPDX-License-Identifier: Apache-2.0
// The verbs of the etcdpp command-line tool, each a function of its parsed arguments. main.cpp
// parses the command line into these structs; the functions call the Client and print.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "etcdpp/txn.hpp"

namespace etcdpp::cli {

struct GetArgs {
  std::vector<std::string> args;  ///< key [range_end]
  bool prefix = false;
  bool from_key = false;
  std::int64_t limit = 0;
  std::int64_t rev = 0;
  bool keys_only = false;
  bool print_value_only = false;
  bool count_only = false;
  std::string sort_by;
  std::string order;
  std::string consistency = "l";
};

struct PutArgs {
  std::vector<std::string> args;  ///< key [value]; the value from stdin when absent
  std::string lease = "0";        ///< In hex, as etcdctl takes it.
  bool prev_kv = false;
  bool ignore_value = false;
  bool ignore_lease = false;
};

struct DelArgs {
  std::vector<std::string> args;  ///< key [range_end]
  bool prefix = false;
  bool from_key = false;
  bool prev_kv = false;
};

struct WatchArgs {
  std::vector<std::string> args;  ///< key [range_end]
  bool prefix = false;
  std::int64_t rev = 0;
  bool prev_kv = false;
};

struct PutRequest {
  std::string key;
  std::string value;
  PutOptions options;
};

/// The key and options of each verb, checked as etcdctl checks them (ExitError otherwise).
std::pair<std::string, GetOptions> get_request(const GetArgs& a);
std::pair<std::string, DeleteOptions> delete_request(const DelArgs& a);
/// The value comes from `stdin_value` when only the key is given (none when it is null).
PutRequest put_request(const PutArgs& a, std::istream* stdin_value);
LeaseId parse_lease_id(const std::string& text, bool for_put);

/// etcdctl's txn input: compares, a blank line, success operations, a blank line, failure
/// operations, a blank line; a line of blanks counts as blank and lines are trimmed. Each line
/// is checked as etcdctl 3.4 checks it, as soon as it is read: ExitError with etcdctl's exit
/// code names the first bad line, and the end of the input before the third blank line is an
/// error (exit 3), as for etcdctl.
Txn read_txn(std::istream& in, bool interactive);
/// Splits an operation line into words as etcdctl does: double-quoted words with Go's escapes
/// (ExitError when one is not a valid Go string), single-quoted ones, or runs of non-blanks.
std::vector<std::string> split_words(const std::string& line);

int run_get(Context& ctx, const GetArgs& a);
int run_put(Context& ctx, const PutArgs& a);
int run_del(Context& ctx, const DelArgs& a);
int run_txn(Context& ctx, bool interactive);
int run_compaction(Context& ctx, const std::vector<std::string>& args, bool physical);
int run_watch(Context& ctx, const WatchArgs& a);

int run_lease_grant(Context& ctx, const std::vector<std::string>& args);
int run_lease_revoke(Context& ctx, const std::vector<std::string>& args);
int run_lease_timetolive(Context& ctx, const std::vector<std::string>& args, bool keys);
int run_lease_list(Context& ctx);
int run_lease_keep_alive(Context& ctx, const std::vector<std::string>& args, bool once);

/// The endpoints a per-endpoint verb reports on: those given, or with `cluster` the client URLs
/// of every member.
std::vector<std::string> endpoints_of(Context& ctx, bool cluster);

int run_member_list(Context& ctx);
int run_member_add(Context& ctx, const std::vector<std::string>& args, const std::string& peer_urls,
                   bool learner);
int run_member_remove(Context& ctx, const std::vector<std::string>& args);
int run_member_update(Context& ctx, const std::vector<std::string>& args,
                      const std::string& peer_urls);
int run_member_promote(Context& ctx, const std::vector<std::string>& args);
int run_alarm_list(Context& ctx);
int run_alarm_disarm(Context& ctx);
int run_defrag(Context& ctx, bool cluster);
int run_snapshot_save(Context& ctx, const std::vector<std::string>& args);
int run_move_leader(Context& ctx, const std::vector<std::string>& args);
int run_endpoint_hashkv(Context& ctx, bool cluster, std::int64_t revision);
int run_endpoint_status(Context& ctx, bool cluster);
int run_endpoint_health(Context& ctx, bool cluster);

struct UserArgs {
  std::vector<std::string> args;
  bool interactive = true;  ///< Ask the password on the terminal (else the first line of stdin).
  bool no_password = false;
  bool detail = false;
};

struct RoleArgs {
  std::vector<std::string> args;
  bool prefix = false;
  bool from_key = false;
};

/// A password: asked on the terminal without echo when `interactive` and stdin is one, else the
/// first line of stdin.
std::string read_password(const std::string& prompt, bool interactive);

int run_auth_enable(Context& ctx);
int run_auth_disable(Context& ctx);
int run_auth_status(Context& ctx);
int run_user_add(Context& ctx, const UserArgs& a);
int run_user_delete(Context& ctx, const UserArgs& a);
int run_user_get(Context& ctx, const UserArgs& a);
int run_user_list(Context& ctx);
int run_user_passwd(Context& ctx, const UserArgs& a);
int run_user_grant_role(Context& ctx, const UserArgs& a);
int run_user_revoke_role(Context& ctx, const UserArgs& a);
int run_role_add(Context& ctx, const RoleArgs& a);
int run_role_delete(Context& ctx, const RoleArgs& a);
int run_role_get(Context& ctx, const RoleArgs& a);
int run_role_list(Context& ctx);
int run_role_grant_permission(Context& ctx, const RoleArgs& a);
int run_role_revoke_permission(Context& ctx, const RoleArgs& a);

struct RegistryArgs {
  std::vector<std::string> args;  ///< resolve: the application; config: the item
  std::string root = "services/ergo";
  std::string cluster = "default";
  std::string node;  ///< config: whose configuration; resolve: only this node's routes
};
int run_registry_nodes(Context& ctx, const RegistryArgs& a);
int run_registry_resolve(Context& ctx, const RegistryArgs& a);
int run_registry_config(Context& ctx, const RegistryArgs& a);

struct NodeArgs {
  std::string config;       ///< A TOML file with an [etcd] table.
  std::size_t cluster = 0;  ///< Members of a local cluster; 0 runs one node.
  std::string name = "default";
  std::string data_dir;
  std::uint16_t client_port = 2379;
  std::uint16_t peer_port = 2380;
  /// Whether the ports were given: a cluster's members then use port + i, else free ports.
  bool client_port_given = false;
  bool peer_port_given = false;
};
int run_node(const NodeArgs& a);

struct LockArgs {
  std::vector<std::string> args;  ///< name [command arg ...]
  std::int64_t ttl = 10;          ///< The session's TTL in seconds, as etcdctl's --ttl.
};
/// Takes the lock; prints its key and value and holds it until SIGINT or SIGTERM, or runs the
/// command with ETCD_LOCK_KEY and ETCD_LOCK_REV in its environment and then releases it.
int run_lock(Context& ctx, const LockArgs& a);

struct ElectArgs {
  std::vector<std::string> args;  ///< name [proposal]
  bool listen = false;            ///< -l: observe instead of campaigning
};
/// Campaigns and, once elected, prints the key and value and leads until SIGINT or SIGTERM
/// (then resigns); with -l prints the key and value of every leader and proclamation.
int run_elect(Context& ctx, const ElectArgs& a);

/// Blocks SIGINT, SIGTERM and SIGUSR1 in this thread and in every thread started after, so that
/// wait_for_signal() receives them: no work runs in a signal handler. Call it before anything
/// starts a thread (a Client, a Node).
void block_stop_signals();
/// Waits for SIGINT or SIGTERM (returns it), for wake_waiter() (returns SIGUSR1), or at most
/// `timeout` when one is given (returns 0).
int wait_for_signal(std::optional<std::chrono::milliseconds> timeout = std::nullopt);
/// Wakes wait_for_signal() from another thread.
void wake_waiter();

}  // namespace etcdpp::cli
