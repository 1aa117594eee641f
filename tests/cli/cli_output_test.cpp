// SPDX-License-Identifier: Apache-2.0
// The pure parts of the etcdpp command-line tool, without a server: etcdctl's txn input, its
// formats (tables, sizes, durations, base64, JSON of results) and its argument checks.
#include <gtest/gtest.h>

#include <sstream>

#include "cli.hpp"
#include "commands.hpp"
#include "output.hpp"

namespace etcdpp::cli {
namespace {

TEST(CliOutputTest, TableIsDrawnAsEtcdctlDrawsIt) {
  // etcdctl 3.4's `member list -w table` of a single node.
  const std::string want =
      "+------------------+---------+---------+------------------------+------------------------+"
      "------------+\n"
      "|        ID        | STATUS  |  NAME   |       PEER ADDRS       |      CLIENT ADDRS      |"
      " IS LEARNER |\n"
      "+------------------+---------+---------+------------------------+------------------------+"
      "------------+\n"
      "| bdae9bbc11dd390d | started | default | http://127.0.0.1:23801 | http://127.0.0.1:23791 |"
      "      false |\n"
      "+------------------+---------+---------+------------------------+------------------------+"
      "------------+\n";
  const Member m{.id = 0xbdae9bbc11dd390d,
                 .name = "default",
                 .peer_urls = {"http://127.0.0.1:23801"},
                 .client_urls = {"http://127.0.0.1:23791"}};
  EXPECT_EQ(table(member_header(), member_rows({m})), want);
}

TEST(CliOutputTest, SizesDurationsAndIdsReadAsGoWritesThem) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(9), "9 B");
  EXPECT_EQ(human_bytes(20480), "20 kB");
  EXPECT_EQ(human_bytes(1500), "1.5 kB");
  EXPECT_EQ(human_bytes(2500000), "2.5 MB");
  EXPECT_EQ(go_duration(std::chrono::nanoseconds(1637560)), "1.63756ms");
  EXPECT_EQ(go_duration(std::chrono::nanoseconds(999)), "999ns");
  EXPECT_EQ(go_duration(std::chrono::microseconds(1500)), "1.5ms");
  EXPECT_EQ(go_duration(std::chrono::milliseconds(2500)), "2.5s");
  EXPECT_EQ(go_duration(std::chrono::seconds(90)), "1m30s");
  EXPECT_EQ(lease_hex(LeaseId{0x694d5765fc71500b}), "694d5765fc71500b");
  EXPECT_EQ(lease_hex(LeaseId{0x1234}), "0000000000001234");
  EXPECT_EQ(hex(0x1234), "1234");
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("fo"), "Zm8=");
  EXPECT_EQ(base64("foo"), "Zm9v");
  EXPECT_EQ(base64(std::string("\xff\x00\x10", 3)), "/wAQ");
}

TEST(CliOutputTest, JsonLeavesOutZeroFieldsAndEncodesBytes) {
  GetResult r;
  r.header = {.cluster_id = 15118495548433857066u, .member_id = 1, .revision = 4, .raft_term = 2};
  r.kvs.push_back(
      {.key = "foo", .value = "", .create_revision = 2, .mod_revision = 3, .version = 2});
  r.count = 1;
  EXPECT_EQ(to_json(r).dump(),
            "{\"header\":{\"cluster_id\":15118495548433857066,\"member_id\":1,\"revision\":4,"
            "\"raft_term\":2},\"kvs\":[{\"key\":\"Zm9v\",\"create_revision\":2,\"mod_revision\":3,"
            "\"version\":2}],\"count\":1}");
  EXPECT_EQ(to_json(DeleteResult{}).dump(), "{\"header\":{}}");
}

TEST(CliOutputTest, TxnResponsesAreNamedAsTheServersEtcdctlNamesThem) {
  TxnResult inner;
  inner.responses.push_back({DeleteResult{}});
  TxnResult r;
  r.succeeded = true;
  r.responses = {{GetResult{}}, {PutResult{}}, {inner}};
  EXPECT_EQ(to_json(r, TxnJsonNames::go_fields).dump(),
            "{\"header\":{},\"succeeded\":true,\"responses\":["
            "{\"Response\":{\"ResponseRange\":{\"header\":{}}}},"
            "{\"Response\":{\"ResponsePut\":{\"header\":{}}}},"
            "{\"Response\":{\"ResponseTxn\":{\"header\":{},\"responses\":["
            "{\"Response\":{\"ResponseDeleteRange\":{\"header\":{}}}}]}}}]}");
  EXPECT_EQ(to_json(r, TxnJsonNames::proto_fields).dump(),
            "{\"header\":{},\"succeeded\":true,\"responses\":["
            "{\"Response\":{\"response_range\":{\"header\":{}}}},"
            "{\"Response\":{\"response_put\":{\"header\":{}}}},"
            "{\"Response\":{\"response_txn\":{\"header\":{},\"responses\":["
            "{\"Response\":{\"response_delete_range\":{\"header\":{}}}}]}}}]}");
  EXPECT_EQ(txn_json_names("3.4.23"), TxnJsonNames::go_fields);
  EXPECT_EQ(txn_json_names("3.5.16"), TxnJsonNames::proto_fields);
  EXPECT_EQ(txn_json_names("3.6.0"), TxnJsonNames::proto_fields);
  EXPECT_EQ(txn_json_names("4.0.0"), TxnJsonNames::proto_fields);
  EXPECT_EQ(txn_json_names("2.3.8"), TxnJsonNames::go_fields);
  EXPECT_EQ(txn_json_names(""), TxnJsonNames::go_fields);
  EXPECT_EQ(txn_json_names("three"), TxnJsonNames::go_fields);
}

TEST(CliTxnInputTest, ReadsComparesThenSuccessThenFailureOperations) {
  std::istringstream in(
      "value(\"a\") = \"x y\"\n"
      "mod(\"b\") > \"3\"\n"
      "ver(\"c\") != \"1\"\n"
      "create(\"d\") < \"9\"\n"
      "\n"
      "put k \"v 1\"\n"
      "get k --prefix --limit=2\n"
      "\n"
      "del k --prev-kv\n"
      "\n");
  const Txn txn = read_txn(in, false);
  ASSERT_EQ(txn.compares().size(), 4u);
  EXPECT_EQ(txn.compares()[0], Compare::value("a") == std::string("x y"));
  EXPECT_EQ(txn.compares()[1], Compare::mod_revision("b") > std::int64_t{3});
  EXPECT_EQ(txn.compares()[2], Compare::version("c") != std::int64_t{1});
  EXPECT_EQ(txn.compares()[3], Compare::create_revision("d") < std::int64_t{9});
  ASSERT_EQ(txn.success().size(), 2u);
  const auto& put = std::get<Op::Put>(txn.success()[0].variant());
  EXPECT_EQ(put.key, "k");
  EXPECT_EQ(put.value, "v 1");
  const auto& get = std::get<Op::Get>(txn.success()[1].variant());
  EXPECT_TRUE(get.options.prefix);
  EXPECT_EQ(get.options.limit, 2);
  ASSERT_EQ(txn.failure().size(), 1u);
  EXPECT_TRUE(std::get<Op::Delete>(txn.failure()[0].variant()).options.prev_kv);
}

TEST(CliTxnInputTest, AcceptsInputThatEndsWithoutItsLastBlankLine) {
  std::istringstream in("\nput k v");
  const Txn txn = read_txn(in, false);
  EXPECT_TRUE(txn.compares().empty());
  EXPECT_EQ(txn.success().size(), 1u);
  EXPECT_TRUE(txn.failure().empty());
}

TEST(CliTxnInputTest, BadLinesAreNamedInTheError) {
  const auto error_of = [](const std::string& text) {
    std::istringstream in(text);
    try {
      read_txn(in, false);
    } catch (const ExitError& e) {
      return std::to_string(e.code) + " " + e.message;
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of("bogus(\"a\") = \"1\"\n\n\n"),
            "3 malformed comparison: bogus(\"a\") = \"1\" (unknown target bogus)");
  EXPECT_EQ(error_of("value(\"a\") =~ \"1\"\n\n\n"),
            "3 malformed comparison: value(\"a\") =~ \"1\" (unknown operator =~)");
  EXPECT_EQ(error_of("mod(\"a\") = \"x\"\n\n\n"),
            "3 invalid txn compare request: mod(\"a\") = \"x\"");
  EXPECT_EQ(error_of("\nput a\n\n"),
            "128 put command needs 1 argument and input from stdin or 2 arguments");
  EXPECT_EQ(error_of("\nput a b --bogus\n\n"), "3 invalid txn request: put a b --bogus");
  EXPECT_EQ(error_of("\nwatch a\n\n"), "3 invalid txn request: watch a");
}

TEST(CliTxnInputTest, SplitsWordsWithQuotesAsEtcdctl) {
  EXPECT_EQ(split_words("put \"a b\" 'c d' e\\tf \"x\\\"y\""),
            (std::vector<std::string>{"put", "a b", "c d", "e\\tf", "x\"y"}));
}

TEST(CliArgsTest, GetChecksItsArgumentsAsEtcdctl) {
  const auto error_of = [](GetArgs a) {
    try {
      get_request(a);
    } catch (const ExitError& e) {
      return std::to_string(e.code) + " " + e.message;
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_of({}),
            "128 get command needs one argument as key and an optional argument as range_end");
  EXPECT_EQ(error_of({.args = {"a"}, .prefix = true, .from_key = true}),
            "128 `--prefix` and `--from-key` cannot be set at the same time, choose one");
  EXPECT_EQ(error_of({.args = {"a", "b"}, .prefix = true}),
            "128 too many arguments, only accept one argument when `--prefix` is set.");
  EXPECT_EQ(error_of({.args = {"a"}, .order = "UP"}), "4 bad sort order UP");
  EXPECT_EQ(error_of({.args = {"a"}, .sort_by = "SIZE"}), "4 bad sort target SIZE");
  EXPECT_EQ(error_of({.args = {"a"}, .consistency = "x"}), "128 unknown consistency flag \"x\"");

  const auto [key, o] = get_request({.args = {""}, .from_key = true, .order = "ascend"});
  EXPECT_EQ(key, std::string(1, '\0'));  // every key, as etcdctl's --from-key ""
  EXPECT_TRUE(o.from_key);
  EXPECT_EQ(o.sort_order, SortOrder::none);  // ascending by key is etcd's own order
}

TEST(CliArgsTest, DurationsAndLeaseIdsParseAsEtcdctl) {
  EXPECT_EQ(parse_duration("5s", "command-timeout"), std::chrono::milliseconds(5000));
  EXPECT_EQ(parse_duration("1.5s", "command-timeout"), std::chrono::milliseconds(1500));
  EXPECT_EQ(parse_duration("1m30s", "command-timeout"), std::chrono::milliseconds(90000));
  EXPECT_EQ(parse_duration("250ms", "command-timeout"), std::chrono::milliseconds(250));
  EXPECT_THROW(parse_duration("5", "command-timeout"), ExitError);
  EXPECT_THROW(parse_duration("soon", "command-timeout"), ExitError);
  EXPECT_EQ(parse_lease_id("694d5765fc71500b", false), LeaseId{0x694d5765fc71500b});
  try {
    parse_lease_id("zz", true);
    ADD_FAILURE() << "no error";
  } catch (const ExitError& e) {
    EXPECT_EQ(e.code, exit_bad_args);
    EXPECT_EQ(
        e.message,
        "bad lease ID (strconv.ParseInt: parsing \"zz\": invalid syntax), expecting ID in Hex");
  }
}

}  // namespace
}  // namespace etcdpp::cli
