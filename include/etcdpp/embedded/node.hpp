// SPDX-License-Identifier: Apache-2.0
// An embedded etcd node: the real etcd binary run as a child process for the lifetime of a C++
// scope. With no options it is a single node on free loopback ports with a temporary data dir;
// the tests and the demo get their server this way.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace etcdpp::embedded {

/// How to run one etcd node. Every field has a default that gives a private single node.
struct NodeOptions {
  /// The member's name (etcd's --name).
  std::string name = "default";
  /// Data directory (--data-dir). Empty: a fresh temporary directory, removed with the Node.
  std::filesystem::path data_dir;
  /// Address the client and peer URLs listen on. Loopback unless you mean otherwise.
  std::string host = "127.0.0.1";
  /// Client and peer ports; 0 picks a free port.
  std::uint16_t client_port = 0;
  std::uint16_t peer_port = 0;
  /// More etcd flags, each a whole argument (`--auto-compaction-retention=1`).
  std::vector<std::string> extra_flags;
  /// The etcd binary. Empty: $ETCDPP_ETCD_BINARY, else `etcd` on PATH.
  std::filesystem::path binary;
  /// How long start() waits for the node to serve, and how long stop() waits after SIGTERM
  /// before SIGKILL.
  std::chrono::milliseconds start_timeout{30000};
  std::chrono::milliseconds stop_timeout{10000};
};

/// A running etcd node, owned by this object.
///
/// **Lifetime** The constructor starts etcd and returns once it serves client requests. The
/// destructor stops it (SIGTERM, then SIGKILL after NodeOptions::stop_timeout), reaps it, and
/// removes a temporary data dir. The child runs in its own process group and is killed if the
/// parent dies; it inherits no file descriptor but its stdout/stderr pipe.
///
/// **Errors** The constructor and start() throw Error: Errc::etcd_not_found when there is no
/// binary (the message names the Debian package etcd-server), Errc::node_failed when etcd exits
/// or does not serve in time (the message ends with the tail of etcd's log).
///
/// **Thread safety** One thread at a time; accessors are safe while the node runs.
class Node {
 public:
  /// Starts a single node on free loopback ports with a temporary data dir.
  Node();
  explicit Node(NodeOptions options);
  ~Node();
  Node(Node&&) noexcept;
  Node& operator=(Node&&) noexcept;

  /// Starts the node again after stop(), on the same ports and data dir. No-op while running.
  void start();
  /// Stops the node gracefully and reaps it; the data dir stays until the Node is destroyed.
  /// No-op when stopped.
  void stop();
  /// Whether the child process is alive.
  bool running() const;

  /// The client endpoint, `host:port`, for ClientOptions::endpoints.
  std::string client_endpoint() const;
  std::uint16_t client_port() const noexcept;
  std::uint16_t peer_port() const noexcept;
  const std::string& name() const noexcept;
  const std::filesystem::path& data_dir() const noexcept;
  /// The child's process id, or -1 when it is not running.
  int pid() const noexcept;
  /// The last lines etcd wrote (a bounded ring), for error messages.
  std::string log_tail() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace etcdpp::embedded
