// SPDX-License-Identifier: Apache-2.0
// A local etcd cluster: N embedded nodes (embedded/node.hpp) on free loopback ports, peers over
// auto-TLS, with the fault controls that tests and demos need: kill, stop, restart, pause and
// resume a member.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcdpp/client.hpp"
#include "etcdpp/embedded/node.hpp"

namespace etcdpp::embedded {

/// How to run a local cluster. The callbacks are the Node's, with the member's index first.
struct ClusterOptions {
  /// Number of members.
  std::size_t size = 3;
  /// Members are named `<name_prefix><index>`: node0, node1, ...
  std::string name_prefix = "node";
  /// Address every member listens on, for clients and peers.
  std::string host = "127.0.0.1";
  /// The first member's client port; member i uses client_port + i. Zero: free ports.
  std::uint16_t client_port = 0;
  /// The first member's peer port; member i uses peer_port + i. Zero: free ports.
  std::uint16_t peer_port = 0;
  /// Parent of the members' data dirs (`<data_dir>/<name>`), kept afterwards. Empty: a
  /// temporary directory, removed with the Cluster.
  std::filesystem::path data_dir;
  /// --initial-cluster-token. Empty: a fresh random one, so that two local clusters never
  /// mistake each other's members for their own.
  std::string initial_cluster_token;
  /// Peers talk TLS with generated certificates (--peer-auto-tls, https:// peer URLs).
  bool peer_auto_tls = true;
  /// --pre-vote: a member campaigns only once a majority would vote for it, so that a member
  /// that restarts, resumes or reconnects does not depose a working leader. On by default, as
  /// in etcd 3.5 (3.4 has it off).
  bool pre_vote = true;
  /// --heartbeat-interval. Zero: etcd's default, 100 ms.
  std::chrono::milliseconds heartbeat_interval{0};
  /// --election-timeout. Zero: etcd's default, 1000 ms.
  std::chrono::milliseconds election_timeout{0};
  /// More etcd flags for every member.
  std::vector<std::string> extra_flags;
  /// The etcd binary, as NodeOptions::binary.
  std::filesystem::path binary;
  /// How long the constructor waits for every member to serve, and restart() and add_member()
  /// for one; also how long add_member() and remove_member() retry while etcd refuses
  /// membership changes.
  std::chrono::milliseconds start_timeout{30000};
  /// How long stopping a member waits after SIGTERM before SIGKILL (NodeOptions::stop_timeout).
  std::chrono::milliseconds stop_timeout{10000};
  /// How often each member's role is asked of etcd (NodeOptions::role_poll_interval).
  std::chrono::milliseconds role_poll_interval{100};

  /// NodeOptions::on_role_change of every member, with the member's index first.
  std::function<void(std::size_t index, const RoleChange&)> on_role_change;
  /// NodeOptions::on_leader of every member, with the member's index first.
  std::function<void(std::size_t index, const RoleChange&)> on_leader;
  /// NodeOptions::on_follower of every member, with the member's index first.
  std::function<void(std::size_t index, const RoleChange&)> on_follower;
  /// NodeOptions::on_exit of every member, with the member's index first (not called for a
  /// member that remove_member() stops).
  std::function<void(std::size_t index, const ExitInfo&)> on_exit;
  /// NodeOptions::log_sink of every member: each line its etcd writes, after its index.
  std::function<void(std::size_t index, std::string_view line)> log_sink;
};

/// A local etcd cluster of embedded Nodes, owned by this object.
///
/// **Lifetime** The constructor starts every member at once and returns when all of them serve
/// (so a leader is elected). The destructor silences the callbacks, then stops the followers in
/// parallel and the leader last (SIGTERM, SIGKILL after stop_timeout), and removes a temporary
/// data dir.
///
/// **Faults** kill(i) is a crash (SIGKILL), stop(i) a clean shutdown (a leader hands over
/// first), restart(i) brings a member back on its ports and data dir and waits until it has
/// rejoined, pause(i) freezes it (SIGSTOP) until resume(i).
///
/// **Membership** add_member() adds a member at run time (ClusterClient::member_add, then its etcd
/// joins the cluster) and gives its index; remove_member(i) removes one (Client::member_remove)
/// and stops its etcd. Indices never move: a removed member keeps its index, as a Node that is
/// stopped and cannot be restarted, and size() counts it.
///
/// **Errors** As for Node. When a port picked for a member is taken before etcd binds it, the
/// whole cluster is started again on fresh ports (a few times at most).
///
/// **Thread safety** As for Node: accessors from any thread; the fault controls of one member
/// are serialised.
class Cluster {
 public:
  /// Starts three members on free loopback ports.
  Cluster();
  /// Starts a cluster as `options` say (see **Lifetime**). Throws Error: Errc::invalid_option
  /// for a size of 0 or above 15, an empty name_prefix or one with `=` or `,`, or fixed ports
  /// that overlap or pass 65535; else as for Node.
  explicit Cluster(ClusterOptions options);
  ~Cluster();
  /// Takes over `other`'s members; `other` may then only be assigned or destroyed.
  Cluster(Cluster&&) noexcept;
  /// Shuts this cluster down, as the destructor does, then takes over `other`'s members.
  Cluster& operator=(Cluster&&) noexcept;

  /// The number of members, removed ones included: indices run from 0 to size() - 1.
  std::size_t size() const noexcept;
  /// Member `index`; throws Error (Errc::invalid_option) when out of range. The reference stays
  /// valid as long as the Cluster does, add_member() or not (a removed member's too).
  Node& node(std::size_t index);
  /// Member `index`, read-only; as the other overload.
  const Node& node(std::size_t index) const;
  /// A client over every member's endpoint (but removed ones), failing over between them.
  Client client() const;
  /// Every member's client endpoint (but removed ones), in index order.
  std::vector<std::string> client_endpoints() const;
  /// The cluster token (--initial-cluster-token).
  const std::string& token() const noexcept;

  /// The index of the member that says it is the leader, asking each running member now (the
  /// highest raft term wins if an old leader has not stepped down yet); std::nullopt if none.
  std::optional<std::size_t> leader_index() const;
  /// Waits until some member says it is the leader, at most `timeout`; returns its index.
  /// Throws Error (Errc::node_failed) when none does in time, saying what each member is.
  std::size_t wait_for_leader(std::chrono::milliseconds timeout) const;

  /// SIGKILL: member `index` crashes. Its data stays, for restart().
  void kill(std::size_t index);
  /// Stops member `index` gracefully.
  void stop(std::size_t index);
  /// Starts member `index` again after kill() or stop(), on the same ports and data dir, and
  /// waits until it serves (it has rejoined and knows the leader). No-op when running.
  void restart(std::size_t index);
  /// SIGSTOP: member `index` hangs. Returns once all its threads are stopped.
  void pause(std::size_t index);
  /// SIGCONT.
  void resume(std::size_t index);

  /// Adds a voting member on fresh ports of ClusterOptions::host, named `<name_prefix><index>`,
  /// and waits until it serves (it has the data written before). Returns its index. etcd
  /// accepts no membership change until every member has been connected for 5 s: until then
  /// (within start_timeout) this and remove_member wait. When the new etcd does not start, it
  /// is removed from the cluster again and Error is thrown.
  std::size_t add_member();
  /// Removes member `index` from the cluster and stops its etcd, and returns once every other
  /// member that runs takes one of them as leader (a removed leader is succeeded first), so
  /// that a write right after it is not lost on its way to the member gone. Throws Error:
  /// Errc::invalid_option for an index out of range or removed already, Errc::member_not_found
  /// when etcd does not list the member, the error of Client::member_remove, or
  /// Errc::node_failed when the others have no leader within start_timeout.
  void remove_member(std::size_t index);
  /// Whether member `index` was removed by remove_member.
  bool removed(std::size_t index) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcdpp::embedded
