// SPDX-License-Identifier: Apache-2.0
// The STM against a real etcd: concurrent read-modify-writes commit exactly once each at every
// isolation level that checks reads, read-committed loses an update, snapshot isolation catches
// a write to a key written but not read, a throwing function writes nothing, attempts are
// bounded, and the asynchronous face runs on the handler's executor.
#include <gtest/gtest.h>

#include <asio/bind_executor.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <atomic>
#include <future>
#include <stdexcept>
#include <thread>

#include "support/test_env.hpp"

namespace etcdpp::concurrency {
namespace {

using namespace std::chrono_literals;
using test::TestPrefix;

int as_int(const std::optional<std::string>& v) { return v ? std::stoi(*v) : 0; }

class StmTest : public ::testing::TestWithParam<Isolation> {
 protected:
  Client client_ = test::client();
  TestPrefix p_{client_};
};

// Four clients add 1 to one counter 40 times each: no increment lost, and some had to retry.
TEST_P(StmTest, ConcurrentIncrementsAllCommitOnce) {
  const std::string counter = p_("counter");
  constexpr int kClients = 4;
  constexpr int kEach = 40;
  std::atomic<int> retried{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&] {
      Client client = test::client();
      for (int i = 0; i < kEach; ++i) {
        const StmResult r = run_stm(
            client, [&](Stm& stm) { stm.put(counter, std::to_string(as_int(stm.get(counter)) + 1)); },
            {.isolation = GetParam()});
        EXPECT_GE(r.attempts, 1);
        EXPECT_GT(r.header.revision, 0);
        retried += r.attempts - 1;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(client_.get(counter)->value, std::to_string(kClients * kEach));
  RecordProperty("retries", retried.load());
}

INSTANTIATE_TEST_SUITE_P(CheckingLevels, StmTest,
                         ::testing::Values(Isolation::serializable_snapshot, Isolation::serializable,
                                           Isolation::repeatable_read));

class StmBehaviourTest : public ::testing::Test {
 protected:
  Client client_ = test::client();
  Client other_ = test::client();
  TestPrefix p_{client_};
};

// A transaction whose read is overwritten before it commits: read-committed commits its stale
// write (the other increment is lost), serializable runs it again on the new value.
TEST_F(StmBehaviourTest, ReadCommittedLosesAnUpdateThatSerializableKeeps) {
  for (Isolation level : {Isolation::read_committed, Isolation::serializable}) {
    const std::string counter = p_(level == Isolation::read_committed ? "rc" : "ser");
    client_.put(counter, "0");
    bool interleaved = false;
    const StmResult r = run_stm(
        client_,
        [&](Stm& stm) {
          const int seen = as_int(stm.get(counter));
          if (!interleaved) {
            interleaved = true;  // another writer commits between this read and the commit
            run_stm(other_, [&](Stm& s) { s.put(counter, std::to_string(as_int(s.get(counter)) + 1)); });
          }
          stm.put(counter, std::to_string(seen + 1));
        },
        {.isolation = level});
    if (level == Isolation::read_committed) {
      EXPECT_EQ(r.attempts, 1);
      EXPECT_EQ(client_.get(counter)->value, "1") << "read-committed keeps no lost update";
    } else {
      EXPECT_EQ(r.attempts, 2);
      EXPECT_EQ(client_.get(counter)->value, "2");
    }
  }
}

// Reads a, writes b without reading it while another client changes b: snapshot isolation
// conflicts on b, serializable lets the blind write win.
TEST_F(StmBehaviourTest, SnapshotIsolationChecksKeysWrittenWithoutReading) {
  for (Isolation level : {Isolation::serializable_snapshot, Isolation::serializable}) {
    const std::string a = p_("a"), b = p_("b");
    client_.put(a, "1");
    client_.put(b, "x");
    int runs = 0;
    const StmResult r = run_stm(
        client_,
        [&](Stm& stm) {
          const auto va = stm.get(a);
          if (runs++ == 0) other_.put(b, "changed after the snapshot");
          stm.put(b, "from " + va.value_or("?"));
        },
        {.isolation = level});
    EXPECT_EQ(r.attempts, level == Isolation::serializable_snapshot ? 2 : 1)
        << static_cast<int>(level);
    EXPECT_EQ(client_.get(b)->value, "from 1");
  }
}

TEST_F(StmBehaviourTest, ThrowingFunctionWritesNothingAndItsExceptionComesOut) {
  const std::string k = p_("k");
  client_.put(k, "before");
  try {
    run_stm(client_, [&](Stm& stm) {
      stm.put(k, "after");
      stm.put(p_("other"), "x");
      if (stm.get(k) == "after") throw std::invalid_argument("insufficient funds");
    });
    FAIL() << "run_stm returned";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "insufficient funds");
  }
  EXPECT_EQ(client_.get(k)->value, "before");
  EXPECT_FALSE(client_.get(p_("other")));
}

TEST_F(StmBehaviourTest, GivesUpAfterMaxAttemptsWithAborted) {
  const std::string k = p_("hot");
  int writes = 0;
  try {
    run_stm(
        client_,
        [&](Stm& stm) {
          const auto v = stm.get(k);
          other_.put(k, std::to_string(++writes));  // every attempt is overtaken
          stm.put(k, v.value_or("") + "!");
        },
        {.max_attempts = 3, .backoff_base = 1ms, .backoff_max = 2ms});
    FAIL() << "run_stm committed";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::aborted);
    EXPECT_NE(std::string(e.what()).find("gave up after 3 attempts"), std::string::npos) << e.what();
  }
  EXPECT_NE(client_.get(k)->value.back(), '!');
}

TEST_F(StmBehaviourTest, PrefetchedKeysAndRevisionsAreSeen) {
  client_.put(p_("x"), "1");
  client_.put(p_("y"), "2");
  const auto x_rev = client_.get(p_("x"))->mod_revision;
  int runs = 0;
  const StmResult r = run_stm(
      client_,
      [&](Stm& stm) {
        ++runs;
        EXPECT_EQ(stm.rev(p_("x")), x_rev);
        EXPECT_EQ(stm.rev(p_("missing")), 0);
        EXPECT_FALSE(stm.get(p_("missing")));
        stm.put(p_("sum"), std::to_string(as_int(stm.get(p_("x"))) + as_int(stm.get(p_("y")))));
        stm.delete_key(p_("y"));
        EXPECT_FALSE(stm.get(p_("y")));  // its own delete
      },
      {.prefetch = {p_("x"), p_("y"), p_("missing")}});
  EXPECT_EQ(runs, 1) << "every key was prefetched: the function never waited for a read";
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(client_.get(p_("sum"))->value, "3");
  EXPECT_FALSE(client_.get(p_("y")));
}

TEST_F(StmBehaviourTest, BadOptionsAreRefused) {
  try {
    run_stm(client_, [](Stm&) {}, {.max_attempts = 0});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_option);
    EXPECT_NE(std::string(e.what()).find("max_attempts"), std::string::npos);
  }
}

TEST_F(StmBehaviourTest, AsyncFaceRunsOnTheHandlersExecutorAndCarriesTheException) {
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  const auto io_thread = runner.get_id();
  std::thread::id apply_thread;
  std::promise<StmResult> done;
  async_run_stm(
      client_,
      [&](Stm& stm) {
        apply_thread = std::this_thread::get_id();
        stm.put(p_("async"), "yes");
      },
      {}, asio::bind_executor(io, [&](std::exception_ptr e, StmResult r) {
        EXPECT_EQ(std::this_thread::get_id(), io_thread);
        if (e) {
          done.set_exception(e);
        } else {
          done.set_value(r);
        }
      }));
  auto future = done.get_future();
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(future.get().attempts, 1);
  EXPECT_EQ(apply_thread, io_thread);
  EXPECT_EQ(client_.get(p_("async"))->value, "yes");

  auto failed = async_run_stm(
      client_, [](Stm&) { throw std::runtime_error("no"); }, {}, asio::use_future);
  ASSERT_EQ(failed.wait_for(10s), std::future_status::ready);
  EXPECT_THROW(failed.get(), std::runtime_error);
  guard.reset();
  runner.join();
}

}  // namespace
}  // namespace etcdpp::concurrency
