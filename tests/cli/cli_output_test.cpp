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
  const Member m{.id = MemberId{0xbdae9bbc11dd390d},
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
  r.header = {.cluster_id = 15118495548433857066u, .member_id = MemberId{1}, .revision = 4, .raft_term = 2};
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

// The exit code and message of read_txn for `text`; "ok" when it reads.
std::string txn_error_of(const std::string& text) {
  std::istringstream in(text);
  try {
    read_txn(in, false);
  } catch (const ExitError& e) {
    return std::to_string(e.code) + " " + e.message;
  }
  return "ok";
}

int txn_exit_of(const std::string& text) {
  const std::string e = txn_error_of(text);
  return e == "ok" ? 0 : std::stoi(e);
}

TEST(CliTxnInputTest, EndOfInputBeforeTheThirdBlankLineFailsAsInEtcdctl) {
  // etcdctl reads each of the three parts up to its blank line and stops with "EOF", exit 3,
  // when the input ends first, even after a last line without its newline.
  for (const std::string text : {"", "\n", "\n\n", "\nput k v", "\nput k v\n", "\nput k v\n\n",
                                 "val(\"k\") = \"v\"\n", "\n\n\n\n"}) {
    const std::string e = txn_error_of(text);
    if (text == "\n\n\n\n") {
      EXPECT_EQ(e, "ok");
    } else {
      EXPECT_EQ(e.rfind("3 EOF", 0), 0u) << "[" << text << "]: " << e;
    }
  }
  EXPECT_NE(txn_error_of("\nput k v\n\n").find("failure requests"), std::string::npos);
  EXPECT_EQ(txn_error_of("\n\n\n"), "ok");
}

TEST(CliTxnInputTest, IndentedLinesAndBlankSeparatorsReadAsInEtcdctl) {
  std::istringstream in(
      "  val(\"a\") = \"1\"  \r\n"
      "\tmod(\"b\")\t>\t\"0\"\n"
      " \t \n"
      "   put k v\t\n"
      "\r\n"
      "\t get k\n"
      "  \n");
  const Txn txn = read_txn(in, false);
  ASSERT_EQ(txn.compares().size(), 2u);
  EXPECT_EQ(txn.compares()[0], Compare::value("a") == std::string("1"));
  EXPECT_EQ(txn.compares()[1], Compare::mod_revision("b") > std::int64_t{0});
  ASSERT_EQ(txn.success().size(), 1u);
  EXPECT_EQ(std::get<Op::Put>(txn.success()[0].variant()).value, "v");
  EXPECT_EQ(txn.failure().size(), 1u);
}

TEST(CliTxnInputTest, RefusesWhatEtcdctlRefuses) {
  // Every one of these etcdctl 3.4 refuses, with the same exit code.
  EXPECT_EQ(txn_exit_of("\nput k v -prev-kv\n\n\n"), 3);  // a single dash is a shorthand
  EXPECT_EQ(txn_exit_of("\nget k -5\n\n\n"), 3);
  EXPECT_EQ(txn_exit_of("\nput k v --prev-kv=yes\n\n\n"), 3);  // not a Go bool
  EXPECT_EQ(txn_exit_of("\nput k v --prev-kv=\n\n\n"), 3);
  EXPECT_EQ(txn_exit_of("\nget k --limit\n\n\n"), 3);     // needs a value
  EXPECT_EQ(txn_exit_of("\nget k --limit=08\n\n\n"), 3);  // octal
  EXPECT_EQ(txn_exit_of("\nget k --limit=1__0\n\n\n"), 3);
  EXPECT_EQ(txn_exit_of("\nget k ---limit=1\n\n\n"), 3);
  EXPECT_EQ(txn_exit_of("\nput k \"v\\q\"\n\n\n"), 3);  // not a Go escape
  EXPECT_EQ(txn_exit_of("\nput k \"\\'\"\n\n\n"), 3);
  EXPECT_EQ(txn_exit_of("\nput k \"\\400\"\n\n\n"), 3);
  EXPECT_EQ(txn_exit_of("\n--prefix get k\n\n\n"), 3);  // cobra takes "get" as its value
  EXPECT_EQ(txn_exit_of("\nk put v\n\n\n"), 3);
  EXPECT_EQ(txn_exit_of("val(\"k\")=\"v\"\n\n\n\n"), 3);  // no space after ')'
  EXPECT_EQ(txn_exit_of("val(\"k\") =\"v\"\n\n\n\n"), 3);
  EXPECT_EQ(txn_exit_of("val(\"k\" ) = \"v\"\n\n\n\n"), 3);
  EXPECT_EQ(txn_exit_of("ver(\"k\") = \"0x1\"\n\n\n\n"), 3);
  EXPECT_EQ(txn_exit_of("ver(\"k\") = \"+-1\"\n\n\n\n"), 3);
  EXPECT_EQ(txn_exit_of("\nget a --consistency=x\n\n\n"), 4);
  EXPECT_EQ(txn_error_of("\nget a --consistency=x\n\n\n"), "4 unknown consistency flag \"x\"");
  EXPECT_EQ(txn_error_of("\nget a b --prefix\n\n\n"),
            "128 too many arguments, only accept one argument when `--prefix` or `--from-key` "
            "is set");
  // Where etcdctl panics or waits forever, a clear error instead.
  EXPECT_EQ(txn_error_of("val(\"k\") == \"v\"\n\n\n\n"),
            "3 malformed comparison: val(\"k\") == \"v\" (unknown operator ==)");
  EXPECT_EQ(txn_exit_of("\nput k v --help\n\n\n"), 3);
  EXPECT_EQ(txn_exit_of("\nput k v -h\n\n\n"), 3);
  EXPECT_EQ(txn_exit_of("\nhelp put\n\n\n"), 3);
}

TEST(CliTxnInputTest, AcceptsWhatEtcdctlAccepts) {
  const auto read = [](const std::string& text) {
    std::istringstream in(text);
    return read_txn(in, false);
  };
  const auto first_put = [&](const std::string& line) {
    const Txn txn = read("\n" + line + "\n\n\n");
    return std::get<Op::Put>(txn.success().at(0).variant());
  };
  const auto first_get = [&](const std::string& line) {
    const Txn txn = read("\n" + line + "\n\n\n");
    return std::get<Op::Get>(txn.success().at(0).variant());
  };
  EXPECT_EQ(first_put("put k -- -v").value, "-v");  // `--` ends the flags
  EXPECT_EQ(first_put("put -- -k v").key, "-k");
  EXPECT_TRUE(first_put("put k v --prev-kv=1").options.prev_kv);
  EXPECT_FALSE(first_put("put k v --prev-kv=F").options.prev_kv);
  EXPECT_TRUE(first_put("put --prev-kv k v").options.prev_kv);  // a bool takes no value word
  EXPECT_EQ(first_put("put k v --lease 1f").options.lease, LeaseId{0x1f});
  EXPECT_EQ(first_put("put k v extra words").value, "v");  // etcdctl ignores them
  EXPECT_EQ(first_put("put k \"\\x41\\u00e9\\101\\t\\\"\"").value,
            "A\xc3\xa9"
            "A\t\"");
  EXPECT_EQ(first_put("put k \"a b\"c").value, "a b");      // a quoted word ends at its quote
  EXPECT_EQ(first_put("put k a\"b\"").value, "a\"b\"");     // quotes inside a word are kept
  EXPECT_EQ(first_put("put k \"v w").value, "v");           // an open quote starts no word
  EXPECT_EQ(first_put("put k v\vw").value, "v\vw");         // \v does not split words
  EXPECT_EQ(first_put("--prev-kv=true put k v").key, "k");  // a flag before the verb
  EXPECT_EQ(first_get("get k --limit=0x10").options.limit, 16);
  EXPECT_EQ(first_get("get k --limit 1_0").options.limit, 10);
  EXPECT_EQ(first_get("get k --limit=010").options.limit, 8);
  EXPECT_EQ(first_get("get k --limit -1").options.limit, -1);  // a value may start with '-'
  EXPECT_EQ(first_get("get k --rev=-3").options.revision, 0);  // ignored, as in etcdctl
  EXPECT_EQ(first_get("get a b c").range_end, "b");
  EXPECT_EQ(first_get("get k --prefix=false --prefix").options.prefix, true);  // the last wins

  const Txn txn = read(
      "val(`k`) = `v \\n`\n"
      "value( \"k\")  !=  \"x\" trailing words\n"
      "lease(\"k\") = \"1f\"\n"
      "\n\n\n");
  ASSERT_EQ(txn.compares().size(), 3u);
  EXPECT_EQ(txn.compares()[0], Compare::value("k") == std::string("v \\n"));
  EXPECT_EQ(txn.compares()[1], Compare::value("k") != std::string("x"));
  EXPECT_EQ(txn.compares()[2], Compare::lease("k") == LeaseId{0x1f});
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
  EXPECT_EQ(error_of("\nwatch a\n\n"),
            "3 invalid txn request: watch a (unknown request watch; expected get, put or del)");
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
            "128 too many arguments, only accept one argument when `--prefix` or `--from-key` "
            "is set");
  EXPECT_EQ(error_of({.args = {"a"}, .order = "UP"}), "4 bad sort order UP");
  EXPECT_EQ(error_of({.args = {"a"}, .sort_by = "SIZE"}), "4 bad sort target SIZE");
  EXPECT_EQ(error_of({.args = {"a"}, .consistency = "x"}), "4 unknown consistency flag \"x\"");
  EXPECT_EQ(error_of({.args = {"a", "b", "c"}}), "no error");  // etcdctl ignores the third

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
  // Go quotes the number in its message.
  std::string error;
  EXPECT_FALSE(parse_int("a\\\"b", 16, &error));
  EXPECT_EQ(error, "strconv.ParseInt: parsing \"a\\\\\\\"b\": invalid syntax");
  EXPECT_FALSE(parse_int("9223372036854775808", 10, &error));
  EXPECT_EQ(error, "strconv.ParseInt: parsing \"9223372036854775808\": value out of range");
  EXPECT_EQ(parse_int("-9223372036854775808", 10, &error), INT64_MIN);
  EXPECT_EQ(parse_int("0b101", 0, &error), 5);
  EXPECT_EQ(parse_int("0o17", 0, &error), 15);
  EXPECT_EQ(parse_int("0x_1F", 0, &error), 31);
  EXPECT_FALSE(parse_int("0x1F", 16, &error));  // a prefix only with base 0
  EXPECT_FALSE(parse_int("1_0", 10, &error));   // underscores likewise
}

}  // namespace
}  // namespace etcdpp::cli
