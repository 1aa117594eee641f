// SPDX-License-Identifier: Apache-2.0
// Transactions against a real etcd: every compare target and result, range compares, both
// branches with every operation, nesting, and the limits etcd enforces.
#include <gtest/gtest.h>

#include "support/test_env.hpp"

namespace etcdpp {
namespace {

using test::TestPrefix;

class TxnTest : public ::testing::Test {
 protected:
  Client client_ = test::client();
  TestPrefix p_{client_};
};

TEST_F(TxnTest, ValueCompareChoosesTheBranch) {
  client_.put(p_("mode"), "blue");
  const TxnResult hit = client_.txn(Txn{}
                                        .if_(Compare::value(p_("mode")) == "blue")
                                        .then(Op::put(p_("mode"), "green"))
                                        .else_(Op::get(p_("mode"))));
  EXPECT_TRUE(hit.succeeded);
  ASSERT_EQ(hit.responses.size(), 1u);
  EXPECT_GT(hit.responses[0].put().header.revision, 0);
  EXPECT_EQ(client_.get(p_("mode"))->value, "green");

  const TxnResult miss = client_.txn(Txn{}
                                         .if_(Compare::value(p_("mode")) == "blue")
                                         .then(Op::put(p_("mode"), "red"))
                                         .else_(Op::get(p_("mode"))));
  EXPECT_FALSE(miss.succeeded);
  ASSERT_EQ(miss.responses.size(), 1u);
  EXPECT_EQ(miss.responses[0].get().kvs.at(0).value, "green");
  EXPECT_EQ(client_.get(p_("mode"))->value, "green");
}

TEST_F(TxnTest, EveryTargetAndResultCompares) {
  const auto rev = client_.put(p_("k"), "5").header.revision;
  client_.put(p_("k"), "6");  // version 2, mod revision rev + 1
  auto holds = [&](Compare c) { return client_.txn(Txn{}.if_(std::move(c))).succeeded; };
  EXPECT_TRUE(holds(Compare::version(p_("k")) == 2));
  EXPECT_TRUE(holds(Compare::version(p_("k")) > 1));
  EXPECT_TRUE(holds(Compare::version(p_("k")) < 3));
  EXPECT_TRUE(holds(Compare::version(p_("k")) != 1));
  EXPECT_FALSE(holds(Compare::version(p_("k")) == 1));
  EXPECT_TRUE(holds(Compare::create_revision(p_("k")) == rev));
  EXPECT_TRUE(holds(Compare::mod_revision(p_("k")) == rev + 1));
  EXPECT_TRUE(holds(Compare::mod_revision(p_("k")) > rev));
  EXPECT_TRUE(holds(Compare::value(p_("k")) < "7"));
  EXPECT_TRUE(holds(Compare::value(p_("k")) != "5"));
  EXPECT_TRUE(holds(Compare::lease(p_("k")) == LeaseId{0}));
  // A missing key has create revision 0: the classic "create if absent".
  EXPECT_TRUE(holds(Compare::create_revision(p_("absent")) == 0));
}

TEST_F(TxnTest, RangeComparesHoldForEveryKeyInTheRange) {
  client_.put(p_("r/a"), "1");
  client_.put(p_("r/b"), "1");
  client_.put(p_("r/c"), "2");
  EXPECT_FALSE(client_.txn(Txn{}.if_(Compare::value(p_("r/")).prefix() == "1")).succeeded);
  EXPECT_TRUE(client_.txn(Txn{}.if_(Compare::value(p_("r/a")).range(p_("r/c")) == "1")).succeeded);
  EXPECT_TRUE(client_.txn(Txn{}.if_(Compare::version(p_("r/")).prefix() > 0)).succeeded);
}

TEST_F(TxnTest, AllOperationKindsAndANestedTxnAnswerInOrder) {
  client_.put(p_("x"), "1");
  client_.put(p_("gone"), "1");
  const TxnResult r = client_.txn(Txn{}.then({
      Op::get(p_("x")),
      Op::put(p_("y"), "2", {.prev_kv = true}),
      Op::delete_range(p_("gone"), {.prev_kv = true}),
      Op::txn(Txn{}.if_(Compare::value(p_("x")) == "1").then(Op::put(p_("z"), "3"))),
  }));
  ASSERT_TRUE(r.succeeded);
  ASSERT_EQ(r.responses.size(), 4u);
  EXPECT_EQ(r.responses[0].get().kvs.at(0).value, "1");
  EXPECT_FALSE(r.responses[1].put().prev_kv);
  EXPECT_EQ(r.responses[2].delete_range().deleted, 1);
  EXPECT_EQ(r.responses[2].delete_range().prev_kvs.at(0).key, p_("gone"));
  const TxnResult& nested = r.responses[3].txn();
  EXPECT_TRUE(nested.succeeded);
  EXPECT_EQ(nested.responses.size(), 1u);
  EXPECT_EQ(client_.get(p_("z"))->value, "3");
  EXPECT_EQ(client_.get(p_("y"))->mod_revision, r.header.revision);
}

TEST_F(TxnTest, TooManyOperationsIsRefusedAndNothingIsWritten) {
  Txn t;
  for (int i = 0; i < 129; ++i) t.then(Op::put(p_(std::to_string(i)), "v"));
  try {
    client_.txn(t);
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::too_many_txn_ops);
    EXPECT_NE(std::string(e.what()).find("txn"), std::string::npos);
  }
  EXPECT_EQ(client_.get(p_.str(), {.prefix = true, .count_only = true}).count, 0);
}

TEST_F(TxnTest, DuplicateKeyIsRefusedAndNothingIsWritten) {
  try {
    client_.txn(Txn{}.then({Op::put(p_("d"), "1"), Op::put(p_("d"), "2")}));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::duplicate_key_in_txn);
    EXPECT_NE(std::string(e.what()).find(p_("d")), std::string::npos) << e.what();
  }
  EXPECT_FALSE(client_.get(p_("d")));
}

}  // namespace
}  // namespace etcdpp
