// SPDX-License-Identifier: Apache-2.0
// Election under faults: the leader's process SIGKILLed on a 3-member cluster; a new leader
// within the TTL plus etcd's election timeout, and observers see each leader once, in order.
#include <gtest/gtest.h>
#include <signal.h>

#include <asio/use_future.hpp>
#include <mutex>

#include "support/subprocess.hpp"
#include "support/test_env.hpp"

#ifndef ETCDPP_NODE_HELPER
#error "ETCDPP_NODE_HELPER must name the helper executable"
#endif

namespace etcdpp {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using concurrency::Election;
using concurrency::LeaderEvent;
using concurrency::Session;

TEST(ElectionFaultTest, ALeaderProcessKilledIsSucceededWithinItsTtlAndObserversSeeEachOnce) {
  embedded::Cluster cluster;
  cluster.wait_for_leader(10s);
  std::string endpoints;
  for (const auto& e : cluster.client_endpoints()) endpoints += (endpoints.empty() ? "" : ",") + e;
  const std::string name = "fault/election/" + std::to_string(::getpid());
  constexpr int kTtl = 3;

  std::mutex mutex;
  std::vector<std::pair<std::string, Clock::time_point>> seen;
  std::vector<concurrency::Observer> observers;
  std::vector<Client> clients;
  for (int i = 0; i < 3; ++i) {
    clients.push_back(cluster.client());
    observers.push_back(Election::observe(clients.back(), name, [&, i](std::error_code ec,
                                                                       LeaderEvent e) {
      std::lock_guard lock(mutex);
      seen.emplace_back(std::to_string(i) + " " + (ec ? "error" : e.leader ? e.leader->value : "-"),
                        Clock::now());
    }));
  }
  ASSERT_TRUE(test::wait_until(
      [&] {
        std::lock_guard lock(mutex);
        return seen.size() == 3;
      },
      10s));
  test::Subprocess first({ETCDPP_NODE_HELPER, "elect", endpoints, name, "first",
                          std::to_string(kTtl)});
  ASSERT_TRUE(first.wait_for_line("elected ", 20s));
  Client client = cluster.client();
  Session session(client, {.ttl = 10s});
  Election second(session, name);
  auto campaign = second.async_campaign("second", asio::use_future);
  ASSERT_TRUE(test::wait_until(
      [&] { return client.get(name + "/", {.prefix = true, .count_only = true}).count == 2; },
      5s));
  const auto killed = Clock::now();
  ::kill(first.pid(), SIGKILL);
  // etcd's election timeout is 1 s by default.
  ASSERT_EQ(campaign.wait_for(std::chrono::seconds(kTtl + 1 + 2)), std::future_status::ready);
  const auto took = Clock::now() - killed;
  campaign.get();
  EXPECT_LE(took, std::chrono::seconds(kTtl + 1));
  std::cout << "killed leader process (ttl " << kTtl << " s): new leader after "
            << std::chrono::duration<double, std::milli>(took).count() << " ms\n";

  // Each observer: no leader, first, (no leader), second; each leader once and in that order.
  ASSERT_TRUE(test::wait_until(
      [&] {
        std::lock_guard lock(mutex);
        return std::count_if(seen.begin(), seen.end(),
                             [](const auto& s) { return s.first.ends_with(" second"); }) == 3;
      },
      10s));
  observers.clear();
  std::lock_guard lock(mutex);
  for (int i = 0; i < 3; ++i) {
    std::vector<std::string> mine;
    for (const auto& [what, at] : seen) {
      if (what.starts_with(std::to_string(i) + " ")) mine.push_back(what.substr(2));
    }
    std::vector<std::string> leaders;
    for (const auto& m : mine) {
      if (m != "-") leaders.push_back(m);
    }
    EXPECT_EQ(leaders, (std::vector<std::string>{"first", "second"})) << i;
    EXPECT_EQ(mine.front(), "-") << i;
  }
  second.resign();
}

}  // namespace
}  // namespace etcdpp
