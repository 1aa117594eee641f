// SPDX-License-Identifier: Apache-2.0
// embedded::Node against the real etcd binary: it serves, it leaves no process, fd or directory
// behind, it restarts on the same ports with its data, and each way of failing to start gives
// the documented error with etcd's own words. Uses only the public header and POSIX: etcdctl
// stands in for a client, so that these tests do not depend on the Client they serve.
#include "etcdpp/embedded/node.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "etcdpp/error.hpp"
#include "support/test_env.hpp"

namespace etcdpp::embedded {
namespace {

namespace fs = std::filesystem;
using test::child_pids;
using test::ScratchDir;
using namespace std::chrono_literals;

// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it held.
template <class Condition>
bool wait_until(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

struct CommandResult {
  int status = -1;
  std::string output;  // stdout and stderr
};

CommandResult run(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer{};
  std::size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.output.append(buffer.data(), n);
  }
  result.status = ::pclose(pipe);
  return result;
}

CommandResult etcdctl(const Node& node, const std::string& args) {
  return run("ETCDCTL_API=3 etcdctl --dial-timeout=5s --command-timeout=10s --endpoints=http://" +
             node.client_endpoint() + " " + args);
}

// Gone for good: no process (kill says ESRCH) and no zombie (/proc has no entry left to reap).
bool process_gone(int pid) {
  return ::kill(pid, 0) == -1 && errno == ESRCH &&
         !fs::exists("/proc/" + std::to_string(pid) + "/stat");
}

int open_fd_count() {
  int count = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator("/proc/self/fd")) ++count;
  return count;
}

// Sets (or unsets, with nullopt) an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(std::string name, const std::optional<std::string>& value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old;
    if (value) {
      ::setenv(name_.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      ::unsetenv(name_.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

// Runs `start` expecting an Error; returns it (or a default-constructed one after a failure).
template <class Start>
Error expect_error(Start start) {
  try {
    start();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected an etcdpp::Error";
  return Error(std::error_code(), "");
}

TEST(NodeTest, DefaultNodeServesOnALoopbackPortWithATemporaryDataDir) {
  Node node;
  ASSERT_TRUE(node.running());
  EXPECT_GT(node.pid(), 0);
  EXPECT_NE(node.client_port(), 0);
  EXPECT_NE(node.peer_port(), 0);
  EXPECT_NE(node.client_port(), node.peer_port());
  EXPECT_EQ(node.client_endpoint(), "127.0.0.1:" + std::to_string(node.client_port()));
  EXPECT_EQ(node.name(), "default");
  EXPECT_TRUE(fs::is_directory(node.data_dir()));
  EXPECT_NE(node.data_dir().filename().string().find("etcdpp-node-"), std::string::npos);
  EXPECT_FALSE(node.log_tail().empty());

  const CommandResult put = etcdctl(node, "put node-test/k v");
  ASSERT_EQ(put.status, 0) << put.output;
  EXPECT_EQ(put.output, "OK\n");
  const CommandResult get = etcdctl(node, "get node-test/k --print-value-only");
  ASSERT_EQ(get.status, 0) << get.output;
  EXPECT_EQ(get.output, "v\n");
}

TEST(NodeTest, ChildRunsInItsOwnProcessGroupAndInheritsNoDescriptor) {
  ScratchDir scratch;
  const fs::path marker = scratch.path() / "marker";
  // Deliberately without O_CLOEXEC: as another thread of a real program might open a file.
  const int fd = ::open(marker.c_str(), O_CREAT | O_WRONLY, 0600);
  ASSERT_GE(fd, 0);
  {
    Node node;
    EXPECT_EQ(::getpgid(node.pid()), node.pid());
    const fs::path fds = "/proc/" + std::to_string(node.pid()) + "/fd";
    for (const auto& entry : fs::directory_iterator(fds)) {
      std::error_code ec;
      EXPECT_NE(fs::read_symlink(entry.path(), ec), marker) << entry.path();
    }
    // stdin is /dev/null, not whatever this process had.
    EXPECT_EQ(fs::read_symlink(fds / "0"), "/dev/null");
  }
  ::close(fd);
}

TEST(NodeTest, DestructorLeavesNoProcessAndNoDataDir) {
  int pid = -1;
  fs::path data_dir;
  {
    Node node;
    pid = node.pid();
    data_dir = node.data_dir();
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(fs::is_directory(data_dir));
  }
  EXPECT_TRUE(process_gone(pid));
  EXPECT_FALSE(fs::exists(data_dir));
}

TEST(NodeTest, DestructorKeepsAUserDataDir) {
  ScratchDir scratch;
  const fs::path data_dir = scratch.path() / "data";
  int pid = -1;
  {
    Node node({.data_dir = data_dir});
    pid = node.pid();
    EXPECT_EQ(node.data_dir(), data_dir);
  }
  EXPECT_TRUE(process_gone(pid));
  EXPECT_TRUE(fs::is_directory(data_dir / "member"));
}

TEST(NodeTest, StopThenStartKeepsPortsAndData) {
  Node node;
  const auto client_port = node.client_port();
  const auto peer_port = node.peer_port();
  const fs::path data_dir = node.data_dir();
  ASSERT_EQ(etcdctl(node, "put node-test/persist kept").status, 0);

  const int first_pid = node.pid();
  node.stop();
  EXPECT_FALSE(node.running());
  EXPECT_EQ(node.pid(), -1);
  EXPECT_TRUE(process_gone(first_pid));
  EXPECT_TRUE(fs::is_directory(data_dir));
  node.stop();  // a no-op when stopped

  node.start();
  ASSERT_TRUE(node.running());
  EXPECT_EQ(node.client_port(), client_port);
  EXPECT_EQ(node.peer_port(), peer_port);
  EXPECT_EQ(node.data_dir(), data_dir);
  const CommandResult get = etcdctl(node, "get node-test/persist --print-value-only");
  ASSERT_EQ(get.status, 0) << get.output;
  EXPECT_EQ(get.output, "kept\n");

  const int second_pid = node.pid();
  node.start();  // a no-op while running
  EXPECT_EQ(node.pid(), second_pid);
}

TEST(NodeTest, RunningTurnsFalseWhenEtcdDiesAndStartBringsItBack) {
  Node node;
  const int pid = node.pid();
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  EXPECT_TRUE(wait_until([&] { return !node.running(); }, 10s));
  node.start();
  EXPECT_TRUE(node.running());
  EXPECT_TRUE(process_gone(pid));  // the dead child was reaped, not left a zombie
  EXPECT_EQ(etcdctl(node, "put node-test/again v").status, 0);
}

TEST(NodeTest, StopKillsANodeThatIgnoresSigtermAfterStopTimeout) {
  Node node({.stop_timeout = 300ms});
  const int pid = node.pid();
  // A stopped process leaves SIGTERM pending, as a hung etcd would; only SIGKILL ends it.
  ASSERT_EQ(::kill(pid, SIGSTOP), 0);
  const auto before = std::chrono::steady_clock::now();
  node.stop();
  const auto took = std::chrono::steady_clock::now() - before;
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 10s);
  EXPECT_TRUE(process_gone(pid));
}

TEST(NodeTest, MoveTransfersOwnershipOfTheRunningNode) {
  Node first;
  const int pid = first.pid();
  Node second(std::move(first));
  EXPECT_EQ(second.pid(), pid);
  EXPECT_TRUE(second.running());
  Node third;
  const int replaced = third.pid();
  third = std::move(second);  // stops the node third owned before
  EXPECT_TRUE(process_gone(replaced));
  EXPECT_EQ(third.pid(), pid);
  EXPECT_EQ(etcdctl(third, "put node-test/moved v").status, 0);
}

TEST(NodeTest, MissingBinaryThrowsEtcdNotFoundNamingThePackage) {
  const Error e = expect_error([] { Node node({.binary = "/nonexistent/etcd"}); });
  EXPECT_EQ(e.code(), Errc::etcd_not_found);
  EXPECT_NE(std::string(e.what()).find("etcd-server"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("/nonexistent/etcd"), std::string::npos) << e.what();
}

TEST(NodeTest, MissingBinaryFromEnvironmentThrowsEtcdNotFoundNamingThePackage) {
  ScopedEnv env("ETCDPP_ETCD_BINARY", "/nonexistent/etcd-from-env");
  const Error e = expect_error([] { Node node; });
  EXPECT_EQ(e.code(), Errc::etcd_not_found);
  EXPECT_NE(std::string(e.what()).find("etcd-server"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("/nonexistent/etcd-from-env"), std::string::npos)
      << e.what();
}

TEST(NodeTest, NoEtcdOnPathThrowsEtcdNotFound) {
  ScratchDir empty_path;
  ScopedEnv binary("ETCDPP_ETCD_BINARY", std::nullopt);
  ScopedEnv path("PATH", empty_path.path().string());
  const Error e = expect_error([] { Node node; });
  EXPECT_EQ(e.code(), Errc::etcd_not_found);
  EXPECT_NE(std::string(e.what()).find("etcd-server"), std::string::npos) << e.what();
}

TEST(NodeTest, NonExecutableBinaryThrowsNodeFailedWithTheReason) {
  ScratchDir scratch;
  const fs::path fake = scratch.path() / "etcd";
  { std::ofstream(fake) << "not a program\n"; }
  fs::permissions(fake, fs::perms::owner_all);
  const auto children = child_pids();
  const Error e = expect_error([&] { Node node({.binary = fake}); });
  EXPECT_EQ(e.code(), Errc::node_failed);
  EXPECT_NE(std::string(e.what()).find(fake.string()), std::string::npos) << e.what();
  EXPECT_EQ(child_pids(), children);
}

TEST(NodeTest, EtcdFailingToStartThrowsNodeFailedWithItsOutputAndLeavesNothing) {
  ScratchDir tmp;
  ScopedEnv env("TMPDIR", tmp.path().string());
  const auto children = child_pids();
  const Error e = expect_error([] { Node node({.extra_flags = {"--bogus-flag"}}); });
  EXPECT_EQ(e.code(), Errc::node_failed);
  const std::string what = e.what();
  EXPECT_NE(what.find("exited with status"), std::string::npos) << what;
  // etcd's own words: its flag parser names the flag.
  EXPECT_NE(what.find("bogus-flag"), std::string::npos) << what;
  EXPECT_NE(what.find("flag provided but not defined"), std::string::npos) << what;
  EXPECT_EQ(child_pids(), children);
  EXPECT_TRUE(tmp.empty());  // the temporary data dir went with the failed node
}

TEST(NodeTest, UnwritableDataDirThrowsNodeFailedWithEtcdsLog) {
  ScratchDir scratch;
  // Under a regular file: no directory can be made there, even by root.
  const fs::path file = scratch.path() / "file";
  { std::ofstream(file) << "x"; }
  const fs::path data_dir = file / "data";
  const auto children = child_pids();
  const Error e = expect_error([&] { Node node({.data_dir = data_dir}); });
  EXPECT_EQ(e.code(), Errc::node_failed);
  const std::string what = e.what();
  const auto log = what.find("last lines of its log:\n");
  ASSERT_NE(log, std::string::npos) << what;
  // etcd names the directory it could not use.
  EXPECT_NE(what.find(data_dir.string(), log), std::string::npos) << what;
  EXPECT_EQ(child_pids(), children);
  EXPECT_TRUE(fs::is_regular_file(file));  // a user's path is never removed
}

TEST(NodeTest, BusyClientPortThrowsNodeFailedNamingTheAddress) {
  // Hold a loopback port, as another server would.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::uint16_t port = ntohs(addr.sin_port);

  const auto children = child_pids();
  // A port the user chose is not re-picked: the error names it instead.
  const Error e = expect_error([&] { Node node({.client_port = port}); });
  EXPECT_EQ(e.code(), Errc::node_failed);
  const std::string what = e.what();
  EXPECT_NE(what.find("127.0.0.1:" + std::to_string(port) + " is already in use"),
            std::string::npos)
      << what;
  EXPECT_NE(what.find("NodeOptions::client_port"), std::string::npos) << what;
  EXPECT_EQ(child_pids(), children);
  ::close(fd);
}

TEST(NodeTest, ClientPortOfAnotherEtcdFailsInsteadOfTakingItsIdentity) {
  // Another etcd serves the port asked for (as Debian's etcd-server does on 2379): the new
  // node must not report ready with that etcd's member id.
  Node other;
  const auto children = child_pids();
  const auto start = std::chrono::steady_clock::now();
  const Error e = expect_error([&] { Node node({.client_port = other.client_port()}); });
  EXPECT_EQ(e.code(), Errc::node_failed);
  const std::string what = e.what();
  EXPECT_NE(what.find("127.0.0.1:" + std::to_string(other.client_port()) + " is already in use"),
            std::string::npos)
      << what;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_EQ(child_pids(), children);
  EXPECT_TRUE(other.ready());
}

TEST(NodeTest, BusyPeerPortThrowsNodeFailedNamingTheAddress) {
  Node other;
  const auto children = child_pids();
  const Error e = expect_error([&] { Node node({.peer_port = other.peer_port()}); });
  EXPECT_EQ(e.code(), Errc::node_failed);
  const std::string what = e.what();
  EXPECT_NE(what.find("127.0.0.1:" + std::to_string(other.peer_port()) + " is already in use"),
            std::string::npos)
      << what;
  EXPECT_NE(what.find("NodeOptions::peer_port"), std::string::npos) << what;
  EXPECT_EQ(child_pids(), children);
}

TEST(NodeTest, InvalidOptionsThrowInvalidOption) {
  EXPECT_EQ(expect_error([] { Node node({.name = ""}); }).code(), Errc::invalid_option);
  EXPECT_EQ(expect_error([] { Node node({.name = "a,b=c"}); }).code(), Errc::invalid_option);
  EXPECT_EQ(expect_error([] { Node node({.client_port = 23790, .peer_port = 23790}); }).code(),
            Errc::invalid_option);
}

TEST(NodeTest, RepeatedStartAndStopLeavesNoProcessFdOrDirectory) {
  ScratchDir tmp;
  ScopedEnv env("TMPDIR", tmp.path().string());
  // gRPC opens its poller (an epoll fd and an eventfd) on first use, for the life of the
  // process, and every Node has a Client: count from after one cycle.
  { Node warm_up; }
  const auto children = child_pids();
  const int fds_before = open_fd_count();
  std::vector<int> pids;
  for (int i = 0; i < 20; ++i) {
    Node node;
    ASSERT_TRUE(node.running());
    EXPECT_EQ(node.data_dir().parent_path(), tmp.path());
    pids.push_back(node.pid());
  }
  for (const int pid : pids) EXPECT_TRUE(process_gone(pid)) << pid;
  EXPECT_EQ(child_pids(), children);
  // No growth. (Run with other tests in one process, fds they left to gRPC may close meanwhile.)
  EXPECT_LE(open_fd_count(), fds_before);
  EXPECT_TRUE(tmp.empty());
}

}  // namespace
}  // namespace etcdpp::embedded
