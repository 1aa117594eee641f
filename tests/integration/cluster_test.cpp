// SPDX-License-Identifier: Apache-2.0
// Cluster.MemberList against a real etcd, in both faces.
#include <gtest/gtest.h>

#include <asio/use_future.hpp>

#include "support/test_env.hpp"

namespace etcdpp {
namespace {

using namespace std::chrono_literals;

TEST(ClusterApiTest, MemberListOfASingleNodeNamesItAndItsUrls) {
  const Client client = test::client();
  const std::vector<Member> members = client.member_list();
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].id, client.status().header.member_id);
  EXPECT_EQ(members[0].name, test::node().name());
  ASSERT_EQ(members[0].client_urls.size(), 1u);
  EXPECT_EQ(members[0].client_urls[0], "http://" + test::node().client_endpoint());
  ASSERT_EQ(members[0].peer_urls.size(), 1u);
  EXPECT_NE(members[0].peer_urls[0].find(std::to_string(test::node().peer_port())),
            std::string::npos);
  EXPECT_FALSE(members[0].is_learner);
}

TEST(ClusterApiTest, AsyncMemberListGivesTheSameMembers) {
  const Client client = test::client();
  auto future = client.async_member_list(asio::use_future);
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(future.get(), client.member_list());
}

}  // namespace
}  // namespace etcdpp
