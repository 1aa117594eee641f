// SPDX-License-Identifier: Apache-2.0
// Maintenance.Status against a real etcd: a member describes itself, in both faces.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/use_future.hpp>

#include "support/test_env.hpp"

namespace etcdpp {
namespace {

using namespace std::chrono_literals;

TEST(MaintenanceTest, StatusOfASingleNodeSaysItIsItsOwnLeader) {
  const StatusResult status = test::client().status();
  EXPECT_NE(status.header.member_id, 0u);
  EXPECT_NE(status.header.cluster_id, 0u);
  EXPECT_EQ(status.leader, status.header.member_id);
  EXPECT_TRUE(status.version.starts_with("3.")) << status.version;
  EXPECT_GT(status.raft_term, 0u);
  EXPECT_GT(status.raft_index, 0u);
  EXPECT_GT(status.db_size, 0);
  EXPECT_GT(status.db_size_in_use, 0);
  EXPECT_TRUE(status.errors.empty());
  EXPECT_FALSE(status.is_learner);
}

TEST(MaintenanceTest, AsyncStatusGivesTheSameMember) {
  const Client client = test::client();
  auto future = client.async_status(asio::use_future);
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  const StatusResult status = future.get();
  EXPECT_EQ(status.header.member_id, client.status().header.member_id);
  EXPECT_EQ(status.leader, status.header.member_id);
}

TEST(MaintenanceTest, StatusOfAnUnreachableEndpointThrowsUnavailableNamingIt) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  const std::string endpoint = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  const Client client({.endpoints = {endpoint}, .call_timeout = 500ms});
  try {
    client.status();
    FAIL() << "status() of a closed port returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::unavailable) << e.what();
    EXPECT_NE(std::string(e.what()).find(endpoint), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace etcdpp
