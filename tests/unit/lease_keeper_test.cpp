// SPDX-License-Identifier: Apache-2.0
// The lease keeper against a scripted transport: renews each lease in time for its TTL, leaves
// a stream whose member does not answer a renewal soon enough (a third of the TTL, half a
// second at least, one second before the TTL is known) for another endpoint, and reports a
// lost lease as revoked or expired. The keeper's own timer paces it, so these tests take about
// a second each; the test drives the executor on its own thread.
#include <gtest/gtest.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include "lease_keeper.hpp"
#include "support/fake_transport.hpp"

namespace etcdpp {
namespace {

namespace pb = etcdserverpb;
using namespace std::chrono_literals;
using Clock = transport::Clock;

constexpr LeaseId kLease{7};

pb::LeaseKeepAliveResponse answer(std::int64_t ttl) {
  pb::LeaseKeepAliveResponse r;
  r.set_id(static_cast<std::int64_t>(kLease));
  r.set_ttl(ttl);
  r.mutable_header()->set_revision(1);
  return r;
}

class LeaseKeeperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    keeper_ = std::make_shared<detail::LeaseKeeper>(fake_, io_.get_executor());
    keeper_->start();
  }

  void TearDown() override {
    keeper_->shutdown();
    keeper_.reset();
    io_.poll();
  }

  /// Keeps kLease alive; its loss is recorded in lost_.
  std::shared_ptr<detail::KeepAliveState> keep() {
    KeepAliveOptions options;
    options.on_lost = [this](LeaseId id, LeaseLoss why) {
      EXPECT_EQ(id, kLease);
      lost_ = why;
      lost_at_ = Clock::now();
    };
    auto state = std::make_shared<detail::KeepAliveState>(kLease, options, io_.get_executor());
    keeper_->add(state);
    return state;
  }

  static bool alive(const detail::KeepAliveState& state) {
    std::lock_guard lock(state.mutex);
    return !state.lost;
  }

  static std::int64_t requested(const test::FakeStream& s, std::size_t i) {
    return s.written_as<pb::LeaseKeepAliveRequest>(i).id();
  }

  bool drive_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    return test::drive_until(io_, done, timeout);
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  test::FakeTransport fake_{3};
  std::shared_ptr<detail::LeaseKeeper> keeper_;
  std::optional<LeaseLoss> lost_;
  Clock::time_point lost_at_{};
};

TEST_F(LeaseKeeperTest, RenewsEveryThirdOfTheTtlWellBeforeItRunsOut) {
  const auto state = keep();
  ASSERT_EQ(fake_.streams_opened(), 1u);
  const auto s0 = fake_.stream(0);
  ASSERT_EQ(s0->written(), 1u) << "the first renewal goes at once";
  EXPECT_EQ(requested(*s0, 0), static_cast<std::int64_t>(kLease));
  auto answered = Clock::now();
  s0->push(answer(1));
  for (std::size_t n = 2; n <= 4; ++n) {
    ASSERT_TRUE(drive_until([&] { return s0->written() == n; }, 2s)) << "renewal " << n;
    const auto waited = Clock::now() - answered;
    // TTL/3 is 333 ms: not sooner (no flood of renewals), and well within the TTL.
    EXPECT_GE(waited, 300ms) << "renewal " << n;
    EXPECT_LT(waited, 1000ms) << "renewal " << n;
    EXPECT_EQ(requested(*s0, n - 1), static_cast<std::int64_t>(kLease));
    answered = Clock::now();
    s0->push(answer(1));
  }
  io_.poll();
  EXPECT_TRUE(alive(*state));
  EXPECT_FALSE(lost_);
  EXPECT_EQ(fake_.streams_opened(), 1u);
  EXPECT_TRUE(fake_.failed_endpoints().empty());
}

TEST_F(LeaseKeeperTest, LeavesAStreamWhoseRenewalGoesUnansweredForAThirdOfTheTtl) {
  const auto added = Clock::now();
  const auto state = keep();
  const auto s0 = fake_.stream(0);
  s0->push(answer(2));
  // The next renewal goes at TTL/3 (666 ms) and is never answered.
  ASSERT_TRUE(drive_until([&] { return s0->written() == 2; }, 3s));
  EXPECT_GE(Clock::now() - added, 666ms);
  ASSERT_TRUE(drive_until([&] { return fake_.streams_opened() == 2; }, 3s));
  const auto left_after = Clock::now() - added;
  // Not before the renewal waited a third of the TTL; before the lease could run out (2 s).
  EXPECT_GE(left_after, 1332ms);
  EXPECT_LT(left_after, 2000ms);
  EXPECT_TRUE(s0->cancelled());
  EXPECT_EQ(fake_.failed_endpoints(), std::vector<std::size_t>{0});
  const auto s1 = fake_.stream(1);
  EXPECT_EQ(s1->endpoint(), 1u);
  // The renewal goes again on the new stream, at the keeper's next tick.
  ASSERT_TRUE(drive_until([&] { return s1->written() >= 1; }, 500ms));
  EXPECT_EQ(requested(*s1, 0), static_cast<std::int64_t>(kLease));
  s1->push(answer(2));
  io_.poll();
  EXPECT_TRUE(alive(*state));
  EXPECT_FALSE(lost_);
}

TEST_F(LeaseKeeperTest, WaitsAtLeastHalfASecondForAnAnswerWhateverTheTtl) {
  const auto added = Clock::now();
  const auto state = keep();
  const auto s0 = fake_.stream(0);
  // A third of 1 s is 333 ms, below the 500 ms floor.
  s0->push(answer(1));
  ASSERT_TRUE(drive_until([&] { return s0->written() == 2; }, 3s));
  ASSERT_TRUE(drive_until([&] { return fake_.streams_opened() == 2; }, 3s));
  // The renewal went at 333 ms at the earliest, and was given 500 ms.
  EXPECT_GE(Clock::now() - added, 833ms);
  EXPECT_EQ(fake_.failed_endpoints(), std::vector<std::size_t>{0});
}

TEST_F(LeaseKeeperTest, BeforeTheTtlIsKnownLeavesAStreamSilentForOneSecond) {
  const auto added = Clock::now();
  const auto state = keep();
  const auto s0 = fake_.stream(0);
  ASSERT_TRUE(drive_until([&] { return fake_.streams_opened() == 2; }, 4s));
  const auto left_after = Clock::now() - added;
  EXPECT_GE(left_after, 1000ms);
  EXPECT_LT(left_after, 2000ms);
  // Meanwhile it asked again on the same stream, every half second.
  EXPECT_GE(s0->written(), 2u);
  EXPECT_EQ(fake_.failed_endpoints(), std::vector<std::size_t>{0});
  const auto s1 = fake_.stream(1);
  EXPECT_EQ(s1->endpoint(), 1u);
  ASSERT_TRUE(drive_until([&] { return s1->written() >= 1; }, 500ms));
  EXPECT_EQ(requested(*s1, 0), static_cast<std::int64_t>(kLease));
  s1->push(answer(5));
  io_.poll();
  std::lock_guard lock(state->mutex);
  EXPECT_TRUE(state->first_answer);
  EXPECT_EQ(state->ttl, 5);
  EXPECT_FALSE(state->lost);
}

TEST_F(LeaseKeeperTest, ABrokenStreamIsReopenedElsewhereAndTheRenewalSentAgain) {
  const auto state = keep();
  const auto s0 = fake_.stream(0);
  s0->push(answer(5));
  s0->end(transport::Status{14, "connection reset"});
  EXPECT_EQ(fake_.failed_endpoints(), std::vector<std::size_t>{0});
  ASSERT_TRUE(drive_until([&] { return fake_.streams_opened() == 2; }, 2s));
  const auto s1 = fake_.stream(1);
  EXPECT_EQ(s1->endpoint(), 1u);
  ASSERT_TRUE(drive_until([&] { return s1->written() >= 1; }, 500ms));
  EXPECT_EQ(requested(*s1, 0), static_cast<std::int64_t>(kLease));
  EXPECT_TRUE(alive(*state));
}

TEST_F(LeaseKeeperTest, ALeaseGoneBeforeItsDeadlineIsReportedRevoked) {
  const auto state = keep();
  const auto s0 = fake_.stream(0);
  s0->push(answer(30));
  s0->push(answer(0));  // etcd's answer for a lease it no longer has
  io_.poll();
  EXPECT_FALSE(alive(*state));
  ASSERT_TRUE(lost_);
  EXPECT_EQ(*lost_, LeaseLoss::revoked);
}

// lease_keep_alive_once: answered by the renewal's answer, else at its deadline, after which it
// is forgotten (not sent again on the next stream, not keeping the timer going); at shutdown a
// waiter still pending is answered too (an asynchronous one holds work on its executor).
TEST_F(LeaseKeeperTest, AKeepAliveOnceIsAnsweredByItsDeadlineThenForgotten) {
  std::optional<std::error_code> late;
  const auto asked = Clock::now();
  keeper_->once(kLease, asked + 300ms, [&](detail::CallStatus s, LeaseKeepAliveResult) {
    late = s.code;
  });
  ASSERT_TRUE(drive_until([&] { return fake_.streams_opened() == 1; }, 1s));
  const auto s0 = fake_.stream(0);
  ASSERT_TRUE(drive_until([&] { return s0->written() >= 1; }, 1s));
  ASSERT_TRUE(drive_until([&] { return late.has_value(); }, 2s)) << "never answered";
  EXPECT_EQ(*late, Errc::deadline_exceeded);
  EXPECT_GE(Clock::now() - asked, 300ms);
  // The stream breaks: a new one is opened only for waiters, and there are none now.
  s0->end(transport::Status{14, "connection reset"});
  EXPECT_FALSE(drive_until([&] { return fake_.streams_opened() > 1; }, 300ms));

  std::optional<detail::CallStatus> answered, at_shutdown;
  keeper_->once(kLease, Clock::now() + 10s, [&](detail::CallStatus s, LeaseKeepAliveResult r) {
    if (r.ttl == std::chrono::seconds(7)) answered = s;
  });
  keeper_->once(LeaseId{99}, Clock::now() + 10s,
                [&](detail::CallStatus s, LeaseKeepAliveResult) { at_shutdown = s; });
  ASSERT_TRUE(drive_until([&] { return fake_.streams_opened() == 2; }, 2s));
  fake_.stream(1)->push(answer(7));
  ASSERT_TRUE(drive_until([&] { return answered.has_value(); }, 1s));
  EXPECT_FALSE(answered->code);
  keeper_->shutdown();
  ASSERT_TRUE(at_shutdown.has_value()) << "a pending waiter was dropped at shutdown";
  EXPECT_EQ(at_shutdown->code, Errc::cancelled);
}

// Gone at the first answer: the lease was never kept. keep_alive reports it (lease_not_found);
// on_lost, which tells of a kept lease lost later, is not called as well.
TEST_F(LeaseKeeperTest, ALeaseGoneAtTheFirstAnswerIsLostWithoutOnLost) {
  const auto state = keep();
  fake_.stream(0)->push(answer(0));
  io_.poll();
  EXPECT_FALSE(alive(*state));
  {
    std::lock_guard lock(state->mutex);
    EXPECT_TRUE(state->first_answer);  // what keep_alive waits for before it reads `lost`
    EXPECT_EQ(state->loss, LeaseLoss::revoked);
  }
  io_.poll();  // anything posted to the executor has run by now
  EXPECT_FALSE(lost_) << "on_lost was called for a lease keep_alive never kept";
}

TEST_F(LeaseKeeperTest, ALeaseWhoseRenewalsGoUnansweredIsReportedExpiredAtItsDeadline) {
  const auto added = Clock::now();
  const auto state = keep();
  fake_.stream(0)->push(answer(1));
  ASSERT_TRUE(drive_until([&] { return lost_.has_value(); }, 3s));
  EXPECT_EQ(*lost_, LeaseLoss::expired);
  // Counted from when the answered renewal was sent: never before the server's own deadline
  // could have passed, and not long after it.
  EXPECT_GE(lost_at_ - added, 1000ms);
  EXPECT_LT(lost_at_ - added, 1500ms);
  EXPECT_FALSE(alive(*state));
}

}  // namespace
}  // namespace etcdpp
