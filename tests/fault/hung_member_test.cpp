// SPDX-License-Identifier: Apache-2.0
// A member that stops answering (SIGSTOP: alive on TCP, silent on HTTP/2) on a 3-member cluster:
// the client's kept-alive lease, its reads, its writes and its watch move to the members that
// still answer, within bounds derived from the TTL and the call deadline, while a quorum lives.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <atomic>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include <sys/wait.h>

#include "support/subprocess.hpp"
#include "support/test_env.hpp"

namespace etcdpp {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

enum class Role { follower, leader };

std::string name_of(Role role) { return role == Role::leader ? "leader" : "follower"; }

/// The index of a member with `role`.
std::size_t member_with(const embedded::Cluster& cluster, Role role) {
  const std::size_t leader = cluster.wait_for_leader(10s);
  return role == Role::leader ? leader : (leader + 1) % 3;
}

/// The cluster's endpoints with member `first` first: a client's calls and streams go there
/// until it fails.
std::vector<std::string> endpoints_with_first(const embedded::Cluster& cluster, std::size_t first) {
  std::vector<std::string> all = cluster.client_endpoints();
  std::rotate(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(first), all.end());
  return all;
}

/// The endpoints of every member but `except`.
std::vector<std::string> endpoints_without(const embedded::Cluster& cluster, std::size_t except) {
  std::vector<std::string> all = cluster.client_endpoints();
  all.erase(all.begin() + static_cast<std::ptrdiff_t>(except));
  return all;
}

/// Streams the client has open on each endpoint, in its endpoint order.
std::vector<std::size_t> streams_of(const Client& client) {
  std::vector<std::size_t> out;
  for (const auto& e : client.connection_info()) out.push_back(e.streams);
  return out;
}

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

class HungMemberTest : public ::testing::TestWithParam<Role> {};

TEST_P(HungMemberTest, KeptAliveLeaseOutlivesThreeTtlsOfItsStreamsMemberFrozen) {
  embedded::Cluster cluster;
  const std::size_t target = member_with(cluster, GetParam());
  Client client({.endpoints = endpoints_with_first(cluster, target)});
  Client healthy({.endpoints = endpoints_without(cluster, target)});

  constexpr int kTtl = 5;
  const LeaseId lease = client.lease_grant(std::chrono::seconds(kTtl)).id;
  client.put("hung/lease/key", "v", {.lease = lease});
  std::atomic<bool> lost{false};
  KeepAlive keeper =
      client.keep_alive(lease, {.on_lost = [&](LeaseId, LeaseLoss) { lost = true; }});
  ASSERT_TRUE(test::wait_until([&] { return streams_of(client)[0] == 1; }, 5s))
      << "the keep-alive stream is not on the first endpoint";

  cluster.pause(target);
  const auto frozen = Clock::now();
  std::optional<Clock::time_point> moved;
  // Three TTLs of freeze, checking through the healthy members that the lease lives on.
  std::int64_t min_ttl = kTtl;
  while (Clock::now() - frozen < std::chrono::seconds(3 * kTtl)) {
    const auto streams = streams_of(client);
    if (!moved && (streams[1] > 0 || streams[2] > 0)) moved = Clock::now();
    const auto ttl = healthy.lease_time_to_live(lease);
    min_ttl = std::min(min_ttl, ttl.ttl.count());
    ASSERT_GT(ttl.ttl, std::chrono::seconds(0)) << "the lease expired at the server "
                          << seconds_between(frozen, Clock::now()) << " s into the freeze";
    ASSERT_FALSE(lost.load());
    std::this_thread::sleep_for(200ms);
  }
  cluster.resume(target);

  ASSERT_TRUE(moved.has_value()) << "the keep-alive stream never left the frozen member";
  std::cout << "hung " << name_of(GetParam()) << ": freeze -> keep-alive stream on another member "
            << seconds_between(frozen, *moved) << " s (TTL " << kTtl
            << " s); lowest TTL left seen at the server " << min_ttl << " s" << std::endl;
  EXPECT_LT(seconds_between(frozen, *moved), kTtl * 0.75);
  EXPECT_TRUE(keeper.alive());
  EXPECT_FALSE(lost.load());
  ASSERT_TRUE(healthy.get("hung/lease/key").has_value()) << "the lease's key went";
  EXPECT_EQ(healthy.get("hung/lease/key")->value, "v");
}

/// What a loop of calls saw: when each call ended, and whether it succeeded.
struct Outcomes {
  std::mutex mutex;
  std::vector<std::pair<Clock::time_point, bool>> calls;
  std::vector<std::pair<Clock::time_point, std::int64_t>> revisions;  // of the writes that succeeded
  void add(bool ok) {
    std::lock_guard lock(mutex);
    calls.emplace_back(Clock::now(), ok);
  }
  void add_write(std::int64_t revision) {
    std::lock_guard lock(mutex);
    calls.emplace_back(Clock::now(), true);
    revisions.emplace_back(calls.back().first, revision);
  }
  /// When the first write that made a revision above `revision` ended.
  std::optional<Clock::time_point> first_write_above(std::int64_t revision) {
    std::lock_guard lock(mutex);
    for (const auto& [when, r] : revisions) {
      if (r > revision) return when;
    }
    return std::nullopt;
  }
  /// When the first call that succeeded after `t` ended.
  std::optional<Clock::time_point> first_success_after(Clock::time_point t) {
    std::lock_guard lock(mutex);
    for (const auto& [when, ok] : calls) {
      if (ok && when > t) return when;
    }
    return std::nullopt;
  }
  std::size_t failures() {
    std::lock_guard lock(mutex);
    return static_cast<std::size_t>(
        std::count_if(calls.begin(), calls.end(), [](const auto& c) { return !c.second; }));
  }
};

TEST_P(HungMemberTest, ReadsWritesAndTheWatchMoveOffAFrozenMember) {
  embedded::Cluster cluster;
  const std::size_t target = member_with(cluster, GetParam());
  Client client({.endpoints = endpoints_with_first(cluster, target)});
  Client healthy({.endpoints = endpoints_without(cluster, target)});
  const std::string prefix = "hung/rw/";

  // The client's watch, on the first endpoint: every event with the time it arrived.
  std::mutex events_mutex;
  std::vector<std::pair<Clock::time_point, Event>> events;
  Watch watch = client.watch(prefix, {.prefix = true, .start_revision = client.maintenance().status().header.revision + 1},
                             [&](std::error_code, WatchBatch batch) {
                               std::lock_guard lock(events_mutex);
                               for (auto& e : batch.events) events.emplace_back(Clock::now(), std::move(e));
                             });
  ASSERT_TRUE(test::wait_until([&] { return streams_of(client)[0] >= 1; }, 5s));

  std::atomic<bool> stop{false};
  Outcomes reads, writes;
  std::atomic<int> next_write{0};
  // The client's own reads and writes, one after another each.
  std::thread reader([&] {
    while (!stop) {
      try {
        client.get(prefix + "probe");
        reads.add(true);
      } catch (const Error&) {
        reads.add(false);
      }
      std::this_thread::sleep_for(20ms);
    }
  });
  std::thread writer([&] {
    while (!stop) {
      const int i = next_write++;
      try {
        client.put(prefix + "c/" + std::to_string(i), std::to_string(i));
        writes.add(true);
      } catch (const Error&) {
        writes.add(false);
      }
      std::this_thread::sleep_for(20ms);
    }
  });
  // Writes through the healthy members, so that the watch has events to show whenever it is.
  Outcomes background_writes;
  std::thread background([&] {
    for (int i = 0; !stop; ++i) {
      try {
        background_writes.add_write(healthy.put(prefix + "h/" + std::to_string(i), "h").header.revision);
      } catch (const Error&) {
        background_writes.add(false);
      }
      std::this_thread::sleep_for(20ms);
    }
  });
  const auto start = Clock::now();
  test::wait_until([&] { return reads.first_success_after(start) && writes.first_success_after(start); },
                   10s);
  std::this_thread::sleep_for(500ms);  // steady traffic before the freeze

  cluster.pause(target);
  const auto frozen = Clock::now();
  const std::int64_t revision_at_freeze = healthy.maintenance().status().header.revision;
  test::wait_until([&] { return Clock::now() - frozen > 10s; }, 11s);
  cluster.resume(target);
  test::wait_until([&] { return Clock::now() - frozen > 11s; }, 2s);
  stop = true;
  reader.join();
  writer.join();
  background.join();

  const auto read_back = reads.first_success_after(frozen);
  const auto write_back = writes.first_success_after(frozen);
  std::optional<Clock::time_point> watch_back;
  {
    std::lock_guard lock(events_mutex);
    for (const auto& [when, e] : events) {
      if (e.kv.mod_revision > revision_at_freeze) {
        watch_back = when;
        break;
      }
    }
  }
  ASSERT_TRUE(read_back && write_back && watch_back);
  std::cout << "hung " << name_of(GetParam()) << ": freeze -> first read "
            << seconds_between(frozen, *read_back) << " s, first write "
            << seconds_between(frozen, *write_back) << " s, watch resumed "
            << seconds_between(frozen, *watch_back) << " s; failed reads " << reads.failures()
            << ", failed writes " << writes.failures() << std::endl;
  if (GetParam() == Role::follower) {
    EXPECT_LE(seconds_between(frozen, *read_back), 2.0);
  } else {
    // The other two elect a leader first; linearizable reads need one.
    EXPECT_LE(seconds_between(frozen, *read_back), 4.0);
  }
  EXPECT_LE(seconds_between(frozen, *write_back), 5.0 + 1.0);  // one call timeout (+ the next put)
  // Within 5 s of the freeze, or of the first write the cluster took after it (a frozen leader
  // takes writes with it until the others elect a new one): the first write above the
  // revision at the freeze, as for the watch (a write answered just after the freeze may have
  // been committed before it).
  const auto cluster_back = background_writes.first_write_above(revision_at_freeze);
  ASSERT_TRUE(cluster_back);
  std::cout << "hung " << name_of(GetParam()) << ": the cluster took its first write "
            << seconds_between(frozen, *cluster_back) << " s after the freeze" << std::endl;
  EXPECT_LE(seconds_between(frozen, *watch_back),
            std::max(5.0, seconds_between(frozen, *cluster_back) + 1.0));

  // No write applied twice (a put that reached etcd is never sent again), and the watch's
  // history is the keyspace's: every key once, in revision order, none missing.
  const GetResult stored = healthy.get(prefix, {.prefix = true});
  std::map<std::string, std::int64_t> versions;
  for (const auto& kv : stored.kvs) {
    if (kv.key != prefix + "probe") versions[kv.key] = kv.version;
  }
  for (const auto& [key, version] : versions) EXPECT_EQ(version, 1) << key << " was written twice";
  test::wait_until(
      [&] {
        std::lock_guard lock(events_mutex);
        return events.size() >= versions.size();
      },
      10s);
  std::lock_guard lock(events_mutex);
  std::map<std::string, int> seen;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i > 0) EXPECT_LT(events[i - 1].second.kv.mod_revision, events[i].second.kv.mod_revision);
    ++seen[events[i].second.kv.key];
  }
  EXPECT_EQ(seen.size(), versions.size());
  for (const auto& [key, n] : seen) {
    EXPECT_EQ(n, 1) << key << " arrived " << n << " times";
    EXPECT_TRUE(versions.count(key)) << key << " is not stored";
  }
}

TEST(HungMemberFirstContactTest, FreshClientWhoseFirstEndpointIsFrozenMovesOnAfterConnectTimeout) {
  embedded::Cluster cluster;
  const std::size_t target = member_with(cluster, Role::follower);
  cluster.pause(target);
  // A fresh connection: the frozen member's kernel accepts TCP, its etcd never says a word.
  Client client({.endpoints = endpoints_with_first(cluster, target), .connect_timeout = 1s});
  const auto put_start = Clock::now();
  client.put("hung/fresh/key", "v");
  const double put_took = seconds_between(put_start, Clock::now());
  const auto get_start = Clock::now();
  const auto kv = client.get("hung/fresh/key");
  const double get_took = seconds_between(get_start, Clock::now());
  // The Go client on the same fault, for comparison (not asserted): etcdctl's put and get.
  std::string joined;
  for (const auto& e : endpoints_with_first(cluster, target)) joined += (joined.empty() ? "" : ",") + e;
  const auto go_timed = [&](std::vector<std::string> verb) {
    std::vector<std::string> argv{test::etcdctl_path(), "--endpoints=" + joined,
                                  "--dial-timeout=1s", "--command-timeout=5s"};
    argv.insert(argv.end(), verb.begin(), verb.end());
    const auto start = Clock::now();
    test::Subprocess etcdctl(argv);
    const auto status = etcdctl.wait(20s);
    return std::make_pair(seconds_between(start, Clock::now()),
                          status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  };
  const auto [go_put, go_put_ok] = go_timed({"put", "hung/fresh/go", "v"});
  const auto [go_get, go_get_ok] = go_timed({"get", "hung/fresh/go"});
  cluster.resume(target);
  std::cout << "hung follower, fresh etcdctl (--dial-timeout 1s): put " << go_put << " s"
            << (go_put_ok ? "" : " (failed)") << ", get " << go_get << " s"
            << (go_get_ok ? "" : " (failed)") << std::endl;
  std::cout << "hung follower, fresh client: first put " << put_took << " s, then a get "
            << get_took << " s (connect_timeout 1 s)" << std::endl;
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value, "v");
  EXPECT_LE(put_took, 3.0);
  EXPECT_LE(get_took, 1.0);
}

// The Go client on the same fault, for the figures beside etcdpp's (printed, not asserted):
// etcdctl's lease keep-alive and watch, their first endpoint the frozen member.
TEST(HungMemberGoClientTest, EtcdctlKeepAliveAndWatchWithTheirFirstEndpointFrozen) {
  embedded::Cluster cluster;
  const std::size_t target = member_with(cluster, Role::follower);
  Client healthy({.endpoints = endpoints_without(cluster, target)});
  std::string joined;
  for (const auto& e : endpoints_with_first(cluster, target)) joined += (joined.empty() ? "" : ",") + e;
  constexpr int kTtl = 5;
  const LeaseId lease = healthy.lease_grant(std::chrono::seconds(kTtl)).id;
  char hex[32];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(static_cast<std::int64_t>(lease)));
  test::Subprocess keeper({test::etcdctl_path(), "--endpoints=" + joined, "lease", "keep-alive", hex});
  ASSERT_TRUE(keeper.wait_for_line("lease", 10s)) << "etcdctl lease keep-alive printed nothing";
  test::Subprocess watcher({test::etcdctl_path(), "--endpoints=" + joined, "watch", "--prefix", "hung/go/"});
  ASSERT_TRUE(test::wait_until(
      [&] {
        healthy.put("hung/go/ready", "ready");
        return watcher.read_line(200ms).has_value();
      },
      10s))
      << "etcdctl watch printed nothing";

  cluster.pause(target);
  const auto frozen = Clock::now();
  std::optional<Clock::time_point> lost, watch_back;
  std::int64_t min_ttl = kTtl;
  for (int i = 0; Clock::now() - frozen < std::chrono::seconds(3 * kTtl); ++i) {
    try {
      healthy.put("hung/go/k" + std::to_string(i), "after");
      const auto ttl = healthy.lease_time_to_live(lease).ttl.count();
      min_ttl = std::min(min_ttl, ttl);
      if (ttl <= 0 && !lost) lost = Clock::now();
    } catch (const Error&) {
    }
    while (auto line = watcher.read_line(20ms)) {
      if (*line == "after" && !watch_back) watch_back = Clock::now();
    }
    while (keeper.read_line(1ms)) {
    }
  }
  cluster.resume(target);
  std::cout << "etcdctl, first endpoint a frozen follower: lease keep-alive (TTL " << kTtl << " s) "
            << (lost ? "lost the lease " + std::to_string(seconds_between(frozen, *lost)) + " s into the freeze"
                     : "kept the lease, lowest TTL left " + std::to_string(min_ttl) + " s")
            << "; watch: "
            << (watch_back ? "first event after the freeze at " + std::to_string(seconds_between(frozen, *watch_back)) + " s"
                           : "no event in the " + std::to_string(3 * kTtl) + " s of the freeze")
            << std::endl;
}

INSTANTIATE_TEST_SUITE_P(Roles, HungMemberTest, ::testing::Values(Role::follower, Role::leader),
                         [](const auto& info) { return name_of(info.param); });

}  // namespace
}  // namespace etcdpp
