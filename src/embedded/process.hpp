// SPDX-License-Identifier: Apache-2.0
// One etcd child process: spawned from the spawner thread, its output drained into a Log, and
// stopped with SIGTERM then SIGKILL. embedded::Node runs one of these at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace etcdpp::embedded::detail {

using Clock = std::chrono::steady_clock;

/// etcd's output, line by line: the last lines in a bounded ring (for error messages and
/// log_tail()), each also handed to an optional sink. Shared by the successive children of a
/// Node, whose reader threads push into it.
class Log {
 public:
  explicit Log(std::function<void(std::string_view)> sink);

  void push(std::string line);
  /// The last `max_lines` lines, each ending in a newline.
  std::string tail(std::size_t max_lines) const;
  /// A copy of the ring.
  std::deque<std::string> lines() const;
  void clear();
  /// No more calls of the sink after this returns (the ring is still kept).
  void disable_sink();

 private:
  mutable std::mutex mutex_;
  std::deque<std::string> lines_;  // guarded by mutex_
  // Serialises the sink: a child being reaped and its successor may both be writing.
  std::mutex sink_mutex_;
  std::function<void(std::string_view)> sink_;  // guarded by sink_mutex_
};

/// A running child. Signals go to its process group. Not thread-safe except where noted: its
/// owner stops it, other threads may only ask exited() and signal() while the owner lets them.
class ChildProcess {
 public:
  /// Spawns `argv` (argv[0] is the binary's path) with `env`; returns once it has exec'd.
  /// Throws Error: Errc::etcd_not_found when execve says ENOENT, else Errc::node_failed.
  ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
               std::shared_ptr<Log> log);
  /// Kills (SIGKILL) and reaps the child if its owner has not.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const noexcept { return pid_; }
  /// Whether the child has exited (it stays unreaped, so its pid is not reused meanwhile).
  bool exited() const;
  /// Waits until the child exits or `deadline` passes; true if it exited.
  bool wait_exit(Clock::time_point deadline) const;
  /// Sends `sig` to the child's process group; a no-op once it is reaped.
  void signal(int sig) const noexcept;
  /// SIGTERM (when `grace` > 0), up to `grace` for it to exit, then SIGKILL to the group; reaps
  /// the child and ends the log reader. Returns the wait status, -1 if unknown; a second call
  /// returns the first one's. Never throws; never blocks past `grace` by more than the kernel
  /// needs to deliver SIGKILL.
  int kill_and_reap(std::chrono::milliseconds grace) noexcept;

 private:
  void read_log();
  void append_log(const char* data, std::size_t size);
  void stop_reader() noexcept;

  std::shared_ptr<Log> log_;
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = -1;
  // A pidfd for the child, or -1 where the kernel has none (then waitid polling).
  int pid_fd_ = -1;
  int log_fd_ = -1;
  // Wakes the log reader once the child is reaped (see stop_reader).
  int wake_fd_ = -1;
  // Drains etcd's stdout and stderr, so that etcd never blocks on a full pipe; lives exactly as
  // long as the child.
  std::thread reader_;
  std::string partial_line_;  // only touched by the reader
};

/// What a wait status says, in words: "exited with status 1", "was killed by signal 9 (SIGKILL)".
std::string describe_wait_status(int status);

}  // namespace etcdpp::embedded::detail
