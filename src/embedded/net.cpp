// SPDX-License-Identifier: Apache-2.0
// Free ports and /health, on plain sockets: the library needs no HTTP client for them.
#include "embedded/net.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

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

}  // namespace

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
