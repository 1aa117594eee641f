// SPDX-License-Identifier: Apache-2.0
// Namespace views (Client::with_namespace) against a real etcd: for every kind of call, what
// the view's caller sees and what a plain client sees in the real keyspace; views that never
// meet; the key equal to the prefix; views of views; and the recipes (PrefixCache, Mutex)
// working through a view unchanged.
#include <gtest/gtest.h>

#include <algorithm>
#include <asio/use_future.hpp>
#include <future>
#include <mutex>

#include "support/test_env.hpp"

namespace etcdpp {
namespace {

using namespace std::chrono_literals;
using concurrency::Mutex;
using concurrency::Session;
using test::TestPrefix;

std::vector<std::string> keys_of(const std::vector<KeyValue>& kvs) {
  std::vector<std::string> out;
  for (const auto& kv : kvs) out.push_back(kv.key);
  return out;
}
std::vector<std::string> keys_of(const GetResult& r) { return keys_of(r.kvs); }

using Keys = std::vector<std::string>;

/// Collects what a callback watch delivers.
struct Collector {
  std::mutex mutex;
  std::vector<Event> events;

  Watch::Callback callback() {
    return [this](std::error_code ec, WatchBatch batch) {
      if (ec) return;
      std::lock_guard lock(mutex);
      for (auto& e : batch.events) events.push_back(std::move(e));
    };
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return events.size();
  }
  std::vector<Event> snapshot() {
    std::lock_guard lock(mutex);
    return events;
  }
};

/// A plain client, a test prefix, and a view whose namespace is `<prefix>ns/`. Around the
/// namespace lie keys just outside it, on both sides: `<prefix>ns`, `<prefix>ns.` before it,
/// and `<prefix>ns0`, the namespace's range end, after it.
class NamespaceTest : public ::testing::Test {
 protected:
  void put_neighbours() {
    plain_.put(p_("ns"), "before");
    plain_.put(p_("ns."), "before");
    plain_.put(p_("ns0"), "after");
  }
  /// The neighbours are left as they were.
  void expect_neighbours_untouched() {
    EXPECT_EQ(plain_.get(p_("ns"))->value, "before");
    EXPECT_EQ(plain_.get(p_("ns."))->value, "before");
    EXPECT_EQ(plain_.get(p_("ns0"))->value, "after");
  }

  Client plain_ = test::client();
  TestPrefix p_{plain_};
  const std::string ns_ = p_("ns/");
  Client view_ = plain_.with_namespace(ns_);
};

TEST_F(NamespaceTest, PutGetDeleteActUnderThePrefixAndAnswerWithTheCallersKeys) {
  EXPECT_EQ(view_.key_namespace(), ns_);
  EXPECT_EQ(plain_.key_namespace(), "");
  const PutResult put = view_.put("a", "1");
  const auto real = plain_.get(ns_ + "a");
  ASSERT_TRUE(real);
  EXPECT_EQ(real->value, "1");
  EXPECT_EQ(real->create_revision, put.header.revision);

  const auto kv = view_.get("a");
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->key, "a");
  EXPECT_EQ(kv->value, "1");
  EXPECT_EQ(kv->mod_revision, put.header.revision);
  EXPECT_EQ(view_.get("a", GetOptions{}).kvs, std::vector<KeyValue>{*kv});

  const PutResult second = view_.put("a", "2", {.prev_kv = true});
  ASSERT_TRUE(second.prev_kv);
  EXPECT_EQ(second.prev_kv->key, "a");
  EXPECT_EQ(second.prev_kv->value, "1");
  EXPECT_EQ(plain_.get(ns_ + "a")->value, "2");

  // A key the view names is never the plain key of the same name.
  plain_.put(p_("a"), "outside");
  EXPECT_EQ(view_.get(p_("a")), std::nullopt);
  EXPECT_EQ(plain_.get(ns_ + p_("a")), std::nullopt);

  const DeleteResult del = view_.delete_range("a", {.prev_kv = true});
  EXPECT_EQ(del.deleted, 1);
  ASSERT_EQ(del.prev_kvs.size(), 1u);
  EXPECT_EQ(del.prev_kvs[0].key, "a");
  EXPECT_EQ(del.prev_kvs[0].value, "2");
  EXPECT_EQ(plain_.get(ns_ + "a"), std::nullopt);
  EXPECT_EQ(plain_.get(p_("a"))->value, "outside");
}

TEST_F(NamespaceTest, TheAsyncFaceMapsAsTheBlockingOneDoes) {
  view_.async_put("k", "v", asio::use_future).get();
  EXPECT_EQ(plain_.get(ns_ + "k")->value, "v");
  const auto one = view_.async_get("k", asio::use_future).get();
  ASSERT_TRUE(one);
  EXPECT_EQ(one->key, "k");
  const GetResult all = view_.async_get("", GetOptions{.prefix = true}, asio::use_future).get();
  EXPECT_EQ(keys_of(all), Keys{"k"});
  const PutResult put =
      view_.async_put("k", "w", PutOptions{.prev_kv = true}, asio::use_future).get();
  ASSERT_TRUE(put.prev_kv);
  EXPECT_EQ(put.prev_kv->key, "k");
  const TxnResult txn =
      view_.async_txn(Txn{}.if_(Compare::value("k") == "w").then(Op::get("k")), asio::use_future)
          .get();
  EXPECT_TRUE(txn.succeeded);
  EXPECT_EQ(keys_of(txn.responses.at(0).get()), Keys{"k"});
  const DeleteResult del =
      view_.async_delete_range("k", DeleteOptions{.prev_kv = true}, asio::use_future).get();
  EXPECT_EQ(keys_of(del.prev_kvs), Keys{"k"});
  EXPECT_EQ(plain_.get(ns_ + "k"), std::nullopt);
}

TEST_F(NamespaceTest, PrefixFromKeyAndRangeEndStayInsideTheView) {
  put_neighbours();
  for (const char* k : {"a", "ab", "b", "c"}) view_.put(k, k);
  view_.put("\xff", "last");
  view_.put("", "root");  // the key equal to the prefix
  EXPECT_EQ(plain_.get(ns_)->value, "root");

  const Keys everything{"", "a", "ab", "b", "c", "\xff"};
  EXPECT_EQ(keys_of(view_.get("", {.prefix = true})), everything);
  EXPECT_EQ(keys_of(view_.get("", {.from_key = true})), everything);
  EXPECT_EQ(view_.get("", {.prefix = true, .count_only = true}).count, 6);
  EXPECT_EQ(keys_of(view_.get("a", {.prefix = true})), (Keys{"a", "ab"}));
  EXPECT_EQ(keys_of(view_.get("b", {.from_key = true})), (Keys{"b", "c", "\xff"}));
  EXPECT_EQ(keys_of(view_.get("a", {.range_end = "c"})), (Keys{"a", "ab", "b"}));
  // An explicit end of "\0" is the end of the view, as from-key is.
  EXPECT_EQ(keys_of(view_.get("b", {.range_end = std::string(1, '\0')})), (Keys{"b", "c", "\xff"}));
  const GetResult limited = view_.get("", {.prefix = true, .limit = 2});
  EXPECT_EQ(keys_of(limited), (Keys{"", "a"}));
  EXPECT_TRUE(limited.more);
  EXPECT_EQ(limited.count, 6);
  // The plain client sees the same keys, under the prefix.
  EXPECT_EQ(keys_of(plain_.get(ns_, {.prefix = true})),
            (Keys{ns_, ns_ + "a", ns_ + "ab", ns_ + "b", ns_ + "c", ns_ + "\xff"}));

  const DeleteResult from_b = view_.delete_range("b", {.from_key = true, .prev_kv = true});
  EXPECT_EQ(from_b.deleted, 3);
  EXPECT_EQ(keys_of(from_b.prev_kvs), (Keys{"b", "c", "\xff"}));
  const DeleteResult range = view_.delete_range("a", {.range_end = "ab\x01"});
  EXPECT_EQ(range.deleted, 2);
  EXPECT_EQ(keys_of(plain_.get(ns_, {.prefix = true})), Keys{ns_});
  expect_neighbours_untouched();

  // Deleting "everything" in the view deletes the namespace and nothing around it.
  for (const char* k : {"x", "y"}) view_.put(k, k);
  EXPECT_EQ(view_.delete_range("", {.prefix = true}).deleted, 3);
  EXPECT_TRUE(plain_.get(ns_, {.prefix = true}).kvs.empty());
  expect_neighbours_untouched();
}

TEST_F(NamespaceTest, TheEmptyKeyIsTheKeyEqualToThePrefix) {
  put_neighbours();
  const PutResult put = view_.put("", "root");
  const auto real = plain_.get(ns_);
  ASSERT_TRUE(real);
  EXPECT_EQ(real->value, "root");
  const auto kv = view_.get("");
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->key, "");
  EXPECT_EQ(kv->create_revision, put.header.revision);
  // Every key the view lists can be addressed through it, that one too.
  const GetResult all = view_.get("", {.prefix = true});
  ASSERT_EQ(keys_of(all), Keys{""});
  EXPECT_EQ(view_.get(all.kvs[0].key)->value, "root");
  EXPECT_TRUE(view_.txn(Txn{}.if_(Compare::value("") == "root")).succeeded);
  EXPECT_EQ(view_.delete_range("").deleted, 1);
  EXPECT_EQ(plain_.get(ns_), std::nullopt);
  expect_neighbours_untouched();
  // A plain client has no empty key: etcd refuses it, and still does.
  EXPECT_THROW(plain_.put("", "x"), Error);
}

TEST_F(NamespaceTest, TxnComparesOpsAndNestedTxnsAreMappedAndTheirResultsCut) {
  put_neighbours();
  view_.put("x", "1");
  view_.put("list/a", "a");
  plain_.put(p_("x"), "outside");  // the same name outside the namespace

  const Txn inner = Txn{}
                        .if_(Compare::value("x") == "1")
                        .then({Op::get("x"), Op::put("z", "3", {.prev_kv = true})})
                        .else_(Op::put("wrong", "inner else"));
  const Txn txn =
      Txn{}
          .if_({Compare::value("x") == "1", Compare::version("list/").prefix() > 0,
                Compare::create_revision("").range("y") > 0})
          .then({Op::put("y", "2", {.prev_kv = true}), Op::get("list/", {.prefix = true}),
                 Op::txn(inner), Op::delete_range("x", {.prev_kv = true})})
          .else_(Op::put("wrong", "else"));
  const TxnResult r = view_.txn(txn);
  ASSERT_TRUE(r.succeeded);
  ASSERT_EQ(r.responses.size(), 4u);
  EXPECT_FALSE(r.responses[0].put().prev_kv);
  EXPECT_EQ(keys_of(r.responses[1].get()), Keys{"list/a"});
  const TxnResult& nested = r.responses[2].txn();
  ASSERT_TRUE(nested.succeeded);
  ASSERT_EQ(nested.responses.size(), 2u);
  EXPECT_EQ(keys_of(nested.responses[0].get()), Keys{"x"});
  EXPECT_FALSE(nested.responses[1].put().prev_kv);
  EXPECT_EQ(keys_of(r.responses[3].delete_range().prev_kvs), Keys{"x"});
  EXPECT_EQ(plain_.get(ns_ + "y")->value, "2");
  EXPECT_EQ(plain_.get(ns_ + "z")->value, "3");
  EXPECT_EQ(plain_.get(ns_ + "x"), std::nullopt);
  EXPECT_EQ(plain_.get(ns_ + "wrong"), std::nullopt);
  EXPECT_EQ(plain_.get(p_("x"))->value, "outside");

  // The compares look at the view's keys: the outside key's value is not seen, and a range
  // compare covers the view's keys only (the neighbours hold other values).
  EXPECT_FALSE(view_.txn(Txn{}.if_(Compare::value("x") == "outside")).succeeded);
  view_.put("y", "same");
  view_.put("z", "same");
  view_.put("list/a", "same");
  EXPECT_TRUE(view_.txn(Txn{}.if_(Compare::value("").prefix() == "same")).succeeded);
  EXPECT_TRUE(
      view_.txn(Txn{}.if_(Compare::value("").range(std::string(1, '\0')) == "same")).succeeded);

  // The else branch, with a put that returns its previous value.
  const TxnResult failed = view_.txn(Txn{}
                                         .if_(Compare::version("y") == 0)
                                         .then(Op::delete_range("", {.prefix = true}))
                                         .else_(Op::put("y", "3", {.prev_kv = true})));
  EXPECT_FALSE(failed.succeeded);
  ASSERT_TRUE(failed.responses.at(0).put().prev_kv);
  EXPECT_EQ(failed.responses[0].put().prev_kv->key, "y");
  EXPECT_EQ(plain_.get(ns_ + "y")->value, "3");
  expect_neighbours_untouched();
}

TEST_F(NamespaceTest, WatchesCoverTheViewAndDeliverTheCallersKeys) {
  Collector all, one, pulled_from_key;
  Watch w_all = view_.watch("", {.prefix = true, .prev_kv = true}, all.callback());
  Watch w_one = view_.watch("k", {.prev_kv = true}, one.callback());
  Watch w_pull = view_.watch("m", {.from_key = true});
  // What happens outside the namespace first: had any of it been delivered, it would come
  // before the view's own events, which are in revision order.
  put_neighbours();
  plain_.put(p_("k"), "outside");
  plain_.put(ns_ + "k", "1");  // a plain client writing into the namespace
  view_.put("k", "2");
  view_.put("", "root");
  view_.put("n", "n");
  view_.delete_range("k");
  ASSERT_TRUE(test::wait_until([&] { return all.size() >= 5; }, 10s)) << all.size();
  ASSERT_TRUE(test::wait_until([&] { return one.size() >= 3; }, 10s)) << one.size();

  const auto events = all.snapshot();
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].kv.key, "k");
  EXPECT_EQ(events[0].kv.value, "1");
  EXPECT_FALSE(events[0].prev_kv);
  EXPECT_EQ(events[1].kv.key, "k");
  ASSERT_TRUE(events[1].prev_kv);
  EXPECT_EQ(events[1].prev_kv->key, "k");
  EXPECT_EQ(events[1].prev_kv->value, "1");
  EXPECT_EQ(events[2].kv.key, "");
  EXPECT_EQ(events[3].kv.key, "n");
  EXPECT_EQ(events[4].type, Event::Type::delete_range);
  EXPECT_EQ(events[4].kv.key, "k");
  ASSERT_TRUE(events[4].prev_kv);
  EXPECT_EQ(events[4].prev_kv->key, "k");
  EXPECT_EQ(events[4].prev_kv->value, "2");

  const auto single = one.snapshot();
  ASSERT_EQ(single.size(), 3u);
  for (const auto& e : single) EXPECT_EQ(e.kv.key, "k");
  EXPECT_EQ(single[2].type, Event::Type::delete_range);
  EXPECT_EQ(single[2].prev_kv->key, "k");

  // From-key runs to the end of the view, not of the keyspace: the "after" neighbour is not
  // in it, "n" is.
  const auto batch = w_pull.next(10s);
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->events.size(), 1u);
  EXPECT_EQ(batch->events[0].kv.key, "n");
  plain_.put(p_("ns0"), "after, again");
  view_.put("o", "o");
  const auto next = w_pull.next(10s);
  ASSERT_TRUE(next);
  ASSERT_EQ(next->events.size(), 1u);
  EXPECT_EQ(next->events[0].kv.key, "o");
}

TEST_F(NamespaceTest, PaginateReadsTheViewPageByPageAtOneRevision) {
  put_neighbours();
  Keys expected{""};
  view_.put("", "root");
  for (int i = 0; i < 25; ++i) {
    const std::string key = "k" + std::to_string(100 + i);
    view_.put(key, "v");
    expected.push_back(key);
  }
  view_.put("\xff", "last");
  expected.push_back("\xff");

  Paginator pages = view_.paginate("", {.prefix = true}, 10);
  Keys seen;
  std::size_t page_count = 0;
  for (;;) {
    auto page = pages.next_page();
    if (page.empty()) break;
    ++page_count;
    EXPECT_LE(page.size(), 10u);
    for (const auto& key : keys_of(page)) seen.push_back(key);
    if (page_count == 1) view_.put("k999", "written after the first page");
    ASSERT_LT(page_count, 10u);
  }
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(page_count, 3u);

  // From-key and an explicit end, through the iterator.
  Keys from_k120;
  for (const KeyValue& kv : view_.paginate("k120", {.from_key = true}, 4)) {
    from_k120.push_back(kv.key);
  }
  EXPECT_EQ(from_k120, (Keys{"k120", "k121", "k122", "k123", "k124", "k999", "\xff"}));
  Keys bounded;
  for (const KeyValue& kv : view_.paginate("k105", {.range_end = "k110"}, 2)) {
    bounded.push_back(kv.key);
  }
  EXPECT_EQ(bounded, (Keys{"k105", "k106", "k107", "k108", "k109"}));
}

TEST_F(NamespaceTest, LeaseTimeToLiveListsOnlyTheViewsKeysAsItsOwn) {
  const Client other = plain_.with_namespace(p_("other/"));
  const LeaseGrantResult lease = view_.lease_grant(30s);
  view_.put("a", "1", {.lease = lease.id});
  view_.put("", "root", {.lease = lease.id});
  other.put("b", "2", {.lease = lease.id});
  plain_.put(p_("plain"), "3", {.lease = lease.id});

  auto sorted = [](Keys keys) {
    std::sort(keys.begin(), keys.end());
    return keys;
  };
  const LeaseTimeToLiveResult seen = view_.lease_time_to_live(lease.id, {.keys = true});
  EXPECT_EQ(seen.id, lease.id);
  EXPECT_GT(seen.ttl, std::chrono::seconds(0));
  EXPECT_EQ(sorted(seen.keys), (Keys{"", "a"}));
  EXPECT_EQ(other.lease_time_to_live(lease.id, {.keys = true}).keys, Keys{"b"});
  const auto async_seen =
      view_.async_lease_time_to_live(lease.id, {.keys = true}, asio::use_future).get();
  EXPECT_EQ(sorted(async_seen.keys), (Keys{"", "a"}));
  EXPECT_EQ(sorted(plain_.lease_time_to_live(lease.id, {.keys = true}).keys),
            sorted({ns_, ns_ + "a", p_("other/b"), p_("plain")}));
  // A view of another namespace that holds none of the lease's keys sees the lease, keyless.
  const auto none =
      plain_.with_namespace(p_("none/")).lease_time_to_live(lease.id, {.keys = true});
  EXPECT_EQ(none.granted_ttl, seen.granted_ttl);
  EXPECT_TRUE(none.keys.empty());

  // Leases are not namespaced: the view lists the lease and revoking it there deletes every
  // key it carries, inside and outside the view.
  const auto leases = view_.lease_leases();
  EXPECT_NE(std::find(leases.begin(), leases.end(), lease.id), leases.end());
  view_.lease_revoke(lease.id);
  EXPECT_EQ(plain_.get(ns_ + "a"), std::nullopt);
  EXPECT_EQ(plain_.get(p_("other/b")), std::nullopt);
  EXPECT_EQ(plain_.get(p_("plain")), std::nullopt);
}

TEST_F(NamespaceTest, TwoViewsWithDifferentPrefixesNeverSeeEachOthersKeys) {
  const Client a = plain_.with_namespace(p_("a/"));
  const Client b = plain_.with_namespace(p_("b/"));
  Collector a_events;
  Watch wa = a.watch("", {.prefix = true}, a_events.callback());
  b.put("k", "from b");
  b.put("", "b root");
  a.put("k", "from a");
  EXPECT_EQ(a.get("k")->value, "from a");
  EXPECT_EQ(b.get("k")->value, "from b");
  EXPECT_EQ(keys_of(a.get("", {.prefix = true})), Keys{"k"});
  EXPECT_EQ(keys_of(b.get("", {.prefix = true})), (Keys{"", "k"}));
  EXPECT_EQ(a.get("", {.from_key = true}).count, 1);
  EXPECT_EQ(a.delete_range("", {.from_key = true}).deleted, 1);
  EXPECT_EQ(b.get("", {.prefix = true}).count, 2);
  EXPECT_FALSE(a.txn(Txn{}.if_(Compare::version("").prefix() > 0)).succeeded);
  EXPECT_TRUE(b.txn(Txn{}.if_(Compare::version("").prefix() > 0)).succeeded);
  // a's watch saw its own put and delete, none of b's writes (which came first).
  ASSERT_TRUE(test::wait_until([&] { return a_events.size() >= 2; }, 10s));
  const auto events = a_events.snapshot();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kv.value, "from a");
  EXPECT_EQ(events[1].type, Event::Type::delete_range);
}

TEST_F(NamespaceTest, ViewsComposeAndKeepTheirTimeout) {
  const Client outer = plain_.with_namespace(p_("a/"));
  const Client inner = outer.with_namespace("b/");
  EXPECT_EQ(inner.key_namespace(), p_("a/b/"));
  EXPECT_EQ(outer.with_namespace("").key_namespace(), p_("a/"));
  inner.put("k", "v");
  EXPECT_EQ(plain_.get(p_("a/b/k"))->value, "v");
  EXPECT_EQ(outer.get("b/k")->key, "b/k");
  EXPECT_EQ(inner.get("k")->key, "k");
  EXPECT_EQ(keys_of(outer.get("", {.prefix = true})), Keys{"b/k"});
  inner.put("", "inner root");
  EXPECT_EQ(outer.get("b/")->value, "inner root");
  EXPECT_EQ(keys_of(inner.get("", {.prefix = true})), (Keys{"", "k"}));
  // with_timeout and with_namespace keep each other's setting.
  const Client timed = inner.with_timeout(3s);
  EXPECT_EQ(timed.key_namespace(), p_("a/b/"));
  EXPECT_EQ(timed.get("k")->value, "v");
}

TEST_F(NamespaceTest, CompactionClusterAndMaintenanceAreNotNamespaced) {
  const PutResult put = view_.put("k", "v");
  EXPECT_EQ(view_.cluster().member_list(), plain_.cluster().member_list());
  EXPECT_EQ(view_.maintenance().status().header.cluster_id, plain_.maintenance().status().header.cluster_id);
  view_.compact(put.header.revision);
  // The compaction is the store's, not the view's: the plain client cannot read below it.
  EXPECT_THROW(plain_.get(p_("anything"), {.revision = put.header.revision - 1}), CompactedError);
}

// ---- The recipes, unchanged, through a view -----------------------------------------------

TEST_F(NamespaceTest, APrefixCacheOnAViewSeesOnlyTheViewsKeysUnprefixed) {
  put_neighbours();
  view_.put("cfg/a", "1");
  view_.put("", "root");
  plain_.put(p_("cfg/a"), "not in the namespace");

  std::mutex mutex;
  std::vector<std::string> put_keys;
  PrefixCacheOptions options;
  options.on_put = [&](const KeyValue& kv, const std::optional<KeyValue>& prev) {
    std::lock_guard lock(mutex);
    put_keys.push_back(kv.key + (prev ? " (was " + prev->key + ")" : ""));
  };
  options.page_size = 1;  // the list pages through the view
  PrefixCache whole(view_, "", options);
  PrefixCache cfg(view_, "cfg/");
  EXPECT_EQ(whole.size(), 2u);
  EXPECT_EQ(whole.get("")->value, "root");
  EXPECT_EQ(whole.get("cfg/a")->value, "1");
  EXPECT_EQ(cfg.size(), 1u);
  EXPECT_EQ(cfg.get("cfg/a")->key, "cfg/a");
  EXPECT_EQ(cfg.get(p_("cfg/a")), std::nullopt);

  // A plain client writes into the namespace, and next to it.
  plain_.put(p_("ns0"), "after, again");
  plain_.put(p_("cfg/b"), "not in the namespace");
  const PutResult written = plain_.put(ns_ + "cfg/b", "2");
  plain_.put(ns_ + "cfg/a", "1 again");
  const std::int64_t last = plain_.delete_range(ns_).header.revision;
  EXPECT_EQ(cfg.wait_for(last), last);
  EXPECT_EQ(whole.wait_for(last), last);
  EXPECT_EQ(cfg.get("cfg/b")->value, "2");
  EXPECT_EQ(cfg.get("cfg/b")->mod_revision, written.header.revision);
  EXPECT_EQ(cfg.get("cfg/a")->value, "1 again");
  Keys cached;
  for (const KeyValue& kv : whole.snapshot()) cached.push_back(kv.key);
  EXPECT_EQ(cached, (Keys{"cfg/a", "cfg/b"}));
  EXPECT_GE(whole.sync(), last);
  ASSERT_TRUE(test::wait_until(
      [&] {
        std::lock_guard lock(mutex);
        return put_keys.size() >= 2;
      },
      10s));
  std::lock_guard lock(mutex);
  EXPECT_EQ(put_keys, (Keys{"cfg/b", "cfg/a (was cfg/a)"}));
}

TEST_F(NamespaceTest, AMutexThroughAViewLivesUnderThePrefixAndExcludesAnotherContender) {
  Session s1(view_, {.ttl = 10s}), s2(view_, {.ttl = 10s});
  Mutex m1(s1, "lock"), m2(s2, "lock");
  char hex[24];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(s1.lease()));
  EXPECT_EQ(m1.key(), std::string("lock/") + hex);
  m1.lock();
  ASSERT_TRUE(m1.held());
  const auto real = plain_.get(ns_ + m1.key());
  ASSERT_TRUE(real);
  EXPECT_EQ(real->lease, s1.lease());
  EXPECT_EQ(real->create_revision, m1.revision());
  EXPECT_EQ(plain_.get(m1.key()), std::nullopt);  // nothing at the un-prefixed key
  const std::int64_t first_revision = m1.revision();

  EXPECT_FALSE(m2.try_lock());
  auto second = m2.async_lock(asio::use_future);
  ASSERT_TRUE(test::wait_until(
      [&] { return plain_.get(ns_ + "lock/", {.prefix = true}).kvs.size() == 2; }, 5s));
  EXPECT_EQ(second.wait_for(300ms), std::future_status::timeout);
  // A lock of the same name in another view is another lock.
  const Client elsewhere = plain_.with_namespace(p_("elsewhere/"));
  Session s3(elsewhere, {.ttl = 10s});
  Mutex m3(s3, "lock");
  EXPECT_TRUE(m3.try_lock());
  m3.unlock();

  m1.unlock();
  ASSERT_EQ(second.wait_for(5s), std::future_status::ready);
  second.get();
  EXPECT_TRUE(m2.held());
  EXPECT_GT(m2.revision(), first_revision);
  EXPECT_EQ(plain_.get(ns_ + m1.key()), std::nullopt);
  EXPECT_TRUE(plain_.get(ns_ + m2.key()));
  m2.unlock();
  EXPECT_TRUE(plain_.get(ns_ + "lock/", {.prefix = true}).kvs.empty());
}

}  // namespace
}  // namespace etcdpp
