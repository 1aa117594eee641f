// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "etcdpp/error.hpp"
#include "etcdpp/kv.hpp"

namespace etcdpp {
namespace {

TEST(KvTest, PrefixRangeEndIncrementsTheLastByteBelow0xff) {
  EXPECT_EQ(prefix_range_end("app/"), "app0");
  EXPECT_EQ(prefix_range_end("a"), "b");
  EXPECT_EQ(prefix_range_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_range_end(std::string("\xff\xff", 2)), std::string(1, '\0'));
  EXPECT_EQ(prefix_range_end(""), std::string(1, '\0'));
}

TEST(ErrorTest, CategoryNamesEtcdErrorsAndTransientOnes) {
  EXPECT_STREQ(error_category().name(), "etcdpp");
  EXPECT_EQ(make_error_code(Errc::compacted).message(),
            "etcdserver: mvcc: required revision has been compacted");
  EXPECT_EQ(make_error_code(Errc::unavailable).message(), "unavailable");
  EXPECT_TRUE(is_transient(Errc::unavailable));
  EXPECT_TRUE(is_transient(Errc::no_leader));
  EXPECT_FALSE(is_transient(Errc::empty_key));
  EXPECT_FALSE(is_transient(std::make_error_code(std::errc::timed_out)));
}

TEST(ErrorTest, ThrowErrorGivesCompactedErrorForCompaction) {
  EXPECT_THROW(throw_error(Errc::compacted, "get \"k\""), CompactedError);
  try {
    throw_error(Errc::empty_key, "put \"\": etcdserver: key is not provided");
  } catch (const CompactedError&) {
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::empty_key);
  }
}

}  // namespace
}  // namespace etcdpp
