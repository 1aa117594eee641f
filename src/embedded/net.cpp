// SPDX-License-Identifier: Apache-2.0
// Free ports and /health, on plain sockets: the library needs no HTTP client for them.
#include "embedded/net.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "etcdpp/error.hpp"

namespace etcdpp::embedded::detail {
namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(Errc errc, const std::string& message) {
  throw_error(make_error_code(errc), message);
}

std::string errno_text(int err) { return std::generic_category().message(err); }

// Resolves `host:port` to one socket address. Numeric hosts need no DNS; names work too.
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

// The inodes of the TCP sockets in LISTEN state on `port`, from one /proc/net table, whose
// lines read "sl local_address(hex ip:hex port) rem_address st ... uid timeout inode ...".
bool listening_inodes(const char* table, std::uint16_t port, std::set<std::string>& inodes) {
  std::ifstream in(table);
  if (!in) return false;
  std::string line;
  std::getline(in, line);  // the header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
    fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
        timeout >> inode;
    const auto colon = local.rfind(':');
    if (!fields || colon == std::string::npos || state != "0A") continue;  // 0A: LISTEN
    if (std::stoul(local.substr(colon + 1), nullptr, 16) == port) inodes.insert(inode);
  }
  return true;
}

// The parent of `pid`, from /proc/<pid>/stat ("pid (comm) state ppid ..."); -1 if unknown.
pid_t parent_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');  // comm may hold spaces and parentheses
  if (close == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close + 1));
  std::string state;
  pid_t parent = -1;
  rest >> state >> parent;
  return rest ? parent : -1;
}

// Whether process `pid` has one of `inodes` among its open files.
bool holds_socket(pid_t pid, const std::set<std::string>& inodes) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/fd";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return false;
  bool found = false;
  char target[128];
  while (const dirent* entry = ::readdir(d)) {
    const std::string path = dir + "/" + entry->d_name;
    const ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
    if (n <= 0) continue;
    const std::string link(target, static_cast<std::size_t>(n));
    if (link.starts_with("socket:[") && inodes.contains(link.substr(8, link.size() - 9))) {
      found = true;
      break;
    }
  }
  ::closedir(d);
  return found;
}

}  // namespace

void ensure_port_free(const std::string& host, std::uint16_t port, std::string_view what) {
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  if (!resolve(host, port, addr, addr_len)) return;  // etcd will say what is wrong with it
  FdGuard fd(::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return;
  // SO_REUSEADDR, as etcd binds: only a socket that listens there now makes the bind fail,
  // not a connection of an earlier run lingering in TIME_WAIT.
  const int on = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), addr_len) == 0) return;
  if (errno != EADDRINUSE) return;
  fail(Errc::node_failed, host_for_url(host) + ":" + std::to_string(port) +
                              " is already in use by another process (" + std::string(what) +
                              "); stop that process, or choose another port (0 picks a free one)");
}

std::optional<bool> listener_belongs_to(pid_t pid, std::uint16_t port) {
  std::set<std::string> inodes;
  const bool v4 = listening_inodes("/proc/net/tcp", port, inodes);
  const bool v6 = listening_inodes("/proc/net/tcp6", port, inodes);
  if (!v4 && !v6) return std::nullopt;
  if (inodes.empty()) return false;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return std::nullopt;
  std::vector<pid_t> owners;
  while (const dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    const long candidate = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0') continue;
    if (holds_socket(static_cast<pid_t>(candidate), inodes)) {
      owners.push_back(static_cast<pid_t>(candidate));
    }
  }
  ::closedir(proc);
  for (pid_t owner : owners) {
    // `pid` itself, or a process it started (a wrapper script that runs etcd).
    for (pid_t p = owner; p > 1; p = parent_of(p)) {
      if (p == pid) return true;
    }
  }
  return false;
}

std::string host_for_url(const std::string& host) {
  return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

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

// etcd 3.4 answers {"health":"true"} on its
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

}  // namespace etcdpp::embedded::detail
