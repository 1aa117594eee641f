// SPDX-License-Identifier: Apache-2.0
// Barrier and DoubleBarrier against a real etcd with several clients: a release lets every
// waiter through once (a release right after a waiter read the key included), a key of a
// longer name does not hold the barrier, and the double barrier lets `count` participants in
// and out together, refusing one more.
#include <gtest/gtest.h>

#include <asio/use_future.hpp>
#include <atomic>
#include <future>
#include <thread>

#include "support/test_env.hpp"

namespace etcdpp::concurrency {
namespace {

using namespace std::chrono_literals;
using test::TestPrefix;
using test::wait_until;

class BarrierTest : public ::testing::Test {
 protected:
  Client client_ = test::client();
  TestPrefix p_{client_};
};

TEST_F(BarrierTest, ReleaseLetsEveryWaiterThroughOnce) {
  Barrier barrier(client_, p_("b"));
  EXPECT_TRUE(barrier.hold());
  EXPECT_FALSE(barrier.hold()) << "held twice";
  constexpr int kWaiters = 5;
  std::atomic<int> through{0};
  std::vector<std::thread> waiters;
  for (int i = 0; i < kWaiters; ++i) {
    waiters.emplace_back([&] {
      Barrier mine(test::client(), p_("b"));
      if (mine.wait(20s)) ++through;
    });
  }
  // A longer key is not the barrier's: releasing must not wait for it.
  client_.put(p_("b0"), "other");
  EXPECT_FALSE(barrier.wait(300ms));
  EXPECT_EQ(through.load(), 0);
  barrier.release();
  for (auto& t : waiters) t.join();
  EXPECT_EQ(through.load(), kWaiters);
  EXPECT_TRUE(barrier.wait(1s)) << "a released barrier does not hold";
}

// A release racing the waiter's read and watch (right after the wait starts) is still seen.
TEST_F(BarrierTest, ReleaseRightAfterTheReadIsNotMissed) {
  for (int round = 0; round < 10; ++round) {
    Barrier barrier(client_, p_("b" + std::to_string(round)));
    ASSERT_TRUE(barrier.hold());
    auto waiting = barrier.async_wait(asio::use_future);
    barrier.release();
    ASSERT_EQ(waiting.wait_for(10s), std::future_status::ready) << "round " << round;
    waiting.get();
  }
}

TEST_F(BarrierTest, DoubleBarrierEntersAndLeavesTogether) {
  constexpr int kCount = 4;
  const std::string key = p_("db");
  std::atomic<int> entered{0}, left{0};
  std::atomic<int> in_after_enter{kCount};  // the fewest entered seen by one that got in
  std::atomic<int> left_before_leave_returned{kCount};
  std::vector<std::thread> threads;
  for (int i = 0; i < kCount; ++i) {
    threads.emplace_back([&] {
      DoubleBarrier barrier(test::client(), key, kCount);
      ++entered;
      ASSERT_TRUE(barrier.enter(20s));
      in_after_enter = std::min(in_after_enter.load(), entered.load());
      ++left;
      ASSERT_TRUE(barrier.leave(20s));
      left_before_leave_returned = std::min(left_before_leave_returned.load(), left.load());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(in_after_enter.load(), kCount) << "someone got in before all had entered";
  EXPECT_EQ(left_before_leave_returned.load(), kCount) << "someone left before all were leaving";
  EXPECT_EQ(client_.get(key + "/", {.prefix = true}).kvs.size(), 0u) << "keys left behind";
}

TEST_F(BarrierTest, DoubleBarrierRefusesOneTooManyAndLeavesNoKey) {
  const std::string key = p_("db");
  DoubleBarrier a(client_, key, 2), b(test::client(), key, 2), extra(test::client(), key, 2);
  auto a_in = a.async_enter(asio::use_future);
  ASSERT_TRUE(wait_until(
      [&] { return client_.get(key + "/waiters/", {.prefix = true}).kvs.size() == 1; }, 10s));
  ASSERT_TRUE(b.enter(10s));
  ASSERT_EQ(a_in.wait_for(10s), std::future_status::ready);
  a_in.get();
  try {
    extra.enter(2s);
    FAIL() << "a third participant entered a barrier for two";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::failed_precondition);
    EXPECT_NE(std::string(e.what()).find("2 participants are in already"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(client_.get(key + "/waiters/", {.prefix = true}).kvs.size(), 2u);
  auto a_out = a.async_leave(asio::use_future);
  ASSERT_TRUE(b.leave(10s));
  ASSERT_EQ(a_out.wait_for(10s), std::future_status::ready);
  a_out.get();
  EXPECT_THROW(extra.leave(1s), Error) << "leaving without having entered";
}

}  // namespace
}  // namespace etcdpp::concurrency
