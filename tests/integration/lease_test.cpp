// SPDX-License-Identifier: Apache-2.0
// Leases against a real etcd: the unary calls, keep-alive once, and the managed keep-alive that
// renews on its own and says when the lease is lost.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <algorithm>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <atomic>
#include <future>
#include <thread>
#include <random>

#include "support/test_env.hpp"

namespace etcdpp {
namespace {

using namespace std::chrono_literals;
using test::TestPrefix;

TEST(LeaseTest, GrantAttachTimeToLiveListAndRevoke) {
  Client client = test::client();
  TestPrefix p(client);
  const LeaseGrantResult lease = client.lease_grant(30s);
  EXPECT_NE(lease.id, LeaseId{0});
  EXPECT_EQ(lease.ttl, std::chrono::seconds(30));
  client.put(p("owned"), "v", {.lease = lease.id});
  EXPECT_EQ(client.get(p("owned"))->lease, lease.id);

  const LeaseTimeToLiveResult ttl = client.lease_time_to_live(lease.id, {.keys = true});
  EXPECT_EQ(ttl.granted_ttl, std::chrono::seconds(30));
  EXPECT_GT(ttl.ttl, std::chrono::seconds(0));
  EXPECT_EQ(ttl.keys, std::vector<std::string>{p("owned")});
  const auto all = client.lease_leases();
  EXPECT_NE(std::find(all.begin(), all.end(), lease.id), all.end());

  client.lease_revoke(lease.id);
  EXPECT_FALSE(client.get(p("owned")));  // its keys go with it
  EXPECT_EQ(client.lease_time_to_live(lease.id).ttl, std::chrono::seconds(-1));
  try {
    client.lease_revoke(lease.id);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::lease_not_found);
  }
}

TEST(LeaseTest, GrantWithAnIdAndADuplicateIdIsRefused) {
  Client client = test::client();
  std::random_device rd;
  const LeaseId id{static_cast<std::int64_t>(rd() & 0x7fffffff) + 1000};
  EXPECT_EQ(client.lease_grant(10s, id).id, id);
  try {
    client.lease_grant(10s, id);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::lease_exists);
  }
  client.lease_revoke(id);
}

TEST(LeaseTest, KeepAliveOnceRenewsAndAnUnknownLeaseIsAnError) {
  Client client = test::client();
  const auto lease = client.lease_grant(20s);
  const auto renewed = client.lease_keep_alive_once(lease.id);
  EXPECT_EQ(renewed.id, lease.id);
  EXPECT_EQ(renewed.ttl, std::chrono::seconds(20));
  client.lease_revoke(lease.id);
  try {
    client.lease_keep_alive_once(lease.id);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::lease_not_found);
  }
}

TEST(LeaseTest, KeptAliveLeaseOutlivesItsTtlAndItsKeysStay) {
  Client client = test::client();
  TestPrefix p(client);
  const auto lease = client.lease_grant(2s);
  KeepAlive keeper = client.keep_alive(lease.id);
  EXPECT_TRUE(keeper.alive());
  client.put(p("k"), "v", {.lease = lease.id});
  // Three TTLs: without renewals the key would be gone after the first.
  const auto until = std::chrono::steady_clock::now() + 6s;
  bool present = true;
  test::wait_until(
      [&] {
        present = present && client.get(p("k")).has_value();
        return !present || std::chrono::steady_clock::now() >= until;
      },
      8s);
  EXPECT_TRUE(present);
  EXPECT_TRUE(keeper.alive());
  EXPECT_GT(client.lease_time_to_live(lease.id).ttl, std::chrono::seconds(0));
}

TEST(LeaseTest, RevokedElsewhereIsReportedLostAsRevoked) {
  Client client = test::client();
  Client other = test::client();
  const auto lease = client.lease_grant(5s);
  std::atomic<int> calls{0};
  std::atomic<int> reason{-1};
  KeepAlive keeper = client.keep_alive(lease.id, {.on_lost = [&](LeaseId id, LeaseLoss why) {
                                         EXPECT_EQ(id, lease.id);
                                         reason = static_cast<int>(why);
                                         ++calls;
                                       }});
  other.lease_revoke(lease.id);
  ASSERT_TRUE(test::wait_until([&] { return calls == 1; }, 5s));
  EXPECT_EQ(reason, static_cast<int>(LeaseLoss::revoked));
  EXPECT_FALSE(keeper.alive());
  EXPECT_EQ(keeper.loss(), LeaseLoss::revoked);
}

TEST(LeaseTest, PausedServerLongerThanTheTtlIsReportedLostByTheDeadline) {
  embedded::Node node;
  Client client({.endpoints = {node.client_endpoint()}, .call_timeout = 5s});
  const auto lease = client.lease_grant(2s);
  std::atomic<bool> lost{false};
  KeepAlive keeper =
      client.keep_alive(lease.id, {.on_lost = [&](LeaseId, LeaseLoss) { lost = true; }});
  // A fresh renewal just before the pause: the deadline counts from it.
  client.lease_keep_alive_once(lease.id);
  const auto paused_at = std::chrono::steady_clock::now();
  test::pause_process(node.pid());
  const bool reported = test::wait_until([&] { return lost.load(); }, 6s);
  const auto took = std::chrono::steady_clock::now() - paused_at;
  test::resume_process(node.pid());
  ASSERT_TRUE(reported);
  EXPECT_EQ(keeper.loss(), LeaseLoss::expired);
  EXPECT_LE(took, 2s + 1s);
}

TEST(LeaseTest, DroppingTheKeepAliveStopsRenewalsAndCanRevoke) {
  Client client = test::client();
  TestPrefix p(client);
  const auto lease = client.lease_grant(30s);
  client.put(p("k"), "v", {.lease = lease.id});
  { KeepAlive keeper = client.keep_alive(lease.id, {.revoke_on_destroy = true}); }
  EXPECT_FALSE(client.get(p("k")));
  EXPECT_THROW(client.keep_alive(lease.id), Error);
}

TEST(LeaseTest, AHundredKeptAliveLeasesShareOneStreamAndAddNoThread) {
  Client client = test::client();
  std::vector<LeaseId> ids;
  for (int i = 0; i < 100; ++i) ids.push_back(client.lease_grant(10s).id);
  std::vector<KeepAlive> keepers;
  keepers.push_back(client.keep_alive(ids[0]));
  const auto before = test::thread_names();
  const int threads = test::thread_count();
  for (int i = 1; i < 100; ++i)
    keepers.push_back(client.keep_alive(ids[static_cast<std::size_t>(i)]));
  const auto after = test::thread_names();
  EXPECT_EQ(test::etcdpp_threads(after), test::etcdpp_threads(before)) << test::to_string(after);
  EXPECT_LE(test::thread_count(), threads + test::kGrpcPoolSlack)
      << "before: " << test::to_string(before) << "\nafter: " << test::to_string(after);
  for (const auto& k : keepers) EXPECT_TRUE(k.alive());
  keepers.clear();
  for (const auto id : ids) client.lease_revoke(id);
}

TEST(LeaseTest, AsyncKeepAliveKeepsTheLeaseAndReportsAMissingOneAsTheBlockingFaceDoes) {
  Client client = test::client();
  asio::io_context io;
  bool alive = false;
  std::string missing_words;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        const auto granted = co_await client.async_lease_grant(5s, asio::use_awaitable);
        const KeepAliveOptions options;
        KeepAlive keep = co_await client.async_keep_alive(granted.id, options, asio::use_awaitable);
        alive = keep.alive();
        try {
          co_await client.async_keep_alive(LeaseId{0x7777}, options, asio::use_awaitable);
        } catch (const Error& e) {
          if (e.code() == Errc::lease_not_found) missing_words = e.what();
        }
        keep.stop();
        co_await client.async_lease_revoke(granted.id, asio::use_awaitable);
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();  // returns once the coroutine is done: the stopped keep-alive pins nothing
  EXPECT_TRUE(alive);
  ASSERT_FALSE(missing_words.empty());
  try {
    client.keep_alive(LeaseId{0x7777});
    ADD_FAILURE() << "a missing lease was kept alive";
  } catch (const Error& e) {
    EXPECT_EQ(missing_words, e.what());
  }
}

TEST(LeaseTest, AsyncLeaseLeasesAndKeepAliveOnceAnswerAsTheBlockingFacesDo) {
  Client client = test::client();
  const auto granted = client.lease_grant(30s);
  asio::io_context io;
  std::vector<LeaseId> listed;
  std::int64_t renewed_ttl = 0;
  std::string missing_words;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        listed = co_await client.async_lease_leases(asio::use_awaitable);
        const auto renewed =
            co_await client.async_lease_keep_alive_once(granted.id, asio::use_awaitable);
        renewed_ttl = renewed.ttl.count();
        try {
          co_await client.async_lease_keep_alive_once(LeaseId{0x7778}, asio::use_awaitable);
        } catch (const Error& e) {
          if (e.code() == Errc::lease_not_found) missing_words = e.what();
        }
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  EXPECT_NE(std::find(listed.begin(), listed.end(), granted.id), listed.end());
  EXPECT_EQ(renewed_ttl, 30);
  ASSERT_FALSE(missing_words.empty());
  try {
    client.lease_keep_alive_once(LeaseId{0x7778});
    ADD_FAILURE() << "a missing lease was renewed";
  } catch (const Error& e) {
    EXPECT_EQ(missing_words, e.what());
  }
  client.lease_revoke(granted.id);
}

// A lease gone when keep_alive is made is reported by keep_alive's error alone: on_lost, which
// speaks of a kept lease lost later, is not called as well.
TEST(LeaseTest, AMissingLeaseFailsKeepAliveWithoutCallingOnLost) {
  Client client = test::client();
  asio::io_context io;  // on_lost's executor: ordered, so a marker posted later runs after it
  auto work = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  std::atomic<bool> lost{false};
  const KeepAliveOptions options{.on_lost = [&](LeaseId, LeaseLoss) { lost = true; },
                                 .executor = io.get_executor()};
  EXPECT_THROW(client.keep_alive(LeaseId{0x7779}, options), Error);
  std::promise<void> marker;
  asio::post(io, [&] { marker.set_value(); });
  EXPECT_EQ(marker.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_FALSE(lost) << "on_lost was called for a lease keep_alive never kept";
  work.reset();
  runner.join();
}

}  // namespace
}  // namespace etcdpp
