// SPDX-License-Identifier: Apache-2.0
// The embedded node's proof that an answering socket is its own child's, and its check that a
// chosen port is free, on real sockets of this process and of a child it forks.
#include "embedded/net.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "etcdpp/error.hpp"

namespace etcdpp::embedded::detail {
namespace {

// A loopback socket on a free port; listening unless `listen_too` is false.
int loopback_socket(std::uint16_t& port, bool listen_too = true) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      (listen_too && ::listen(fd, 1) != 0) ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ADD_FAILURE() << "cannot make a loopback socket";
    return -1;
  }
  port = ntohs(addr.sin_port);
  return fd;
}

TEST(NetTest, AListenerIsTheHoldersAndNotAnotherProcesss) {
  // A child that holds nothing, waiting until the pipe closes.
  int gate[2];
  ASSERT_EQ(::pipe(gate), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(gate[1]);
    char c;
    while (::read(gate[0], &c, 1) > 0) {
    }
    ::_exit(0);
  }
  ::close(gate[0]);

  std::uint16_t port = 0;
  const int fd = loopback_socket(port);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(listener_belongs_to(::getpid(), port), true);
  EXPECT_EQ(listener_belongs_to(child, port), false);
  // A process counts as the holder of what a process it started holds (a wrapper script).
  EXPECT_EQ(listener_belongs_to(::getppid(), port), true);
  ::close(fd);
  EXPECT_EQ(listener_belongs_to(::getpid(), port), false);  // nobody listens now

  ::close(gate[1]);
  int status = 0;
  ::waitpid(child, &status, 0);
}

TEST(NetTest, APortSomeoneListensOnIsNamedAsInUseAndABoundOneIsNot) {
  std::uint16_t port = 0;
  const int fd = loopback_socket(port);
  ASSERT_GE(fd, 0);
  try {
    ensure_port_free("127.0.0.1", port, "NodeOptions::client_port");
    ADD_FAILURE() << "a port with a listener was taken for free";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::node_failed);
    EXPECT_EQ(std::string(e.what()).find("127.0.0.1:" + std::to_string(port) +
                                         " is already in use by another process "
                                         "(NodeOptions::client_port)"),
              0u)
        << e.what();
  }
  ::close(fd);
  EXPECT_NO_THROW(ensure_port_free("127.0.0.1", port, "NodeOptions::client_port"));
}

}  // namespace
}  // namespace etcdpp::embedded::detail
