// SPDX-License-Identifier: Apache-2.0
#include "support/test_env.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <system_error>

namespace etcdpp::test {

embedded::Node& node() {
  static embedded::Node node;
  return node;
}

Client client(std::chrono::milliseconds timeout) {
  return Client({.endpoints = {node().client_endpoint()}, .call_timeout = timeout});
}

std::string etcdctl_path() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const auto candidate = std::filesystem::path(dir) / "etcdctl";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  ADD_FAILURE() << "etcdctl not found on PATH: install the Debian package etcd-client";
  return "/usr/bin/etcdctl";
}

TestPrefix::TestPrefix(Client client) : client_(std::move(client)) {
  std::random_device rd;
  prefix_ = "etcdpp-test/" + std::to_string(rd()) + std::to_string(rd()) + "/";
}

TestPrefix::~TestPrefix() {
  try {
    client_.delete_range(prefix_, {.prefix = true});
  } catch (const std::exception&) {
    // The server may be down on purpose at the end of a fault test; nothing to clean then.
  }
}

int thread_count() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

std::map<std::string, int> thread_names() {
  std::map<std::string, int> names;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (std::getline(comm, name)) ++names[name];
  }
  return names;
}

std::string to_string(const std::map<std::string, int>& names) {
  std::string out;
  for (const auto& [name, n] : names) {
    out += (out.empty() ? "" : ", ") + name + (n > 1 ? " x" + std::to_string(n) : "");
  }
  return out;
}

int etcdpp_threads(const std::map<std::string, int>& names) {
  int n = 0;
  for (const auto& [name, count] : names) {
    if (name.rfind("etcdpp-", 0) == 0) n += count;
  }
  return n;
}

namespace {

// The state letter of /proc/<pid>/task/<tid>/stat: after the ")" that ends the command name.
char task_state(const std::filesystem::path& stat) {
  std::ifstream in(stat);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  return close == std::string::npos || close + 2 >= text.size() ? '?' : text[close + 2];
}

}  // namespace

void pause_process(int pid) {
  ASSERT_EQ(::kill(pid, SIGSTOP), 0);
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  const bool stopped = wait_until(
      [&] {
        for (const auto& task : std::filesystem::directory_iterator(tasks)) {
          if (task_state(task.path() / "stat") != 'T') return false;
        }
        return true;
      },
      std::chrono::seconds(5));
  ASSERT_TRUE(stopped) << "process " << pid << " did not stop";
}

void resume_process(int pid) { ASSERT_EQ(::kill(pid, SIGCONT), 0); }

ScratchDir::ScratchDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "etcdpp-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  }
  path_ = pattern;
}

ScratchDir::~ScratchDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::set<int> child_pids() {
  std::set<int> children;
  const std::string self = std::to_string(::getpid());
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid ...: comm may hold spaces and parentheses; parse after the last ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    char state = 0;
    int ppid = 0;
    if (std::sscanf(line.c_str() + close + 1, " %c %d", &state, &ppid) == 2 &&
        std::to_string(ppid) == self) {
      children.insert(std::stoi(name));
    }
  }
  return children;
}

std::vector<std::uint16_t> free_ports(std::size_t n) {
  // Below the kernel's ephemeral range, where bind(0) never picks: a port chosen here cannot be
  // taken meanwhile by a Node of another test that picks its ports with bind(0).
  int low = 32768;
  if (std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range"); range) range >> low;
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> pick(10000, std::max(10001, low - 1));
  // Every socket stays bound until all are picked, so that no port repeats.
  std::vector<int> fds;
  std::vector<std::uint16_t> ports;
  for (int attempt = 0; ports.size() < n && attempt < 1000; ++attempt) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<std::uint16_t>(pick(random)));
    if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      fds.push_back(fd);
      ports.push_back(ntohs(addr.sin_port));
    } else if (fd >= 0) {
      ::close(fd);
    }
  }
  for (const int fd : fds) ::close(fd);
  if (ports.size() < n) ADD_FAILURE() << "cannot find " << n << " free ports below " << low;
  return ports;
}

std::uint16_t free_port_run(std::size_t n) {
  int low = 32768;
  if (std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range"); range) range >> low;
  std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> pick(10000, std::max(10001, low - 1 - static_cast<int>(n)));
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int first = pick(random);
    bool all_free = true;
    for (std::size_t i = 0; i < n && all_free; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<std::uint16_t>(first + static_cast<int>(i)));
      all_free = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      if (fd >= 0) ::close(fd);
    }
    if (all_free) return static_cast<std::uint16_t>(first);
  }
  ADD_FAILURE() << "cannot find " << n << " consecutive free ports below " << low;
  return 0;
}

std::string seed_toml(std::size_t i, const std::vector<std::uint16_t>& ports) {
  const auto url = [](std::uint16_t port) { return "http://127.0.0.1:" + std::to_string(port); };
  std::string cluster;
  for (std::size_t m = 0; m < ports.size() / 2; ++m) {
    cluster += (m > 0 ? "," : "") + ("infra" + std::to_string(m)) + "=" + url(ports[2 * m + 1]);
  }
  // clang-format off
  return "[etcd]\n"
         "name = \"infra" + std::to_string(i) + "\"\n"
         "initial-advertise-peer-urls = \"" + url(ports[2 * i + 1]) + "\"\n"
         "listen-peer-urls = \"" + url(ports[2 * i + 1]) + "\"\n"
         "listen-client-urls = \"" + url(ports[2 * i]) + "\"\n"
         "advertise-client-urls = \"" + url(ports[2 * i]) + "\"\n"
         "initial-cluster = \"" + cluster + "\"\n"
         "host-whitelist = \"127.0.0.1\"\n"
         // etcd 3.4 runs without pre-vote, and a member that starts late on a loaded machine
         // may then depose the leader just elected (3.5 turns it on by default).
         "pre-vote = true\n";
  // clang-format on
}

void RoleRecorder::record(std::size_t index, const embedded::RoleChange& change) {
  std::lock_guard lock(mutex_);
  events_.push_back({index, change.name, change.current, std::chrono::steady_clock::now()});
}

std::size_t RoleRecorder::count(embedded::Role role, std::optional<std::size_t> index,
                                std::chrono::steady_clock::time_point since) const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& e : events_) {
    if (e.role == role && (!index || e.index == *index) && e.at >= since) ++n;
  }
  return n;
}

std::optional<RoleRecorder::Event> RoleRecorder::first(embedded::Role role,
                                                       std::chrono::steady_clock::time_point since,
                                                       std::optional<std::size_t> not_index) const {
  std::lock_guard lock(mutex_);
  for (const auto& e : events_) {
    if (e.role == role && e.at >= since && (!not_index || e.index != *not_index)) return e;
  }
  return std::nullopt;
}

std::optional<RoleRecorder::Event> RoleRecorder::first_of(
    std::size_t index, std::chrono::steady_clock::time_point since) const {
  std::lock_guard lock(mutex_);
  for (const auto& e : events_) {
    if (e.index == index && e.at >= since) return e;
  }
  return std::nullopt;
}

embedded::Role RoleRecorder::last(std::size_t index) const {
  std::lock_guard lock(mutex_);
  for (auto e = events_.rbegin(); e != events_.rend(); ++e) {
    if (e->index == index) return e->role;
  }
  return embedded::Role::none;
}

bool RoleRecorder::settled(std::size_t size, std::size_t leader) const {
  for (std::size_t i = 0; i < size; ++i) {
    if (last(i) != (i == leader ? embedded::Role::leader : embedded::Role::follower)) return false;
  }
  return true;
}

std::vector<RoleRecorder::Event> RoleRecorder::events() const {
  std::lock_guard lock(mutex_);
  return events_;
}

}  // namespace etcdpp::test
