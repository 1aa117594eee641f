// SPDX-License-Identifier: Apache-2.0
// The Cluster API against a real etcd, in both faces: the member list, and the errors of adding,
// removing, updating and promoting members (a learner that never starts changes no quorum).
#include <gtest/gtest.h>

#include <asio/use_future.hpp>
#include <cstdio>

#include "support/test_env.hpp"

namespace etcdpp {
namespace {

using namespace std::chrono_literals;

TEST(ClusterApiTest, MemberListOfASingleNodeNamesItAndItsUrls) {
  const Client client = test::client();
  const std::vector<Member> members = client.cluster().member_list();
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].id, client.maintenance().status().header.member_id);
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
  auto future = client.cluster().async_member_list(asio::use_future);
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(future.get(), client.cluster().member_list());
}

// An id no member has (ids are random 64-bit numbers).
constexpr MemberId kNoSuchMember{0x1234abcd5678ef90};

TEST(ClusterApiTest, MemberIdsPrintAsEtcdctlPrintsThem) {
  EXPECT_EQ(to_string(kNoSuchMember), "1234abcd5678ef90");
  EXPECT_EQ(to_string(MemberId{0x8e9e05c52164694d}), "8e9e05c52164694d");
  EXPECT_EQ(to_string(MemberId{0xa}), "a");
  EXPECT_EQ(to_string(MemberId{}), "0");
}

TEST(ClusterApiTest, RemovingUpdatingOrPromotingAnUnknownMemberIsMemberNotFoundNamingIt) {
  const Client client = test::client();
  const auto expect_not_found = [](const auto& call, const char* name) {
    try {
      call();
      FAIL() << name << " of an unknown member returned";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::member_not_found) << e.what();
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("member " + to_string(kNoSuchMember)), std::string::npos)
          << e.what();
    }
  };
  expect_not_found([&] { client.cluster().member_remove(kNoSuchMember); }, "member_remove");
  expect_not_found([&] { client.cluster().member_update(kNoSuchMember, {"http://127.0.0.1:1"}); },
                   "member_update");
  expect_not_found([&] { client.cluster().member_promote(kNoSuchMember); }, "member_promote");
}

TEST(ClusterApiTest, AddingAPeerUrlInUseIsPeerUrlExistsAndPromotingAVoterIsRefused) {
  const Client client = test::client();
  const Member self = client.cluster().member_list().at(0);
  try {
    client.cluster().member_add(self.peer_urls);
    FAIL() << "member_add of a peer URL in use returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::peer_url_exists) << e.what();
    EXPECT_NE(std::string(e.what()).find(self.peer_urls[0]), std::string::npos) << e.what();
  }
  try {
    client.cluster().member_promote(self.id);
    FAIL() << "member_promote of a voter returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::member_not_learner) << e.what();
  }
  EXPECT_EQ(client.cluster().member_list().size(), 1u);
}

TEST(ClusterApiTest, ALearnerIsAddedUpdatedNotPromotedBeforeItSyncsAndRemoved) {
  const Client client = test::client();
  const auto free = test::free_ports(2);
  const std::string url = "http://127.0.0.1:" + std::to_string(free[0]);
  const std::string moved = "http://127.0.0.1:" + std::to_string(free[1]);

  auto future = client.cluster().async_member_add(std::vector<std::string>{url}, {.learner = true}, asio::use_future);
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  const MemberAddResult added = future.get();
  EXPECT_NE(added.member.id, MemberId{});
  EXPECT_TRUE(added.member.is_learner);
  EXPECT_EQ(added.member.peer_urls, std::vector<std::string>{url});
  EXPECT_TRUE(added.member.name.empty());
  ASSERT_EQ(added.members.size(), 2u);
  EXPECT_EQ(client.cluster().member_list().size(), 2u);

  const MemberUpdateResult updated = client.cluster().member_update(added.member.id, {moved});
  bool seen = false;
  for (const auto& m : updated.members) {
    if (m.id == added.member.id) {
      seen = true;
      EXPECT_EQ(m.peer_urls, std::vector<std::string>{moved});
    }
  }
  EXPECT_TRUE(seen);

  // It never started, so it is not in sync with the leader.
  try {
    client.cluster().member_promote(added.member.id);
    FAIL() << "member_promote of a learner that never started returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::learner_not_ready) << e.what();
    EXPECT_NE(std::string(e.what()).find(to_string(added.member.id)), std::string::npos) << e.what();
  }

  auto removed = client.cluster().async_member_remove(added.member.id, asio::use_future);
  ASSERT_EQ(removed.wait_for(10s), std::future_status::ready);
  const MemberRemoveResult left = removed.get();
  ASSERT_EQ(left.members.size(), 1u);
  EXPECT_EQ(left.members[0].id, client.maintenance().status().header.member_id);
  EXPECT_EQ(client.cluster().member_list().size(), 1u);
}

}  // namespace
}  // namespace etcdpp
