// SPDX-License-Identifier: Apache-2.0
// Queues and in-order keys against a real etcd, with several clients: FIFO order kept, every
// item handed out exactly once, priorities respected, a waiting consumer woken by the next
// enqueue, and keys of a longer prefix left alone.
#include <gtest/gtest.h>

#include <asio/use_future.hpp>
#include <algorithm>
#include <map>
#include <mutex>
#include <cstdio>
#include <set>
#include <thread>

#include "support/test_env.hpp"

namespace etcdpp::concurrency {
namespace {

using namespace std::chrono_literals;
using test::TestPrefix;

class QueueTest : public ::testing::Test {
 protected:
  ~QueueTest() override {
    // The in-order keys' guard keys lie beside the prefix, not under it.
    client_.delete_range("__" + p_.str(), {.prefix = true});
  }
  Client client_ = test::client();
  TestPrefix p_{client_};
};

TEST_F(QueueTest, OneConsumerGetsItemsInEnqueueOrder) {
  Queue queue(client_, p_("q"));
  for (int i = 0; i < 20; ++i) queue.enqueue("item" + std::to_string(i));
  // A key of a longer prefix is not an item of this queue.
  client_.put(p_("q2/intruder"), "not mine");
  for (int i = 0; i < 20; ++i) EXPECT_EQ(queue.dequeue(5s), "item" + std::to_string(i));
  EXPECT_EQ(queue.try_dequeue(), std::nullopt);
  EXPECT_EQ(queue.dequeue(200ms), std::nullopt);
  EXPECT_TRUE(client_.get(p_("q2/intruder")));
}

// Three producers and three consumers on their own clients: each item comes out once, and
// each consumer takes a producer's items in the order they were enqueued (FIFO: a consumer's
// takes are a subsequence of the queue's order).
TEST_F(QueueTest, ManyProducersAndConsumersEachItemOnceInOrder) {
  constexpr int kProducers = 3, kConsumers = 3, kEach = 30;
  std::vector<std::vector<std::string>> taken(kConsumers);
  std::vector<std::thread> threads;
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      Queue queue(test::client(), p_("work"));
      while (auto item = queue.dequeue(3s)) taken[c].push_back(*item);
    });
  }
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&, p] {
      Queue queue(test::client(), p_("work"));
      for (int i = 0; i < kEach; ++i) {
        char item[32];
        std::snprintf(item, sizeof item, "%d-%03d", p, i);
        queue.enqueue(item);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  std::size_t count = 0;
  for (const auto& mine : taken) {
    std::map<char, std::vector<std::string>> by_producer;
    for (const auto& item : mine) by_producer[item[0]].push_back(item);
    for (const auto& [producer, items] : by_producer) {
      EXPECT_TRUE(std::is_sorted(items.begin(), items.end())) << "producer " << producer;
    }
    all.insert(mine.begin(), mine.end());
    count += mine.size();
  }
  EXPECT_EQ(count, static_cast<std::size_t>(kProducers * kEach));
  EXPECT_EQ(all.size(), count) << "an item was handed out twice";
}

TEST_F(QueueTest, WaitingConsumerIsWokenByTheNextEnqueue) {
  Queue queue(client_, p_("q"));
  auto item = queue.async_dequeue(asio::use_future);
  EXPECT_EQ(item.wait_for(300ms), std::future_status::timeout);
  Queue(test::client(), p_("q")).enqueue("late");
  ASSERT_EQ(item.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(item.get(), "late");
  EXPECT_FALSE(queue.try_dequeue());
}

TEST_F(QueueTest, PriorityQueueServesLowestPriorityFirstThenInOrder) {
  PriorityQueue queue(client_, p_("pq"));
  queue.enqueue("low-1", 9);
  queue.enqueue("high-1", 0);
  queue.enqueue("mid-1", 3);
  queue.enqueue("high-2", 0);
  queue.enqueue("low-2", 9);
  std::vector<std::string> order;
  while (auto item = queue.try_dequeue()) order.push_back(*item);
  EXPECT_EQ(order, (std::vector<std::string>{"high-1", "high-2", "mid-1", "low-1", "low-2"}));
}

TEST_F(QueueTest, SequentialKeysNumberInOrderAcrossClientsAndNeverReuseANumber) {
  const std::string dir = p_("seq");
  std::vector<std::thread> threads;
  std::mutex mutex;
  std::set<std::int64_t> numbers;
  for (int c = 0; c < 4; ++c) {
    threads.emplace_back([&] {
      Client client = test::client();
      for (int i = 0; i < 10; ++i) {
        const SequentialKey k = create_sequential_key(client, dir, "v");
        std::lock_guard lock(mutex);
        EXPECT_TRUE(numbers.insert(k.number).second) << k.key;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(numbers.size(), 40u);
  EXPECT_EQ(*numbers.begin(), 0);
  EXPECT_EQ(*numbers.rbegin(), 39);
  // Listing by key gives creation order.
  const auto all = client_.get(dir + "/", {.prefix = true});
  ASSERT_EQ(all.kvs.size(), 40u);
  EXPECT_TRUE(std::is_sorted(all.kvs.begin(), all.kvs.end(), [](const auto& a, const auto& b) {
    return a.create_revision < b.create_revision;
  }));
  EXPECT_EQ(all.kvs.back().key, dir + "/0000000000000039");
  // Deleting the highest does not free its number.
  client_.delete_range(all.kvs.back().key);
  EXPECT_EQ(create_sequential_key(client_, dir, "v").number, 40);
}

TEST_F(QueueTest, EmptyPrefixIsRefused) {
  EXPECT_THROW(Queue(client_, ""), Error);
  EXPECT_THROW(create_sequential_key(client_, "", "v"), Error);
}

}  // namespace
}  // namespace etcdpp::concurrency
