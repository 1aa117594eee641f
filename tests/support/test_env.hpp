// SPDX-License-Identifier: Apache-2.0
// What the integration tests share: one embedded etcd per test process, a client on it, a key
// prefix of their own that is deleted afterwards, and waiting on a condition with a deadline.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "etcdpp/etcdpp.hpp"

namespace etcdpp::test {

/// The process's etcd node, started on first use and stopped at exit.
embedded::Node& node();

/// A client of node() with the given per-call timeout.
Client client(std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// A random key prefix for one test; every key under it is deleted when it goes.
class TestPrefix {
 public:
  explicit TestPrefix(Client client);
  ~TestPrefix();
  TestPrefix(const TestPrefix&) = delete;
  TestPrefix& operator=(const TestPrefix&) = delete;

  const std::string& str() const noexcept { return prefix_; }
  /// The prefix followed by `suffix`.
  std::string operator()(std::string_view suffix) const { return prefix_ + std::string(suffix); }

 private:
  Client client_;
  std::string prefix_;
};

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
template <class Condition>
bool wait_until(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

/// The number of threads of this process (from /proc/self/status).
int thread_count();
/// This process's threads by name (/proc/self/task/*/comm), and how many bear each name.
std::map<std::string, int> thread_names();
std::string to_string(const std::map<std::string, int>& names);
/// How many of `names` are etcdpp's own threads ("etcdpp-..."), as opposed to gRPC's.
int etcdpp_threads(const std::map<std::string, int>& names);

/// gRPC's timer manager starts a thread of its own when its timer threads are all busy (on a
/// loaded machine, or under a sanitizer) and lets it go later: the threads that may come and go
/// whatever etcdpp does. A thread per call, watch or lease would add hundreds.
inline constexpr int kGrpcPoolSlack = 2;

/// Sends SIGSTOP to `pid` and waits until every thread of it is stopped: kill() returns before
/// the signal has taken effect everywhere.
void pause_process(int pid);
/// Sends SIGCONT to `pid`.
void resume_process(int pid);

/// The etcdctl on PATH (Debian package etcd-client); a test failure naming the package if none.
std::string etcdctl_path();

/// The pids whose parent is this process, zombies included.
std::set<int> child_pids();

/// A private temporary directory for one test, removed with everything in it when it goes.
class ScratchDir {
 public:
  /// Made under the system's temporary directory ($TMPDIR or /tmp); throws if it cannot be.
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }
  bool empty() const { return std::filesystem::is_empty(path_); }

 private:
  std::filesystem::path path_;
};

/// `n` distinct loopback ports that were free a moment ago, below the ephemeral range.
std::vector<std::uint16_t> free_ports(std::size_t n);
/// The first of `n` consecutive ports free now, below the ephemeral range, as free_ports.
std::uint16_t free_port_run(std::size_t n);

/// The seed's config<i+1>.ini for member `i` of a cluster of `ports.size() / 2` members named
/// infra0, infra1, ...: member i's client port is ports[2i], its peer port ports[2i+1], and
/// every URL is on 127.0.0.1 with http:// as the seed writes it. It adds pre-vote = true.
std::string seed_toml(std::size_t i, const std::vector<std::uint16_t>& ports);

/// Role callbacks as they come, from any thread, with when they came.
class RoleRecorder {
 public:
  struct Event {
    std::size_t index;  ///< Which member (0 for a lone Node).
    std::string name;
    embedded::Role role;
    std::chrono::steady_clock::time_point at;
  };

  /// Records a change of role (callbacks may run on several threads at once).
  void record(std::size_t index, const embedded::RoleChange& change);
  /// How many changes to `role` were seen, of member `index` (any member if nullopt), at or
  /// after `since`.
  std::size_t count(embedded::Role role, std::optional<std::size_t> index = std::nullopt,
                    std::chrono::steady_clock::time_point since = {}) const;
  /// The first change to `role` at or after `since` of a member other than `not_index`.
  std::optional<Event> first(embedded::Role role, std::chrono::steady_clock::time_point since,
                             std::optional<std::size_t> not_index = std::nullopt) const;
  /// The first change of member `index` at or after `since`.
  std::optional<Event> first_of(std::size_t index,
                                std::chrono::steady_clock::time_point since) const;
  /// The role member `index` announced last (Role::none before any).
  embedded::Role last(std::size_t index) const;
  /// Whether the members' last announcements agree with a settled cluster of `size` members
  /// led by `leader`: it said leader, each other one said follower.
  bool settled(std::size_t size, std::size_t leader) const;
  std::vector<Event> events() const;

 private:
  mutable std::mutex mutex_;
  std::vector<Event> events_;
};

}  // namespace etcdpp::test
