// SPDX-License-Identifier: Apache-2.0
// etcdpp-bench as a smoke test: each op in each mode, with tiny totals, against the tests' own
// etcd. It checks the exit status and the JSON line of the load-generator contract, never how
// fast anything went.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <regex>
#include <string>
#include <tuple>

#include "support/test_env.hpp"

#ifndef ETCDPP_BENCH_BINARY
#error "ETCDPP_BENCH_BINARY must name the etcdpp-bench executable"
#endif

namespace etcdpp {
namespace {

struct Outcome {
  int exit_code = -1;
  std::string output;  ///< stdout and stderr
};

/// Runs etcdpp-bench with `args` (already shell-quoted where needed).
Outcome run_bench(const std::string& args) {
  const std::string command = std::string("'") + ETCDPP_BENCH_BINARY + "' " + args + " 2>&1";
  Outcome outcome;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return outcome;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) outcome.output.append(buffer, n);
  const int status = ::pclose(pipe);
  if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
  return outcome;
}

/// The value of a JSON field as written (a number, true/false, or a quoted string), or "".
std::string field(const std::string& json, const std::string& name) {
  const std::regex re("\"" + name + "\":(\"[^\"]*\"|[^,}]*)");
  std::smatch m;
  return std::regex_search(json, m, re) ? m[1].str() : "";
}

using Case = std::tuple<std::string, std::string>;  // mode, op

class BenchSmokeTest : public ::testing::TestWithParam<Case> {};

TEST_P(BenchSmokeTest, CompletesEveryRequestAndPrintsTheContractFields) {
  const auto& [mode, op] = GetParam();
  test::TestPrefix prefix(test::client());
  const Outcome r = run_bench("--endpoints " + test::node().client_endpoint() + " --op " + op +
                              " --mode " + mode +
                              " --clients 4 --conns 2 --total 24 --key-size 4 --val-size 32"
                              " --key-space 50 --max-seconds 60 --key-prefix '" +
                              prefix.str() + "'" + (op == "put" ? " --stamp" : ""));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* name :
       {"client", "op", "clients", "conns", "total", "seconds", "ops_per_s", "p50_ms", "p99_ms",
        "cpu_s", "cpu_total_s", "completed", "errors", "threads", "client_version", "mode"}) {
    EXPECT_NE(field(r.output, name), "") << "no field " << name << " in " << r.output;
  }
  EXPECT_EQ(field(r.output, "client"), "\"etcdpp\"");
  EXPECT_EQ(field(r.output, "op"), "\"" + op + "\"");
  EXPECT_EQ(field(r.output, "mode"), "\"" + mode + "\"");
  EXPECT_EQ(field(r.output, "completed"), "24");
  EXPECT_EQ(field(r.output, "errors"), "0");
  EXPECT_EQ(field(r.output, "client_version").rfind("\"etcdpp ", 0), 0u);
  if (op == "put") {
    // The writes landed under the prefix, stamped with a send time.
    const auto written = test::client().get(prefix.str(), {.prefix = true, .limit = 1});
    ASSERT_FALSE(written.kvs.empty());
    EXPECT_EQ(written.kvs.front().value.size(), 32u);
    EXPECT_TRUE(std::regex_match(written.kvs.front().value.substr(0, 19), std::regex("[0-9]{19}")));
  }
}

INSTANTIATE_TEST_SUITE_P(EveryModeAndOp, BenchSmokeTest,
                         ::testing::Combine(::testing::Values("blocking", "async", "coroutine"),
                                            ::testing::Values("put", "range", "range-serializable",
                                                              "txn-put")),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           std::string name =
                               std::get<0>(info.param) + "_" + std::get<1>(info.param);
                           for (auto& c : name) {
                             if (c == '-') c = '_';
                           }
                           return name;
                         });

TEST(BenchSmokeTest, ManyRequestsInFlightNeedNoThreadEach) {
  test::TestPrefix prefix(test::client());
  const Outcome r = run_bench("--endpoints " + test::node().client_endpoint() +
                              " --op put --mode async --clients 256 --total 512"
                              " --max-seconds 60 --key-prefix '" +
                              prefix.str() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const int threads = std::stoi(field(r.output, "threads"));
  EXPECT_GT(threads, 0);
  EXPECT_LT(threads, 40) << "256 requests in flight should not cost a thread each: " << r.output;
}

TEST(BenchSmokeTest, BadFlagExitsWithTwoAndNamesTheFlag) {
  Outcome r = run_bench("--clients 0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--clients"), std::string::npos) << r.output;
  r = run_bench("--no-such-flag 1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--no-such-flag"), std::string::npos) << r.output;
  r = run_bench("--mode threads");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--mode"), std::string::npos) << r.output;
}

TEST(BenchSmokeTest, WatchDeliversEveryEventOfItsOwnWriterInOrder) {
  test::TestPrefix prefix(test::client());
  const Outcome r = run_bench("--endpoints " + test::node().client_endpoint() +
                              " --op watch --clients 4 --total 30 --key-size 4 --key-space 50"
                              " --max-seconds 60 --key-prefix '" + prefix.str() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string json = r.output.substr(r.output.rfind("{\"client\":\"etcdpp\",\"op\":\"watch\""));
  EXPECT_EQ(field(json, "events"), "30") << json;
  EXPECT_EQ(field(json, "in_order"), "true");
  EXPECT_EQ(field(json, "rev_gaps"), "0");
  EXPECT_EQ(field(json, "ok"), "true");
  EXPECT_EQ(field(json, "writer_client"), "\"etcdpp\"");
  for (const char* f : {"seconds", "ops_per_s", "p50_ms", "p99_ms", "cpu_s"}) {
    EXPECT_FALSE(field(json, f).empty()) << f;
  }
}

TEST(BenchSmokeTest, UnreachableServerExitsWithOne) {
  // Port 1 on loopback: nothing listens there. A short limit keeps the run brief.
  const Outcome r = run_bench("--endpoints 127.0.0.1:1 --op put --total 2 --max-seconds 1");
  EXPECT_EQ(r.exit_code, 1) << r.output;
}

}  // namespace
}  // namespace etcdpp
