// SPDX-License-Identifier: Apache-2.0
// A PrefixCache on a 3-member cluster while 10,000 puts and deletes go on, the leader is killed
// twice, and the cache's endpoints are all cut while etcd compacts the revisions it misses: at
// the end the cache equals a range read at its revision, and its callbacks are the watch
// history, event for event, except where it relisted, where they are exactly the difference.
#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "etcdpp/prefix_cache.hpp"
#include "support/cache_history.hpp"
#include "support/tcp_proxy.hpp"
#include "support/test_env.hpp"

namespace etcdpp {
namespace {

using namespace std::chrono_literals;
using test::CacheRecord;
using State = std::map<std::string, KeyValue>;

/// Every event of a reference watch, from a client that is never cut.
struct Reference {
  std::mutex mutex;
  std::vector<Event> events;
  std::optional<std::error_code> ended;
  Watch::Callback callback() {
    return [this](std::error_code ec, WatchBatch b) {
      std::lock_guard lock(mutex);
      if (ec) ended = ec;
      for (auto& e : b.events) events.push_back(std::move(e));
    };
  }
};

/// Puts and deletes on random keys under `prefix` until `ops` are done (failures of a
/// leaderless moment included: the watch history is the truth, not what was meant).
class Writer {
 public:
  Writer(Client client, std::string prefix, int ops, unsigned seed)
      : client_(std::move(client)),
        prefix_(std::move(prefix)),
        ops_(ops),
        random_(seed),
        thread_([this] { run(); }) {}
  ~Writer() {
    stop_ = true;
    thread_.join();
  }
  int done() const { return done_; }

 private:
  void run() {
    const auto give_up = std::chrono::steady_clock::now() + 200s;
    std::uniform_int_distribution<int> key(0, 199);
    std::uniform_int_distribution<int> kind(0, 3);
    for (int i = 0; i < ops_ && !stop_ && std::chrono::steady_clock::now() < give_up; ++i) {
      const std::string k = prefix_ + "hot/" + std::to_string(key(random_));
      try {
        if (kind(random_) == 0) {
          client_.delete_range(k);
        } else {
          client_.put(k, "v" + std::to_string(random_()));
        }
      } catch (const Error&) {
        // A write during a failover may fail or be applied anyway: the history tells.
      }
      done_ = i + 1;
    }
  }
  Client client_;
  std::string prefix_;
  int ops_;
  std::minstd_rand random_;
  std::atomic<bool> stop_{false};
  std::atomic<int> done_{0};
  std::thread thread_;
};

void apply(State& state, const Event& e) {
  if (e.type == Event::Type::put) {
    state[e.kv.key] = e.kv;
  } else {
    state.erase(e.kv.key);
  }
}

/// Checks `records` against the reference history `events` starting from `state` (the cache's
/// first contents); returns the state they lead to.
State check_history(State state, const std::vector<Event>& events,
                    const std::vector<CacheRecord>& records) {
  std::size_t next = 0;  // the first reference event not yet matched
  std::int64_t at = 0;   // the revision the callbacks have reached
  for (std::size_t r = 0; r < records.size(); ++r) {
    const CacheRecord& record = records[r];
    if (record.kind == CacheRecord::Kind::relist) {
      // No gap before it: every event up to where it starts was called back one by one.
      EXPECT_GE(record.relist.from_revision, at) << "record " << r;
      if (next < events.size()) {
        EXPECT_GT(events[next].kv.mod_revision, record.relist.from_revision)
            << "an event before the relist was lost, record " << r;
      }
      State after = state;
      while (next < events.size() && events[next].kv.mod_revision <= record.relist.revision) {
        apply(after, events[next++]);
      }
      // Exactly the keys that differ, each once, with the right old and new values.
      std::map<std::string, const CacheRecord*> told;
      const std::size_t n = record.relist.puts + record.relist.deletes;
      EXPECT_LE(r + n, records.size() - 1) << "record " << r;
      for (std::size_t j = r + 1; j <= r + n && j < records.size(); ++j) {
        EXPECT_TRUE(told.emplace(records[j].kv.key, &records[j]).second)
            << "key told twice in a relist: " << records[j].kv.key;
      }
      std::size_t differences = 0;
      for (const auto& [key, kv] : after) {
        auto old = state.find(key);
        if (old != state.end() && old->second == kv) {
          EXPECT_FALSE(told.count(key)) << "spurious relist change for unchanged " << key;
          continue;
        }
        ++differences;
        auto it = told.find(key);
        if (it == told.end()) {
          ADD_FAILURE() << "relist missed " << key;
          continue;
        }
        EXPECT_EQ(it->second->kind, CacheRecord::Kind::put) << key;
        EXPECT_EQ(it->second->kv, kv) << key;
        EXPECT_EQ(it->second->prev.has_value(), old != state.end()) << key;
        if (old != state.end() && it->second->prev) EXPECT_EQ(*it->second->prev, old->second);
      }
      for (const auto& [key, kv] : state) {
        if (after.count(key)) continue;
        ++differences;
        auto it = told.find(key);
        if (it == told.end()) {
          ADD_FAILURE() << "relist missed the deletion of " << key;
          continue;
        }
        EXPECT_EQ(it->second->kind, CacheRecord::Kind::deleted) << key;
        EXPECT_EQ(it->second->kv, kv) << key;
      }
      EXPECT_EQ(differences, n) << "record " << r;
      state = std::move(after);
      at = record.relist.revision;
      r += n;
      continue;
    }
    if (next >= events.size()) {
      ADD_FAILURE() << "a callback beyond the history: record " << r << " " << record.kv.key;
      return state;
    }
    const Event& e = events[next++];
    const auto old = state.find(e.kv.key);
    const auto expected =
        e.type == Event::Type::put ? CacheRecord::Kind::put : CacheRecord::Kind::deleted;
    if (record.kind != expected || (e.type != Event::Type::put && old == state.end())) {
      ADD_FAILURE() << "record " << r << " is not the event at " << e.kv.mod_revision << " on "
                    << e.kv.key;
      return state;
    }
    if (e.type == Event::Type::put) {
      EXPECT_EQ(record.kv, e.kv) << "record " << r;
      EXPECT_EQ(record.prev.has_value(), old != state.end()) << "record " << r;
      if (record.prev && old != state.end()) EXPECT_EQ(*record.prev, old->second);
    } else {
      EXPECT_EQ(record.kv, old->second) << "record " << r;
      EXPECT_EQ(record.revision, e.kv.mod_revision) << "record " << r;
    }
    at = e.kv.mod_revision;
    apply(state, e);
  }
  EXPECT_EQ(next, events.size()) << "events never called back";
  return state;
}

State contents(const PrefixCache::Snapshot& snapshot) {
  State out;
  for (const KeyValue& kv : snapshot) out.emplace(kv.key, kv);
  return out;
}

TEST(PrefixCacheFaultTest, TenThousandChangesTwoLeaderKillsAndACompactionWhileCutLoseNothing) {
  embedded::Cluster cluster;
  cluster.wait_for_leader(10s);
  Client direct = cluster.client();
  const std::string prefix = "fault/cache/";
  for (int i = 0; i < 50; ++i) direct.put(prefix + "stable/" + std::to_string(i), "kept");

  // The cache reaches the members only through proxies, which the test cuts.
  std::vector<std::unique_ptr<test::TcpProxy>> proxies;
  std::vector<std::string> endpoints;
  for (const std::string& e : cluster.client_endpoints()) {
    proxies.push_back(std::make_unique<test::TcpProxy>(e));
    endpoints.push_back(proxies.back()->endpoint());
  }
  Client through(
      {.endpoints = endpoints, .reconnect_backoff_max = 300ms, .watch_stall_timeout = 5s});
  test::CacheHistory history;
  std::atomic<int> errors{0};
  PrefixCache cache(through, prefix,
                    history.options({.page_size = 16,
                                     .on_error = [&](std::error_code) { ++errors; },
                                     .retry_backoff_base = 100ms,
                                     .retry_backoff_max = 1s}));
  const PrefixCache::Snapshot first = cache.snapshot();
  ASSERT_EQ(first.size(), 50u);
  Reference reference;
  Watch watch = direct.watch(prefix, {.prefix = true, .start_revision = first.revision() + 1},
                             reference.callback());

  Writer a(cluster.client(), prefix, 5000, 1);
  Writer b(cluster.client(), prefix, 5000, 2);
  const auto progress = [&](int at_least) {
    ASSERT_TRUE(test::wait_until([&] { return a.done() + b.done() >= at_least; }, 120s))
        << a.done() + b.done();
  };
  const auto kill_leader = [&](int restart_after) {
    const std::size_t leader = cluster.wait_for_leader(10s);
    cluster.kill(leader);
    cluster.wait_for_leader(15s);
    progress(restart_after);
    cluster.restart(leader);
  };

  progress(1500);
  kill_leader(2500);
  progress(3500);
  for (auto& p : proxies) p->cut();
  progress(4500);
  const std::int64_t compact_at =
      direct.get(prefix, {.prefix = true, .count_only = true}).header.revision;
  ASSERT_TRUE(test::wait_until([&] { return watch.next_revision() > compact_at; }, 30s));
  direct.compact(compact_at, {.physical = true});
  for (auto& p : proxies) p->restore();
  ASSERT_TRUE(test::wait_until([&] { return history.relists() >= 1; }, 30s))
      << "the cache never relisted after the compaction";
  progress(6500);
  kill_leader(8000);
  ASSERT_TRUE(test::wait_until([&] { return a.done() + b.done() == 10000; }, 150s))
      << a.done() + b.done();

  const std::int64_t synced = cache.sync(30s);
  ASSERT_TRUE(test::wait_until([&] { return watch.next_revision() > synced; }, 30s));
  const PrefixCache::Snapshot last = cache.snapshot();
  ASSERT_GE(last.revision(), synced);
  State truth;
  for (KeyValue& kv : direct.get(prefix, {.prefix = true, .revision = last.revision()}).kvs) {
    truth.emplace(kv.key, std::move(kv));
  }
  EXPECT_EQ(contents(last), truth);

  // Every change called back: the history's last revision reached in callbacks.
  const auto reached = [&] {
    std::int64_t top = 0;
    for (const auto& r : history.records()) top = std::max(top, r.revision);
    return top;
  };
  const std::int64_t last_event = [&] {
    std::lock_guard lock(reference.mutex);
    return reference.events.back().kv.mod_revision;
  }();
  ASSERT_TRUE(test::wait_until([&] { return reached() >= last_event; }, 30s));
  std::vector<Event> events;
  {
    std::lock_guard lock(reference.mutex);
    EXPECT_FALSE(reference.ended);
    events = reference.events;
  }
  const State replayed = check_history(contents(first), events, history.records());
  EXPECT_EQ(replayed, truth);
  EXPECT_EQ(history.relists(), 1u);
  EXPECT_GT(events.size(), 5000u);
  std::cout << "events " << events.size() << ", callbacks " << history.size() << ", relists "
            << history.relists() << ", errors reported " << errors << std::endl;
}

}  // namespace
}  // namespace etcdpp
