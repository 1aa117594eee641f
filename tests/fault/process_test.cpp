// SPDX-License-Identifier: Apache-2.0
// Embedded nodes across processes: the seed's scenario (three programs, three TOML files, one
// cluster, one leader that writes for all), and a program killed with SIGKILL taking its etcd
// children with it. The programs are etcdpp_node_helper (tests/support/node_helper.cpp).
#include <errno.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include "support/subprocess.hpp"
#include "support/test_env.hpp"

namespace etcdpp::embedded {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using test::ScratchDir;
using test::Subprocess;
using test::wait_until;

// Gone for good: reaped (by us when we adopted it as subreaper, else by whoever did), or never
// ours and no longer there.
bool gone(int pid) {
  int status = 0;
  const pid_t got = ::waitpid(pid, &status, WNOHANG);
  if (got == pid) return true;
  return ::kill(pid, 0) == -1 && errno == ESRCH;
}

std::size_t count_prefixed(const std::vector<std::string>& lines, const std::string& prefix) {
  std::size_t n = 0;
  for (const auto& line : lines) n += line.starts_with(prefix) ? 1 : 0;
  return n;
}

// The member name a helper printed in its "ready <name> <pid> <member id>" line.
std::string name_of(const Subprocess& program) {
  for (const auto& line : program.lines()) {
    if (line.starts_with("ready ")) return line.substr(6, line.find(' ', 6) - 6);
  }
  return {};
}

TEST(ProcessTest, SeedScenarioThreeProgramsThreeTomlFilesOneClusterOneLeader) {
  ScratchDir dir;
  const auto ports = test::free_ports(6);
  std::vector<std::unique_ptr<Subprocess>> programs;
  for (std::size_t i = 0; i < 3; ++i) {
    const fs::path file = dir.path() / ("config" + std::to_string(i + 1) + ".ini");
    std::ofstream(file) << test::seed_toml(i, ports);
    programs.push_back(std::make_unique<Subprocess>(
        std::vector<std::string>{ETCDPP_NODE_HELPER, "toml", file.string(), "hello"}));
  }

  std::vector<int> etcd_pids;
  std::set<std::string> read_values;
  for (auto& program : programs) {
    const auto ready = program->wait_for_line("ready ", 60s);
    ASSERT_TRUE(ready) << "no ready line; got: " << testing::PrintToString(program->lines());
    // "ready <name> <pid> <member id>"
    const auto fields = ready->substr(6);
    etcd_pids.push_back(std::stoi(fields.substr(fields.find(' ') + 1)));
    const auto read = program->wait_for_line("read ", 60s);
    ASSERT_TRUE(read) << testing::PrintToString(program->lines());
    read_values.insert(read->substr(5));
  }
  // Every program read what the one leader wrote.
  ASSERT_EQ(read_values.size(), 1u);
  const std::string leader_name = *read_values.begin();
  EXPECT_TRUE(leader_name == "infra0" || leader_name == "infra1" || leader_name == "infra2")
      << leader_name;

  // Each follower has said so before it is told to quit: a Node calls no callback once its
  // destructor has begun.
  for (auto& program : programs) {
    const std::string name = name_of(*program);
    if (name != leader_name && count_prefixed(program->lines(), "follower " + name) == 0) {
      EXPECT_TRUE(program->wait_for_line("follower " + name, 5s))
          << testing::PrintToString(program->lines());
    }
  }
  // Followers first: a leader that stops hands over to a connected follower, and waits up to
  // etcd's request timeout (7 s) if that one is stopping too.
  std::stable_partition(programs.begin(), programs.end(),
                        [&](const auto& program) { return name_of(*program) != leader_name; });
  std::vector<std::string> all_lines;
  for (auto& program : programs) {
    program->write_line("quit");
    const auto status = program->wait(30s);
    ASSERT_TRUE(status);
    EXPECT_TRUE(WIFEXITED(*status)) << *status;
    while (program->read_line(1s)) {
    }
    all_lines.insert(all_lines.end(), program->lines().begin(), program->lines().end());
    // Each follower said so once. (The leader, left alone by the followers that quit first,
    // may step down before it quits, and say that too.)
    const std::string name = name_of(*program);
    if (name != leader_name) {
      EXPECT_EQ(count_prefixed(program->lines(), "follower " + name), 1u)
          << testing::PrintToString(program->lines());
    }
  }
  // Exactly one on_leader fired, in the program whose name was written.
  EXPECT_EQ(count_prefixed(all_lines, "leader "), 1u) << testing::PrintToString(all_lines);
  EXPECT_EQ(count_prefixed(all_lines, "leader " + leader_name), 1u);
  EXPECT_EQ(count_prefixed(all_lines, "error "), 0u) << testing::PrintToString(all_lines);
  for (const int pid : etcd_pids) EXPECT_TRUE(wait_until([&] { return gone(pid); }, 5s)) << pid;
}

TEST(ProcessTest, ProgramKilledWithSigkillLeavesNoEtcdChildAndItsDataIsReclaimed) {
  // Orphans come to this process, so that their end can be checked by pid and they are
  // reaped, whatever the machine's init does.
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  // A TMPDIR of this test's own, which the helpers inherit.
  char tmp_pattern[] = "/tmp/etcdpp-process-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmp_pattern), nullptr);
  const std::filesystem::path tmp = tmp_pattern;
  const char* old_tmpdir = std::getenv("TMPDIR");
  const std::string saved_tmpdir = old_tmpdir != nullptr ? old_tmpdir : "";
  ::setenv("TMPDIR", tmp.c_str(), 1);
  for (const std::string what : {"node", "cluster"}) {
    Subprocess program({ETCDPP_NODE_HELPER, "hold", what});
    ASSERT_TRUE(program.wait_for_line("held", 60s)) << testing::PrintToString(program.lines());
    std::vector<int> etcd_pids;
    std::filesystem::path dir;
    for (const auto& line : program.lines()) {
      if (line.starts_with("pid ")) etcd_pids.push_back(std::stoi(line.substr(4)));
      if (line.starts_with("dir ")) dir = line.substr(4);
    }
    ASSERT_EQ(dir.parent_path(), tmp) << dir;
    ASSERT_TRUE(std::filesystem::exists(dir));
    ASSERT_EQ(etcd_pids.size(), what == "node" ? 1u : 3u);
    for (const int pid : etcd_pids) ASSERT_EQ(::kill(pid, 0), 0) << pid;

    ASSERT_EQ(::kill(program.pid(), SIGKILL), 0);
    ASSERT_TRUE(program.wait(10s));
    for (const int pid : etcd_pids) {
      EXPECT_TRUE(wait_until([&] { return gone(pid); }, 5s)) << what << " etcd " << pid;
    }
    // Its data is left behind (nobody could remove it) until the next node starts here.
    EXPECT_TRUE(std::filesystem::exists(dir));
    {
      Node next;
      EXPECT_FALSE(std::filesystem::exists(dir)) << what << ": " << dir << " is still there";
      EXPECT_EQ(next.data_dir().parent_path(), tmp);
    }
  }
  if (saved_tmpdir.empty()) {
    ::unsetenv("TMPDIR");
  } else {
    ::setenv("TMPDIR", saved_tmpdir.c_str(), 1);
  }
  std::error_code ignored;
  EXPECT_EQ(std::filesystem::remove(tmp, ignored), true) << "something was left in " << tmp;
  ::prctl(PR_SET_CHILD_SUBREAPER, 0);
}

}  // namespace
}  // namespace etcdpp::embedded
