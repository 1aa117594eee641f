// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "transport/retry.hpp"

namespace etcdpp::transport {
namespace {

using std::chrono::milliseconds;
constexpr int kUnavailable = 14;
constexpr const char* kNoConnection =
    "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: Connection refused";

TEST(RetryTest, ReadsAreRetriedOnAnyUnavailability) {
  EXPECT_EQ(classify(kUnavailable, "Socket closed", true), Verdict::retry_next_endpoint);
  EXPECT_EQ(classify(kUnavailable, kNoConnection, true), Verdict::retry_next_endpoint);
  EXPECT_EQ(classify(kUnavailable, "etcdserver: leader changed", true), Verdict::retry);
}

TEST(RetryTest, WritesAreRetriedOnlyWhenNeverSent) {
  EXPECT_EQ(classify(kUnavailable, kNoConnection, false), Verdict::retry_next_endpoint);
  // The connection broke with the request possibly applied: a retry could apply it twice.
  EXPECT_EQ(classify(kUnavailable, "Socket closed", false), Verdict::fail);
  EXPECT_EQ(classify(kUnavailable, "etcdserver: request timed out", false), Verdict::fail);
}

TEST(RetryTest, RejectionsAndDeadlinesAreNeverRetried) {
  EXPECT_EQ(classify(3, "etcdserver: key is not provided", true), Verdict::fail);
  EXPECT_EQ(classify(4, "Deadline Exceeded", true), Verdict::fail);
  EXPECT_EQ(classify(1, "Cancelled", true), Verdict::fail);
  EXPECT_EQ(classify(11, "etcdserver: mvcc: required revision has been compacted", true),
            Verdict::fail);
}

TEST(RetryTest, BackoffGrowsExponentiallyUpToTheCapWithJitter) {
  const milliseconds base(25), cap(1000);
  EXPECT_EQ(backoff(1, base, cap, 0.999), milliseconds(24));
  EXPECT_EQ(backoff(2, base, cap, 0.999), milliseconds(49));
  EXPECT_EQ(backoff(3, base, cap, 0.5), milliseconds(50));
  EXPECT_EQ(backoff(10, base, cap, 0.999), milliseconds(999));
  EXPECT_EQ(backoff(100, base, cap, 0.999), milliseconds(999));
  // Never zero: a retry always yields to the timer.
  EXPECT_EQ(backoff(1, base, cap, 0.0), milliseconds(1));
}

}  // namespace
}  // namespace etcdpp::transport
