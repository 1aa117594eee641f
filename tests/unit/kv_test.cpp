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

}  // namespace
}  // namespace etcdpp
