// SPDX-License-Identifier: Apache-2.0
// An embedded etcd node: the real etcd binary run as a child process for the lifetime of a C++
// scope, configured in code (NodeOptions) or from a TOML file whose [etcd] table holds etcd's
// flags, and telling the program when it becomes leader or follower. With no options it is a
// single node on free loopback ports with a temporary data dir. embedded::Cluster
// (embedded/cluster.hpp) runs several on one machine.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcdpp/client.hpp"

namespace etcdpp::embedded {

/// A node's role in its cluster, as its own etcd reports it (Maintenance.Status: the leader it
/// knows, compared with its own member id).
enum class Role {
  none,      ///< Not running, or not serving yet.
  follower,  ///< Serving, and another member (or none, during an election) is the leader.
  leader,    ///< This member is the leader.
};

/// "none", "follower" or "leader".
std::string_view to_string(Role role) noexcept;

/// What on_role_change, on_leader and on_follower receive.
struct RoleChange {
  Role previous = Role::none;  ///< The role before the change.
  Role current = Role::none;   ///< The role now.
  std::string name;             ///< The member's name (--name).
  MemberId member_id{};  ///< This member's id.
  MemberId leader_id{};  ///< The leader this member knows; MemberId{0} when none (or etcd died).
  std::uint64_t raft_term = 0;  ///< The raft term when the change was seen; 0 when etcd died.
  /// A client of this node (Node::client()), for the callback's own calls: a leader's
  /// callback may write, a follower's may read.
  Client client;
};

/// What on_exit receives when etcd ends without being asked to.
struct ExitInfo {
  std::string name;              ///< The member's name.
  int pid = -1;                  ///< The process that ended.
  std::optional<int> exit_code;  ///< Set when etcd exited (with this status).
  std::optional<int> signal;     ///< Set when a signal killed it (e.g. 9 for SIGKILL).
  std::string log_tail;          ///< The last lines etcd wrote.

  /// "exited with status 2", "was killed by signal 9 (SIGKILL)".
  std::string description() const;
  bool operator==(const ExitInfo&) const = default;  ///< Member-wise comparison.
};

/// How to run one etcd node. Every field has a default that gives a private single node; the
/// fields named after etcd flags are passed as those flags (see etcd --help).
///
/// Addresses: either `host` and the two ports (0 picks a free one), or the URL lists, which
/// win. Client URLs are `http://host:port`, or `https://host:port` with etcd's --cert-file and
/// --key-file among extra_flags and client_tls set; they default to loopback. When the node is
/// clustered (initial_cluster names other members, or initial_cluster_state is "existing"), peers
/// use TLS with generated certificates
/// (--peer-auto-tls) unless peer_auto_tls says otherwise: `http://` peer URLs are then used as
/// `https://`, in every peer flag and in initial_cluster alike, so that members configured the
/// same way agree.
struct NodeOptions {
  /// The member's name (--name).
  std::string name = "default";
  /// Data directory (--data-dir). Empty: a fresh temporary directory, removed with the Node.
  std::filesystem::path data_dir;
  /// Address the default client and peer URLs use. Loopback unless you mean otherwise.
  std::string host = "127.0.0.1";
  /// Port of the default client URL; 0 picks a free port (kept for restarts once it served).
  std::uint16_t client_port = 0;
  /// Port of the default peer URL; 0 picks a free port (kept for restarts once it served).
  std::uint16_t peer_port = 0;
  /// --listen-client-urls and --advertise-client-urls. Empty: http://host:client_port; the
  /// advertised URLs default to the listened ones.
  std::vector<std::string> listen_client_urls;
  /// --advertise-client-urls. Empty: the listened client URLs.
  std::vector<std::string> advertise_client_urls;
  /// --listen-peer-urls and --initial-advertise-peer-urls. Empty: http://host:peer_port (https
  /// with peer auto-TLS); the advertised URLs default to the listened ones.
  std::vector<std::string> listen_peer_urls;
  /// --initial-advertise-peer-urls. Empty: the listened peer URLs.
  std::vector<std::string> initial_advertise_peer_urls;
  /// --initial-cluster, `name=url,name=url`. Empty: this member alone.
  std::string initial_cluster;
  /// --initial-cluster-state: "new" or "existing". Empty: etcd's default, "new".
  std::string initial_cluster_state;
  /// --initial-cluster-token. Empty: etcd's default.
  std::string initial_cluster_token;
  /// --peer-auto-tls. Empty: on when clustered and no --peer-cert-file is among extra_flags.
  std::optional<bool> peer_auto_tls;
  /// --heartbeat-interval. Zero: etcd's default, 100 ms.
  std::chrono::milliseconds heartbeat_interval{0};
  /// --election-timeout. Zero: etcd's default, 1000 ms.
  std::chrono::milliseconds election_timeout{0};
  /// More etcd flags, each a whole argument (`--auto-compaction-retention=1`). They come last,
  /// so they override the flags above.
  std::vector<std::string> extra_flags;

  /// The etcd binary. Empty: $ETCDPP_ETCD_BINARY, else `etcd` on PATH.
  std::filesystem::path binary;
  /// Whether the constructor and start() wait until the node serves. Set it to false to start
  /// several members at once, then call wait_ready() on each.
  bool wait_ready = true;
  /// How long waiting for the node to serve may take (the constructor, start(),
  /// wait_ready() without a timeout); positive.
  std::chrono::milliseconds start_timeout{30000};
  /// How long stop() and the destructor wait after SIGTERM before SIGKILL; 0 kills at once.
  std::chrono::milliseconds stop_timeout{10000};
  /// How often the node's role is asked of etcd (Maintenance.Status).
  std::chrono::milliseconds role_poll_interval{100};

  /// Called on every change of role, including to Role::none when etcd dies (but not when the
  /// program stops it). See Node for the thread they run on.
  std::function<void(const RoleChange&)> on_role_change;
  /// Called when the node becomes leader.
  std::function<void(const RoleChange&)> on_leader;
  /// Called when the node becomes follower: once it serves as one, and when a leader steps down.
  std::function<void(const RoleChange&)> on_follower;
  /// Called when etcd ends without being asked to (it crashed, or something killed it).
  std::function<void(const ExitInfo&)> on_exit;
  /// Receives each line etcd writes (stdout and stderr), on the thread that reads them; etcd
  /// waits while it runs, so it should be quick. The last lines are kept for error messages and
  /// log_tail() in any case.
  std::function<void(std::string_view)> log_sink;
  /// How the node's own client (readiness, roles, client()) reaches it when its client URLs are
  /// https://: the CA that signed the node's certificate (--cert-file) and, when etcd requires
  /// client certificates (--client-cert-auth), one it trusts.
  TlsOptions client_tls;

  /// Options from the [etcd] table of a TOML file, as cl-etcd reads them: each key is an etcd
  /// flag without its dashes (`name`, `listen-client-urls`, `initial-cluster`, ...), each value
  /// a string, integer, boolean, or for list flags an array of strings. Other tables are
  /// ignored. Throws Error (Errc::invalid_option): for a file that cannot be read, malformed
  /// TOML (with line and column), no [etcd] table, a key that is not an etcd flag (naming it),
  /// or a value of the wrong type.
  static NodeOptions from_toml_file(const std::filesystem::path& path);
  /// The same, from TOML text; `source` names it in error messages.
  static NodeOptions from_toml(std::string_view toml, std::string_view source = "TOML");
};

/// A running etcd node, owned by this object.
///
/// **Lifetime** The constructor starts etcd and (unless NodeOptions::wait_ready is false)
/// returns once it serves client requests. The destructor stops it (SIGTERM, then SIGKILL after
/// NodeOptions::stop_timeout), reaps it, and removes a temporary data dir. The child runs in
/// its own process group, sees no ETCD_* environment variable (its configuration is the
/// options), inherits no file descriptor but stdin (/dev/null) and its output pipe, and is
/// killed by the kernel if this process dies.
///
/// **Roles** A thread of the Node asks etcd for its status every role_poll_interval and calls
/// on_role_change, then on_leader or on_follower, once per change, outside any lock of the
/// library. The callbacks may call the library, this Node included (a put, stop(), start()),
/// but must not destroy the Node. An exception a callback throws is written to the log and
/// dropped. While etcd does not answer (paused, overloaded), its role stays as last seen.
///
/// **Threads** Every Node is forked from one process-wide spawner thread that the library
/// starts on first use and that lives as long as the process: a Node may be created, started
/// and stopped from any thread, and its etcd lives until the Node stops it even when the thread
/// that created it has ended. Each Node adds a thread that reads etcd's output and one that
/// watches its role and exit, plus the thread of its Client.
///
/// **Errors** The constructor, start() and wait_ready() throw Error: Errc::etcd_not_found when
/// there is no binary (the message names the Debian package etcd-server),
/// Errc::invalid_option for options that cannot work (named in the message),
/// Errc::node_failed when etcd exits or does not serve in time (the message ends with the tail
/// of etcd's log).
///
/// **Thread safety** Accessors may be called from any thread. start(), stop(), kill(),
/// pause(), resume() and wait_ready() are serialised.
///
/// **Example**
/// @code
/// etcdpp::embedded::Node node({
///     .on_leader = [](const etcdpp::embedded::RoleChange& c) { c.client.put("hello", "world"); },
/// });
/// @endcode
class Node {
 public:
  /// Starts a single node on free loopback ports with a temporary data dir.
  Node();
  /// Starts a node as `options` say (see **Lifetime** and **Errors**).
  explicit Node(NodeOptions options);
  ~Node();
  /// Takes over `other`'s etcd. A moved-from Node has none: its accessors give empty values,
  /// stop(), kill() and resume() do nothing, and start(), wait_ready(), pause() and client()
  /// throw Error (Errc::node_failed).
  Node(Node&&) noexcept;
  /// Stops this node's etcd (and removes a temporary data dir), as the destructor does, then
  /// takes over `other`'s.
  Node& operator=(Node&&) noexcept;

  /// Starts the node again after stop(), kill() or an exit, with the same ports and data dir
  /// (it rejoins its cluster), and waits until it serves unless NodeOptions::wait_ready is
  /// false. No-op while running.
  void start();
  /// Waits until the node serves client requests and its member id is known, at most
  /// `timeout` (NodeOptions::start_timeout when not given). Returns at once when it does.
  /// Throws Error (Errc::node_failed, with etcd's log) when it exits or the time runs out;
  /// the process is then stopped.
  void wait_ready();
  /// As wait_ready(), for at most `timeout`.
  void wait_ready(std::chrono::milliseconds timeout);
  /// Stops the node gracefully (SIGTERM, then SIGKILL after NodeOptions::stop_timeout) and
  /// reaps it; the data dir stays until the Node is destroyed. No callback fires. No-op when
  /// stopped.
  void stop();
  /// Kills the node with SIGKILL and reaps it: to the rest of its cluster it crashed. No
  /// callback fires. No-op when stopped.
  void kill();
  /// Stops etcd's process with SIGSTOP and returns once all its threads are stopped: to the
  /// rest of its cluster it hangs. Throws Error (Errc::node_failed) when it is not running.
  void pause();
  /// Continues a paused node (SIGCONT). No-op when not paused.
  void resume();

  /// Whether the child process is alive (paused included).
  bool running() const;
  /// Whether it serves: wait_ready() succeeded and it has not stopped since.
  bool ready() const;
  /// Whether it is paused: pause() stopped it, and neither resume() nor its end came since.
  bool paused() const;
  /// The current role (Role::none when stopped or not ready).
  Role role() const noexcept;

  /// The node's first client endpoint, for ClientOptions::endpoints: `host:port`, or
  /// `https://host:port` when it serves TLS.
  std::string client_endpoint() const;
  /// Every client endpoint this process reaches the node on (its listen client URLs, a
  /// wildcard address taken as loopback).
  std::vector<std::string> client_endpoints() const;
  /// A client of this node alone (its Status speaks for this member). Copies share one
  /// connection, made with the Node.
  Client client() const;
  /// The port of client_endpoint() (the one picked when NodeOptions::client_port was 0).
  std::uint16_t client_port() const noexcept;
  /// The port of its first listen peer URL (the one picked when NodeOptions::peer_port was 0).
  std::uint16_t peer_port() const noexcept;
  /// The member's name (NodeOptions::name, --name).
  const std::string& name() const noexcept;
  /// The data directory: NodeOptions::data_dir, or the temporary one made for it.
  const std::filesystem::path& data_dir() const noexcept;
  /// This member's id, known once it has served; MemberId{0} before.
  MemberId member_id() const noexcept;
  /// The etcd version it reports (e.g. "3.4.23"), known once it has served; empty before.
  std::string version() const;
  /// The child's process id, or -1 when it is not running.
  int pid() const noexcept;
  /// The last lines etcd wrote (a bounded ring), for error messages.
  std::string log_tail() const;
  /// The etcd command line the node runs with (binary first).
  std::vector<std::string> command_line() const;

 private:
  friend class Cluster;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcdpp::embedded
