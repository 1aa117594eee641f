// SPDX-License-Identifier: Apache-2.0
// Temporary data dirs carry their owner; a dead owner's dirs are reclaimed, a live one's never.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "embedded/temp_dir.hpp"
#include "etcdpp/error.hpp"

namespace etcdpp::embedded::detail {
namespace {

namespace fs = std::filesystem;

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/etcdpp-temp-dir-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    parent_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(parent_, ignored);
  }
  /// A dir `name` in the parent whose owner file says `owner` (none when empty).
  fs::path dir(const std::string& name, const std::string& owner) {
    const fs::path d = parent_ / name;
    fs::create_directories(d / "member");
    if (!owner.empty()) std::ofstream(d / kOwnerFile) << owner;
    return d;
  }
  /// The pid of a process that has ended and been reaped.
  static long dead_pid() {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    int status = 0;
    ::waitpid(child, &status, 0);
    return child;
  }
  /// This process's owner line, as make_owned_temp_dir writes it.
  std::string own_line() {
    const fs::path made = make_owned_temp_dir_in_parent();
    std::ifstream in(made / kOwnerFile);
    std::string line;
    std::getline(in, line);
    fs::remove_all(made);
    return line;
  }
  fs::path make_owned_temp_dir_in_parent() {
    ::setenv("TMPDIR", parent_.c_str(), 1);
    fs::path made = make_owned_temp_dir("probe");
    ::unsetenv("TMPDIR");
    return made;
  }
  fs::path parent_;
};

TEST_F(TempDirTest, DeadOwnersDirsGoLiveOwnersAndUnmarkedOnesStay) {
  const std::string mine = own_line();
  ASSERT_FALSE(mine.empty());
  const long pid = std::stol(mine);
  const std::string started = mine.substr(mine.find(' ') + 1);
  const fs::path dead = dir("etcdpp-node-dead01", std::to_string(dead_pid()) + " 12345\n");
  const fs::path reused = dir("etcdpp-node-reus01", std::to_string(pid) + " 1" + started + "\n");
  const fs::path alive = dir("etcdpp-node-live01", mine + "\n");
  const fs::path unmarked = dir("etcdpp-node-none01", "");
  const fs::path other_stem = dir("etcdpp-cluster-dead02", std::to_string(dead_pid()) + " 1\n");

  EXPECT_EQ(reclaim_orphaned_temp_dirs(parent_, "etcdpp-node"), 2);
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_FALSE(fs::exists(reused)) << "a pid now used by another process is not the owner";
  EXPECT_TRUE(fs::exists(alive));
  EXPECT_TRUE(fs::exists(unmarked));
  EXPECT_TRUE(fs::exists(other_stem));
}

TEST_F(TempDirTest, MakingADirReclaimsFirstAndMarksTheNewOne) {
  const fs::path dead = dir("probe-dead01", std::to_string(dead_pid()) + " 1\n");
  const fs::path made = make_owned_temp_dir_in_parent();
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_EQ(made.parent_path(), parent_);
  EXPECT_TRUE(fs::exists(made / kOwnerFile));
  // Its owner lives: the next one leaves it.
  const fs::path second = make_owned_temp_dir_in_parent();
  EXPECT_TRUE(fs::exists(made));
  EXPECT_NE(made, second);
}

TEST_F(TempDirTest, AnUnwritableParentIsAClearError) {
  ::setenv("TMPDIR", "/nonexistent/etcdpp", 1);
  try {
    make_owned_temp_dir("etcdpp-node");
    ADD_FAILURE() << "made a dir under /nonexistent";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::node_failed);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/etcdpp/etcdpp-node-"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("TMPDIR"), std::string::npos) << e.what();
  }
  ::unsetenv("TMPDIR");
}

}  // namespace
}  // namespace etcdpp::embedded::detail
