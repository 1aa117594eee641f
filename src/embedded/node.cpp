// SPDX-License-Identifier: Apache-2.0
// embedded::Node: runs the etcd binary as a child process (fork + execve), captures its output,
// waits until it serves /health, and stops it with SIGTERM then SIGKILL.
//
// Linux only on purpose: the child is tied to its parent with PR_SET_PDEATHSIG, its fds are closed
// with close_range, and stop() waits on a pidfd. Each has a fallback where the kernel is older.
#include "etcdpp/embedded/node.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <mutex>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "etcdpp/error.hpp"

extern char** environ;

namespace etcdpp::embedded {
namespace {

using Clock = std::chrono::steady_clock;

// The log ring keeps this many lines; error messages quote fewer, so that an exception's what()
// stays readable while log_tail() still has the context around a failure.
constexpr std::size_t kLogLines = 200;
constexpr std::size_t kMessageLogLines = 40;
// A line longer than this is cut: the ring must stay bounded even if etcd writes no newline.
constexpr std::size_t kMaxLineLength = 64 * 1024;
// Auto-picked ports race with other processes between our close() and etcd's bind(); this many
// fresh picks are tried after the first attempt before giving up.
constexpr int kMaxPortRetries = 3;
constexpr auto kReadyPollInterval = std::chrono::milliseconds(20);
constexpr auto kStopPollInterval = std::chrono::milliseconds(10);
// One /health probe may take at most this long; a stalled connection must not eat the whole
// start_timeout when the next probe might succeed.
constexpr auto kProbeTimeout = std::chrono::milliseconds(1000);

[[noreturn]] void fail(Errc errc, const std::string& message) {
  throw_error(make_error_code(errc), message);
}

std::string errno_text(int err) { return std::generic_category().message(err); }

// Closes a file descriptor on scope exit; used only for short-lived local fds.
class FdGuard {
 public:
  explicit FdGuard(int fd = -1) noexcept : fd_(fd) {}
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  FdGuard(FdGuard&& other) noexcept : fd_(other.release()) {}
  FdGuard& operator=(FdGuard&& other) noexcept {
    reset(other.release());
    return *this;
  }
  ~FdGuard() { reset(); }
  int get() const noexcept { return fd_; }
  int release() noexcept { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// A name without a slash is looked up on PATH, as a shell would; a path is taken as it is.
std::string find_executable(const std::string& name) {
  if (name.find('/') != std::string::npos) return is_executable_file(name) ? name : std::string();
  const char* env_path = std::getenv("PATH");
  std::string_view path = env_path != nullptr ? env_path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const auto colon = path.find(':');
    std::string dir(path.substr(0, colon));
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + name;
    if (is_executable_file(candidate)) return candidate;
    if (colon == std::string_view::npos) return {};
    path.remove_prefix(colon + 1);
  }
}

std::string resolve_binary(const std::filesystem::path& configured) {
  std::string wanted;
  std::string source;
  if (!configured.empty()) {
    wanted = configured.string();
    source = "NodeOptions::binary";
  } else if (const char* env = std::getenv("ETCDPP_ETCD_BINARY"); env != nullptr && *env != '\0') {
    wanted = env;
    source = "$ETCDPP_ETCD_BINARY";
  } else {
    wanted = "etcd";
    const char* env_path = std::getenv("PATH");
    source = std::string("PATH=") + (env_path != nullptr ? env_path : "");
  }
  std::string found = find_executable(wanted);
  if (found.empty()) {
    std::error_code ec;
    const bool exists =
        wanted.find('/') != std::string::npos && std::filesystem::exists(wanted, ec);
    fail(Errc::etcd_not_found,
         (exists ? "etcd binary " + wanted + " (from " + source + ") is not an executable file"
                 : "etcd binary not found (looked for " + wanted + " from " + source + ")") +
             "; install the Debian package etcd-server or set ETCDPP_ETCD_BINARY");
  }
  return found;
}

// Resolves `host:port` to one socket address. Numeric hosts only need no DNS; names work too.
bool resolve(const std::string& host, std::uint16_t port, sockaddr_storage& addr,
             socklen_t& addr_len) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* result = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &result) != 0) {
    return false;
  }
  std::memcpy(&addr, result->ai_addr, result->ai_addrlen);
  addr_len = result->ai_addrlen;
  ::freeaddrinfo(result);
  return true;
}

// Binds a socket to host:0 and returns it open, so that the caller can pick several distinct
// ports before closing them all. The port is free now; etcd binds it a little later, and the
// race in between is handled by retrying with new ports (see start_with_retries).
FdGuard bind_ephemeral(const std::string& host, std::uint16_t& port) {
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  if (!resolve(host, 0, addr, addr_len)) {
    fail(Errc::invalid_option, "NodeOptions::host \"" + host + "\" is not a usable address");
  }
  FdGuard fd(::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0 || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), addr_len) != 0 ||
      ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0) {
    fail(Errc::node_failed, "cannot pick a free port on " + host + ": " + errno_text(errno));
  }
  port = addr.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                                    : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return fd;
}

// IPv6 literals need brackets inside URLs and endpoints.
std::string host_for_url(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// etcd listening on a wildcard address is reached through loopback.
std::string host_to_probe(const std::string& host) {
  if (host == "0.0.0.0") return "127.0.0.1";
  if (host == "::" || host == "[::]") return "::1";
  return host;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = ::sigabbrev_np(WTERMSIG(status));
    return "was killed by signal " + std::to_string(WTERMSIG(status)) +
           (name != nullptr ? std::string(" (SIG") + name + ")" : std::string());
  }
  return "ended with wait status " + std::to_string(status);
}

// Waits until `fd` has one of `events` or the deadline passes; false on timeout or error.
bool poll_until(int fd, short events, Clock::time_point deadline) {
  while (true) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

// One HTTP/1.1 GET /health on a fresh connection. etcd 3.4 answers {"health":"true"} on its
// client URL once the member has a leader and can serve a read; before that the connection is
// refused or the body says false. A raw socket keeps the library free of an HTTP dependency.
bool probe_health(const std::string& host, std::uint16_t port, Clock::time_point deadline) {
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  if (!resolve(host, port, addr, addr_len)) return false;
  FdGuard fd(::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) return false;
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), addr_len) != 0) {
    if (errno != EINPROGRESS) return false;
    if (!poll_until(fd.get(), POLLOUT, deadline)) return false;
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) return false;
  }
  const std::string request = "GET /health HTTP/1.1\r\nHost: " + host_for_url(host) + ":" +
                              std::to_string(port) + "\r\nConnection: close\r\n\r\n";
  std::size_t sent = 0;
  while (sent < request.size()) {
    // MSG_NOSIGNAL: a peer that closes early must not raise SIGPIPE in the user's process.
    const ssize_t n = ::send(fd.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EAGAIN) {
      if (!poll_until(fd.get(), POLLOUT, deadline)) return false;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return false;
    }
  }
  std::string response;
  char buffer[1024];
  while (response.size() < 64 * 1024) {
    const ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
    if (n > 0) {
      response.append(buffer, static_cast<std::size_t>(n));
    } else if (n == 0) {
      break;
    } else if (errno == EAGAIN) {
      if (!poll_until(fd.get(), POLLIN, deadline)) break;
    } else if (errno != EINTR) {
      break;
    }
  }
  const auto body = response.find("\r\n\r\n");
  return response.starts_with("HTTP/1.1 200") && body != std::string::npos &&
         response.find("\"health\":\"true\"", body) != std::string::npos;
}

int pidfd_open(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
#else
  (void)pid;
  errno = ENOSYS;
  return -1;
#endif
}

}  // namespace

struct Node::Impl {
  NodeOptions options;
  std::string binary;
  // Whether we created data_dir (and so remove it) and whether the ports were picked by us (and
  // so may be picked again when etcd loses the race for them).
  bool owns_data_dir = false;
  bool client_port_auto = false;
  bool peer_port_auto = false;

  pid_t pid = -1;
  // A pidfd for the child, or -1 where the kernel has none (then waitpid(WNOHANG) polling).
  int pid_fd = -1;
  int log_fd = -1;
  // Wakes the log reader once the child is reaped (see stop_reader).
  int wake_fd = -1;
  // The only thread a Node starts: it drains etcd's stdout/stderr so that etcd never blocks on a
  // full pipe, and keeps the tail for error messages. It lives exactly as long as the child.
  std::thread reader;

  mutable std::mutex log_mutex;
  std::deque<std::string> log_lines;  // guarded by log_mutex
  std::string partial_line;           // only touched by the reader thread

  explicit Impl(NodeOptions opts) : options(std::move(opts)) {}
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  ~Impl() {
    kill_and_reap(options.stop_timeout);
    if (owns_data_dir) {
      std::error_code ignored;
      std::filesystem::remove_all(options.data_dir, ignored);
    }
  }

  void validate() const {
    const auto bad = [](const std::string& what) { fail(Errc::invalid_option, what); };
    // The name goes into --initial-cluster as NAME=URL[,NAME=URL...].
    if (options.name.empty() || options.name.find_first_of("=,") != std::string::npos) {
      bad("NodeOptions::name \"" + options.name + "\" must be non-empty without '=' or ','");
    }
    if (options.host.empty()) bad("NodeOptions::host must not be empty");
    if (options.client_port != 0 && options.client_port == options.peer_port) {
      bad("NodeOptions::client_port and peer_port are both " + std::to_string(options.client_port));
    }
    if (options.start_timeout.count() <= 0) bad("NodeOptions::start_timeout must be positive");
    if (options.stop_timeout.count() < 0) bad("NodeOptions::stop_timeout must not be negative");
  }

  void make_temp_data_dir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/etcdpp-node-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      fail(Errc::node_failed,
           "cannot create a temporary data dir " + pattern + ": " + errno_text(errno));
    }
    options.data_dir = pattern;
    owns_data_dir = true;
  }

  void pick_ports() {
    // Each socket stays open until both ports are known, so the two picks cannot collide; a
    // pick equal to a fixed port the user chose (free now, bound by etcd later) is redone.
    FdGuard client_socket;
    FdGuard peer_socket;
    if (client_port_auto) {
      do {
        client_socket = bind_ephemeral(options.host, options.client_port);
      } while (options.client_port == options.peer_port);
    }
    if (peer_port_auto) {
      do {
        peer_socket = bind_ephemeral(options.host, options.peer_port);
      } while (options.peer_port == options.client_port);
    }
  }

  std::vector<std::string> arguments() const {
    const std::string host = host_for_url(options.host);
    const std::string client_url = "http://" + host + ":" + std::to_string(options.client_port);
    const std::string peer_url = "http://" + host + ":" + std::to_string(options.peer_port);
    std::vector<std::string> args = {
        binary,
        "--name=" + options.name,
        "--data-dir=" + options.data_dir.string(),
        "--listen-client-urls=" + client_url,
        "--advertise-client-urls=" + client_url,
        "--listen-peer-urls=" + peer_url,
        "--initial-advertise-peer-urls=" + peer_url,
        "--initial-cluster=" + options.name + "=" + peer_url,
    };
    // Last, so that a user's flag overrides ours: etcd's flag parser keeps the last value.
    args.insert(args.end(), options.extra_flags.begin(), options.extra_flags.end());
    return args;
  }

  // Starts the child and the log reader. Throws node_failed if the binary cannot be executed.
  void spawn() {
    // Everything the child needs is prepared here: after fork() in a threaded process the child
    // may call only async-signal-safe functions (no malloc, no locks).
    const std::vector<std::string> args = arguments();
    std::vector<char*> argv;
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> env_strings;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) env_strings.emplace_back(*e);
    std::vector<char*> envp;
    for (const auto& e : env_strings) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    long open_max = ::sysconf(_SC_OPEN_MAX);
    if (open_max < 0 || open_max > 1 << 20) open_max = 1 << 16;
    const pid_t parent = ::getpid();

    int log_pipe[2];
    int exec_pipe[2];
    if (::pipe2(log_pipe, O_CLOEXEC) != 0) {
      fail(Errc::node_failed, "cannot create etcd's log pipe: " + errno_text(errno));
    }
    FdGuard log_read(log_pipe[0]);
    FdGuard log_write(log_pipe[1]);
    // Carries errno from a failed execve; a successful execve closes it (CLOEXEC), so the
    // parent reads EOF.
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

    {
      std::lock_guard lock(log_mutex);
      log_lines.clear();
    }
    partial_line.clear();

    const pid_t child = ::fork();
    if (child < 0) fail(Errc::node_failed, "cannot fork etcd: " + errno_text(errno));
    if (child == 0) {
      run_child(argv.data(), envp.data(), parent, log_write.get(), exec_write.get(), dev_null.get(),
                static_cast<int>(open_max));
    }

    // Also from the parent, so that the group exists before we ever signal it, whichever of
    // the two processes runs first. EACCES once the child has exec'd is harmless.
    ::setpgid(child, child);
    pid = child;
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
      pid = -1;
      // The binary vanished between resolve_binary() and execve, or is not a loadable program.
      fail(exec_errno == ENOENT ? Errc::etcd_not_found : Errc::node_failed,
           "cannot execute " + binary + ": " + errno_text(exec_errno) +
               (exec_errno == ENOENT ? "; install the Debian package etcd-server or set "
                                       "ETCDPP_ETCD_BINARY"
                                     : ""));
    }

    pid_fd = pidfd_open(child);  // -1 on old kernels: the fallbacks poll waitpid instead
    log_fd = log_read.release();
    wake_fd = wake.release();
    reader = std::thread([this] { read_log(); });
  }

  // Runs in the forked child: async-signal-safe calls only, and never returns.
  [[noreturn]] static void run_child(char** argv, char** envp, pid_t parent, int log_write,
                                     int exec_write, int dev_null, int open_max) {
    // Its own process group, so that stop() can signal etcd and anything it starts at once, and
    // a Ctrl-C at the user's terminal does not kill etcd before the Node stops it in order.
    ::setpgid(0, 0);
    // If the parent dies without stopping us, the kernel kills etcd: no orphaned server holding
    // the ports. Caveat: the signal fires when the *thread* that forked exits, so a Node must
    // not outlive the thread that started it (true of every normal scoped use).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // The parent may have died before prctl took effect; then nobody would kill us.
    if (::getppid() != parent) ::_exit(127);

    // Move the three fds we keep above the range we are about to overwrite, so that none of
    // them can be clobbered by the dup2 calls below whatever numbers they had.
    const int log_fd = ::fcntl(log_write, F_DUPFD, 10);
    const int exec_fd = ::fcntl(exec_write, F_DUPFD_CLOEXEC, 10);
    const int null_fd = ::fcntl(dev_null, F_DUPFD, 10);
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
      for (int fd = 4; fd < open_max; ++fd) ::close(fd);
    }

    ::execve(argv[0], argv, envp);
    const int err = errno;
    ssize_t ignored = ::write(3, &err, sizeof err);
    (void)ignored;
    ::_exit(127);
  }

  void read_log() {
    char buffer[4096];
    pollfd fds[2] = {{log_fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
    while (true) {
      const int n = ::poll(fds, 2, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (fds[1].revents != 0) {
        // The child is reaped, so everything it wrote is already in the pipe: drain it without
        // blocking and end, even if some escaped descendant still holds the write end.
        ::fcntl(log_fd, F_SETFL, ::fcntl(log_fd, F_GETFL) | O_NONBLOCK);
        ssize_t got;
        while ((got = ::read(log_fd, buffer, sizeof buffer)) > 0 || (got < 0 && errno == EINTR)) {
          if (got > 0) append_log(buffer, static_cast<std::size_t>(got));
        }
        break;
      }
      const ssize_t got = ::read(log_fd, buffer, sizeof buffer);
      if (got > 0) {
        append_log(buffer, static_cast<std::size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        break;  // EOF: etcd and everything that shared its stdout have exited
      }
    }
    if (!partial_line.empty()) push_line(std::exchange(partial_line, {}));
  }

  void append_log(const char* data, std::size_t size) {
    std::string_view rest(data, size);
    while (!rest.empty()) {
      const auto newline = rest.find('\n');
      const auto piece = rest.substr(0, newline);
      partial_line.append(
          piece.substr(0, kMaxLineLength - std::min(kMaxLineLength, partial_line.size())));
      if (newline == std::string_view::npos) break;
      push_line(std::exchange(partial_line, {}));
      rest.remove_prefix(newline + 1);
    }
  }

  void push_line(std::string line) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::lock_guard lock(log_mutex);
    log_lines.push_back(std::move(line));
    while (log_lines.size() > kLogLines) log_lines.pop_front();
  }

  std::string tail(std::size_t max_lines) const {
    std::lock_guard lock(log_mutex);
    std::string out;
    const std::size_t skip = log_lines.size() > max_lines ? log_lines.size() - max_lines : 0;
    for (std::size_t i = skip; i < log_lines.size(); ++i) {
      out += log_lines[i];
      out += '\n';
    }
    return out;
  }

  // Whether the child has exited (it stays unreaped, so its pid cannot be reused meanwhile).
  bool child_exited() const {
    if (pid <= 0) return true;
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
      // ECHILD: someone else reaped it (e.g. SIGCHLD set to SIG_IGN in the application).
      return errno == ECHILD;
    }
    return info.si_pid != 0;
  }

  // Waits until the child exits or `timeout` passes; true if it exited.
  bool wait_exit(std::chrono::milliseconds timeout) const {
    const auto deadline = Clock::now() + timeout;
    if (pid_fd >= 0) {
      // A pidfd becomes readable when the process exits: no polling, no stolen wait status.
      poll_until(pid_fd, POLLIN, deadline);
      return child_exited();
    }
    while (!child_exited()) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(kStopPollInterval);
    }
    return true;
  }

  // Stops the child (SIGTERM, then SIGKILL after `grace`), reaps it, and ends the log reader.
  // Returns the wait status (-1 if unknown). Never throws and never blocks past `grace` by
  // more than the kernel needs to deliver SIGKILL.
  int kill_and_reap(std::chrono::milliseconds grace) noexcept {
    if (pid <= 0) return -1;
    if (grace.count() > 0 && !child_exited()) {
      // The whole group: etcd plus anything it may have started.
      ::kill(-pid, SIGTERM);
      wait_exit(grace);
    }
    // Before reaping, while the (possibly zombie) leader still pins the group id so it cannot
    // name another process group: kills etcd if it ignored SIGTERM, and any straggler.
    ::kill(-pid, SIGKILL);
    int status = -1;
    while (::waitpid(pid, &status, 0) < 0) {
      if (errno != EINTR) {
        status = -1;
        break;
      }
    }
    pid = -1;
    if (pid_fd >= 0) ::close(std::exchange(pid_fd, -1));
    stop_reader();
    return status;
  }

  void stop_reader() noexcept {
    if (reader.joinable()) {
      const std::uint64_t one = 1;
      ssize_t ignored = ::write(wake_fd, &one, sizeof one);
      (void)ignored;
      reader.join();
    }
    if (log_fd >= 0) ::close(std::exchange(log_fd, -1));
    if (wake_fd >= 0) ::close(std::exchange(wake_fd, -1));
  }

  // One attempt: spawn etcd and wait until it serves. On failure the child is gone and the
  // exception says why, with etcd's own last words.
  void start_once() {
    spawn();
    const auto deadline = Clock::now() + options.start_timeout;
    const std::string probe_host = host_to_probe(options.host);
    while (true) {
      const auto probe_deadline = std::min(deadline, Clock::now() + kProbeTimeout);
      if (probe_health(probe_host, options.client_port, probe_deadline)) return;
      if (child_exited()) {
        const int status = kill_and_reap(std::chrono::milliseconds(0));
        fail(Errc::node_failed, failure_message(status < 0 ? "exited" : describe_status(status)));
      }
      if (Clock::now() >= deadline) {
        kill_and_reap(std::chrono::milliseconds(0));
        fail(Errc::node_failed,
             failure_message("did not serve within " +
                             std::to_string(options.start_timeout.count()) + " ms"));
      }
      // Sleep on the pidfd, if any, so that an exit ends the wait at once.
      const auto next = std::min(deadline, Clock::now() + kReadyPollInterval);
      if (pid_fd >= 0) {
        poll_until(pid_fd, POLLIN, next);
      } else {
        std::this_thread::sleep_until(next);
      }
    }
  }

  std::string failure_message(const std::string& what) const {
    return "etcd " + what + " (" + binary + " on " + options.host + ":" +
           std::to_string(options.client_port) + ", data dir " + options.data_dir.string() +
           "); last lines of its log:\n" + tail(kMessageLogLines);
  }

  // Whether etcd failed because a port we picked was taken in the meantime. A taken port the
  // user chose is not retried: a new pick would not help, and the error says which port.
  bool lost_port_race() const {
    std::lock_guard lock(log_mutex);
    bool raced = false;
    for (const auto& line : log_lines) {
      if (line.find("address already in use") == std::string::npos) continue;
      // etcd says "listen tcp 127.0.0.1:PORT: bind: address already in use".
      const bool client =
          line.find(":" + std::to_string(options.client_port) + ":") != std::string::npos;
      const bool peer =
          line.find(":" + std::to_string(options.peer_port) + ":") != std::string::npos;
      if ((client && !client_port_auto) || (peer && !peer_port_auto) || (!client && !peer)) {
        return false;
      }
      raced = true;
    }
    return raced;
  }

  void start_with_retries() {
    for (int attempt = 0;; ++attempt) {
      try {
        start_once();
        return;
      } catch (const Error&) {
        if (!lost_port_race() || attempt >= kMaxPortRetries) throw;
      }
      // Another process took a port between our pick and etcd's bind. etcd binds its
      // listeners before it writes the data dir, but a dir of our own is cleared anyway so
      // that no member is left registered under the old peer URL.
      if (owns_data_dir) {
        std::error_code ignored;
        for (const auto& entry : std::filesystem::directory_iterator(options.data_dir, ignored)) {
          std::filesystem::remove_all(entry.path(), ignored);
        }
      }
      pick_ports();
    }
  }
};

Node::Node() : Node(NodeOptions{}) {}

Node::Node(NodeOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  Impl& impl = *impl_;
  impl.validate();
  impl.binary = resolve_binary(impl.options.binary);
  impl.client_port_auto = impl.options.client_port == 0;
  impl.peer_port_auto = impl.options.peer_port == 0;
  if (impl.options.data_dir.empty()) impl.make_temp_data_dir();
  impl.pick_ports();
  // If this throws, ~Impl reaps whatever was started and removes the temporary data dir.
  impl.start_with_retries();
  // From now on the ports are the Node's: a restart uses the same ones, as documented.
  impl.client_port_auto = false;
  impl.peer_port_auto = false;
}

// The destructor of Impl stops the node (SIGTERM, SIGKILL after stop_timeout), joins the log
// reader and removes a temporary data dir; none of that throws.
Node::~Node() = default;
Node::Node(Node&&) noexcept = default;
Node& Node::operator=(Node&&) noexcept = default;

void Node::start() {
  if (!impl_) fail(Errc::node_failed, "start() on a moved-from embedded::Node");
  if (impl_->pid > 0) {
    if (!impl_->child_exited()) return;
    // It died on its own: reap it before starting a new one.
    impl_->kill_and_reap(std::chrono::milliseconds(0));
  }
  impl_->start_with_retries();
}

void Node::stop() {
  if (impl_) impl_->kill_and_reap(impl_->options.stop_timeout);
}

bool Node::running() const { return impl_ && impl_->pid > 0 && !impl_->child_exited(); }

std::string Node::client_endpoint() const {
  if (!impl_) return {};
  return host_for_url(impl_->options.host) + ":" + std::to_string(impl_->options.client_port);
}

std::uint16_t Node::client_port() const noexcept { return impl_ ? impl_->options.client_port : 0; }

std::uint16_t Node::peer_port() const noexcept { return impl_ ? impl_->options.peer_port : 0; }

const std::string& Node::name() const noexcept {
  static const std::string empty;
  return impl_ ? impl_->options.name : empty;
}

const std::filesystem::path& Node::data_dir() const noexcept {
  static const std::filesystem::path empty;
  return impl_ ? impl_->options.data_dir : empty;
}

int Node::pid() const noexcept { return impl_ ? impl_->pid : -1; }

std::string Node::log_tail() const { return impl_ ? impl_->tail(kLogLines) : std::string(); }

}  // namespace etcdpp::embedded
