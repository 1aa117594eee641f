// SPDX-License-Identifier: Apache-2.0
// etcdpp: etcdctl's verbs, flags and output on etcdpp's Client, plus `etcdpp node`, which runs an
// embedded etcd node or local cluster in the foreground. The command line is parsed here (CLI11);
// the verbs live in *_command(s).cpp.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <functional>
#include <iostream>
#include <string_view>
#include <tuple>

#include "commands.hpp"

namespace etcdpp::cli {
namespace {

std::vector<std::string> split_endpoints(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

// A word after `--` while the line is parsed: a control character no flag nor verb starts with.
std::string literal_placeholder(std::size_t index) { return "\x1f" + std::to_string(index); }

// `word` with its placeholder, if it is one, replaced by the word it stands for.
std::string restored(const std::string& word, const std::vector<std::string>& literals) {
  if (word.size() < 2 || word[0] != '\x1f') return word;
  std::size_t index = 0;
  const char* end = word.data() + word.size();
  const auto [ptr, ec] = std::from_chars(word.data() + 1, end, index);
  if (ec != std::errc{} || ptr != end || index >= literals.size()) return word;
  return literals[index];
}

// The verbs of the line as parsed, outermost first.
std::vector<CLI::App*> parsed_chain(CLI::App& app) {
  std::vector<CLI::App*> chain{&app};
  for (int depth = 0; depth < 8; ++depth) {
    const auto subs = chain.back()->get_subcommands();
    if (subs.empty()) break;
    chain.push_back(subs.front());
  }
  return chain;
}

// The arguments the verbs of the line were given, as CLI11 parsed them.
std::vector<std::string> positional_arguments(CLI::App& app) {
  std::vector<std::string> out;
  for (CLI::App* verb : parsed_chain(app)) {
    for (const CLI::Option* opt :
         verb->get_options([](CLI::Option* o) { return o->get_positional(); })) {
      out.insert(out.end(), opt->results().begin(), opt->results().end());
    }
  }
  return out;
}

// Puts the words after `--` back where CLI11 put their placeholders: in the arguments of the
// verbs, or as the value of a flag that ends right before the `--`, as pflag takes it.
void restore_literals(CLI::App& app, const std::vector<std::string>& literals) {
  if (literals.empty()) return;
  for (CLI::App* verb : parsed_chain(app)) {
    for (CLI::Option* opt : verb->get_options()) {
      std::vector<std::string> values = opt->results();
      bool changed = false;
      for (std::string& v : values) {
        std::string r = restored(v, literals);
        changed = changed || r != v;
        v = std::move(r);
      }
      if (!changed) continue;
      opt->clear();
      for (std::string& v : values) opt->add_result(std::move(v));
      opt->run_callback();  // sets the variable the option fills
    }
  }
}

// pflag's words for a flag it does not know.
std::string unknown_flag(const std::string& word) {
  if (word.starts_with("--")) return "unknown flag: " + word.substr(0, word.find('='));
  return std::string("unknown shorthand flag: '") + word[1] + "' in " + word;
}

// "etcdpp lease": the words that lead to `app`, as in usage lines.
std::string command_path(const CLI::App& app) {
  std::string path = app.get_name();
  for (const CLI::App* p = app.get_parent(); p != nullptr; p = p->get_parent()) {
    path = p->get_name() + " " + path;
  }
  return path;
}

int run(int argc, char** argv) {
  CLI::App app{"A simple command line client for etcd3, on etcdpp.", "etcdpp"};
  app.fallthrough();
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Print the help of every command");

  GlobalFlags flags;
  std::string endpoints = "127.0.0.1:2379";
  app.add_option("--endpoints", endpoints, "gRPC endpoints, comma-separated")
      ->envname("ETCDCTL_ENDPOINTS")
      ->capture_default_str();
  app.add_option("--user", flags.user, "username[:password] for authentication")
      ->envname("ETCDCTL_USER");
  app.add_option("--password", flags.password, "password for authentication")
      ->envname("ETCDCTL_PASSWORD");
  app.add_option("--cacert", flags.cacert, "CA bundle of TLS-enabled servers")
      ->envname("ETCDCTL_CACERT");
  app.add_option("--cert", flags.cert, "TLS certificate of the client")->envname("ETCDCTL_CERT");
  app.add_option("--key", flags.key, "TLS key of the client")->envname("ETCDCTL_KEY");
  app.add_option("--command-timeout", flags.command_timeout, "timeout of short commands")
      ->envname("ETCDCTL_COMMAND_TIMEOUT")
      ->capture_default_str();
  app.add_option("--dial-timeout", flags.dial_timeout, "dial timeout of client connections")
      ->envname("ETCDCTL_DIAL_TIMEOUT")
      ->capture_default_str();
  app.add_option("-w,--write-out", flags.write_out, "output format (simple, json, table)")
      ->envname("ETCDCTL_WRITE_OUT")
      ->capture_default_str();
  app.add_flag("--hex", flags.hex, "print byte strings as hex encoded strings");

  // Each verb sets the action that runs once the whole line is parsed.
  std::function<int(Context&)> action;
  std::function<int()> plain_action;

  GetArgs get;
  auto* get_cmd = app.add_subcommand("get", "Gets the key or a range of keys");
  get_cmd->add_option("key", get.args, "key [range_end]");
  get_cmd->add_flag("--prefix", get.prefix, "Get keys with matching prefix");
  get_cmd->add_flag("--from-key", get.from_key,
                    "Get keys that are greater than or equal to the given key");
  get_cmd->add_option("--limit", get.limit, "Maximum number of results");
  get_cmd->add_option("--rev", get.rev, "Specify the kv revision");
  get_cmd->add_flag("--keys-only", get.keys_only, "Get only the keys");
  get_cmd->add_flag("--print-value-only", get.print_value_only,
                    "Only write values when using the \"simple\" output format");
  get_cmd->add_flag("--count-only", get.count_only, "Get only the count");
  get_cmd->add_option("--sort-by", get.sort_by,
                      "Sort target; CREATE, KEY, MODIFY, VALUE, or VERSION");
  get_cmd->add_option("--order", get.order, "Order of results; ASCEND or DESCEND");
  get_cmd->add_option("--consistency", get.consistency, "Linearizable(l) or Serializable(s)")
      ->capture_default_str();
  get_cmd->callback([&] { action = [&](Context& c) { return run_get(c, get); }; });

  PutArgs put;
  auto* put_cmd = app.add_subcommand("put", "Puts the given key into the store");
  put_cmd->add_option("key", put.args, "key [value]; the value from stdin when absent");
  put_cmd->add_option("--lease", put.lease, "lease ID (in hexadecimal) to attach to the key")
      ->capture_default_str();
  put_cmd->add_flag("--prev-kv", put.prev_kv,
                    "return the previous key-value pair before modification");
  put_cmd->add_flag("--ignore-value", put.ignore_value, "updates the key using its current value");
  put_cmd->add_flag("--ignore-lease", put.ignore_lease, "updates the key using its current lease");
  put_cmd->callback([&] { action = [&](Context& c) { return run_put(c, put); }; });

  DelArgs del;
  auto* del_cmd =
      app.add_subcommand("del", "Removes the specified key or range of keys [key, range_end)");
  del_cmd->add_option("key", del.args, "key [range_end]");
  del_cmd->add_flag("--prefix", del.prefix, "delete keys with matching prefix");
  del_cmd->add_flag("--from-key", del.from_key,
                    "delete keys that are greater than or equal to the given key");
  del_cmd->add_flag("--prev-kv", del.prev_kv, "return deleted key-value pairs");
  del_cmd->callback([&] { action = [&](Context& c) { return run_del(c, del); }; });

  bool interactive = false;
  auto* txn_cmd = app.add_subcommand("txn", "Txn processes all the requests in one transaction");
  txn_cmd->add_flag("-i,--interactive", interactive, "Input transaction in interactive mode");
  txn_cmd->callback([&] { action = [&](Context& c) { return run_txn(c, interactive); }; });

  std::vector<std::string> compact_args;
  bool physical = false;
  auto* compaction_cmd = app.add_subcommand("compaction", "Compacts the event history in etcd");
  compaction_cmd->add_option("revision", compact_args, "<revision>");
  compaction_cmd->add_flag("--physical", physical,
                           "'true' to wait for compaction to physically remove all old revisions");
  compaction_cmd->callback(
      [&] { action = [&](Context& c) { return run_compaction(c, compact_args, physical); }; });

  WatchArgs watch;
  auto* watch_cmd = app.add_subcommand("watch", "Watches events stream on keys or prefixes");
  watch_cmd->add_option("key", watch.args, "key [range_end]");
  watch_cmd->add_flag("--prefix", watch.prefix, "Watch on a prefix if prefix is set");
  watch_cmd->add_option("--rev", watch.rev, "Revision to start watching");
  watch_cmd->add_flag("--prev-kv", watch.prev_kv,
                      "get the previous key-value pair before the event happens");
  watch_cmd->callback([&] { action = [&](Context& c) { return run_watch(c, watch); }; });

  auto* lease_cmd = app.add_subcommand("lease", "Lease related commands");
  lease_cmd->require_subcommand(1);
  std::vector<std::string> lease_args;
  bool lease_keys = false;
  bool lease_once = false;
  auto* grant_cmd = lease_cmd->add_subcommand("grant", "Creates leases");
  grant_cmd->add_option("ttl", lease_args, "<ttl>: TTL in seconds");
  grant_cmd->callback([&] { action = [&](Context& c) { return run_lease_grant(c, lease_args); }; });
  auto* revoke_cmd = lease_cmd->add_subcommand("revoke", "Revokes leases");
  revoke_cmd->add_option("leaseID", lease_args, "<leaseID> in hexadecimal");
  revoke_cmd->callback(
      [&] { action = [&](Context& c) { return run_lease_revoke(c, lease_args); }; });
  auto* ttl_cmd = lease_cmd->add_subcommand("timetolive", "Get lease information");
  ttl_cmd->add_option("leaseID", lease_args, "<leaseID> in hexadecimal");
  ttl_cmd->add_flag("--keys", lease_keys, "Get keys attached to this lease");
  ttl_cmd->callback([&] {
    action = [&](Context& c) { return run_lease_timetolive(c, lease_args, lease_keys); };
  });
  auto* list_cmd = lease_cmd->add_subcommand("list", "List all active leases");
  list_cmd->callback([&] { action = [&](Context& c) { return run_lease_list(c); }; });
  auto* keep_cmd = lease_cmd->add_subcommand("keep-alive", "Keeps leases alive (renew)");
  keep_cmd->add_option("leaseID", lease_args, "<leaseID> in hexadecimal");
  keep_cmd->add_flag("--once", lease_once,
                     "Resets the keep-alive time to its original value and exits immediately");
  keep_cmd->callback([&] {
    action = [&](Context& c) { return run_lease_keep_alive(c, lease_args, lease_once); };
  });

  auto* member_cmd = app.add_subcommand("member", "Membership related commands");
  member_cmd->require_subcommand(1);
  auto* member_list_cmd = member_cmd->add_subcommand("list", "Lists all members in the cluster");
  member_list_cmd->callback([&] { action = [&](Context& c) { return run_member_list(c); }; });

  std::vector<std::string> member_args;
  std::string peer_urls;
  bool learner = false;
  auto* member_add_cmd = member_cmd->add_subcommand("add", "Adds a member into the cluster");
  member_add_cmd->add_option("name", member_args, "<memberName>");
  member_add_cmd->add_option("--peer-urls", peer_urls,
                             "comma separated peer URLs for the new member.");
  member_add_cmd->add_flag("--learner", learner, "indicates if the new member is raft learner");
  member_add_cmd->callback([&] {
    action = [&](Context& c) { return run_member_add(c, member_args, peer_urls, learner); };
  });
  auto* member_remove_cmd =
      member_cmd->add_subcommand("remove", "Removes a member from the cluster");
  member_remove_cmd->add_option("id", member_args, "<memberID>");
  member_remove_cmd->callback(
      [&] { action = [&](Context& c) { return run_member_remove(c, member_args); }; });
  auto* member_update_cmd = member_cmd->add_subcommand("update", "Updates a member in the cluster");
  member_update_cmd->add_option("id", member_args, "<memberID>");
  member_update_cmd->add_option("--peer-urls", peer_urls,
                                "comma separated peer URLs for the updated member.");
  member_update_cmd->callback(
      [&] { action = [&](Context& c) { return run_member_update(c, member_args, peer_urls); }; });
  auto* member_promote_cmd =
      member_cmd->add_subcommand("promote", "Promotes a non-voting member in the cluster");
  member_promote_cmd->add_option("id", member_args, "<memberID>");
  member_promote_cmd->callback(
      [&] { action = [&](Context& c) { return run_member_promote(c, member_args); }; });

  auto* alarm_cmd = app.add_subcommand("alarm", "Alarm related commands");
  alarm_cmd->require_subcommand(1);
  alarm_cmd->add_subcommand("list", "Lists all alarms")->callback([&] {
    action = [&](Context& c) { return run_alarm_list(c); };
  });
  alarm_cmd->add_subcommand("disarm", "Disarms all alarms")->callback([&] {
    action = [&](Context& c) { return run_alarm_disarm(c); };
  });

  bool defrag_cluster = false;
  auto* defrag_cmd = app.add_subcommand(
      "defrag", "Defragments the storage of the etcd members with given endpoints");
  defrag_cmd->add_flag("--cluster", defrag_cluster,
                       "use all endpoints from the cluster member list");
  defrag_cmd->callback([&] { action = [&](Context& c) { return run_defrag(c, defrag_cluster); }; });

  std::vector<std::string> snapshot_args;
  auto* snapshot_cmd = app.add_subcommand("snapshot", "Manages etcd node snapshots");
  snapshot_cmd->require_subcommand(1);
  auto* snapshot_save_cmd =
      snapshot_cmd->add_subcommand("save", "Stores an etcd node backend snapshot to a given file");
  snapshot_save_cmd->add_option("filename", snapshot_args, "<filename>");
  snapshot_save_cmd->callback(
      [&] { action = [&](Context& c) { return run_snapshot_save(c, snapshot_args); }; });

  std::vector<std::string> move_leader_args;
  auto* move_leader_cmd =
      app.add_subcommand("move-leader", "Transfers leadership to another etcd cluster member.");
  move_leader_cmd->add_option("transferee", move_leader_args, "<transferee-member-id>");
  move_leader_cmd->callback(
      [&] { action = [&](Context& c) { return run_move_leader(c, move_leader_args); }; });

  auto* endpoint_cmd = app.add_subcommand("endpoint", "Endpoint related commands");
  endpoint_cmd->require_subcommand(1);
  bool cluster = false;
  endpoint_cmd->add_flag("--cluster", cluster, "use all endpoints from the cluster member list");
  auto* status_cmd = endpoint_cmd->add_subcommand("status", "Prints out the status of endpoints");
  status_cmd->callback(
      [&] { action = [&](Context& c) { return run_endpoint_status(c, cluster); }; });
  std::int64_t hashkv_rev = 0;
  auto* hashkv_cmd =
      endpoint_cmd->add_subcommand("hashkv", "Prints the KV history hash for each endpoint");
  hashkv_cmd->add_option("--rev", hashkv_rev, "maximum revision to hash (default: all revisions)");
  hashkv_cmd->callback(
      [&] { action = [&](Context& c) { return run_endpoint_hashkv(c, cluster, hashkv_rev); }; });
  auto* health_cmd = endpoint_cmd->add_subcommand("health", "Checks the healthiness of endpoints");
  health_cmd->callback(
      [&] { action = [&](Context& c) { return run_endpoint_health(c, cluster); }; });

  auto* auth_cmd = app.add_subcommand("auth", "Enable or disable authentication");
  auth_cmd->require_subcommand(1);
  auth_cmd->add_subcommand("enable", "Enables authentication")->callback([&] {
    action = [&](Context& c) { return run_auth_enable(c); };
  });
  auth_cmd->add_subcommand("disable", "Disables authentication")->callback([&] {
    action = [&](Context& c) { return run_auth_disable(c); };
  });
  auth_cmd->add_subcommand("status", "Returns authentication status")->callback([&] {
    action = [&](Context& c) { return run_auth_status(c); };
  });

  UserArgs user;
  auto* user_cmd = app.add_subcommand("user", "User related commands");
  user_cmd->require_subcommand(1);
  const auto user_verb = [&](const char* name, const char* help,
                             int (*run)(Context&, const UserArgs&)) {
    auto* cmd = user_cmd->add_subcommand(name, help);
    cmd->add_option("args", user.args, "<user name> ...");
    cmd->callback([&, run] { action = [&, run](Context& c) { return run(c, user); }; });
    return cmd;
  };
  auto* user_add_cmd = user_verb("add", "Adds a new user", run_user_add);
  user_add_cmd->add_flag("--interactive,!--no-interactive", user.interactive,
                         "Read password from stdin instead of interactive terminal");
  user_add_cmd->add_flag("--no-password", user.no_password,
                         "Create a user without password (CN based auth only)");
  user_verb("delete", "Deletes a user", run_user_delete);
  user_verb("get", "Gets detailed information of a user", run_user_get)
      ->add_flag("--detail", user.detail, "Show permissions of roles granted to the user");
  user_cmd->add_subcommand("list", "Lists all users")->callback([&] {
    action = [&](Context& c) { return run_user_list(c); };
  });
  user_verb("passwd", "Changes password of user", run_user_passwd)
      ->add_flag("--interactive,!--no-interactive", user.interactive,
                 "If true, read password from stdin instead of interactive terminal");
  user_verb("grant-role", "Grants a role to a user", run_user_grant_role);
  user_verb("revoke-role", "Revokes a role from a user", run_user_revoke_role);

  RoleArgs role;
  auto* role_cmd = app.add_subcommand("role", "Role related commands");
  role_cmd->require_subcommand(1);
  const auto role_verb = [&](const char* name, const char* help,
                             int (*run)(Context&, const RoleArgs&)) {
    auto* cmd = role_cmd->add_subcommand(name, help);
    cmd->add_option("args", role.args, "<role name> ...");
    cmd->callback([&, run] { action = [&, run](Context& c) { return run(c, role); }; });
    return cmd;
  };
  role_verb("add", "Adds a new role", run_role_add);
  role_verb("delete", "Deletes a role", run_role_delete);
  role_verb("get", "Gets detailed information of a role", run_role_get);
  role_cmd->add_subcommand("list", "Lists all roles")->callback([&] {
    action = [&](Context& c) { return run_role_list(c); };
  });
  for (auto* cmd :
       {role_verb("grant-permission", "Grants a key to a role", run_role_grant_permission),
        role_verb("revoke-permission", "Revokes a key from a role", run_role_revoke_permission)}) {
    cmd->add_flag("--prefix", role.prefix, "grant a prefix permission");
    cmd->add_flag("--from-key", role.from_key,
                  "grant a permission of keys that are greater than or equal to the given key "
                  "using byte compare");
  }

  auto* version_cmd = app.add_subcommand("version", "Prints the version of etcdpp");
  version_cmd->callback([&] {
    plain_action = [] {
      std::cout << "etcdpp version: " << ETCDPP_VERSION << "\nAPI version: 3.4\n";
      return exit_success;
    };
  });

  LockArgs lock;
  auto* lock_cmd = app.add_subcommand("lock", "Acquires a named lock");
  lock_cmd->add_option("--ttl", lock.ttl, "timeout for session")->capture_default_str();
  // Everything from the name on is the name and the command, flags included.
  lock_cmd->prefix_command();
  lock_cmd->allow_extras();
  lock_cmd->fallthrough(false);  // else its first positional would go to the parent
  lock_cmd->callback([&] {
    lock.args = lock_cmd->remaining();
    // `lock NAME -- COMMAND -flags`: the separator is not part of the command, as for etcdctl.
    for (std::size_t i = 0; i < lock.args.size() && i < 2; ++i) {
      if (lock.args[i] == "--") {
        lock.args.erase(lock.args.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
    }
    action = [&](Context& c) { return run_lock(c, lock); };
  });

  ElectArgs elect;
  auto* elect_cmd = app.add_subcommand("elect", "Observes and participates in leader election");
  elect_cmd->add_option("args", elect.args, "<election-name> [proposal]");
  elect_cmd->add_flag("-l,--listen", elect.listen, "observation mode");
  elect_cmd->callback([&] { action = [&](Context& c) { return run_elect(c, elect); }; });
  RegistryArgs registry;
  auto* registry_cmd = app.add_subcommand("registry", "Reads the service registry");
  registry_cmd->require_subcommand(1);
  for (auto [verb, help, run] :
       {std::tuple{"nodes", "Lists the live nodes", &run_registry_nodes},
        std::tuple{"resolve", "Lists the routes of an application", &run_registry_resolve},
        std::tuple{"config", "Prints a node's effective value of a config item",
                   &run_registry_config}}) {
    auto* cmd = registry_cmd->add_subcommand(verb, help);
    if (std::string_view(verb) != "nodes") cmd->add_option("arg", registry.args, "APP or ITEM");
    cmd->add_option("--root", registry.root, "registry root key")->capture_default_str();
    cmd->add_option("--cluster", registry.cluster, "cluster")->capture_default_str();
    cmd->add_option("--node", registry.node, "node (config: whose; resolve: only its routes)");
    cmd->callback([&, run = run] { action = [&, run](Context& c) { return run(c, registry); }; });
  }

  NodeArgs node;
  auto* node_cmd = app.add_subcommand(
      "node", "Runs an embedded etcd node (or a local cluster) in the foreground until Ctrl-C");
  node_cmd->add_option("--config", node.config, "TOML file whose [etcd] table holds etcd's flags");
  node_cmd->add_option("--cluster", node.cluster,
                       "run a local cluster of this many members instead");
  node_cmd->add_option("--name", node.name, "member name")->capture_default_str();
  node_cmd->add_option("--data-dir", node.data_dir, "data directory (default: a temporary one)");
  node_cmd
      ->add_option("--client-port", node.client_port,
                   "client port on 127.0.0.1 (0: any free one); with --cluster, the first "
                   "member's, then +1 for each next member (default there: free ones)")
      ->capture_default_str();
  node_cmd
      ->add_option("--peer-port", node.peer_port,
                   "peer port on 127.0.0.1 (0: any free one); with --cluster, as --client-port")
      ->capture_default_str();
  node_cmd->callback([&] {
    node.client_port_given = node_cmd->count("--client-port") > 0;
    node.peer_port_given = node_cmd->count("--peer-port") > 0;
    plain_action = [&] { return run_node(node); };
  });

  // `--flag=` sets the flag to the empty string, as etcdctl takes it (`--endpoints=` is "no
  // endpoints"); CLI11 would take the next word as its value instead.
  //
  // Words after a `--` are arguments whatever they look like, as pflag takes them (`put k --
  // -v` writes "-v"). CLI11 would still read a word there that names a verb, and it ends a
  // verb's list of arguments at the `--`: so the `--` goes, and each word after it stands in the
  // parse as a placeholder that matches no flag nor verb, put back once the line is parsed.
  std::vector<std::string> args;
  std::vector<std::string> literals;
  bool separated = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (separated) {
      args.push_back(literal_placeholder(literals.size()));
      literals.emplace_back(arg);
    } else if (arg == "--") {
      separated = true;
    } else if (arg.starts_with("--") && arg.size() > 3 && arg.find('=') == arg.size() - 1) {
      args.emplace_back(arg.substr(0, arg.size() - 1));
      args.emplace_back();
    } else {
      args.emplace_back(arg);
    }
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  try {
    app.parse(args);
    // A word CLI11 took as an argument that starts with '-' is one pflag takes as shorthand
    // flags (`lease grant -1`): etcdctl refuses it, and a value that starts with '-' comes after
    // `--`.
    for (const std::string& arg : positional_arguments(app)) {
      if (arg.size() > 1 && arg[0] == '-') throw ExitError{exit_error, unknown_flag(arg)};
    }
    restore_literals(app, literals);
    for (std::string& arg : lock.args) arg = restored(arg, literals);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::RequiredError& e) {
    // A word where a verb should be that names none: etcdctl's error and exit status, never
    // the help with success, so that a script does not believe it ran.
    const CLI::App* group = &app;
    for (const CLI::App* sub = &app; sub != nullptr;) {
      group = sub;
      const auto parsed = sub->get_subcommands();
      sub = parsed.empty() ? nullptr : parsed.front();
    }
    if (const auto extra = group->remaining(); !extra.empty() && !extra.front().starts_with("-")) {
      std::cerr << "Error: unknown command \"" << extra.front() << "\" for \""
                << command_path(*group) << "\"\nRun '" << command_path(*group)
                << " --help' for usage.\n";
      return exit_error;
    }
    // A group verb without its sub-verb (`etcdpp lease`), or no verb at all: its help, as
    // etcdctl prints it.
    for (bool deeper = true; deeper;) {
      deeper = false;
      for (const CLI::App* sub : group->get_subcommands()) {
        group = sub;
        deeper = true;
        break;
      }
    }
    if (group->get_require_subcommand_min() > 0 && group->get_subcommands().empty()) {
      std::cout << group->help();
      return exit_success;
    }
    std::cerr << "Error: " << e.what() << "\nRun 'etcdpp --help' for usage.\n";
    return exit_error;
  } catch (const CLI::ExtrasError& e) {
    // A flag no verb of the line has: pflag's words for it.
    for (const std::string& extra : app.remaining(true)) {
      if (extra.size() > 1 && extra[0] == '-') {
        std::cerr << "Error: " << unknown_flag(extra) << "\nRun 'etcdpp --help' for usage.\n";
        return exit_error;
      }
    }
    std::cerr << "Error: " << e.what() << "\nRun 'etcdpp --help' for usage.\n";
    return exit_error;
  } catch (const CLI::ParseError& e) {
    std::cerr << "Error: " << e.what() << "\nRun 'etcdpp --help' for usage.\n";
    return exit_error;
  }

  if (plain_action) return plain_action();
  flags.endpoints = split_endpoints(endpoints);
  if (flags.endpoints.empty())
    throw ExitError{exit_bad_connection, "etcdclient: no available endpoints"};
  Context ctx(std::move(flags));
  return action(ctx);
}

}  // namespace
}  // namespace etcdpp::cli

int main(int argc, char** argv) {
  using namespace etcdpp::cli;
  try {
    return run(argc, argv);
  } catch (const ExitError& e) {
    std::cout << std::flush;
    std::cerr << "Error: " << e.message << '\n';
    return e.code;
  } catch (const std::exception& e) {
    std::cout << std::flush;
    std::cerr << "Error: " << e.what() << '\n';
    return exit_error;
  }
}
