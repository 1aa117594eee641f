// SPDX-License-Identifier: Apache-2.0
#include "etcdpp/kv.hpp"

#include <gtest/gtest.h>

#include "detail/convert.hpp"
#include "etcdpp/error.hpp"

namespace etcdpp {
namespace {

TEST(KvTest, PrefixRangeEndIncrementsTheLastByteBelow0xff) {
  EXPECT_EQ(prefix_range_end("app/"), "app0");
  EXPECT_EQ(prefix_range_end("a"), "b");
  EXPECT_EQ(prefix_range_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_range_end(std::string("\xff\xff", 2)), std::string(1, '\0'));
  EXPECT_EQ(prefix_range_end(""), std::string(1, '\0'));
}

using detail::key_range;
const std::string kNul(1, '\0');

TEST(KvTest, WithoutANamespaceRangesAreEtcdsOwn) {
  EXPECT_EQ(key_range("", "k", "", false, false).key, "k");
  EXPECT_EQ(key_range("", "k", "", false, false).range_end, "");
  EXPECT_EQ(key_range("", "a", "c", false, false).range_end, "c");
  EXPECT_EQ(key_range("", "app/", "", true, false).range_end, "app0");
  EXPECT_EQ(key_range("", "k", "", false, true).range_end, kNul);
  // The empty key starts "every key" as "\0"; alone it is left for etcd to refuse.
  EXPECT_EQ(key_range("", "", "", true, false).key, kNul);
  EXPECT_EQ(key_range("", "", "", true, false).range_end, kNul);
  EXPECT_EQ(key_range("", "", "", false, true).key, kNul);
  EXPECT_EQ(key_range("", "", "", false, false).key, "");
}

TEST(KvTest, TwoWaysOfChoosingTheRangeAreRefusedNamingBoth) {
  const auto refused = [](std::string_view range_end, bool prefix, bool from_key) -> std::string {
    try {
      key_range("", "k", range_end, prefix, from_key);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::invalid_argument);
      return e.what();
    }
    return "taken";
  };
  EXPECT_NE(refused("", true, true).find("prefix and from_key are set together"),
            std::string::npos);
  EXPECT_NE(refused("z", true, false).find("range_end and prefix"), std::string::npos);
  EXPECT_NE(refused("z", false, true).find("range_end and from_key"), std::string::npos);
  EXPECT_NE(refused("z", true, true).find("range_end and prefix and from_key"), std::string::npos);
  EXPECT_NE(refused("z", true, true).find("\"k\""), std::string::npos);
  EXPECT_EQ(refused("z", false, false), "taken");
  EXPECT_EQ(refused("", true, false), "taken");
  EXPECT_EQ(refused("", false, true), "taken");
}

TEST(KvTest, ANamespaceMapsKeysAndEndsAsGosNamespaceDoes) {
  // One key, an explicit end, a prefix, from-key.
  EXPECT_EQ(key_range("n/", "k", "", false, false).key, "n/k");
  EXPECT_EQ(key_range("n/", "k", "", false, false).range_end, "");
  EXPECT_EQ(key_range("n/", "a", "c", false, false).range_end, "n/c");
  EXPECT_EQ(key_range("n/", "app/", "", true, false).range_end, "n/app0");
  EXPECT_EQ(key_range("n/", "k", "", false, true).range_end, "n0");
  // "\0" as an explicit end is the end of the namespace, not of etcd's keyspace.
  EXPECT_EQ(key_range("n/", "k", kNul, false, false).range_end, "n0");
  // The empty key is the key equal to the prefix; "every key" is exactly the namespace.
  EXPECT_EQ(key_range("n/", "", "", false, false).key, "n/");
  EXPECT_EQ(key_range("n/", "", "", true, false).key, "n/");
  EXPECT_EQ(key_range("n/", "", "", true, false).range_end, "n0");
  EXPECT_EQ(key_range("n/", "", "", false, true).range_end, "n0");
  // A key of only 0xff bytes has no prefix end of its own: its prefix runs to the namespace's.
  EXPECT_EQ(key_range("n/", "\xff\xff", "", true, false).range_end, "n0");
  EXPECT_EQ(key_range("n/", "a\xff", "", true, false).range_end, "n/b");
}

TEST(KvTest, ANamespaceOfOnly0xffBytesRunsToTheEndOfTheKeyspace) {
  const std::string ff("\xff\xff");
  EXPECT_EQ(key_range(ff, "", "", true, false).key, ff);
  EXPECT_EQ(key_range(ff, "", "", true, false).range_end, kNul);
  EXPECT_EQ(key_range(ff, "k", "", false, true).range_end, kNul);
  EXPECT_EQ(key_range(ff, "k", "", true, false).range_end, ff + "l");
}

TEST(KvTest, CutNamespaceRemovesThePrefixOnly) {
  std::string key = "n/k";
  detail::cut_namespace("n/", key);
  EXPECT_EQ(key, "k");
  key = "n/";
  detail::cut_namespace("n/", key);
  EXPECT_EQ(key, "");
  key = "other";
  detail::cut_namespace("n/", key);
  EXPECT_EQ(key, "other");
  key = "n/k";
  detail::cut_namespace("", key);
  EXPECT_EQ(key, "n/k");
}

}  // namespace
}  // namespace etcdpp
