// SPDX-License-Identifier: Apache-2.0
// A child process for tests that need more than one process (the helper in node_helper.cpp):
// its stdin and stdout are pipes, read line by line with a deadline.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace etcdpp::test {

class Subprocess {
 public:
  /// Starts argv[0] (a path) with `argv`; stderr goes to ours.
  explicit Subprocess(const std::vector<std::string>& argv);
  /// Kills it (SIGKILL) and reaps it if it still runs.
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  int pid() const noexcept { return pid_; }
  /// The next line of its stdout, without the newline; std::nullopt at EOF or after `timeout`.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  /// Reads lines until one starts with `prefix` and returns it; std::nullopt at EOF or after
  /// `timeout`. Every line read is kept in lines().
  std::optional<std::string> wait_for_line(const std::string& prefix,
                                           std::chrono::milliseconds timeout);
  /// Every line read so far.
  const std::vector<std::string>& lines() const noexcept { return lines_; }
  void write_line(const std::string& line);
  /// Waits until it exits, at most `timeout`; returns its wait status, or std::nullopt.
  std::optional<int> wait(std::chrono::milliseconds timeout);

 private:
  int pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  bool reaped_ = false;
  std::string buffer_;
  std::vector<std::string> lines_;
};

}  // namespace etcdpp::test
