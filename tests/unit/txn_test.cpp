// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "etcdpp/txn.hpp"

namespace etcdpp {
namespace {

TEST(TxnTest, CompareBuildersFillTargetResultAndConstant) {
  const Compare c = Compare::value("k") == "v";
  EXPECT_EQ(c, (Compare{.target = Compare::Target::value,
                        .result = Compare::Result::equal,
                        .key = "k",
                        .bytes = "v"}));
  const Compare v = Compare::version("k") > 3;
  EXPECT_EQ(v.target, Compare::Target::version);
  EXPECT_EQ(v.result, Compare::Result::greater);
  EXPECT_EQ(v.number, 3);
  const Compare l = Compare::lease("k") != LeaseId{42};
  EXPECT_EQ(l.result, Compare::Result::not_equal);
  EXPECT_EQ(l.number, 42);
  const Compare p = Compare::mod_revision("dir/").prefix() < 10;
  EXPECT_EQ(p.range_end, "dir0");
  const Compare r = Compare::create_revision("a").range("c") == 0;
  EXPECT_EQ(r.range_end, "c");
}

TEST(TxnTest, ReadOnlyOnlyWhenNoOperationWritesAtAnyDepth) {
  EXPECT_TRUE(Txn{}.read_only());
  EXPECT_TRUE(Txn{}.then(Op::get("a")).else_(Op::get("b")).read_only());
  EXPECT_FALSE(Txn{}.then(Op::get("a")).else_(Op::put("b", "1")).read_only());
  EXPECT_FALSE(Txn{}.then(Op::delete_range("a")).read_only());
  EXPECT_TRUE(Txn{}.then(Op::txn(Txn{}.then(Op::get("a")))).read_only());
  EXPECT_FALSE(Txn{}.then(Op::txn(Txn{}.else_(Op::put("a", "1")))).read_only());
}

TEST(TxnTest, BuilderKeepsOrder) {
  Txn t;
  t.if_({Compare::value("a") == "1", Compare::version("b") == 0})
      .then({Op::put("a", "2"), Op::get("b")})
      .else_(Op::get("a"));
  ASSERT_EQ(t.compares().size(), 2u);
  EXPECT_EQ(t.compares()[1].key, "b");
  ASSERT_EQ(t.success().size(), 2u);
  EXPECT_TRUE(std::holds_alternative<Op::Put>(t.success()[0].variant()));
  EXPECT_TRUE(std::holds_alternative<Op::Get>(t.success()[1].variant()));
  EXPECT_EQ(t.failure().size(), 1u);
}

}  // namespace
}  // namespace etcdpp
