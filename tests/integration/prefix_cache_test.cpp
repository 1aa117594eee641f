// SPDX-License-Identifier: Apache-2.0
// PrefixCache against a real etcd: the paged list at one revision, changes called back once in
// order, wait_for and sync for freshness, the relist after a compaction while the cache's only
// endpoint was cut, slow callbacks, bad options, and a destructor that leaves nothing behind.
#include "etcdpp/prefix_cache.hpp"

#include <gtest/gtest.h>

#include <asio/bind_executor.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <atomic>
#include <functional>
#include <future>
#include <map>

#include "support/cache_history.hpp"
#include "support/tcp_proxy.hpp"
#include "support/test_env.hpp"

namespace etcdpp {
namespace {

using namespace std::chrono_literals;
using test::CacheHistory;
using test::CacheRecord;

/// The cache's contents, as a map.
std::map<std::string, KeyValue> contents(const PrefixCache::Snapshot& snapshot) {
  std::map<std::string, KeyValue> out;
  for (const KeyValue& kv : snapshot) out.emplace(kv.key, kv);
  return out;
}

/// A range read of `prefix` at `revision`, as a map.
std::map<std::string, KeyValue> truth(const Client& client, const std::string& prefix,
                                      std::int64_t revision) {
  std::map<std::string, KeyValue> out;
  for (KeyValue& kv : client.get(prefix, {.prefix = true, .revision = revision}).kvs) {
    out.emplace(kv.key, std::move(kv));
  }
  return out;
}

TEST(PrefixCacheTest, ListsInPagesAtOneRevisionAndCallsBackEachLaterChangeOnceInOrder) {
  Client client = test::client();
  test::TestPrefix prefix(client);
  // 40 values of 2 KiB: 80 KiB in all, while the cache's client takes messages of 32 KiB at
  // most. Only a paged list can fill the cache.
  const std::string big(2048, 'v');
  for (int i = 0; i < 40; ++i) client.put(prefix("k" + std::to_string(100 + i)), big);
  client.put(prefix.str() + "\xff", "last byte");  // the prefix's end is exclusive of nothing
  const std::string outside = prefix.str();
  client.put(outside.substr(0, outside.size() - 1) + "~other", "not under the prefix");
  Client small(
      {.endpoints = {test::node().client_endpoint()}, .max_receive_message_size = 32 * 1024});
  ASSERT_THROW(small.get(prefix.str(), {.prefix = true}), Error);

  CacheHistory history;
  PrefixCache cache(small, prefix.str(), history.options({.page_size = 8}));
  EXPECT_EQ(cache.prefix(), prefix.str());
  EXPECT_EQ(cache.size(), 41u);
  const PrefixCache::Snapshot first = cache.snapshot();
  EXPECT_EQ(contents(first), truth(client, prefix.str(), first.revision()));
  EXPECT_EQ(cache.get(prefix("k105"))->value, big);
  EXPECT_FALSE(cache.get(prefix("nope")));
  EXPECT_EQ(history.size(), 0u) << "the first contents are read, not called back";

  const auto changed = client.put(prefix("k100"), "new", {.prev_kv = true});
  const auto removed = client.delete_range(prefix("k101"), {.prev_kv = true});
  const auto added = client.put(prefix("k999"), "added");
  const auto both =
      client.txn(Txn{}.then({Op::put(prefix("k102"), "x"), Op::delete_range(prefix("k103"))}));
  EXPECT_EQ(cache.wait_for(both.header.revision), both.header.revision);

  // Callbacks run after the change is visible, on their executor.
  ASSERT_TRUE(test::wait_until([&] { return history.size() >= 5; }, 10s));
  const auto records = history.records();
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records[0].kind, CacheRecord::Kind::put);
  EXPECT_EQ(records[0].kv, *client.get(prefix("k100")));
  EXPECT_EQ(records[0].prev, changed.prev_kv);
  EXPECT_EQ(records[1].kind, CacheRecord::Kind::deleted);
  EXPECT_EQ(records[1].kv, removed.prev_kvs.at(0));
  EXPECT_EQ(records[1].revision, removed.header.revision);
  EXPECT_EQ(records[2].kv.value, "added");
  EXPECT_FALSE(records[2].prev);
  EXPECT_EQ(records[2].revision, added.header.revision);
  EXPECT_EQ(records[3].kv.key, prefix("k102"));
  EXPECT_EQ(records[3].prev->value, big);
  EXPECT_EQ(records[4].kind, CacheRecord::Kind::deleted);
  EXPECT_EQ(records[4].kv.key, prefix("k103"));
  EXPECT_EQ(records[3].revision, both.header.revision);
  EXPECT_EQ(records[4].revision, both.header.revision);

  // The first snapshot did not change; the cache did.
  EXPECT_EQ(first.size(), 41u);
  EXPECT_EQ(first.find(prefix("k100"))->value, big);
  EXPECT_EQ(cache.size(), 40u);
  EXPECT_EQ(contents(cache.snapshot()), truth(client, prefix.str(), cache.revision()));
}

TEST(PrefixCacheTest, WaitForAfterAWriteReturnsOnlyOnceTheWriteIsVisible) {
  Client client = test::client();
  test::TestPrefix prefix(client);
  PrefixCache cache(client, prefix.str());
  for (int i = 0; i < 100; ++i) {
    const std::string value = std::to_string(i);
    const auto put = client.put(prefix("key"), value);
    EXPECT_GE(cache.wait_for(put.header.revision), put.header.revision);
    const auto seen = cache.get(prefix("key"));
    ASSERT_TRUE(seen);
    EXPECT_EQ(seen->value, value);
    EXPECT_EQ(seen->mod_revision, put.header.revision);
    if (i % 10 == 9) {
      const auto del = client.delete_range(prefix("key"));
      cache.wait_for(del.header.revision);
      EXPECT_FALSE(cache.get(prefix("key"))) << i;
    }
  }
}

TEST(PrefixCacheTest, WaitForARevisionThatChangedNothingUnderThePrefixReturns) {
  Client client = test::client();
  test::TestPrefix prefix(client);
  test::TestPrefix elsewhere(client);
  PrefixCache cache(client, prefix.str());
  const auto put = client.put(elsewhere("key"), "v");
  EXPECT_GE(cache.wait_for(put.header.revision, 5s), put.header.revision);
  EXPECT_EQ(cache.size(), 0u);
}

TEST(PrefixCacheTest, WaitForARevisionNotYetWrittenTimesOut) {
  Client client = test::client();
  test::TestPrefix prefix(client);
  PrefixCache cache(client, prefix.str());
  const std::int64_t written = client.put(prefix("a"), "v").header.revision;
  const std::int64_t future = written + 1000;
  try {
    cache.wait_for(future, 300ms);
    FAIL() << "returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::deadline_exceeded);
    EXPECT_NE(std::string(e.what()).find("wait_for " + std::to_string(future)), std::string::npos)
        << e.what();
  }
  // The async face completes once the revision comes.
  auto waiting = cache.async_wait_for(written + 2, asio::use_future);
  client.put(prefix("b"), "v");
  client.put(prefix("c"), "v");
  ASSERT_EQ(waiting.wait_for(5s), std::future_status::ready);
  EXPECT_GE(waiting.get(), written + 2);
}

TEST(PrefixCacheTest, SyncSeesWritesMadeOnAnotherClient) {
  Client client = test::client();
  test::TestPrefix prefix(client);
  PrefixCache cache(client, prefix.str());
  Client other({.endpoints = {test::node().client_endpoint()}});
  for (int i = 0; i < 20; ++i) {
    const auto put = other.put(prefix("k" + std::to_string(i)), "v" + std::to_string(i));
    EXPECT_GE(cache.sync(), put.header.revision);
    ASSERT_TRUE(cache.get(prefix("k" + std::to_string(i)))) << i;
    EXPECT_EQ(cache.get(prefix("k" + std::to_string(i)))->value, "v" + std::to_string(i));
  }
  const auto del = other.delete_range(prefix("k3"));
  auto synced = cache.async_sync(asio::use_future);
  ASSERT_EQ(synced.wait_for(5s), std::future_status::ready);
  EXPECT_GE(synced.get(), del.header.revision);
  EXPECT_FALSE(cache.get(prefix("k3")));
  // Idle: nothing to wait for, and a sync still returns the newest revision.
  const auto elsewhere = other.put("cache-test-elsewhere", "v");
  EXPECT_GE(cache.sync(), elsewhere.header.revision);
  other.delete_range("cache-test-elsewhere");
}

TEST(PrefixCacheTest, CompactionWhileTheOnlyEndpointIsCutRelistsAndCallsBackOnlyRealDifferences) {
  Client client = test::client();
  test::TestPrefix prefix(client);
  for (char c = 'a'; c <= 'j'; ++c) client.put(prefix(std::string(1, c)), "old");
  test::TcpProxy proxy(test::node().client_endpoint());
  Client through({.endpoints = {proxy.endpoint()}, .reconnect_backoff_max = 200ms});
  CacheHistory history;
  PrefixCache cache(through, prefix.str(), history.options());
  const std::int64_t before = cache.revision();

  proxy.cut();
  client.put(prefix("b"), "new");      // changed
  client.delete_range(prefix("c"));    // gone
  client.put(prefix("x"), "created");  // new
  client.put(prefix("d"), "changed");  // changed twice, one difference
  client.put(prefix("d"), "again");
  client.put(prefix("y"), "transient");  // created and deleted: no difference
  client.delete_range(prefix("y"));
  client.put(prefix("e"), "old");  // same value, new revision: a difference
  const std::int64_t now = client.put(prefix.str() + "zz", "last").header.revision;
  client.compact(now, {.physical = true});
  proxy.restore();

  ASSERT_TRUE(test::wait_until([&] { return history.relists() == 1; }, 20s));
  EXPECT_GE(cache.wait_for(now), now);
  ASSERT_TRUE(test::wait_until([&] { return history.size() >= 7; }, 10s));
  const auto records = history.records();
  ASSERT_EQ(records.size(), 7u);
  ASSERT_EQ(records[0].kind, CacheRecord::Kind::relist);
  EXPECT_EQ(records[0].relist.reason, PrefixCacheRelist::Reason::compacted);
  EXPECT_EQ(records[0].relist.from_revision, before);
  EXPECT_GE(records[0].relist.revision, now);
  EXPECT_EQ(records[0].relist.puts, 5u);
  EXPECT_EQ(records[0].relist.deletes, 1u);
  std::map<std::string, CacheRecord> by_key;
  for (std::size_t i = 1; i < records.size(); ++i) {
    EXPECT_TRUE(by_key.emplace(records[i].kv.key, records[i]).second) << records[i].kv.key;
  }
  const auto value_of = [&](const std::string& k) { return by_key.at(prefix(k)).kv.value; };
  EXPECT_EQ(value_of("b"), "new");
  EXPECT_EQ(by_key.at(prefix("b")).prev->value, "old");
  EXPECT_EQ(by_key.at(prefix("c")).kind, CacheRecord::Kind::deleted);
  EXPECT_EQ(by_key.at(prefix("c")).kv.value, "old");
  EXPECT_EQ(value_of("x"), "created");
  EXPECT_FALSE(by_key.at(prefix("x")).prev);
  EXPECT_EQ(value_of("d"), "again");
  EXPECT_EQ(value_of("e"), "old");
  EXPECT_EQ(value_of("zz"), "last");
  EXPECT_EQ(contents(cache.snapshot()), truth(client, prefix.str(), cache.revision()));

  // It follows events again afterwards.
  const auto later = client.put(prefix("a"), "after");
  cache.wait_for(later.header.revision);
  // Callbacks run after the change is visible, on their executor.
  ASSERT_TRUE(test::wait_until([&] { return history.size() == 8; }, 10s));
  EXPECT_EQ(history.records().back().kv.value, "after");
  EXPECT_EQ(history.relists(), 1u);
}

TEST(PrefixCacheTest, StalledCallbacksDelayNeitherTheCacheNorOtherWatchesAndCatchUpByARelist) {
  Client client = test::client();
  test::TestPrefix prefix(client);
  asio::io_context callbacks;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  CacheHistory history;
  PrefixCacheOptions options =
      history.options({.executor = callbacks.get_executor(), .max_pending_changes = 50});
  auto record_put = options.on_put;
  options.on_put = [&, record_put](const KeyValue& kv, const std::optional<KeyValue>& prev) {
    released.wait();  // a consumer stuck until the test lets it go
    record_put(kv, prev);
  };
  PrefixCache cache(client, prefix.str(), options);
  std::thread consumer([&] {
    auto work = asio::make_work_guard(callbacks);
    callbacks.run_for(60s);
  });
  struct Finally {
    std::function<void()> f;
    ~Finally() { f(); }
  } finally{[&] {
    try {
      release.set_value();
    } catch (const std::future_error&) {
    }
    callbacks.stop();
    consumer.join();
  }};

  std::atomic<int> seen{0};
  Watch other = client.watch(prefix.str(), {.prefix = true},
                             [&](std::error_code, WatchBatch b) { seen += int(b.events.size()); });
  std::int64_t last = 0;
  for (int i = 0; i < 300; ++i) {
    last = client.put(prefix("k" + std::to_string(i % 120)), std::to_string(i)).header.revision;
  }
  EXPECT_TRUE(test::wait_until([&] { return seen == 300; }, 20s)) << seen;
  EXPECT_GE(cache.wait_for(last, 20s), last);
  EXPECT_EQ(cache.get(prefix("k0"))->value, "240");

  release.set_value();
  // What the callbacks said, replayed, comes to the cache's contents.
  std::map<std::string, std::string> now;
  for (const KeyValue& kv : cache.snapshot()) now[kv.key] = kv.value;
  const auto replay = [&] {
    std::map<std::string, std::string> out;
    for (const auto& r : history.records()) {
      if (r.kind == CacheRecord::Kind::put) out[r.kv.key] = r.kv.value;
      if (r.kind == CacheRecord::Kind::deleted) out.erase(r.kv.key);
    }
    return out;
  };
  EXPECT_TRUE(test::wait_until([&] { return replay() == now; }, 20s));
  EXPECT_GE(history.relists(), 1u);
  // Fewer callbacks than changes: those the stuck consumer could not take were folded.
  EXPECT_LT(history.records().size(), 300u);
}

TEST(PrefixCacheTest, BadOptionsAreRefusedNamingTheOption) {
  Client client = test::client();
  try {
    PrefixCache cache(client, "p/", {.page_size = 0});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_option);
    EXPECT_NE(std::string(e.what()).find("page_size"), std::string::npos) << e.what();
  }
  EXPECT_THROW(PrefixCache(client, "p/", {.max_pending_changes = 0}), Error);
}

TEST(PrefixCacheTest, AFailedFirstListThrows) {
  test::TcpProxy proxy(test::node().client_endpoint());
  proxy.cut();
  Client through({.endpoints = {proxy.endpoint()}, .call_timeout = 1s});
  EXPECT_THROW(PrefixCache(through, "p/"), Error);
}

TEST(PrefixCacheTest, DestroyingTheCacheLeavesNoWorkOnTheCallbackExecutor) {
  Client client = test::client();
  test::TestPrefix prefix(client);
  asio::io_context callbacks;  // run only after the cache is gone: no work guard
  std::atomic<int> puts{0};
  std::optional<std::future<std::int64_t>> waiting;
  {
    PrefixCache cache(client, prefix.str(),
                      {.on_put = [&](const KeyValue&, const std::optional<KeyValue>&) { ++puts; },
                       .executor = callbacks.get_executor()});
    const auto put = client.put(prefix("k"), "v");
    cache.wait_for(put.header.revision);
    waiting = cache.async_wait_for(put.header.revision + 1000,
                                   asio::bind_executor(callbacks, asio::use_future));
  }
  // The callback queued for the put is dropped; the waiter is told the cache went.
  const auto start = std::chrono::steady_clock::now();
  callbacks.run_for(10s);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s) << "work left on the executor";
  EXPECT_EQ(puts, 0);
  ASSERT_EQ(waiting->wait_for(0s), std::future_status::ready);
  try {
    waiting->get();
    FAIL();
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), Errc::cancelled);
  }
}

}  // namespace
}  // namespace etcdpp
