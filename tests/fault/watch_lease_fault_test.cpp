// SPDX-License-Identifier: Apache-2.0
// Watches and kept-alive leases on a 3-node embedded cluster while members are killed,
// restarted and paused: no event lost or repeated, no lease lost while a quorum lives, and a
// lease reported lost by its deadline when none does.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "support/test_env.hpp"

namespace etcdpp {
namespace {

using namespace std::chrono_literals;

/// Collects every event a watch delivers.
struct Sink {
  std::mutex mutex;
  std::vector<Event> events;
  std::optional<std::error_code> ended;
  std::size_t size() {
    std::lock_guard lock(mutex);
    return events.size();
  }
  Watch::Callback callback() {
    return [this](std::error_code ec, WatchBatch b) {
      std::lock_guard lock(mutex);
      if (ec) ended = ec;
      for (auto& e : b.events) events.push_back(std::move(e));
    };
  }
};

/// Writes keys prefix+0..n-1 once each, retrying through failures: a create-if-absent txn, so
/// that a retry of a write that was applied after all adds no second event.
class Writer {
 public:
  Writer(Client client, std::string prefix, int n)
      : client_(std::move(client)), prefix_(std::move(prefix)), n_(n), thread_([this] { run(); }) {}
  ~Writer() {
    stop_ = true;
    thread_.join();
  }
  int written() const { return written_; }
  bool done() const { return written_ == n_; }

 private:
  void run() {
    const auto give_up = std::chrono::steady_clock::now() + 120s;
    for (int i = 0; i < n_ && !stop_ && std::chrono::steady_clock::now() < give_up;) {
      const std::string key = prefix_ + std::to_string(100000 + i);
      try {
        client_.txn(Txn{}.if_(Compare::create_revision(key) == 0).then(Op::put(key, "v")));
        ++i;
        written_ = i;
      } catch (const Error& e) {
        if (!is_transient(e.code())) throw;
      }
    }
  }
  Client client_;
  std::string prefix_;
  int n_;
  std::atomic<bool> stop_{false};
  std::atomic<int> written_{0};
  std::thread thread_;
};

void expect_exactly(Sink& sink, Client& client, const std::string& prefix, std::size_t n) {
  std::lock_guard lock(sink.mutex);
  ASSERT_EQ(sink.events.size(), n);
  std::set<std::string> keys;
  for (std::size_t i = 0; i < sink.events.size(); ++i) {
    if (i > 0) {
      EXPECT_LT(sink.events[i - 1].kv.mod_revision, sink.events[i].kv.mod_revision) << i;
    }
    keys.insert(sink.events[i].kv.key);
  }
  EXPECT_EQ(keys.size(), n) << "an event was repeated";
  const GetResult truth = client.get(prefix, {.prefix = true, .keys_only = true});
  std::set<std::string> stored;
  for (const auto& kv : truth.kvs) stored.insert(kv.key);
  EXPECT_EQ(keys, stored);
}

TEST(WatchFaultTest, FiveThousandPutsArriveOnceInOrderWhileLeadersDieAndFollowersPause) {
  embedded::Cluster cluster;
  cluster.wait_for_leader(10s);
  Client client = cluster.client();
  const std::string prefix = "fault/watch/";
  Sink sink;
  Watch watch = client.watch(prefix, {.prefix = true}, sink.callback());
  Writer writer(cluster.client(), prefix, 5000);

  auto progress = [&](int at_least) {
    ASSERT_TRUE(test::wait_until([&] { return writer.written() >= at_least; }, 60s));
  };
  progress(500);
  std::size_t old_leader = cluster.wait_for_leader(10s);
  cluster.kill(old_leader);
  cluster.wait_for_leader(10s);
  progress(1500);
  cluster.restart(old_leader);
  progress(2500);
  const std::size_t follower = (cluster.wait_for_leader(10s) + 1) % 3;
  cluster.pause(follower);
  progress(3000);
  cluster.resume(follower);
  old_leader = cluster.wait_for_leader(10s);
  cluster.kill(old_leader);
  cluster.wait_for_leader(10s);
  progress(4000);
  cluster.restart(old_leader);

  ASSERT_TRUE(test::wait_until([&] { return writer.done(); }, 90s)) << writer.written();
  ASSERT_TRUE(test::wait_until([&] { return sink.size() >= 5000; }, 30s)) << sink.size();
  EXPECT_FALSE(sink.ended);
  expect_exactly(sink, client, prefix, 5000);
}

TEST(WatchFaultTest, WatchContinuesWhenTheMemberCarryingItsStreamIsKilled) {
  embedded::Cluster cluster;
  cluster.wait_for_leader(10s);
  // Endpoint 0 first: the stream starts on member 0.
  Client client = cluster.client();
  Sink sink;
  Watch watch = client.watch("fault/carrier/", {.prefix = true}, sink.callback());
  Client writer = cluster.client();
  for (int i = 0; i < 100; ++i) writer.put("fault/carrier/" + std::to_string(1000 + i), "v");
  ASSERT_TRUE(test::wait_until([&] { return sink.size() == 100; }, 20s));
  cluster.kill(0);
  cluster.wait_for_leader(10s);
  Writer more(cluster.client(), "fault/carrier/", 200);  // keys 100000.. after the first 100
  ASSERT_TRUE(test::wait_until([&] { return more.done(); }, 60s));
  ASSERT_TRUE(test::wait_until([&] { return sink.size() >= 300; }, 30s)) << sink.size();
  expect_exactly(sink, writer, "fault/carrier/", 300);
}

TEST(LeaseFaultTest, KeptAliveLeaseSurvivesTwoLeaderKills) {
  embedded::Cluster cluster;
  cluster.wait_for_leader(10s);
  Client client = cluster.client();
  const auto lease = client.lease_grant(5s);
  client.put("fault/lease/key", "v", {.lease = lease.id});
  std::atomic<bool> lost{false};
  KeepAlive keeper = client.keep_alive(lease.id, {.on_lost = [&](LeaseId, LeaseLoss) { lost = true; }});
  for (int round = 0; round < 2; ++round) {
    const std::size_t leader = cluster.wait_for_leader(10s);
    cluster.kill(leader);
    cluster.wait_for_leader(10s);
    // Past a whole TTL with the new leader: renewals must have gone on.
    const auto until = std::chrono::steady_clock::now() + 6s;
    test::wait_until([&] { return lost.load() || std::chrono::steady_clock::now() >= until; }, 8s);
    EXPECT_FALSE(lost.load()) << "round " << round;
    cluster.restart(leader);
  }
  EXPECT_TRUE(keeper.alive());
  EXPECT_EQ(client.get("fault/lease/key")->value, "v");
}

TEST(LeaseFaultTest, AllMembersPausedLongerThanTheTtlIsLostWithinTtlPlusOneSecond) {
  embedded::Cluster cluster;
  cluster.wait_for_leader(10s);
  Client client = cluster.client();
  const auto lease = client.lease_grant(3s);
  std::atomic<bool> lost{false};
  KeepAlive keeper = client.keep_alive(lease.id, {.on_lost = [&](LeaseId, LeaseLoss) { lost = true; }});
  client.lease_keep_alive_once(lease.id);
  const auto last_renewal = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < 3; ++i) cluster.pause(i);
  const bool reported = test::wait_until([&] { return lost.load(); }, 8s);
  const auto took = std::chrono::steady_clock::now() - last_renewal;
  for (std::size_t i = 0; i < 3; ++i) cluster.resume(i);
  ASSERT_TRUE(reported);
  EXPECT_EQ(keeper.loss(), LeaseLoss::expired);
  EXPECT_LE(took, 3s + 1s);
}

}  // namespace
}  // namespace etcdpp
