// SPDX-License-Identifier: Apache-2.0
// The Cluster and Maintenance APIs on a three-member embedded::Cluster: members added and
// removed at run time, hashes that agree across members, leadership moved on request, and the
// status of every endpoint with one member dead.
#include <gtest/gtest.h>

#include <asio/use_future.hpp>
#include <set>

#include "support/test_env.hpp"

namespace etcdpp::embedded {
namespace {

using namespace std::chrono_literals;
using test::wait_until;

ClusterOptions fast() {
  ClusterOptions options;
  options.heartbeat_interval = 30ms;
  options.election_timeout = 300ms;
  return options;
}

TEST(MembershipTest, AnAddedMemberServesEarlierWritesAndARemovedOneIsGone) {
  Cluster cluster(fast());
  test::TestPrefix p(cluster.client());
  for (int i = 0; i < 20; ++i) cluster.client().put(p(std::to_string(i)), "before");

  Node& first = cluster.node(0);  // held across add_member: it must stay valid
  const std::string first_endpoint = first.client_endpoint();
  const std::size_t added = cluster.add_member();
  EXPECT_EQ(first.client_endpoint(), first_endpoint);
  EXPECT_TRUE(first.ready());
  EXPECT_EQ(added, 3u);
  EXPECT_EQ(cluster.size(), 4u);
  ASSERT_TRUE(cluster.node(added).ready());
  EXPECT_EQ(cluster.node(added).name(), "node3");
  const auto value = cluster.node(added).client().get(p("19"));
  ASSERT_TRUE(value);
  EXPECT_EQ(value->value, "before");
  const auto members = cluster.client().cluster().member_list();
  ASSERT_EQ(members.size(), 4u);
  std::set<MemberId> ids;
  for (const auto& m : members) ids.insert(m.id);
  EXPECT_TRUE(ids.contains(cluster.node(added).member_id()));
  EXPECT_EQ(cluster.client_endpoints().size(), 4u);

  cluster.remove_member(added);
  EXPECT_TRUE(cluster.removed(added));
  EXPECT_FALSE(cluster.node(added).running());
  EXPECT_EQ(cluster.node(added).pid(), -1);
  EXPECT_EQ(cluster.client().cluster().member_list().size(), 3u);
  EXPECT_EQ(cluster.client_endpoints().size(), 3u);
}

TEST(MembershipTest, ARemovedMemberIsGoneAndCannotBeRestarted) {
  Cluster cluster(fast());
  test::TestPrefix p(cluster.client());
  const MemberId removed_id = cluster.node(0).member_id();
  cluster.remove_member(0);
  EXPECT_TRUE(cluster.removed(0));
  EXPECT_FALSE(cluster.node(0).running());
  EXPECT_EQ(cluster.node(0).pid(), -1);
  for (const auto& m : cluster.client().cluster().member_list()) EXPECT_NE(m.id, removed_id);
  EXPECT_EQ(cluster.client().cluster().member_list().size(), 2u);
  EXPECT_EQ(cluster.client_endpoints().size(), 2u);
  cluster.client().put(p("after"), "removed");
  EXPECT_EQ(cluster.node(2).client().get(p("after"))->value, "removed");

  try {
    cluster.restart(0);
    FAIL() << "restart of a removed member returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_option) << e.what();
    EXPECT_NE(std::string(e.what()).find("node0 was removed"), std::string::npos) << e.what();
  }
  try {
    cluster.remove_member(0);
    FAIL() << "a second remove_member(0) returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_option) << e.what();
  }
}

TEST(MembershipTest, RemovingTheLeaderReturnsOnceTheOthersFollowANewOne) {
  Cluster cluster(fast());
  test::TestPrefix p(cluster.client());
  const std::size_t leader = cluster.wait_for_leader(5000ms);
  const MemberId removed_id = cluster.node(leader).member_id();
  cluster.remove_member(leader);
  // At once, with no wait: each member left already follows one of the two.
  std::set<MemberId> left;
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    if (i != leader) left.insert(cluster.node(i).member_id());
  }
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    if (i == leader) continue;
    const auto status = cluster.client().maintenance().status(cluster.node(i).client_endpoint());
    EXPECT_NE(status.leader, removed_id) << cluster.node(i).name();
    EXPECT_EQ(left.count(status.leader), 1u) << cluster.node(i).name() << " follows "
                                             << to_string(status.leader);
  }
  // And a write right after it is not lost on its way to the member gone.
  cluster.client().with_timeout(2000ms).put(p("after"), "new leader");
  EXPECT_EQ(cluster.client().get(p("after"))->value, "new leader");
}

TEST(MembershipTest, HashKvIsEqualOnEveryMemberAfterWrites) {
  Cluster cluster(fast());
  test::TestPrefix p(cluster.client());
  std::int64_t revision = 0;
  for (int i = 0; i < 50; ++i) {
    revision = cluster.client().put(p(std::to_string(i)), std::to_string(i)).header.revision;
  }
  const Client client = cluster.client();
  std::set<std::uint32_t> hashes;
  for (const auto& endpoint : cluster.client_endpoints()) {
    // A follower may not have applied the revision yet: it says it is a future one.
    std::optional<HashKvResult> result;
    ASSERT_TRUE(wait_until(
        [&] {
          try {
            result = client.maintenance().hash_kv(endpoint, revision);
            return true;
          } catch (const Error& e) {
            EXPECT_EQ(e.code(), Errc::future_revision) << e.what();
            return false;
          }
        },
        5s));
    hashes.insert(result->hash);
  }
  EXPECT_EQ(hashes.size(), 1u);
  EXPECT_NE(*hashes.begin(), 0u);
}

TEST(MembershipTest, MoveLeaderMakesTheTargetLeader) {
  Cluster cluster(fast());
  const std::size_t leader = cluster.wait_for_leader(5s);
  const std::size_t target = (leader + 1) % cluster.size();
  auto future =
      cluster.client().maintenance().async_move_leader(cluster.node(target).member_id(), asio::use_future);
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  const MoveLeaderResult moved = future.get();
  EXPECT_EQ(moved.previous_leader, cluster.node(leader).member_id());
  EXPECT_TRUE(wait_until([&] { return cluster.leader_index() == target; }, 5s));

  try {
    cluster.client().maintenance().move_leader(MemberId{0x1234abcd5678ef90});
    FAIL() << "move_leader to an unknown member returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::bad_leader_transferee) << e.what();
    EXPECT_NE(std::string(e.what()).find("1234abcd5678ef90"), std::string::npos) << e.what();
  }
}

TEST(MembershipTest, StatusAllWithOneMemberKilledGivesTwoStatusesAndOneError) {
  Cluster cluster(fast());
  const auto endpoints = cluster.client_endpoints();
  cluster.kill(2);
  const Client client({.endpoints = endpoints, .call_timeout = 2s});
  const auto statuses = client.maintenance().status_all();
  ASSERT_EQ(statuses.size(), 3u);
  for (std::size_t i = 0; i < 2; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << statuses[i].message;
    EXPECT_EQ(statuses[i].endpoint, endpoints[i]);
    EXPECT_EQ(statuses[i].status->header.member_id, cluster.node(i).member_id());
  }
  EXPECT_FALSE(statuses[2].ok());
  EXPECT_EQ(statuses[2].error, Errc::unavailable) << statuses[2].message;
  EXPECT_NE(statuses[2].message.find(endpoints[2]), std::string::npos) << statuses[2].message;
}

TEST(MembershipTest, AutoSyncLearnsTheOtherMembersAndSurvivesTheFirstOnesDeath) {
  Cluster cluster(fast());
  const auto endpoints = cluster.client_endpoints();
  const Client client(
      {.endpoints = {endpoints[0]}, .call_timeout = 3s, .auto_sync_interval = 100ms});
  ASSERT_TRUE(wait_until([&] { return client.endpoints().size() == 3; }, 5s));
  std::set<std::string> known;
  for (const auto& e : client.endpoints()) known.insert(e.to_string());
  EXPECT_EQ(known, std::set<std::string>(endpoints.begin(), endpoints.end()));
  EXPECT_EQ(client.connection_info().size(), 3u);

  test::TestPrefix p(cluster.client());
  client.put(p("before"), "1");
  cluster.kill(0);
  // A write sent just as its member dies may fail without knowing whether it was applied
  // (unavailable: it is not sent again on its own); the client then goes on elsewhere.
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(wait_until(
        [&] {
          try {
            client.put(p(std::to_string(i)), "after");
            return true;
          } catch (const Error& e) {
            if (!is_transient(e.code())) throw;
            return false;
          }
        },
        5s));
  }
  const auto got = client.get(p("4"));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->value, "after");
  EXPECT_EQ(client.endpoints().size(), 3u);
}

}  // namespace
}  // namespace etcdpp::embedded
