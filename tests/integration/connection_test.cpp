// SPDX-License-Identifier: Apache-2.0
// How Clients map to TCP connections: each Client object has its own, and its copies share it
// (gRPC would otherwise share one connection between equal channels of the whole process); and
// what Client::connection_info says of each endpoint.
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

TEST(ConnectionTest, ConnectionInfoTellsEachEndpointsStateLeaderAndStreams) {
  using namespace std::chrono_literals;
  const std::string good = test::node().client_endpoint();
  const std::string dead = "127.0.0.1:" + std::to_string(test::free_ports(1)[0]);
  const Client client({.endpoints = {good, dead}, .call_timeout = 2s});

  auto info = client.connection_info();
  ASSERT_EQ(info.size(), 2u);
  EXPECT_EQ(info[0].endpoint, good);
  EXPECT_EQ(info[1].endpoint, dead);
  for (const auto& e : info) {
    EXPECT_EQ(e.state, EndpointInfo::State::idle) << e.endpoint;
    EXPECT_FALSE(e.is_leader) << e.endpoint;
    EXPECT_EQ(e.streams, 0u) << e.endpoint;
  }

  const auto statuses = client.maintenance().status_all();
  ASSERT_TRUE(statuses[0].ok()) << statuses[0].message;
  ASSERT_FALSE(statuses[1].ok());
  const auto watch = client.watch("connection-info-test/", {.prefix = true});
  info = client.connection_info();
  EXPECT_EQ(info[0].state, EndpointInfo::State::connected);
  EXPECT_EQ(info[0].is_leader, std::optional<bool>(true));
  EXPECT_EQ(info[0].streams, 1u);
  EXPECT_FALSE(info[0].next_retry);
  EXPECT_EQ(info[1].state, EndpointInfo::State::failing);
  ASSERT_TRUE(info[1].next_retry);
  EXPECT_LE(*info[1].next_retry, std::chrono::system_clock::now() + 2s);
  EXPECT_FALSE(info[1].is_leader);
  EXPECT_EQ(info[1].streams, 0u);

  // The table: a header and a line per endpoint, columns aligned.
  const std::string table = to_string(info);
  std::vector<std::string> lines;
  std::istringstream in(table);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 3u) << table;
  EXPECT_TRUE(lines[0].starts_with("ENDPOINT")) << table;
  const auto state_column = lines[0].find("STATE");
  const auto leader_column = lines[0].find("LEADER");
  EXPECT_EQ(lines[1].find("connected"), state_column) << table;
  EXPECT_EQ(lines[2].find("failing (retry in "), state_column) << table;
  EXPECT_EQ(lines[1].find("yes"), leader_column) << table;
  EXPECT_EQ(lines[2].find("?"), leader_column) << table;
  EXPECT_TRUE(lines[1].starts_with(good)) << table;
  EXPECT_TRUE(lines[1].ends_with("1")) << table;
  EXPECT_TRUE(lines[2].ends_with("0")) << table;
}

}  // namespace
}  // namespace etcdpp
