// SPDX-License-Identifier: Apache-2.0
// etcd v2's vocabulary on v3, against a real etcd: each call's success and its failure (with
// the condition named), TTLs on leases of their own, directories, and eight clients racing a
// compare-and-swap on one key, of whom exactly one wins each round.
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <thread>

#include "support/test_env.hpp"

namespace etcdpp::v2 {
namespace {

using namespace std::chrono_literals;
using test::TestPrefix;

class V2Test : public ::testing::Test {
 protected:
  ~V2Test() override { client_.delete_range("__" + p_.str(), {.prefix = true}); }

  // Runs `call`, expecting Error with `code` and `words` in its message.
  template <class Call>
  void expect_error(Call call, Errc code, std::string_view words) {
    try {
      call();
      ADD_FAILURE() << "no error; expected " << words;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  }

  Client client_ = test::client();
  TestPrefix p_{client_};
};

TEST_F(V2Test, SetReturnsTheRevisionAndThePreviousValue) {
  const Result first = set(client_, p_("k"), "one");
  EXPECT_GT(first.revision, 0);
  EXPECT_FALSE(first.prev);
  const Result second = set(client_, p_("k"), "two");
  ASSERT_TRUE(second.prev);
  EXPECT_EQ(second.prev->value, "one");
  EXPECT_EQ(client_.get(p_("k"))->mod_revision, second.revision);
  expect_error([&] { set(client_, "", "v"); }, Errc::empty_key, "empty");
}

TEST_F(V2Test, SetWithTtlPutsTheKeyOnALeaseOfItsOwn) {
  const Result a = set(client_, p_("a"), "x", {.ttl = 30s});
  const Result b = set(client_, p_("b"), "y", {.ttl = 30s});
  EXPECT_NE(a.lease, LeaseId{});
  EXPECT_NE(a.lease, b.lease) << "two keys share a lease";
  EXPECT_EQ(client_.get(p_("a"))->lease, a.lease);
  const auto ttl = client_.lease_time_to_live(a.lease, {.keys = true});
  EXPECT_GT(ttl.ttl, std::chrono::seconds(20));
  EXPECT_EQ(ttl.keys, std::vector<std::string>{p_("a")});
  EXPECT_GT(refresh(client_, p_("a")).ttl, std::chrono::seconds(20));
  // A plain set moves the key off its lease.
  set(client_, p_("a"), "z");
  EXPECT_EQ(client_.get(p_("a"))->lease, LeaseId{});
  expect_error([&] { refresh(client_, p_("a")); }, Errc::failed_precondition, "no TTL");
  expect_error([&] { refresh(client_, p_("none")); }, Errc::key_not_found, "does not exist");
  // The key goes with its lease.
  client_.lease_revoke(b.lease);
  EXPECT_FALSE(client_.get(p_("b")));
}

TEST_F(V2Test, CompareAndSwapOnPrevExistPrevValueAndPrevIndex) {
  // The seed's example: set foo one; prevExist=false fails; prevValue=one succeeds.
  const std::string foo = p_("foo");
  set(client_, foo, "one");
  expect_error([&] { set(client_, foo, "three", {.prev_exist = false}); }, Errc::already_exists,
               "prevExist=false but the key exists (v2 105");
  const Result swapped = set(client_, foo, "two", {.prev_value = "one"});
  EXPECT_EQ(swapped.prev->value, "one");
  expect_error([&] { set(client_, foo, "x", {.prev_value = "one"}); }, Errc::failed_precondition,
               "prevValue \"one\" but the value is \"two\" (v2 101");
  expect_error([&] { set(client_, foo, "x", {.prev_index = swapped.revision - 1}); },
               Errc::failed_precondition, "prevIndex");
  EXPECT_EQ(set(client_, foo, "three", {.prev_index = swapped.revision}).prev->value, "two");
  EXPECT_EQ(set(client_, foo, "four", {.prev_exist = true}).prev->value, "three");
  expect_error([&] { set(client_, p_("nokey"), "x", {.prev_exist = true}); }, Errc::key_not_found,
               "v2 100");
  expect_error([&] { set(client_, p_("nokey"), "x", {.prev_value = "a"}); }, Errc::key_not_found,
               "does not exist");
  EXPECT_FALSE(set(client_, p_("fresh"), "x", {.prev_exist = false}).prev);
  EXPECT_EQ(client_.get(foo)->value, "four");
}

TEST_F(V2Test, FailedSetWithTtlLeavesNoLease) {
  set(client_, p_("k"), "v");
  const auto before = client_.lease_leases();
  expect_error([&] { set(client_, p_("k"), "w", {.ttl = 30s, .prev_exist = false}); },
               Errc::already_exists, "105");
  EXPECT_EQ(client_.lease_leases().size(), before.size());
  EXPECT_EQ(client_.get(p_("k"))->lease, LeaseId{});
}

TEST_F(V2Test, CompareAndDeleteAndDelete) {
  const std::string k = p_("k");
  const Result put = set(client_, k, "v1");
  expect_error([&] { remove(client_, k, {.prev_value = "other"}); }, Errc::failed_precondition,
               "prevValue \"other\" but the value is \"v1\"");
  expect_error([&] { remove(client_, k, {.prev_index = put.revision + 100}); },
               Errc::failed_precondition, "prevIndex");
  const Result gone = remove(client_, k, {.prev_value = "v1", .prev_index = put.revision});
  ASSERT_TRUE(gone.prev);
  EXPECT_EQ(gone.prev->value, "v1");
  EXPECT_FALSE(client_.get(k));
  expect_error([&] { remove(client_, k, {.prev_value = "v1"}); }, Errc::key_not_found, "v2 100");
  EXPECT_FALSE(remove(client_, k).prev) << "a plain delete of a missing key deletes nothing";
  create_dir(client_, p_("d"));
  expect_error([&] { remove(client_, p_("d")); }, Errc::failed_precondition, "directory (v2 102");
  // A key with keys under it (possible in v3): refused as a directory, the reason named.
  set(client_, p_("f"), "file");
  set(client_, p_("f/child"), "c");
  expect_error([&] { remove(client_, p_("f")); }, Errc::failed_precondition,
               "keys exist under \"" + p_("f") + "/\"");
  expect_error([&] { remove(client_, p_("f"), {.prev_value = "file"}); },
               Errc::failed_precondition, "v2 102");
  expect_error([&] { remove(client_, p_("f"), {.prev_value = "other"}); },
               Errc::failed_precondition, "prevValue \"other\"");
  EXPECT_TRUE(client_.get(p_("f")));
}

TEST_F(V2Test, CreateInOrderAndListInOrder) {
  const std::string dir = p_("jobs");
  std::vector<std::string> keys;
  for (const char* v : {"first", "second", "third"}) keys.push_back(create_in_order(client_, dir, v).key);
  EXPECT_EQ(keys[0], dir + "/0000000000000000");
  const auto nodes = list_in_order(client_, dir + "/");
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0].value, "first");
  EXPECT_EQ(nodes[2].value, "third");
  EXPECT_EQ(nodes[1].key, keys[1]);
}

TEST_F(V2Test, ListFoldsDeeperKeysIntoChildDirectories) {
  const std::string d = p_("dir");
  set(client_, d + "/a", "1");
  set(client_, d + "/sub/x", "2");
  set(client_, d + "/sub/y/z", "3");
  set(client_, d + "/b", "4");
  set(client_, d + "-sibling", "not in it");
  const auto one_level = list(client_, d);
  ASSERT_EQ(one_level.size(), 3u);
  EXPECT_EQ(one_level[0].key, d + "/a");
  EXPECT_EQ(one_level[1].key, d + "/b");
  EXPECT_EQ(one_level[2].key, d + "/sub/");
  EXPECT_TRUE(one_level[2].dir);
  EXPECT_EQ(list(client_, d, {.recursive = true}).size(), 4u);
  expect_error([&] { list(client_, p_("nodir")); }, Errc::key_not_found, "no such directory");
}

TEST_F(V2Test, CreateDirAndDeleteDir) {
  const std::string d = p_("d");
  const Result made = create_dir(client_, d);
  EXPECT_EQ(made.key, d + "/");
  EXPECT_TRUE(list(client_, d).empty());
  expect_error([&] { create_dir(client_, d); }, Errc::already_exists, "v2 105");
  set(client_, p_("file"), "v");
  expect_error([&] { create_dir(client_, p_("file")); }, Errc::failed_precondition, "v2 104");
  set(client_, d + "/child", "v");
  set(client_, d + "/deeper/child", "v");
  expect_error([&] { delete_dir(client_, d); }, Errc::failed_precondition, "not empty (v2 108");
  EXPECT_TRUE(client_.get(d + "/child"));
  delete_dir(client_, d, {.recursive = true});
  EXPECT_EQ(client_.get(d + "/", {.prefix = true}).kvs.size(), 0u);
  expect_error([&] { delete_dir(client_, d, {.recursive = true}); }, Errc::key_not_found, "v2 100");
  create_dir(client_, d);
  delete_dir(client_, d);  // empty: no recursion needed
  EXPECT_FALSE(client_.get(d + "/"));
}

TEST_F(V2Test, VersionMachinesAndStats) {
  EXPECT_EQ(version(client_), test::node().version());
  const auto urls = machines(client_);
  ASSERT_EQ(urls.size(), 1u);
  EXPECT_TRUE(urls[0].starts_with("http://127.0.0.1:")) << urls[0];
  const auto leader = stats(client_);
  ASSERT_EQ(leader.size(), 1u);
  ASSERT_TRUE(leader[0].ok());
  EXPECT_EQ(leader[0].status->leader, leader[0].status->header.member_id);
  EXPECT_EQ(self_stats(client_).header.member_id, leader[0].status->header.member_id);
  set(client_, p_("counted"), "v");
  const StoreStats store = store_stats(client_);
  EXPECT_GE(store.keys, 1);
  EXPECT_GT(store.revision, 0);
  EXPECT_GT(store.db_size, 0);
}

// Eight clients, ten rounds: each round all read the same value and swap it for their own with
// prevValue; etcd lets exactly one of them win.
TEST_F(V2Test, CompareAndSwapRaceHasExactlyOneWinnerPerRound) {
  constexpr int kClients = 8, kRounds = 10;
  const std::string key = p_("race");
  set(client_, key, "round-0");
  std::atomic<int> winners[kRounds] = {};
  std::atomic<int> losers[kRounds] = {};
  std::barrier sync(kClients);
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      Client client = test::client();
      for (int round = 0; round < kRounds; ++round) {
        const std::string seen = client.get(key)->value;
        sync.arrive_and_wait();  // all have read the same value: now they race
        try {
          set(client, key, "round-" + std::to_string(round + 1) + "-by-" + std::to_string(c),
              {.prev_value = seen});
          ++winners[round];
        } catch (const Error& e) {
          EXPECT_EQ(e.code(), Errc::failed_precondition) << e.what();
          ++losers[round];
        }
        sync.arrive_and_wait();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int round = 0; round < kRounds; ++round) {
    EXPECT_EQ(winners[round].load(), 1) << "round " << round;
    EXPECT_EQ(losers[round].load(), kClients - 1) << "round " << round;
  }
}

}  // namespace
}  // namespace etcdpp::v2
