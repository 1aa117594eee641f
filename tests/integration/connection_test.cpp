// SPDX-License-Identifier: Apache-2.0
// How Clients map to TCP connections: each Client object has its own, and its copies share it
// (gRPC would otherwise share one connection between equal channels of the whole process).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "support/test_env.hpp"

namespace etcdpp {
namespace {

/// The established TCP connections of this process to 127.0.0.1:`port`, from /proc/net/tcp and
/// /proc/net/tcp6 (gRPC connects through dual-stack sockets, so an IPv4 peer may appear there as
/// ::ffff:127.0.0.1), keeping only the sockets whose inode is one of this process's descriptors.
int connections_to(std::uint16_t port) {
  std::set<unsigned long> mine;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    const auto target = std::filesystem::read_symlink(fd.path(), ec).string();
    unsigned long inode = 0;
    if (!ec && std::sscanf(target.c_str(), "socket:[%lu]", &inode) == 1) mine.insert(inode);
  }
  int count = 0;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream tcp(table);
    std::string line;
    std::getline(tcp, line);  // header
    while (std::getline(tcp, line)) {
      std::istringstream in(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout;
      unsigned long inode = 0;
      in >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >>
          inode;
      const auto colon = remote.find(':');
      if (colon == std::string::npos || state != "01") continue;  // 01: ESTABLISHED
      const auto remote_port = std::stoul(remote.substr(colon + 1), nullptr, 16);
      const std::string address = remote.substr(0, colon);
      const bool loopback = address == "0100007F" ||                        // 127.0.0.1
                            address == "0000000000000000FFFF00000100007F";  // ::ffff:127.0.0.1
      if (loopback && remote_port == port && mine.count(inode)) ++count;
    }
  }
  return count;
}

TEST(ConnectionTest, EachClientHasItsOwnConnectionAndItsCopiesShareIt) {
  const std::uint16_t port = test::node().client_port();
  const int before = connections_to(port);
  Client a = test::client();
  Client b = test::client();  // same endpoint, same options
  Client a_copy = a;
  (void)a.get("connection-test");
  (void)b.get("connection-test");
  (void)a_copy.get("connection-test");
  EXPECT_EQ(connections_to(port), before + 2);
}

}  // namespace
}  // namespace etcdpp
