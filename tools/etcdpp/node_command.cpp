// SPDX-License-Identifier: Apache-2.0
// etcdpp node: an embedded etcd node, or a local cluster, in the foreground. It prints where it
// serves and each change of role, and stops cleanly on SIGINT or SIGTERM.
#include <string.h>

#include <csignal>
#include <iostream>
#include <mutex>
#include <optional>

#include "commands.hpp"
#include "etcdpp/embedded/cluster.hpp"
#include "etcdpp/embedded/node.hpp"
#include "output.hpp"

namespace etcdpp::cli {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ",") + s;
  return out;
}

// The role callbacks run on the nodes' own threads: one line at a time.
class Lines {
 public:
  void say(const std::string& line) {
    std::lock_guard lock(mutex_);
    std::cout << line << '\n' << std::flush;
  }
  void role(const embedded::RoleChange& c) {
    say(c.name + " (" + hex(c.member_id) + ") is now " + std::string(to_string(c.current)) +
        " (was " + std::string(to_string(c.previous)) + ", term " + std::to_string(c.raft_term) +
        (c.leader_id != MemberId{} ? ", leader " + hex(c.leader_id) : std::string()) + ")");
  }

 private:
  std::mutex mutex_;
};

std::string stopping(int sig) {
  const char* name = ::sigabbrev_np(sig);
  return std::string("stopping on SIG") + (name != nullptr ? name : "?");
}

}  // namespace

int run_node(const NodeArgs& a) {
  // As in watch: before any thread starts, so that only this one receives SIGINT and SIGTERM
  // (etcd itself runs in a process group of its own, out of reach of the terminal's Ctrl-C).
  block_stop_signals();
  Lines lines;
  std::mutex mutex;
  std::string died;
  const auto on_exit = [&](const embedded::ExitInfo& e) {
    {
      std::lock_guard lock(mutex);
      died = e.name + " " + e.description();
    }
    wake_waiter();
  };
  try {
    if (a.cluster > 0) {
      embedded::ClusterOptions options;
      options.size = a.cluster;
      if (a.client_port_given) options.client_port = a.client_port;
      if (a.peer_port_given) options.peer_port = a.peer_port;
      if (!a.data_dir.empty()) options.data_dir = a.data_dir;
      options.on_role_change = [&](std::size_t, const embedded::RoleChange& c) { lines.role(c); };
      options.on_exit = [&](std::size_t, const embedded::ExitInfo& e) { on_exit(e); };
      std::optional<embedded::Cluster> cluster;
      cluster.emplace(std::move(options));
      lines.say("cluster of " + std::to_string(cluster->size()) + " members serving on " +
                join(cluster->client_endpoints()) + " (etcd " + cluster->node(0).version() + ")");
      const int sig = wait_for_signal();
      if (sig == SIGUSR1) {
        std::lock_guard lock(mutex);
        throw ExitError{exit_error, died};
      }
      lines.say(stopping(sig));
      cluster.reset();  // stops every member at once
      lines.say("stopped");
      return exit_success;
    }
    embedded::NodeOptions options;
    if (!a.config.empty()) {
      options = embedded::NodeOptions::from_toml_file(a.config);
    } else {
      options.name = a.name;
      options.client_port = a.client_port;
      options.peer_port = a.peer_port;
      if (!a.data_dir.empty()) options.data_dir = a.data_dir;
    }
    options.on_role_change = [&](const embedded::RoleChange& c) { lines.role(c); };
    options.on_exit = on_exit;
    embedded::Node node(std::move(options));
    lines.say(node.name() + " (" + hex(node.member_id()) + ") serving on " +
              join(node.client_endpoints()) + " (etcd " + node.version() + ")");
    const int sig = wait_for_signal();
    if (sig == SIGUSR1) {
      std::lock_guard lock(mutex);
      throw ExitError{exit_error, died};
    }
    lines.say(stopping(sig));
    node.stop();
    lines.say("stopped");
    return exit_success;
  } catch (const Error& e) {
    throw ExitError{exit_error, e.what()};
  }
}

}  // namespace etcdpp::cli
