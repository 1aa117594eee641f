// SPDX-License-Identifier: Apache-2.0
#include "cli_support.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

extern char** environ;

namespace etcdpp::clitest {
namespace {

using Clock = std::chrono::steady_clock;

// JSON fields whose values differ between two runs of the same write (revisions of independent
// writes, lease IDs, remaining TTLs) or between two moments (raft indexes, database sizes, how
// long a health check took). They are masked in JSON output only; every other field must be
// equal.
const std::vector<std::string> kMaskedJsonFields = {
    "revision",  "create_revision",  "mod_revision", "ID",          "id",  "ttl",
    "raftIndex", "raftAppliedIndex", "dbSize",       "dbSizeInUse", "took"};

void mask_fields(nlohmann::json& j) {
  if (j.is_object()) {
    for (auto& [name, value] : j.items()) {
      if (std::find(kMaskedJsonFields.begin(), kMaskedJsonFields.end(), name) !=
          kMaskedJsonFields.end()) {
        value = "<masked>";
      } else {
        mask_fields(value);
      }
    }
  } else if (j.is_array()) {
    for (auto& item : j) mask_fields(item);
  }
}

}  // namespace

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

Outcome run(const std::vector<std::string>& argv, const std::string& input,
            std::chrono::milliseconds timeout, bool may_time_out) {
  // A tool that exits before reading its input must not take the test down with SIGPIPE.
  static const bool sigpipe_ignored = [] {
    ::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)sigpipe_ignored;
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2 failed";
    return {};
  }
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  ::posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  ::posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int spawn_error = ::posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  Outcome o;
  if (spawn_error != 0) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    ADD_FAILURE() << "cannot start " << argv[0];
    return o;
  }
  // Inputs are small: they fit in the pipe, so writing all first cannot block on the child.
  if (!input.empty()) {
    [[maybe_unused]] const auto n = ::write(in[1], input.data(), input.size());
  }
  ::close(in[1]);
  const auto deadline = Clock::now() + timeout;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&o.out, &o.err};
  int open_fds = 2;
  while (open_fds > 0) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    const int n = ::poll(fds, 2, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char chunk[4096];
      const ssize_t got = ::read(fds[i].fd, chunk, sizeof chunk);
      if (got > 0) {
        sinks[i]->append(chunk, static_cast<std::size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds) {
    if (f.fd >= 0) ::close(f.fd);
  }
  if (open_fds > 0) {
    if (!may_time_out) ADD_FAILURE() << argv[0] << " ran past " << timeout.count() << " ms";
    o.timed_out = true;
    ::kill(pid, SIGKILL);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return o;
}

std::string error_lines(const std::string& err) {
  std::stringstream in(err);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("Error:", 0) == 0) out += line + "\n";
  }
  return out;
}

std::string masked(const std::string& out) {
  std::stringstream in(out);
  std::string result;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && (line[0] == '{' || line[0] == '[')) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded()) {
        mask_fields(j);
        line = j.dump();
      }
    }
    result += line + "\n";
  }
  return result;
}

}  // namespace etcdpp::clitest
