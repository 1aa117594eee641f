// SPDX-License-Identifier: Apache-2.0
// KV against a real etcd: every option of get, put, delete_range and compact, paging, and the
// errors for bad input, each of which must leave the store unchanged.
#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <algorithm>
#include <atomic>
#include <memory>
#include <set>
#include <thread>

#include "support/test_env.hpp"

namespace etcdpp {
namespace {

using test::TestPrefix;

class KvTest : public ::testing::Test {
 protected:
  Client client_ = test::client();
  TestPrefix p_{client_};
};

TEST_F(KvTest, PutThenGetReturnsTheValueWithItsRevisions) {
  const PutResult put = client_.put(p_("a"), "1");
  EXPECT_GT(put.header.revision, 0);
  EXPECT_FALSE(put.prev_kv);
  const auto kv = client_.get(p_("a"));
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->key, p_("a"));
  EXPECT_EQ(kv->value, "1");
  EXPECT_EQ(kv->create_revision, put.header.revision);
  EXPECT_EQ(kv->mod_revision, put.header.revision);
  EXPECT_EQ(kv->version, 1);
  EXPECT_EQ(kv->lease, LeaseId{0});

  const PutResult second = client_.put(p_("a"), "2", {.prev_kv = true});
  ASSERT_TRUE(second.prev_kv);
  EXPECT_EQ(second.prev_kv->value, "1");
  EXPECT_EQ(client_.get(p_("a"))->version, 2);
}

TEST_F(KvTest, MissingKeyIsNoValueNotAnError) {
  EXPECT_EQ(client_.get(p_("missing")), std::nullopt);
  const GetResult r = client_.get(p_("missing"), GetOptions{});
  EXPECT_TRUE(r.kvs.empty());
  EXPECT_EQ(r.count, 0);
}

TEST_F(KvTest, KeysAndValuesAreBinarySafe) {
  const std::string key = p_(std::string("bin\0\xff", 5));
  const std::string value("\0\x01\xfe\xff", 4);
  client_.put(key, value);
  const auto kv = client_.get(key);
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->key, key);
  EXPECT_EQ(kv->value, value);
}

TEST_F(KvTest, PrefixRangeAndFromKeySelectTheRightKeys) {
  for (const char* k : {"a", "b", "c", "d"}) client_.put(p_(k), k);
  client_.put(p_.str() + "\xff", "after");  // inside the prefix, after every letter

  auto keys = [](const GetResult& r) {
    std::vector<std::string> out;
    for (const auto& kv : r.kvs) out.push_back(kv.value);
    return out;
  };
  EXPECT_EQ(keys(client_.get(p_.str(), {.prefix = true})),
            (std::vector<std::string>{"a", "b", "c", "d", "after"}));
  EXPECT_EQ(keys(client_.get(p_("b"), {.range_end = p_("d")})),
            (std::vector<std::string>{"b", "c"}));
  // From-key reaches beyond the prefix, so bound it by counting only ours.
  const GetResult from = client_.get(p_("c"), {.from_key = true, .keys_only = true});
  std::vector<std::string> ours;
  for (const auto& kv : from.kvs) {
    if (kv.key.starts_with(p_.str())) ours.push_back(kv.key);
  }
  EXPECT_EQ(ours, (std::vector<std::string>{p_("c"), p_("d"), p_.str() + "\xff"}));
}

TEST_F(KvTest, LimitReportsMoreAndCountCountsTheWholeRange) {
  for (int i = 0; i < 5; ++i) client_.put(p_(std::to_string(i)), "v");
  const GetResult r = client_.get(p_.str(), {.prefix = true, .limit = 2});
  EXPECT_EQ(r.kvs.size(), 2u);
  EXPECT_TRUE(r.more);
  EXPECT_EQ(r.count, 5);

  const GetResult counted = client_.get(p_.str(), {.prefix = true, .count_only = true});
  EXPECT_TRUE(counted.kvs.empty());
  EXPECT_EQ(counted.count, 5);

  const GetResult keys = client_.get(p_.str(), {.prefix = true, .keys_only = true});
  ASSERT_EQ(keys.kvs.size(), 5u);
  EXPECT_EQ(keys.kvs[0].value, "");
  EXPECT_EQ(keys.kvs[0].key, p_("0"));
}

TEST_F(KvTest, SortsByEveryTargetInBothOrders) {
  client_.put(p_("b"), "1");
  client_.put(p_("a"), "3");
  client_.put(p_("c"), "2");
  client_.put(p_("c"), "2");  // version 2, newest mod revision
  auto order = [&](SortTarget target, SortOrder so) {
    std::string out;
    for (const auto& kv :
         client_.get(p_.str(), {.prefix = true, .sort_order = so, .sort_target = target}).kvs) {
      out += kv.key.back();
    }
    return out;
  };
  EXPECT_EQ(order(SortTarget::key, SortOrder::descend), "cba");
  EXPECT_EQ(order(SortTarget::value, SortOrder::ascend), "bca");
  EXPECT_EQ(order(SortTarget::create_revision, SortOrder::ascend), "bac");
  EXPECT_EQ(order(SortTarget::mod_revision, SortOrder::descend), "cab");
  EXPECT_EQ(order(SortTarget::version, SortOrder::descend).front(), 'c');
}

TEST_F(KvTest, ReadAtAnOlderRevisionSeesTheOldValue) {
  const auto first = client_.put(p_("k"), "old").header.revision;
  client_.put(p_("k"), "new");
  const GetResult then = client_.get(p_("k"), {.revision = first});
  ASSERT_EQ(then.kvs.size(), 1u);
  EXPECT_EQ(then.kvs[0].value, "old");
  EXPECT_EQ(client_.get(p_("k"), {.serializable = true}).kvs.at(0).value, "new");
}

TEST_F(KvTest, RevisionFiltersSelectByModAndCreateRevision) {
  const auto r1 = client_.put(p_("1"), "v").header.revision;
  const auto r2 = client_.put(p_("2"), "v").header.revision;
  const auto r3 = client_.put(p_("3"), "v").header.revision;
  client_.put(p_("1"), "again");
  auto keys = [&](GetOptions o) {
    o.prefix = true;
    std::string out;
    for (const auto& kv : client_.get(p_.str(), o).kvs) out += kv.key.back();
    return out;
  };
  EXPECT_EQ(keys({.min_create_revision = r2}), "23");
  EXPECT_EQ(keys({.max_create_revision = r2}), "12");
  EXPECT_EQ(keys({.min_mod_revision = r3}), "13");
  EXPECT_EQ(keys({.max_mod_revision = r2}), "2");
  (void)r1;
}

TEST_F(KvTest, IgnoreValueAndIgnoreLeaseKeepWhatIsThere) {
  client_.put(p_("k"), "kept");
  client_.put(p_("k"), "", {.ignore_value = true});
  EXPECT_EQ(client_.get(p_("k"))->value, "kept");
  EXPECT_EQ(client_.get(p_("k"))->version, 2);
  client_.put(p_("k"), "changed", {.ignore_lease = true});
  EXPECT_EQ(client_.get(p_("k"))->value, "changed");
  // ignore_value on a key that does not exist is etcd's "key not found".
  try {
    client_.put(p_("nokey"), "", {.ignore_value = true});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::key_not_found);
  }
  EXPECT_FALSE(client_.get(p_("nokey")));
}

TEST_F(KvTest, PutWithAnUnknownLeaseFailsAndWritesNothing) {
  try {
    client_.put(p_("leased"), "v", {.lease = LeaseId{0x7eadbeef}});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::lease_not_found);
    EXPECT_NE(std::string(e.what()).find("put \"" + p_("leased") + "\""), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(client_.get(p_("leased")));
}

TEST_F(KvTest, DeleteKeyRangeAndPrefixWithPrevKv) {
  for (const char* k : {"a", "b", "c", "d", "e"}) client_.put(p_(k), k);
  const DeleteResult one = client_.delete_range(p_("a"), {.prev_kv = true});
  EXPECT_EQ(one.deleted, 1);
  ASSERT_EQ(one.prev_kvs.size(), 1u);
  EXPECT_EQ(one.prev_kvs[0].value, "a");
  EXPECT_EQ(client_.delete_range(p_("a")).deleted, 0);

  const DeleteResult range = client_.delete_range(p_("b"), {.range_end = p_("d")});
  EXPECT_EQ(range.deleted, 2);
  EXPECT_TRUE(range.prev_kvs.empty());

  const DeleteResult rest = client_.delete_range(p_.str(), {.prefix = true, .prev_kv = true});
  EXPECT_EQ(rest.deleted, 2);
  EXPECT_EQ(rest.prev_kvs.size(), 2u);
  EXPECT_EQ(client_.get(p_.str(), {.prefix = true, .count_only = true}).count, 0);
}

TEST_F(KvTest, ReadAtACompactedRevisionThrowsCompactedError) {
  const auto old = client_.put(p_("k"), "1").header.revision;
  const auto now = client_.put(p_("k"), "2").header.revision;
  client_.compact(now, {.physical = true});
  try {
    client_.get(p_("k"), {.revision = old});
    ADD_FAILURE() << "read at a compacted revision succeeded";
  } catch (const CompactedError& e) {
    EXPECT_EQ(e.code(), Errc::compacted);
    EXPECT_NE(std::string(e.what()).find(p_("k")), std::string::npos);
  }
  // The current revision stays readable.
  EXPECT_EQ(client_.get(p_("k"), {.revision = now}).kvs.at(0).value, "2");
  // Compacting again at the same revision is etcd's "compacted" as well.
  EXPECT_THROW(client_.compact(now), CompactedError);
}

TEST_F(KvTest, ReadAtAFutureRevisionIsAClearError) {
  const auto now = client_.put(p_("k"), "1").header.revision;
  try {
    client_.get(p_("k"), {.revision = now + 1000});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::future_revision);
  }
}

TEST_F(KvTest, EmptyKeyIsRefusedAndNothingIsWritten) {
  const auto before = client_.get("x", GetOptions{}).header.revision;
  try {
    client_.put("", "v");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::empty_key);
    EXPECT_NE(std::string(e.what()).find("put \"\""), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("key is not provided"), std::string::npos);
  }
  EXPECT_EQ(client_.get("x", GetOptions{}).header.revision, before);
}

TEST_F(KvTest, ValueOverTheServerLimitIsRefusedAndNothingIsWritten) {
  // etcd refuses requests over --max-request-bytes (1.5 MiB by default).
  const std::string big(1536 * 1024 + 1, 'x');
  try {
    client_.put(p_("big"), big);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::request_too_large);
    EXPECT_NE(std::string(e.what()).find(p_("big")), std::string::npos);
  }
  EXPECT_FALSE(client_.get(p_("big")));
  // Beyond the client's own send limit, the request never leaves.
  const std::string huge(3 * 1024 * 1024, 'x');
  try {
    client_.put(p_("huge"), huge);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::resource_exhausted) << e.what();
  }
  EXPECT_FALSE(client_.get(p_("huge")));
}

TEST_F(KvTest, PaginatorReadsExactlyTheKeysOfTheFirstPagesRevision) {
  // 10,000 keys, written in batches of 100 by transactions to keep the setup short.
  for (int batch = 0; batch < 100; ++batch) {
    Txn t;
    for (int i = 0; i < 100; ++i) {
      char key[16];
      std::snprintf(key, sizeof key, "%05d", batch * 100 + i);
      t.then(Op::put(p_(key), "v"));
    }
    client_.txn(t);
  }
  Client writer = test::client();
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  // Another client writes new keys (between the existing ones and after them) and deletes
  // existing ones while the pages are read; none of that may show.
  std::thread churn([&] {
    for (int i = 0; !stop && i < 5000; ++i) {
      char key[24];
      std::snprintf(key, sizeof key, "%05d-new", (i * 37) % 10000);
      writer.put(p_(key), "new");
      std::snprintf(key, sizeof key, "%05d", (i * 53) % 10000);
      writer.delete_range(p_(key));
      ++written;
    }
  });
  ASSERT_TRUE(test::wait_until([&] { return written > 0; }, std::chrono::seconds(10)));

  Paginator pages = client_.paginate(p_.str(), {.prefix = true}, 100);
  std::vector<KeyValue> first = pages.next_page();
  ASSERT_EQ(first.size(), 100u);
  const std::int64_t revision = pages.revision();
  std::vector<std::string> seen;
  for (auto& kv : first) seen.push_back(kv.key);
  std::size_t largest_page = first.size();
  while (!pages.done()) {
    auto page = pages.next_page();
    largest_page = std::max(largest_page, page.size());
    for (auto& kv : page) seen.push_back(kv.key);
  }
  stop = true;
  churn.join();
  EXPECT_LE(largest_page, 100u);
  EXPECT_GT(written.load(), 0);

  // The truth: the same range read in one piece at that revision.
  const GetResult all =
      client_.get(p_.str(), {.prefix = true, .revision = revision, .keys_only = true});
  std::vector<std::string> expected;
  for (auto& kv : all.kvs) expected.push_back(kv.key);
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), seen.size());
}

TEST_F(KvTest, PaginatorIsARangeOfKeyValues) {
  for (int i = 0; i < 25; ++i) client_.put(p_(std::to_string(100 + i)), std::to_string(i));
  int n = 0;
  for (const KeyValue& kv : client_.paginate(p_.str(), {.prefix = true}, 7)) {
    EXPECT_EQ(kv.key, p_(std::to_string(100 + n)));
    ++n;
  }
  EXPECT_EQ(n, 25);
  EXPECT_THROW(client_.paginate(p_.str(), {.prefix = true, .limit = 3}), Error);
  EXPECT_THROW(client_.paginate(p_.str(), {.sort_order = SortOrder::descend}), Error);
  EXPECT_THROW(client_.paginate(p_.str(), {}, 0), Error);
}

// The asynchronous face reads the same pages at the same revision, in a coroutine, and the
// Paginator may be dropped while a page is on its way (the operation keeps what it reads).
TEST_F(KvTest, PagesReadAsynchronouslyAreThoseReadBlocking) {
  for (int i = 0; i < 25; ++i) client_.put(p_(std::to_string(100 + i)), std::to_string(i));
  asio::io_context io;
  std::vector<std::string> seen;
  std::size_t pages_read = 0, largest = 0, last_of_dropped = 99;
  std::int64_t revision = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        Paginator pages = client_.paginate(p_.str(), {.prefix = true}, 7);
        while (!pages.done()) {
          auto page = co_await pages.async_next_page(asio::use_awaitable);
          ++pages_read;
          largest = std::max(largest, page.size());
          for (const auto& kv : page) seen.push_back(kv.key);
        }
        revision = pages.revision();
        auto dropped =
            std::make_unique<Paginator>(client_.paginate(p_.str(), {.prefix = true}, 25));
        auto first = dropped->async_next_page(asio::use_awaitable);
        dropped.reset();
        last_of_dropped = (co_await std::move(first)).size();
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  std::vector<std::string> expected;
  const GetOptions at_that_revision{.prefix = true, .revision = revision};
  for (const KeyValue& kv : client_.paginate(p_.str(), at_that_revision, 7)) {
    expected.push_back(kv.key);
  }
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(seen.size(), 25u);
  EXPECT_EQ(pages_read, 4u);  // 7 + 7 + 7 + 4
  EXPECT_EQ(largest, 7u);
  EXPECT_EQ(last_of_dropped, 25u);
}

}  // namespace
}  // namespace etcdpp
