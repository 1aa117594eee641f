// SPDX-License-Identifier: Apache-2.0
// Sessions against a real etcd: a lease granted or adopted and kept alive, told when it is lost,
// revoked when closed.
#include <gtest/gtest.h>

#include <asio/use_future.hpp>
#include <atomic>

#include "support/test_env.hpp"

namespace etcdpp {
namespace {

using namespace std::chrono_literals;
using concurrency::Session;
using concurrency::SessionOptions;
using concurrency::SessionState;
using test::TestPrefix;

TEST(SessionTest, GrantsASixtySecondLeaseByDefaultAndRevokesItWhenClosed) {
  Client client = test::client();
  TestPrefix p(client);
  Session session(client);
  EXPECT_EQ(session.ttl(), 60s);
  EXPECT_TRUE(session.alive());
  EXPECT_EQ(client.lease_time_to_live(session.lease()).granted_ttl, std::chrono::seconds(60));
  client.put(p("k"), "v", {.lease = session.lease()});
  session.close();
  EXPECT_EQ(session.state(), SessionState::closed);
  EXPECT_FALSE(client.get(p("k")));
  EXPECT_EQ(client.lease_time_to_live(session.lease()).ttl, std::chrono::seconds(-1));
  session.close();  // idempotent
}

TEST(SessionTest, DestroyingRevokesAndOrphanLeavesTheLeaseToLive) {
  Client client = test::client();
  LeaseId destroyed{};
  {
    Session session(client, {.ttl = 10s});
    destroyed = session.lease();
  }
  EXPECT_EQ(client.lease_time_to_live(destroyed).ttl, std::chrono::seconds(-1));

  Session orphaned(client, {.ttl = 10s});
  orphaned.orphan();
  EXPECT_EQ(orphaned.state(), SessionState::closed);
  EXPECT_GT(client.lease_time_to_live(orphaned.lease()).ttl, std::chrono::seconds(0));
  client.lease_revoke(orphaned.lease());
}

TEST(SessionTest, AdoptsAnExistingLeaseAndRefusesOneThatIsGone) {
  Client client = test::client();
  const auto lease = client.lease_grant(20s);
  {
    Session session(client, {.lease = lease.id});
    EXPECT_EQ(session.lease(), lease.id);
    EXPECT_EQ(session.ttl(), 20s);
  }
  EXPECT_EQ(client.lease_time_to_live(lease.id).ttl, std::chrono::seconds(-1));  // closed: revoked
  try {
    Session gone(client, {.lease = lease.id});
    ADD_FAILURE() << "adopted a revoked lease";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::lease_not_found);
    EXPECT_NE(std::string(e.what()).find("to adopt"), std::string::npos) << e.what();
  }
}

TEST(SessionTest, ATtlBelowTwoSecondsIsRefusedWithAClearError) {
  Client client = test::client();
  try {
    Session session(client, {.ttl = 1s});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_option);
    EXPECT_NE(std::string(e.what()).find("at least 2 s"), std::string::npos) << e.what();
  }
}

TEST(SessionTest, ARevokedLeaseIsReportedLostOnceAndQueryable) {
  Client client = test::client();
  std::atomic<int> calls{0};
  std::atomic<SessionState> reported{SessionState::alive};
  Session session(client, {.ttl = 10s, .on_lost = [&](SessionState s) {
                             reported = s;
                             ++calls;
                           }});
  client.lease_revoke(session.lease());
  ASSERT_TRUE(test::wait_until([&] { return calls.load() == 1; }, 10s));
  EXPECT_EQ(reported.load(), SessionState::revoked);
  EXPECT_EQ(session.state(), SessionState::revoked);
  session.close();  // nothing to revoke; no error, no second call
  EXPECT_EQ(calls.load(), 1);
}

TEST(SessionTest, AsyncCreateCompletesWithALiveSession) {
  Client client = test::client();
  auto future = Session::async_create(client, {.ttl = 5s}, asio::use_future);
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  Session session = future.get();
  EXPECT_TRUE(session.alive());
  EXPECT_GT(client.lease_time_to_live(session.lease()).ttl, std::chrono::seconds(0));

  auto refused = Session::async_create(client, {.lease = LeaseId{123456789}}, asio::use_future);
  try {
    refused.get();
    ADD_FAILURE();
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), Errc::lease_not_found);
  }
}

}  // namespace
}  // namespace etcdpp
