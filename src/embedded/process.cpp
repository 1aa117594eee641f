// SPDX-License-Identifier: Apache-2.0
// ChildProcess: fork (on the spawner thread) and execve, with the child's hygiene done in the
// child before exec: its own process group, a death signal tied to this process, a clean signal
// mask, and no inherited file descriptor but its stdin (/dev/null), stdout and stderr (the log
// pipe).
//
// Linux only on purpose: PR_SET_PDEATHSIG, close_range and pidfds. Each has a fallback where
// the kernel is older.
#include "embedded/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <system_error>

#include "embedded/fd.hpp"
#include "embedded/spawner.hpp"
#include "etcdpp/error.hpp"

namespace etcdpp::embedded::detail {
namespace {

// A line longer than this is cut: the ring must stay bounded even if etcd writes no newline.
constexpr std::size_t kMaxLineLength = 64 * 1024;
// The ring keeps this many lines.
constexpr std::size_t kLogLines = 200;
constexpr auto kStopPollInterval = std::chrono::milliseconds(10);

[[noreturn]] void fail(Errc errc, const std::string& message) {
  throw_error(make_error_code(errc), message);
}

std::string errno_text(int err) { return std::generic_category().message(err); }

int pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

// Everything the child needs, prepared before fork: after fork() in a threaded process the
// child may call only async-signal-safe functions (no malloc, no locks).
struct ChildArgs {
  char** argv;
  char** envp;
  pid_t parent;
  int log_write;
  int exec_write;
  int dev_null;
  int open_max;
};

// Runs in the forked child, on the copy of the spawner thread: async-signal-safe calls only.
[[noreturn]] void run_child(void* raw) {
  const ChildArgs& a = *static_cast<const ChildArgs*>(raw);
  // Its own process group, so that stop() can signal etcd and anything it starts at once, and
  // a Ctrl-C at the user's terminal does not kill etcd before the Node stops it in order.
  ::setpgid(0, 0);
  // If this process dies without stopping etcd, the kernel kills it: no orphaned server holding
  // the ports. The signal fires when the forking thread exits; that is the spawner thread,
  // which lives as long as the process.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The parent may have died before prctl took effect; then nobody would kill us.
  if (::getppid() != a.parent) ::_exit(127);

  // The spawner thread blocks every signal, and the application may ignore some (SIGPIPE,
  // SIGTERM...); execve keeps both. etcd starts with defaults.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  // Move the three fds we keep above the range we are about to overwrite, so that none of
  // them can be clobbered by the dup2 calls below whatever numbers they had.
  const int log_fd = ::fcntl(a.log_write, F_DUPFD, 10);
  const int exec_fd = ::fcntl(a.exec_write, F_DUPFD_CLOEXEC, 10);
  const int null_fd = ::fcntl(a.dev_null, F_DUPFD, 10);
  if (log_fd < 0 || exec_fd < 0 || null_fd < 0) ::_exit(127);
  if (::dup2(null_fd, 0) < 0 || ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0 ||
      ::dup2(exec_fd, 3) < 0 || ::fcntl(3, F_SETFD, FD_CLOEXEC) < 0) {
    ::_exit(127);
  }
  // etcd inherits nothing but 0, 1, 2 (and fd 3, closed by execve). Other threads of the
  // parent may have opened fds without CLOEXEC; those must not leak into a long-lived server.
  bool closed = false;
#ifdef SYS_close_range
  closed = ::syscall(SYS_close_range, 4U, ~0U, 0U) == 0;
#endif
  if (!closed) {
    for (int fd = 4; fd < a.open_max; ++fd) ::close(fd);
  }

  ::execve(a.argv[0], a.argv, a.envp);
  const int err = errno;
  ssize_t ignored = ::write(3, &err, sizeof err);
  (void)ignored;
  ::_exit(127);
}

}  // namespace

Log::Log(std::function<void(std::string_view)> sink) : sink_(std::move(sink)) {}

void Log::push(std::string line) {
  if (!line.empty() && line.back() == '\r') line.pop_back();
  {
    std::lock_guard lock(sink_mutex_);
    // Outside mutex_: a slow sink must not hold up log_tail() or error messages.
    if (sink_) sink_(line);
  }
  std::lock_guard lock(mutex_);
  lines_.push_back(std::move(line));
  while (lines_.size() > kLogLines) lines_.pop_front();
}

std::string Log::tail(std::size_t max_lines) const {
  std::lock_guard lock(mutex_);
  std::string out;
  const std::size_t skip = lines_.size() > max_lines ? lines_.size() - max_lines : 0;
  for (std::size_t i = skip; i < lines_.size(); ++i) {
    out += lines_[i];
    out += '\n';
  }
  return out;
}

std::deque<std::string> Log::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

void Log::clear() {
  std::lock_guard lock(mutex_);
  lines_.clear();
}

void Log::disable_sink() {
  std::lock_guard lock(sink_mutex_);
  sink_ = nullptr;
}

ChildProcess::ChildProcess(const std::vector<std::string>& args,
                           const std::vector<std::string>& env, std::shared_ptr<Log> log)
    : log_(std::move(log)) {
  std::vector<char*> argv;
  for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  long open_max = ::sysconf(_SC_OPEN_MAX);
  if (open_max < 0 || open_max > 1 << 20) open_max = 1 << 16;

  int log_pipe[2];
  int exec_pipe[2];
  if (::pipe2(log_pipe, O_CLOEXEC) != 0) {
    fail(Errc::node_failed, "cannot create etcd's log pipe: " + errno_text(errno));
  }
  FdGuard log_read(log_pipe[0]);
  FdGuard log_write(log_pipe[1]);
  // Carries errno from a failed execve; a successful execve closes it (CLOEXEC), so the parent
  // reads EOF.
  if (::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    fail(Errc::node_failed, "cannot create a pipe: " + errno_text(errno));
  }
  FdGuard exec_read(exec_pipe[0]);
  FdGuard exec_write(exec_pipe[1]);
  // etcd reads no stdin; /dev/null keeps it from inheriting the parent's terminal or socket.
  FdGuard dev_null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (dev_null.get() < 0) fail(Errc::node_failed, "cannot open /dev/null: " + errno_text(errno));
  FdGuard wake(::eventfd(0, EFD_CLOEXEC));
  if (wake.get() < 0) fail(Errc::node_failed, "cannot create an eventfd: " + errno_text(errno));

  ChildArgs child_args{argv.data(),
                       envp.data(),
                       ::getpid(),
                       log_write.get(),
                       exec_write.get(),
                       dev_null.get(),
                       static_cast<int>(open_max)};
  const pid_t child = fork_on_spawner(&run_child, &child_args);

  // Also from here, so that the group exists before we ever signal it, whichever of the two
  // processes runs first. EACCES once the child has exec'd is harmless.
  ::setpgid(child, child);
  pid_ = child;
  log_write.reset();
  exec_write.reset();
  dev_null.reset();

  int exec_errno = 0;
  ssize_t n;
  do {
    n = ::read(exec_read.get(), &exec_errno, sizeof exec_errno);
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof exec_errno)) {
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    // The binary vanished since it was looked up, or is not a loadable program.
    fail(exec_errno == ENOENT ? Errc::etcd_not_found : Errc::node_failed,
         "cannot execute " + args.front() + ": " + errno_text(exec_errno) +
             (exec_errno == ENOENT ? "; install the Debian package etcd-server or set "
                                     "ETCDPP_ETCD_BINARY"
                                   : ""));
  }

  pid_fd_ = pidfd_open(child);  // -1 on old kernels: the fallbacks poll waitid instead
  log_fd_ = log_read.release();
  wake_fd_ = wake.release();
  try {
    reader_ = std::thread([this] { read_log(); });
  } catch (...) {
    kill_and_reap(std::chrono::milliseconds(0));
    throw;
  }
}

ChildProcess::~ChildProcess() { kill_and_reap(std::chrono::milliseconds(0)); }

bool ChildProcess::exited() const {
  if (reaped_) return true;
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    // ECHILD: someone else reaped it (e.g. SIGCHLD set to SIG_IGN in the application).
    return errno == ECHILD;
  }
  return info.si_pid != 0;
}

bool ChildProcess::wait_exit(Clock::time_point deadline) const {
  if (pid_fd_ >= 0) {
    // A pidfd becomes readable when the process exits: no polling, no stolen wait status.
    poll_until(pid_fd_, POLLIN, deadline);
    return exited();
  }
  while (!exited()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(kStopPollInterval);
  }
  return true;
}

void ChildProcess::signal(int sig) const noexcept {
  if (!reaped_ && pid_ > 0) ::kill(-pid_, sig);
}

int ChildProcess::kill_and_reap(std::chrono::milliseconds grace) noexcept {
  if (reaped_) {
    stop_reader();
    return status_;
  }
  if (grace.count() > 0 && !exited()) {
    // The whole group: etcd plus anything it may have started.
    ::kill(-pid_, SIGTERM);
    wait_exit(Clock::now() + grace);
  }
  // Before reaping, while the (possibly zombie) leader still pins the group id so it cannot
  // name another process group: kills etcd if it ignored SIGTERM, and any straggler.
  ::kill(-pid_, SIGKILL);
  int status = -1;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) {
      status = -1;
      break;
    }
  }
  reaped_ = true;
  status_ = status;
  if (pid_fd_ >= 0) ::close(std::exchange(pid_fd_, -1));
  stop_reader();
  return status;
}

void ChildProcess::stop_reader() noexcept {
  if (reader_.joinable()) {
    const std::uint64_t one = 1;
    ssize_t ignored = ::write(wake_fd_, &one, sizeof one);
    (void)ignored;
    reader_.join();
  }
  if (log_fd_ >= 0) ::close(std::exchange(log_fd_, -1));
  if (wake_fd_ >= 0) ::close(std::exchange(wake_fd_, -1));
}

void ChildProcess::read_log() {
  char buffer[4096];
  pollfd fds[2] = {{log_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  while (true) {
    const int n = ::poll(fds, 2, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents != 0) {
      // The child is reaped, so everything it wrote is already in the pipe: drain it without
      // blocking and end, even if some escaped descendant still holds the write end.
      ::fcntl(log_fd_, F_SETFL, ::fcntl(log_fd_, F_GETFL) | O_NONBLOCK);
      ssize_t got;
      while ((got = ::read(log_fd_, buffer, sizeof buffer)) > 0 || (got < 0 && errno == EINTR)) {
        if (got > 0) append_log(buffer, static_cast<std::size_t>(got));
      }
      break;
    }
    const ssize_t got = ::read(log_fd_, buffer, sizeof buffer);
    if (got > 0) {
      append_log(buffer, static_cast<std::size_t>(got));
    } else if (got == 0 || errno != EINTR) {
      break;  // EOF: etcd and everything that shared its stdout have exited
    }
  }
  if (!partial_line_.empty()) log_->push(std::exchange(partial_line_, {}));
}

void ChildProcess::append_log(const char* data, std::size_t size) {
  std::string_view rest(data, size);
  while (!rest.empty()) {
    const auto newline = rest.find('\n');
    const auto piece = rest.substr(0, newline);
    partial_line_.append(
        piece.substr(0, kMaxLineLength - std::min(kMaxLineLength, partial_line_.size())));
    if (newline == std::string_view::npos) break;
    log_->push(std::exchange(partial_line_, {}));
    rest.remove_prefix(newline + 1);
  }
}

std::string describe_wait_status(int status) {
  if (status < 0) return "exited";
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = ::sigabbrev_np(WTERMSIG(status));
    return "was killed by signal " + std::to_string(WTERMSIG(status)) +
           (name != nullptr ? std::string(" (SIG") + name + ")" : std::string());
  }
  return "ended with wait status " + std::to_string(status);
}

}  // namespace etcdpp::embedded::detail
