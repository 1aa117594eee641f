// SPDX-License-Identifier: Apache-2.0
// Mutex under faults: contenders on a 3-member cluster while its leader is killed (mutual
// exclusion kept, checked with the fencing revisions, and a counter exact), a holder process
// SIGKILLed (the next waiter gets the lock when its lease expires, not before), and the
// hand-over times beside the Go client (etcdctl lock).
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <asio/use_future.hpp>
#include <atomic>
#include <mutex>
#include <thread>

#include "support/subprocess.hpp"
#include "support/test_env.hpp"

#ifndef ETCDPP_NODE_HELPER
#error "ETCDPP_NODE_HELPER must name the helper executable"
#endif

namespace etcdpp {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using concurrency::Mutex;
using concurrency::Session;

std::string join(const std::vector<std::string>& endpoints) {
  std::string out;
  for (const auto& e : endpoints) out += (out.empty() ? "" : ",") + e;
  return out;
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

struct Section {
  std::int64_t fence;
  Clock::time_point start, end;
};

TEST(MutexFaultTest, FiveContendersTwoHundredTimesWhileTheLeaderIsKilledThreeTimes) {
  embedded::Cluster cluster;
  cluster.wait_for_leader(10s);
  const std::string name = "fault/mutex/" + std::to_string(::getpid());
  const std::string counter = name + "-counter";
  cluster.client().put(counter, "0");
  constexpr int kTotal = 200;
  std::atomic<int> acquired{0};
  std::atomic<int> inside{0};
  std::atomic<bool> overlap{false};
  std::mutex sections_mutex;
  std::vector<Section> sections;
  const auto give_up = Clock::now() + 240s;

  auto contender = [&] {
    Client client = cluster.client();
    std::optional<Session> session;
    std::optional<Mutex> mutex;
    while (acquired.load() < kTotal && Clock::now() < give_up) {
      try {
        if (!session || !session->alive()) {
          mutex.reset();
          session.emplace(client, concurrency::SessionOptions{.ttl = 10s});
          mutex.emplace(*session, name);
        }
        mutex->lock();
        if (acquired.load() >= kTotal) {
          mutex->unlock();
          break;
        }
        const auto start = Clock::now();
        std::int64_t fence = 0;
        {
          if (++inside > 1) overlap = true;
          // Left on every path, before the unlock: a lock lost with its session ends the section
          // with an error.
          struct Leave {
            std::atomic<int>& inside;
            ~Leave() { --inside; }
          } leave{inside};
          fence = mutex->revision();
          // Read-modify-write under the lock, the write guarded by the lock's compare. An
          // answer lost to a dying member is resolved by reading again: only a holder writes.
          for (;;) {
            try {
              const int n = std::stoi(client.get(counter)->value);
              const auto r = client.txn(
                  Txn{}.if_(mutex->owner_compare()).then(Op::put(counter, std::to_string(n + 1))));
              if (r.succeeded) ++acquired;
              break;
            } catch (const Error& e) {
              if (!is_transient(e.code())) throw;
              if (std::stoi(client.get(counter)->value) == acquired.load() + 1) {
                ++acquired;
                break;
              }
            }
          }
        }
        {
          std::lock_guard lock(sections_mutex);
          sections.push_back({fence, start, Clock::now()});
        }
        mutex->unlock();
      } catch (const Error& e) {
        if (!is_transient(e.code()) && e.code() != Errc::session_lost) {
          ADD_FAILURE() << e.what();
          return;
        }
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 5; ++i) threads.emplace_back(contender);

  for (int kill = 0; kill < 3; ++kill) {
    const int at = 40 + kill * 50;
    ASSERT_TRUE(test::wait_until([&] { return acquired.load() >= at; }, 120s)) << acquired;
    const std::size_t leader = cluster.wait_for_leader(10s);
    cluster.kill(leader);
    cluster.wait_for_leader(10s);
    ASSERT_TRUE(test::wait_until([&] { return acquired.load() >= at + 15; }, 120s)) << acquired;
    cluster.restart(leader);
  }
  for (auto& t : threads) t.join();

  EXPECT_FALSE(overlap.load());
  EXPECT_GE(acquired.load(), kTotal);
  EXPECT_EQ(std::stoi(cluster.client().get(counter)->value), acquired.load());
  // Each holder's fence is newer than the one before it (equal only when one holder kept its
  // key, an unlock having failed while a member died), and its section began after the
  // previous one ended.
  std::lock_guard lock(sections_mutex);
  std::sort(sections.begin(), sections.end(),
            [](const Section& a, const Section& b) { return a.start < b.start; });
  for (std::size_t i = 1; i < sections.size(); ++i) {
    EXPECT_LE(sections[i - 1].fence, sections[i].fence) << i;
    EXPECT_LE(sections[i - 1].end, sections[i].start) << i;
  }
}

TEST(MutexFaultTest, AKilledHoldersLockPassesWhenItsLeaseExpiresNeverBefore) {
  Client client = test::client();
  test::TestPrefix p(client);
  constexpr int kTtl = 3;
  test::Subprocess holder({ETCDPP_NODE_HELPER, "lock", test::node().client_endpoint(), p("lock"),
                           std::to_string(kTtl)});
  ASSERT_TRUE(holder.wait_for_line("locked ", 20s));
  Session session(client, {.ttl = 10s});
  Mutex mutex(session, p("lock"));
  auto waiting = mutex.async_lock(asio::use_future);
  ASSERT_TRUE(test::wait_until(
      [&] { return client.get(p("lock/"), {.prefix = true, .count_only = true}).count == 2; }, 5s));
  const auto killed = Clock::now();
  ::kill(holder.pid(), SIGKILL);
  ASSERT_EQ(waiting.wait_for(std::chrono::seconds(kTtl + 5)), std::future_status::ready);
  const auto took = Clock::now() - killed;
  waiting.get();
  // The holder renewed at most TTL/3 before it died: its lease lives at least 2/3 of the TTL.
  EXPECT_GE(took, std::chrono::milliseconds(kTtl * 1000 * 2 / 3 - 100)) << ms(took);
  EXPECT_LE(took, std::chrono::seconds(kTtl + 2)) << ms(took);
  std::cout << "killed holder (ttl " << kTtl << " s): next holder after " << ms(took) << " ms\n";
}

/// Median of `v` in milliseconds.
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::vector<std::string> etcdctl(const std::string& name) {
  return {test::etcdctl_path(), "--endpoints=" + test::node().client_endpoint(), "lock", name};
}

TEST(MutexFaultTest, HandOverTimesBesideEtcdctl) {
  Client client = test::client();
  test::TestPrefix p(client);
  constexpr int kRounds = 10;
  auto queued = [&](const std::string& name, std::int64_t n) {
    return test::wait_until(
        [&] { return client.get(name + "/", {.prefix = true, .count_only = true}).count == n; },
        10s);
  };
  std::vector<double> cpp_to_cpp, cpp_to_go, go_to_go;
  for (int i = 0; i < kRounds; ++i) {
    const std::string name = p("lock") + std::to_string(i);
    Session s1(client, {.ttl = 10s}), s2(client, {.ttl = 10s});
    Mutex holder(s1, name), waiter(s2, name);
    holder.lock();
    std::promise<Clock::time_point> got;
    waiter.async_lock([&](std::exception_ptr e, ResponseHeader) {
      EXPECT_FALSE(e);
      got.set_value(Clock::now());
    });
    ASSERT_TRUE(queued(name, 2));
    auto start = Clock::now();
    holder.unlock();
    cpp_to_cpp.push_back(ms(got.get_future().get() - start));
    waiter.unlock();

    // etcdpp releases, etcdctl (the Go client) takes over.
    holder.lock();
    test::Subprocess go_waiter(etcdctl(name));
    ASSERT_TRUE(queued(name, 2));
    start = Clock::now();
    holder.unlock();
    ASSERT_TRUE(go_waiter.read_line(10s));
    cpp_to_go.push_back(ms(Clock::now() - start));
    ::kill(go_waiter.pid(), SIGINT);
    go_waiter.wait(5s);

    // The Go client on both sides.
    test::Subprocess go_holder(etcdctl(name));
    ASSERT_TRUE(go_holder.read_line(10s));
    test::Subprocess go_next(etcdctl(name));
    ASSERT_TRUE(queued(name, 2));
    start = Clock::now();
    ::kill(go_holder.pid(), SIGINT);
    ASSERT_TRUE(go_next.read_line(10s));
    go_to_go.push_back(ms(Clock::now() - start));
    ::kill(go_next.pid(), SIGINT);
    go_next.wait(5s);
  }
  std::cout << "lock hand-over, median of " << kRounds << " (ms): etcdpp->etcdpp "
            << median(cpp_to_cpp) << ", etcdpp->etcdctl " << median(cpp_to_go)
            << ", etcdctl->etcdctl (SIGINT to output) " << median(go_to_go) << "\n";
  EXPECT_LT(median(cpp_to_cpp), 1000);
}

}  // namespace
}  // namespace etcdpp
