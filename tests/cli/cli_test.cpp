// SPDX-License-Identifier: Apache-2.0
// The etcdpp command-line tool beside etcdctl, both run as child processes against the tests' own
// etcd: for a table of commands their output, error text and exit code are the same, modulo the
// fields named below that legitimately differ between two runs; and what one writes the other
// reads.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli_support.hpp"
#include "support/subprocess.hpp"
#include "support/test_env.hpp"

namespace etcdpp {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using clitest::error_lines;
using clitest::etcdctl_path;
using clitest::masked;
using clitest::Outcome;
using clitest::run;

std::vector<std::string> with_endpoint(const std::string& tool, std::vector<std::string> args) {
  args.insert(args.begin(), "--endpoints=" + test::node().client_endpoint());
  args.insert(args.begin(), tool);
  return args;
}

Outcome etcdctl(const std::vector<std::string>& args, const std::string& input = {}) {
  static const std::string path = etcdctl_path();
  return run(with_endpoint(path, args), input);
}

Outcome etcdpp(const std::vector<std::string>& args, const std::string& input = {}) {
  return run(with_endpoint(ETCDPP_CLI_BINARY, args), input);
}

/// One row of the table: a command run by both tools on the same data.
struct Case {
  std::string name;
  /// Keys (under the test's prefix) and values written before the command.
  std::vector<std::pair<std::string, std::string>> data;
  /// The command line after the global flags; "{p}" is the test's prefix, "{rev}" the revision
  /// of the first write of `data`.
  std::vector<std::string> args;
  std::string input;
  /// The command writes: the data is written again before each tool runs, and the fields of
  /// kMaskedJsonFields are masked. Otherwise both tools read the very same data and their output
  /// must be equal byte for byte.
  bool writes = false;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class CliTest : public ::testing::TestWithParam<Case> {};

std::vector<std::string> expand(std::vector<std::string> args, const std::string& prefix,
                                std::int64_t rev) {
  for (auto& a : args) {
    for (std::size_t at; (at = a.find("{p}")) != std::string::npos;) a.replace(at, 3, prefix);
    for (std::size_t at; (at = a.find("{rev}")) != std::string::npos;) {
      a.replace(at, 5, std::to_string(rev));
    }
  }
  return args;
}

TEST_P(CliTest, EtcdppPrintsWhatEtcdctlPrints) {
  const Case& c = GetParam();
  Client client = test::client();
  test::TestPrefix prefix(client);
  std::int64_t first_rev = 0;
  const auto write_data = [&] {
    client.delete_range(prefix.str(), {.prefix = true});
    first_rev = 0;
    for (const auto& [k, v] : c.data) {
      const auto r = client.put(prefix(k), v);
      if (first_rev == 0) first_rev = r.header.revision;
    }
  };
  write_data();
  const std::string input = expand({c.input}, prefix.str(), first_rev)[0];
  const Outcome want = etcdctl(expand(c.args, prefix.str(), first_rev), input);
  if (c.writes) write_data();
  const Outcome got = etcdpp(expand(c.args, prefix.str(), first_rev), input);

  EXPECT_EQ(got.exit_code, want.exit_code) << "etcdpp's stderr: " << got.err;
  EXPECT_EQ(error_lines(got.err), error_lines(want.err));
  if (c.writes) {
    EXPECT_EQ(masked(got.out), masked(want.out));
  } else {
    EXPECT_EQ(got.out, want.out);
  }
}

const std::vector<std::pair<std::string, std::string>> kThree = {
    {"a", "1"}, {"b", "two"}, {"c", "three 3"}};

INSTANTIATE_TEST_SUITE_P(
    Commands, CliTest,
    ::testing::Values(
        Case{"put", {}, {"put", "{p}k", "v"}, {}, true},
        Case{"put_prev_kv", {{"k", "old"}}, {"put", "--prev-kv", "{p}k", "new"}, {}, true},
        Case{"put_json", {}, {"put", "{p}k", "v", "-w", "json"}, {}, true},
        Case{"put_prev_kv_json",
             {{"k", "old"}},
             {"put", "{p}k", "new", "--prev-kv", "-w", "json"},
             {},
             true},
        Case{"put_ignore_value_missing_key", {}, {"put", "{p}k", "--ignore-value"}, {}, true},
        Case{"put_bad_lease", {}, {"put", "{p}k", "v", "--lease=zz"}, {}, true},
        Case{"put_no_value", {}, {"put", "{p}k"}, {}, true},
        Case{"get_one", kThree, {"get", "{p}b"}}, Case{"get_missing", kThree, {"get", "{p}zz"}},
        Case{"get_prefix", kThree, {"get", "--prefix", "{p}"}},
        Case{"get_range", kThree, {"get", "{p}a", "{p}c"}},
        Case{"get_from_key", kThree, {"get", "--from-key", "{p}b"}},
        Case{"get_keys_only", kThree, {"get", "--prefix", "--keys-only", "{p}"}},
        Case{"get_print_value_only", kThree, {"get", "--prefix", "--print-value-only", "{p}"}},
        Case{"get_limit", kThree, {"get", "--prefix", "--limit=2", "{p}"}},
        Case{"get_limit_json", kThree, {"get", "--prefix", "--limit", "1", "{p}", "-w", "json"}},
        Case{
            "get_sorted", kThree, {"get", "--prefix", "--sort-by=VALUE", "--order=DESCEND", "{p}"}},
        Case{"get_rev", {{"k", "first"}, {"k", "second"}}, {"get", "{p}k", "--rev={rev}"}},
        Case{"get_rev_json",
             {{"k", "first"}, {"k", "second"}},
             {"get", "{p}k", "--rev={rev}", "-w", "json"}},
        Case{"get_json", kThree, {"get", "--prefix", "{p}", "-w", "json"}},
        Case{"get_hex", kThree, {"get", "--prefix", "{p}", "--hex"}},
        Case{"get_serializable", kThree, {"get", "--consistency=s", "{p}a"}},
        Case{"get_future_rev", kThree, {"get", "{p}a", "--rev=999999999"}},
        Case{"get_no_key", {}, {"get"}},
        Case{"get_bad_order", kThree, {"get", "--prefix", "{p}", "--order=SIDEWAYS"}},
        Case{"get_prefix_and_from_key", kThree, {"get", "--prefix", "--from-key", "{p}"}},
        Case{"get_table", kThree, {"get", "{p}a", "-w", "table"}},
        Case{"del_one", kThree, {"del", "{p}a"}, {}, true},
        Case{"del_missing", kThree, {"del", "{p}zz"}, {}, true},
        Case{"del_prefix_prev_kv", kThree, {"del", "--prefix", "--prev-kv", "{p}"}, {}, true},
        Case{"del_prefix_json",
             kThree,
             {"del", "--prefix", "--prev-kv", "{p}", "-w", "json"},
             {},
             true},
        Case{"del_from_key", kThree, {"del", "--from-key", "{p}b"}, {}, true},
        Case{"txn_success",
             kThree,
             {"txn"},
             "value(\"{p}a\") = \"1\"\nmod(\"{p}b\") > \"0\"\n\nput {p}d \"four 4\"\nget {p}a\n"
             "del {p}c\n\nput {p}e x\n\n",
             true},
        Case{"txn_failure_json",
             kThree,
             {"txn", "-w", "json"},
             "version(\"{p}a\") = \"5\"\n\nput {p}d 4\n\nget {p} --prefix\nput {p}e x\n\n",
             true},
        Case{"txn_malformed", kThree, {"txn"}, "bogus(\"{p}a\") = \"1\"\n\n\n\n", true},
        Case{"member_list", {}, {"member", "list"}},
        Case{"member_list_json", {}, {"member", "list", "-w", "json"}},
        Case{"member_list_table", {}, {"member", "list", "-w", "table"}},
        Case{"endpoint_status_json", {}, {"endpoint", "status", "-w", "json"}, {}, true},
        Case{"endpoint_health_json", {}, {"endpoint", "health", "-w", "json"}, {}, true},
        Case{"lease_timetolive_missing", {}, {"lease", "timetolive", "1234"}},
        Case{"lease_timetolive_missing_json", {}, {"lease", "timetolive", "1234", "-w", "json"}},
        Case{"lease_grant_bad_ttl", {}, {"lease", "grant", "ten"}},
        Case{"lease_bad_id", {}, {"lease", "revoke", "xyz"}},
        Case{"compaction_future", {}, {"compaction", "999999999"}},
        Case{"compaction_no_revision", {}, {"compaction"}},
        Case{"lease_grant_no_ttl", {}, {"lease", "grant"}}, Case{"watch_no_key", {}, {"watch"}}),
    [](const auto& info) { return info.param.name; });

std::string replace_all(std::string text, const std::string& pattern, const std::string& with) {
  return std::regex_replace(text, std::regex(pattern), with);
}

std::string hex_id(LeaseId id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx",
                static_cast<unsigned long long>(static_cast<std::int64_t>(id)));
  return buf;
}

// Lease IDs (16 hex digits) differ between two grants, and the remaining TTL may tick between
// two runs: masked in simple lines, as the JSON fields "ID", "id" and "ttl" are by masked().
std::string mask_lease_text(const std::string& out) {
  std::stringstream in(masked(out));
  std::string result;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '{') {
      line = replace_all(replace_all(line, "[0-9a-f]{16}", "<id>"), "remaining\\([0-9]+s\\)",
                         "remaining(<ttl>)");
    }
    result += line + "\n";
  }
  return result;
}

TEST(CliLeaseTest, GrantTimeToLiveKeepAliveAndRevokePrintWhatEtcdctlPrints) {
  Client client = test::client();
  test::TestPrefix prefix(client);

  for (const auto& args : std::vector<std::vector<std::string>>{
           {"lease", "grant", "100"}, {"lease", "grant", "100", "-w", "json"}}) {
    const Outcome want = etcdctl(args);
    const Outcome got = etcdpp(args);
    EXPECT_EQ(got.exit_code, 0) << got.err;
    EXPECT_EQ(want.exit_code, 0) << want.err;
    EXPECT_EQ(mask_lease_text(got.out), mask_lease_text(want.out));
  }

  const LeaseId id = client.lease_grant(100s).id;
  client.put(prefix("leased"), "v", {.lease = id});
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"lease", "timetolive", hex_id(id)},
           {"lease", "timetolive", hex_id(id), "--keys"},
           {"lease", "timetolive", hex_id(id), "--keys", "-w", "json"},
           {"lease", "keep-alive", "--once", hex_id(id)},
           {"lease", "list"}}) {
    const Outcome want = etcdctl(args);
    const Outcome got = etcdpp(args);
    EXPECT_EQ(got.exit_code, want.exit_code) << got.err;
    EXPECT_EQ(mask_lease_text(got.out), mask_lease_text(want.out)) << args[1];
  }

  const LeaseId a = client.lease_grant(100s).id;
  const LeaseId b = client.lease_grant(100s).id;
  const Outcome want = etcdctl({"lease", "revoke", hex_id(a)});
  const Outcome got = etcdpp({"lease", "revoke", hex_id(b)});
  EXPECT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(mask_lease_text(got.out), mask_lease_text(want.out));
  EXPECT_EQ(client.lease_time_to_live(b).ttl, std::chrono::seconds(-1));

  // Revoking it again fails in both, with the same words.
  const Outcome want_again = etcdctl({"lease", "revoke", hex_id(a)});
  const Outcome got_again = etcdpp({"lease", "revoke", hex_id(b)});
  EXPECT_EQ(got_again.exit_code, want_again.exit_code);
  EXPECT_EQ(mask_lease_text(error_lines(got_again.err)),
            mask_lease_text(error_lines(want_again.err)));
  EXPECT_NE(error_lines(got_again.err), "");
}

TEST(CliDataTest, WhatOneToolWritesTheOtherReads) {
  Client client = test::client();
  test::TestPrefix prefix(client);

  ASSERT_EQ(etcdctl({"put", prefix("from-etcdctl"), "written by etcdctl"}).out, "OK\n");
  EXPECT_EQ(etcdpp({"get", prefix("from-etcdctl"), "--print-value-only"}).out,
            "written by etcdctl\n");

  ASSERT_EQ(etcdpp({"put", prefix("from-etcdpp"), "written\tby etcdpp"}).out, "OK\n");
  EXPECT_EQ(etcdctl({"get", prefix("from-etcdpp")}).out,
            prefix("from-etcdpp") + "\nwritten\tby etcdpp\n");

  // A value from stdin, as etcdctl takes it when only the key is given.
  ASSERT_EQ(etcdpp({"put", prefix("stdin")}, "from stdin").out, "OK\n");
  EXPECT_EQ(etcdctl({"get", prefix("stdin"), "--print-value-only"}).out, "from stdin\n");

  const std::string txn =
      "\n"
      "put " +
      prefix("t1") + " one\nput " + prefix("t2") + " two\n\n\n";
  EXPECT_EQ(etcdpp({"txn"}, txn).out, "SUCCESS\n\nOK\n\nOK\n");
  EXPECT_EQ(etcdctl({"get", "--prefix", prefix("t"), "--print-value-only"}).out, "one\ntwo\n");

  EXPECT_EQ(etcdpp({"del", "--prefix", prefix("from-")}).out, "2\n");
  EXPECT_EQ(etcdctl({"get", "--prefix", prefix("from-")}).out, "");
  EXPECT_FALSE(client.get(prefix("from-etcdctl")).has_value());
}

TEST(CliRegistryTest, NodesResolveAndConfigReadWhatEtcdctlWrote) {
  Client client = test::client();
  test::TestPrefix prefix(client);
  const std::string root = prefix("services/ergo");
  // Config written by etcdctl, as the registry's documentation shows it.
  ASSERT_EQ(etcdctl({"put", root + "/cluster/production/config/web1/database.port", "int:5432"})
                .exit_code,
            0);
  ASSERT_EQ(etcdctl({"put", root + "/config/global/log.level", "info"}).exit_code, 0);
  ASSERT_EQ(etcdctl({"put", root + "/cluster/production/config/*/bad", "float:x"}).exit_code, 0);
  registry::Registrar web1(client, {.node = "web1", .cluster = "production", .root = root});
  registry::Registrar web2(client, {.node = "web2", .cluster = "production", .root = root});
  web2.publish_application({.name = "web", .weight = 3});
  web2.publish_application({.name = "webui"});
  const std::vector<std::string> scope = {"--root", root, "--cluster", "production"};
  auto registry_cmd = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "registry");
    args.insert(args.end(), scope.begin(), scope.end());
    return etcdpp(args);
  };
  EXPECT_EQ(registry_cmd({"nodes"}).out, "web1\nweb2\n");
  EXPECT_EQ(registry_cmd({"resolve", "web"}).out,
            "web2 web weight=3 mode=temporary state=loaded\n");
  EXPECT_EQ(registry_cmd({"config", "database.port", "--node", "web1"}).out,
            "database.port = 5432 (int, cluster node)\n");
  EXPECT_EQ(registry_cmd({"config", "log.level", "--node", "web1"}).out,
            "log.level = \"info\" (string, global)\n");
  const auto json = nlohmann::json::parse(
      etcdpp({"-w", "json", "registry", "config", "database.port", "--root", root, "--cluster",
              "production", "--node", "web1"})
          .out);
  EXPECT_EQ(json["value"], 5432);
  EXPECT_EQ(json["text"], "int:5432");
  const auto missing = registry_cmd({"config", "nothing", "--node", "web1"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("\"nothing\""), std::string::npos) << missing.err;
  const auto bad = registry_cmd({"config", "bad", "--node", "web1"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("\"float:x\""), std::string::npos) << bad.err;
  EXPECT_NE(registry_cmd({"config", "database.port"}).exit_code, 0);  // --node is needed
}

TEST(CliWatchTest, PrintsWhatEtcdctlPrintsAndStopsOnSigint) {
  Client client = test::client();
  test::TestPrefix prefix(client);
  const std::int64_t start = client.put(prefix("w"), "one").header.revision;
  client.put(prefix("w"), "two");
  client.delete_range(prefix("w"));

  // Both watch the history from `start`: PUT (3 lines), PUT with its previous pair (5) and
  // DELETE with it (5).
  const auto watch_args = [&](const std::string& tool) {
    return with_endpoint(
        tool, {"watch", "--prefix", "--prev-kv", "--rev=" + std::to_string(start), prefix.str()});
  };
  test::Subprocess want_watch(watch_args(etcdctl_path()));
  test::Subprocess got_watch(watch_args(ETCDPP_CLI_BINARY));
  std::vector<std::string> want, got;
  for (int i = 0; i < 13; ++i) {
    if (auto line = want_watch.read_line(5s)) want.push_back(*line);
    if (auto line = got_watch.read_line(5s)) got.push_back(*line);
  }
  EXPECT_EQ(got, want);
  ASSERT_EQ(got.size(), 13u);
  EXPECT_EQ(got[0], "PUT");
  EXPECT_EQ(got[8], "DELETE");

  // A new event reaches the running watch.
  client.put(prefix("w"), "three");
  EXPECT_EQ(got_watch.read_line(5s), "PUT");
  EXPECT_EQ(got_watch.read_line(5s), prefix("w"));
  EXPECT_EQ(got_watch.read_line(5s), "three");

  ASSERT_EQ(::kill(got_watch.pid(), SIGINT), 0);
  const auto status = got_watch.wait(5s);
  ASSERT_TRUE(status.has_value()) << "etcdpp watch did not stop on SIGINT";
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

/// Reads the lines of `etcdpp node` until it has said where it serves and that `leaders` of its
/// members lead; returns the endpoints it serves on.
std::vector<std::string> wait_until_serving(test::Subprocess& node, std::size_t leaders) {
  std::vector<std::string> endpoints;
  std::size_t leads = 0;
  // The roles may be announced before the node has said where it serves: either order.
  const auto deadline = Clock::now() + 30s;
  while ((endpoints.empty() || leads < leaders) && Clock::now() < deadline) {
    const auto line =
        node.read_line(std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()));
    if (!line) break;
    std::smatch m;
    if (std::regex_search(*line, m, std::regex(" serving on ([0-9.:,]+) \\(etcd "))) {
      std::stringstream list(m[1].str());
      for (std::string ep; std::getline(list, ep, ',');) endpoints.push_back(ep);
    }
    if (line->find(") is now leader (") != std::string::npos) ++leads;
  }
  EXPECT_EQ(leads, leaders) << "etcdpp node did not say who leads";
  return endpoints;
}

/// Stops `etcdpp node` with `sig` and checks that it says so and exits 0.
void expect_stops_on(test::Subprocess& node, int sig) {
  ASSERT_EQ(::kill(node.pid(), sig), 0);
  EXPECT_TRUE(node.wait_for_line("stopped", 15s).has_value());
  const auto status = node.wait(15s);
  ASSERT_TRUE(status.has_value()) << "etcdpp node did not stop on signal " << sig;
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0);
}

TEST(CliNodeTest, RunsANodeThatServesAndStopsOnSigterm) {
  test::Subprocess node(
      {ETCDPP_CLI_BINARY, "node", "--name", "clinode", "--client-port", "0", "--peer-port", "0"});
  const auto endpoints = wait_until_serving(node, 1);
  ASSERT_EQ(endpoints.size(), 1u);
  const std::string endpoint = endpoints[0];
  EXPECT_TRUE(node.lines().front().starts_with("clinode (")) << node.lines().front();

  const Outcome put = run({etcdctl_path(), "--endpoints=" + endpoint, "put", "k", "v"});
  EXPECT_EQ(put.out, "OK\n") << put.err;

  expect_stops_on(node, SIGTERM);
  // Its etcd is gone with it.
  const Outcome after =
      run({ETCDPP_CLI_BINARY, "--endpoints=" + endpoint, "--command-timeout=500ms", "get", "k"});
  EXPECT_EQ(after.exit_code, 1);
  EXPECT_EQ(error_lines(after.err), "Error: context deadline exceeded\n");
}

TEST(CliNodeTest, RunsANodeFromATomlFileAndStopsOnSigint) {
  const auto ports = test::free_ports(2);
  const auto dir =
      std::filesystem::temp_directory_path() / ("etcdpp-cli-node-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto config = dir / "node.toml";
  const std::string client_url = "http://127.0.0.1:" + std::to_string(ports[0]);
  const std::string peer_url = "http://127.0.0.1:" + std::to_string(ports[1]);
  {
    std::ofstream out(config);
    out << "[etcd]\nname = \"tomlnode\"\ndata-dir = \"" << (dir / "data").string()
        << "\"\nlisten-client-urls = \"" << client_url << "\"\nadvertise-client-urls = \""
        << client_url << "\"\nlisten-peer-urls = \"" << peer_url
        << "\"\ninitial-advertise-peer-urls = \"" << peer_url
        << "\"\ninitial-cluster = \"tomlnode=" << peer_url << "\"\n";
  }
  {
    test::Subprocess node({ETCDPP_CLI_BINARY, "node", "--config", config.string()});
    const auto endpoints = wait_until_serving(node, 1);
    ASSERT_EQ(endpoints, std::vector<std::string>{"127.0.0.1:" + std::to_string(ports[0])});
    const Outcome members = run({etcdctl_path(), "--endpoints=" + endpoints[0], "member", "list"});
    EXPECT_NE(members.out.find(", started, tomlnode, " + peer_url + ", " + client_url),
              std::string::npos)
        << members.out;
    expect_stops_on(node, SIGINT);
  }
  std::filesystem::remove_all(dir);
}

TEST(CliNodeTest, RunsALocalClusterAndPrintsEachMembersRole) {
  test::Subprocess node({ETCDPP_CLI_BINARY, "node", "--cluster", "3"});
  const auto endpoints = wait_until_serving(node, 1);
  ASSERT_EQ(endpoints.size(), 3u);
  // Every member says its role: one leader, two followers.
  std::size_t followers = 0;
  for (const auto& line : node.lines()) {
    if (line.find(") is now follower (") != std::string::npos) ++followers;
  }
  for (int i = 0; i < 10 && followers < 2; ++i) {
    const auto line = node.read_line(5s);
    if (!line) break;
    if (line->find(") is now follower (") != std::string::npos) ++followers;
  }
  EXPECT_EQ(followers, 2u);
  const Outcome members = run({ETCDPP_CLI_BINARY, "--endpoints=" + endpoints[1], "member", "list"});
  EXPECT_EQ(std::count(members.out.begin(), members.out.end(), '\n'), 3) << members.out;
  expect_stops_on(node, SIGTERM);
}

TEST(CliNodeTest, LocalClusterTakesTheChosenClientPortForItsFirstMember) {
  const std::uint16_t port = test::free_port_run(3);
  test::Subprocess node(
      {ETCDPP_CLI_BINARY, "node", "--cluster", "3", "--client-port", std::to_string(port)});
  const auto endpoints = wait_until_serving(node, 1);
  std::vector<std::string> expected;
  for (int i = 0; i < 3; ++i) expected.push_back("127.0.0.1:" + std::to_string(port + i));
  EXPECT_EQ(endpoints, expected);
  expect_stops_on(node, SIGTERM);
}

TEST(CliTest, UnknownVerbFailsAsEtcdctlDoes) {
  for (const std::string verb : {"x", "lockk"}) {
    const Outcome ours = run({ETCDPP_CLI_BINARY, verb, "name", "--", "true"});
    const Outcome theirs = run({etcdctl_path(), verb, "name", "--", "true"});
    EXPECT_EQ(theirs.exit_code, 1) << theirs.err;
    EXPECT_EQ(ours.exit_code, theirs.exit_code) << ours.out << ours.err;
    EXPECT_EQ(ours.out, "");
    EXPECT_EQ(error_lines(ours.err), "Error: unknown command \"" + verb + "\" for \"etcdpp\"\n")
        << ours.err;
  }
}

TEST(CliTest, EmptyEndpointsFailAsEtcdctlDoes) {
  const Outcome ours = run({ETCDPP_CLI_BINARY, "--endpoints=", "put", "k", "v"});
  const Outcome theirs = run({etcdctl_path(), "--endpoints=", "put", "k", "v"});
  EXPECT_EQ(theirs.exit_code, 2) << theirs.err;
  EXPECT_EQ(ours.exit_code, theirs.exit_code) << ours.out << ours.err;
  EXPECT_EQ(ours.out, "");
  EXPECT_EQ(error_lines(ours.err), error_lines(theirs.err));
}

TEST(CliTest, DoubleDashEndsTheFlagsAsInEtcdctl) {
  Client client = test::client();
  test::TestPrefix prefix(client);
  // After `--` a word is a value, whatever it looks like: a flag, a negative number, a verb.
  const std::vector<std::pair<std::vector<std::string>, std::pair<std::string, std::string>>>
      cases = {{{"put", "{k}1", "--", "-v"}, {"1", "-v"}},
               {{"put", "--", "{k}2", "-v"}, {"2", "-v"}},
               {{"put", "{k}3", "--", "get"}, {"3", "get"}},
               {{"put", "--prev-kv", "{k}4", "--", "--lease=1"}, {"4", "--lease=1"}}};
  for (const auto& [args, want] : cases) {
    for (const std::string tool : {"etcdctl", "etcdpp"}) {
      std::vector<std::string> argv = args;
      for (auto& a : argv) {
        if (a.rfind("{k}", 0) == 0) a = prefix(tool + a.substr(3));
      }
      const Outcome o = tool == "etcdctl" ? etcdctl(argv) : etcdpp(argv);
      EXPECT_EQ(o.exit_code, 0) << tool << " " << args[2] << ": " << o.err;
      const auto kv = client.get(prefix(tool + want.first));
      ASSERT_TRUE(kv.has_value()) << tool << " " << want.first;
      EXPECT_EQ(kv->value, want.second) << tool;
    }
  }
}

// The lines of a tool's stderr that are its answer: etcdctl's client also logs JSON lines there.
std::string answer_lines(const std::string& err) {
  std::stringstream in(err);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '{') out += line + "\n";
  }
  return out;
}

std::string first_error_line(const std::string& err) {
  const std::string lines = error_lines(err);
  return lines.substr(0, lines.find('\n'));
}

TEST(CliTest, ArgumentErrorsAreEtcdctls) {
  Client client = test::client();
  test::TestPrefix prefix(client);
  // A word with one dash is shorthand flags to etcdctl, a negative number included; it prints
  // its usage on stdout and the error on stderr, where etcdpp prints the error alone.
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"lease", "grant", "-1"},
                                             {"put", prefix("k"), "v", "-prev-kv"},
                                             {"get", prefix("k"), "--bogus"},
                                             {"compaction", "-5"}}) {
    const Outcome want = etcdctl(args);
    const Outcome got = etcdpp(args);
    EXPECT_EQ(want.exit_code, 1) << args.back();
    EXPECT_EQ(got.exit_code, want.exit_code) << args.back() << ": " << got.err;
    EXPECT_EQ(first_error_line(got.err), first_error_line(want.err)) << args.back();
    EXPECT_EQ(got.out, "") << args.back();
  }
  EXPECT_FALSE(client.get(prefix("k")).has_value());

  // A user name made empty by its password: etcdctl refuses it before it connects.
  for (const std::string name : {":pw", ":"}) {
    const Outcome want = etcdctl({"user", "add", name});
    const Outcome got = etcdpp({"user", "add", name});
    EXPECT_EQ(want.exit_code, 128) << name;
    EXPECT_EQ(got.exit_code, want.exit_code) << name << ": " << got.err;
    EXPECT_EQ(error_lines(got.err), error_lines(want.err)) << name;
  }

  // No dial timeout of its own: the command still runs, as in etcdctl.
  client.put(prefix("d"), "dialed");
  for (const std::string flag : {"--dial-timeout=0s", "--dial-timeout=0"}) {
    const Outcome want = etcdctl({flag, "get", prefix("d")});
    const Outcome got = etcdpp({flag, "get", prefix("d")});
    EXPECT_EQ(want.exit_code, 0) << want.err;
    EXPECT_EQ(got.exit_code, 0) << flag << ": " << got.err;
    EXPECT_EQ(got.out, want.out);
  }
}

TEST(CliMaintenanceTest, SnapshotToAPlaceThatCannotBeWrittenFailsAsInEtcdctl) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("etcdpp-cli-snapshot-bad-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  { std::ofstream(dir / "a-file") << "x"; }
  for (const auto& path : {dir / "missing" / "x.db", dir / "a-file" / "x.db"}) {
    const Outcome want = etcdctl({"snapshot", "save", path.string()});
    const Outcome got = etcdpp({"snapshot", "save", path.string()});
    EXPECT_EQ(want.exit_code, 5) << want.err;
    EXPECT_EQ(got.exit_code, want.exit_code) << got.err;
    EXPECT_EQ(got.out, want.out);
    EXPECT_EQ(error_lines(got.err), error_lines(want.err));
  }
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 1);  // nothing left
  std::filesystem::remove_all(dir);
}

TEST(CliWatchTest, ACompactedStartIsReportedOnStderrAsInEtcdctl) {
  // A node of its own: its history is compacted.
  embedded::Node node;
  Client client({.endpoints = {node.client_endpoint()}});
  const std::int64_t first = client.put("w", "1").header.revision;
  const std::int64_t last = client.put("w", "2").header.revision;
  client.compact(last);
  Outcome runs[2];
  for (int tool = 0; tool < 2; ++tool) {
    runs[tool] = run({tool == 0 ? etcdctl_path() : std::string(ETCDPP_CLI_BINARY),
                      "--endpoints=" + node.client_endpoint(), "watch", "w",
                      "--rev=" + std::to_string(first)});
  }
  const Outcome& want = runs[0];
  const Outcome& got = runs[1];
  EXPECT_EQ(want.exit_code, 5);
  EXPECT_EQ(want.out, "");
  EXPECT_EQ(answer_lines(want.err),
            "watch was canceled (etcdserver: mvcc: required revision has been compacted)\n"
            "Error: watch is canceled by the server\n");
  EXPECT_EQ(got.exit_code, want.exit_code);
  EXPECT_EQ(got.out, want.out);
  EXPECT_EQ(answer_lines(got.err), answer_lines(want.err));
}

TEST(CliMaintenanceTest, DefragAlarmHashAndSnapshotPrintWhatEtcdctlPrints) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"alarm", "list"},
                                             {"alarm", "disarm"},
                                             {"defrag"},
                                             {"endpoint", "hashkv"},
                                             {"endpoint", "hashkv", "-w", "json"},
                                             {"move-leader", "1234"}}) {
    const Outcome want = etcdctl(args);
    const Outcome got = etcdpp(args);
    EXPECT_EQ(got.exit_code, want.exit_code) << args[0] << ": " << got.err;
    EXPECT_EQ(got.out, want.out) << args[0];
    EXPECT_EQ(error_lines(got.err), error_lines(want.err)) << args[0];
  }
  const auto dir = std::filesystem::temp_directory_path() /
                   ("etcdpp-cli-snapshot-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const Outcome want = etcdctl({"snapshot", "save", (dir / "etcdctl.db").string()});
  const Outcome got = etcdpp({"snapshot", "save", (dir / "etcdpp.db").string()});
  EXPECT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, "Snapshot saved at " + (dir / "etcdpp.db").string() + "\n");
  EXPECT_EQ(want.out, "Snapshot saved at " + (dir / "etcdctl.db").string() + "\n");
  EXPECT_GT(std::filesystem::file_size(dir / "etcdpp.db"), 0u);
  EXPECT_FALSE(std::filesystem::exists(dir / "etcdpp.db.part"));
  std::filesystem::remove_all(dir);
}

TEST(CliFlagsTest, CredentialAndTlsFlagsAreCheckedAsEtcdctlTakesThem) {
  // Credentials against a node without authentication: the calls go through.
  const Outcome with_user = etcdpp({"--user=alice:pw", "get", "nothing"});
  EXPECT_EQ(with_user.exit_code, 0) << with_user.err;
  const Outcome password_alone = etcdpp({"--password=pw", "get", "k"});
  EXPECT_EQ(password_alone.exit_code, 128);
  EXPECT_EQ(password_alone.err, "Error: --password is given without --user\n");
  const Outcome cert_alone = etcdpp({"--cert=/tmp/client.pem", "get", "k"});
  EXPECT_EQ(cert_alone.exit_code, 128);
  EXPECT_EQ(cert_alone.err, "Error: --cert and --key must be given together\n");
  const Outcome unknown = etcdpp({"get", "k", "--no-such-flag"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_EQ(unknown.err.rfind("Error: ", 0), 0u) << unknown.err;
}

TEST(CliAuthTest, UsersRolesAndAuthenticationPrintWhatEtcdctlPrints) {
  // A node of its own: authentication would lock the other tests out of the shared one.
  embedded::Node node;
  const std::string endpoint = "--endpoints=" + node.client_endpoint();
  struct Step {
    std::vector<std::string> args;
    std::string input;
  };
  const std::vector<Step> steps = {
      {{"user", "add", "root:rootpw"}, ""},
      {{"user", "add", "alice", "--interactive=false"}, "alicepw\n"},
      {{"user", "add", "alice:again"}, ""},
      {{"role", "add", "reader"}, ""},
      {{"role", "grant-permission", "reader", "read", "k1"}, ""},
      {{"role", "grant-permission", "--prefix", "reader", "readwrite", "pre/"}, ""},
      {{"role", "grant-permission", "reader", "readwrite", "k2", "k5"}, ""},
      {{"role", "grant-permission", "reader", "bogus", "k1"}, ""},
      {{"role", "get", "reader"}, ""},
      {{"role", "get", "reader", "-w", "json"}, ""},
      {{"role", "list"}, ""},
      {{"user", "grant-role", "alice", "reader"}, ""},
      {{"user", "get", "alice"}, ""},
      {{"user", "get", "alice", "--detail"}, ""},
      {{"user", "list"}, ""},
      {{"user", "list", "-w", "json"}, ""},
      {{"auth", "enable"}, ""},
      {{"--user=alice:alicepw", "get", "k1"}, ""},
      {{"--user=alice:alicepw", "put", "k1", "v"}, ""},
      {{"--user=alice", "--password=wrong", "get", "k1"}, ""},
      {{"get", "k1"}, ""},
      {{"--user=root:rootpw", "auth", "disable"}, ""},
      {{"user", "revoke-role", "alice", "reader"}, ""},
      {{"user", "revoke-role", "alice", "reader"}, ""},
      {{"role", "revoke-permission", "reader", "k1"}, ""},
      {{"role", "revoke-permission", "reader", "k2", "k5"}, ""},
      {{"role", "revoke-permission", "reader", "--prefix", "pre/"}, ""},
      {{"user", "passwd", "alice", "--interactive=false"}, "newpw\n"},
      {{"user", "delete", "alice"}, ""},
      {{"role", "delete", "reader"}, ""},
      {{"user", "delete", "root"}, ""},
      {{"role", "delete", "root"}, ""},
      {{"user", "delete", "nobody"}, ""},
  };
  std::vector<Outcome> runs[2];
  // The whole story told by etcdctl, then by etcdpp: each leaves the node as it found it.
  for (int tool = 0; tool < 2; ++tool) {
    for (const Step& step : steps) {
      std::vector<std::string> argv = step.args;
      argv.insert(argv.begin(), endpoint);
      argv.insert(argv.begin(), tool == 0 ? etcdctl_path() : std::string(ETCDPP_CLI_BINARY));
      runs[tool].push_back(run(argv, step.input));
    }
  }
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const std::string what = steps[i].args[0] + " " + steps[i].args[1];
    EXPECT_EQ(runs[1][i].exit_code, runs[0][i].exit_code)
        << i << " " << what << ": " << runs[1][i].err;
    EXPECT_EQ(masked(runs[1][i].out), masked(runs[0][i].out)) << i << " " << what;
    EXPECT_EQ(error_lines(runs[1][i].err), error_lines(runs[0][i].err)) << i << " " << what;
  }
}

}  // namespace
}  // namespace etcdpp

namespace etcdpp {
namespace {

TEST(CliLockTest, ArgumentErrorsAndACommandsExitAreEtcdctls) {
  Client client = test::client();
  test::TestPrefix prefix(client);
  const std::vector<std::vector<std::string>> cases{
      {"lock"},
      {"elect"},
      {"elect", prefix("e")},
      {"elect", "-l", prefix("e"), "proposal"},
      {"lock", prefix("l"), "false"},
  };
  for (const auto& args : cases) {
    const Outcome want = etcdctl(args);
    const Outcome got = etcdpp(args);
    EXPECT_EQ(got.exit_code, want.exit_code) << args.front() << " " << args.size();
    EXPECT_EQ(error_lines(got.err), error_lines(want.err)) << args.front() << " " << args.size();
  }
  // The command sees the lock's key and revision, as etcdctl gives them.
  const std::vector<std::string> show{"lock", prefix("l"), "--", "sh", "-c",
                                      "echo \"$ETCD_LOCK_KEY\" \"$ETCD_LOCK_REV\""};
  const std::regex line("^" + prefix("l") + "/[0-9a-f]+ [0-9]+\n$");
  const Outcome want = etcdctl(show);
  const Outcome got = etcdpp(show);
  EXPECT_EQ(got.exit_code, 0) << got.err;
  EXPECT_TRUE(std::regex_match(want.out, line)) << want.out;
  EXPECT_TRUE(std::regex_match(got.out, line)) << got.out;
  EXPECT_EQ(client.get(prefix("l/"), {.prefix = true, .count_only = true}).count, 0);
}

TEST(CliLockTest, HoldsUntilSigintWhileEtcdctlWaitsItsTurn) {
  Client client = test::client();
  test::TestPrefix prefix(client);
  test::Subprocess holder(with_endpoint(ETCDPP_CLI_BINARY, {"lock", "--ttl=5", prefix("l")}));
  const auto key = holder.read_line(10s);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->rfind(prefix("l/"), 0), 0u) << *key;
  EXPECT_EQ(holder.read_line(5s), "");  // etcdctl prints the key, then its empty value
  EXPECT_EQ(client.lease_time_to_live(client.get(*key)->lease).granted_ttl, std::chrono::seconds(5));
  test::Subprocess waiter(with_endpoint(etcdctl_path(), {"lock", prefix("l")}));
  EXPECT_FALSE(waiter.read_line(500ms));
  ASSERT_EQ(::kill(holder.pid(), SIGINT), 0);
  const auto status = holder.wait(5s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  EXPECT_TRUE(waiter.read_line(10s));
  ::kill(waiter.pid(), SIGINT);
  waiter.wait(5s);
}

TEST(CliElectTest, CampaignsAndObservesAsEtcdctlDoes) {
  Client client = test::client();
  test::TestPrefix prefix(client);
  const std::string name = prefix("e");
  test::Subprocess leader(with_endpoint(ETCDPP_CLI_BINARY, {"elect", name, "p1"}));
  const auto key = leader.read_line(10s);
  ASSERT_TRUE(key);
  EXPECT_EQ(leader.read_line(5s), "p1");
  test::Subprocess want(with_endpoint(etcdctl_path(), {"elect", "-l", name}));
  test::Subprocess got(with_endpoint(ETCDPP_CLI_BINARY, {"elect", "-l", name}));
  for (auto* observer : {&want, &got}) {
    EXPECT_EQ(observer->read_line(10s), *key);
    EXPECT_EQ(observer->read_line(5s), "p1");
  }
  test::Subprocess next(with_endpoint(etcdctl_path(), {"elect", name, "p2"}));
  EXPECT_FALSE(next.read_line(500ms));
  ASSERT_EQ(::kill(leader.pid(), SIGINT), 0);  // resigns
  const auto status = leader.wait(5s);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  const auto next_key = next.read_line(10s);
  ASSERT_TRUE(next_key);
  for (auto* observer : {&want, &got}) {
    EXPECT_EQ(observer->read_line(10s), *next_key);
    EXPECT_EQ(observer->read_line(5s), "p2");
  }
  ::kill(next.pid(), SIGINT);
  next.wait(5s);
  ASSERT_EQ(::kill(got.pid(), SIGINT), 0);
  const auto observed = got.wait(5s);
  ASSERT_TRUE(observed);
  EXPECT_TRUE(WIFEXITED(*observed) && WEXITSTATUS(*observed) == 0);
}

}  // namespace
}  // namespace etcdpp
