// SPDX-License-Identifier: Apache-2.0
// What the tests of the etcdpp command-line tool share: running a tool as a child process with a
// given stdin and a deadline, and reading its answer as etcdctl's could be compared with it.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#ifndef ETCDPP_CLI_BINARY
#error "ETCDPP_CLI_BINARY must name the etcdpp executable"
#endif

namespace etcdpp::clitest {

struct Outcome {
  int exit_code = -1;
  std::string out;
  std::string err;
  bool timed_out = false;  ///< Killed at its deadline (its exit code is then 128 + SIGKILL).
};

/// etcdctl on PATH (a test failure when there is none).
std::string etcdctl_path();

/// Runs `argv` with `input` on its stdin; kills it if it runs past `timeout`, which is a test
/// failure unless `may_time_out`.
Outcome run(const std::vector<std::string>& argv, const std::string& input = {},
            std::chrono::milliseconds timeout = std::chrono::seconds(10),
            bool may_time_out = false);

/// The "Error:" lines of a tool's stderr: etcdctl's client also logs its retries there as JSON
/// lines, which are no part of its answer.
std::string error_lines(const std::string& err);

/// The output with the fields that differ between two runs of the same write (revisions, lease
/// IDs, TTLs, raft indexes, sizes, durations) replaced in each JSON line; other lines as they
/// are.
std::string masked(const std::string& out);

}  // namespace etcdpp::clitest
