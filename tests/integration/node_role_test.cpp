// SPDX-License-Identifier: Apache-2.0
// embedded::Node as cl-etcd's users know it: role callbacks from etcd's own status, a leader
// that writes through its callback, exits reported with their signal, etcd's log forwarded,
// Nodes that outlive the thread that made them, and the seed's three TOML files forming one
// cluster in one process.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include "support/subprocess.hpp"
#include "support/test_env.hpp"

namespace etcdpp::embedded {
namespace {

using namespace std::chrono_literals;
using test::RoleRecorder;
using test::wait_until;
using Clock = std::chrono::steady_clock;

NodeOptions recorded(RoleRecorder& recorder, NodeOptions options = {}) {
  options.on_role_change = [&recorder](const RoleChange& c) { recorder.record(0, c); };
  return options;
}

bool has_flag(const std::vector<std::string>& args, std::string_view flag) {
  return std::any_of(args.begin(), args.end(),
                     [&](const std::string& a) { return a.starts_with(flag); });
}

TEST(NodeRoleTest, LoneNodeBecomesLeaderOnceAndSaysWhoItIs) {
  RoleRecorder roles;
  std::atomic<int> leaders{0};
  std::atomic<int> followers{0};
  NodeOptions options = recorded(roles);
  options.on_leader = [&](const RoleChange& c) {
    EXPECT_EQ(c.previous, Role::none);
    EXPECT_EQ(c.current, Role::leader);
    EXPECT_EQ(c.leader_id, c.member_id);
    ++leaders;
  };
  options.on_follower = [&](const RoleChange&) { ++followers; };
  const auto before = Clock::now();
  Node node(std::move(options));
  const auto ready = Clock::now();
  ASSERT_TRUE(wait_until([&] { return leaders == 1; }, 1s));
  const auto seen = roles.first(Role::leader, before);
  ASSERT_TRUE(seen);
  // Within a second of serving, which is when etcd took the role.
  EXPECT_LT(seen->at - ready, 1s);
  EXPECT_EQ(node.role(), Role::leader);
  // Once per change: no repeat while nothing changes.
  EXPECT_FALSE(wait_until([&] { return leaders > 1 || followers > 0; }, 500ms));

  const StatusResult status = node.client().maintenance().status();
  EXPECT_NE(node.member_id(), MemberId{});
  EXPECT_EQ(node.member_id(), status.header.member_id);
  EXPECT_EQ(node.version(), status.version);
  // The version of the very binary it runs, as that binary prints it (3.4 or 3.5 alike).
  test::Subprocess etcd_version({node.command_line().at(0), "--version"});
  const auto printed = etcd_version.wait_for_line("etcd Version: ", 10s);
  ASSERT_TRUE(printed) << node.command_line().at(0) << " --version printed no version";
  EXPECT_EQ("etcd Version: " + node.version(), *printed);
  EXPECT_TRUE(node.ready());
  EXPECT_EQ(node.client_endpoints(), std::vector<std::string>{node.client_endpoint()});
  // A lone node is not clustered: plain http peers, no TLS to set up.
  EXPECT_FALSE(has_flag(node.command_line(), "--peer-auto-tls"));
}

TEST(NodeRoleTest, LeaderCallbackMayWriteThroughTheLibrary) {
  // A node of its own: its keys go with it.
  const std::string key = "written-by-leader";
  NodeOptions options;
  options.on_leader = [key](const RoleChange& c) { c.client.put(key, c.name); };
  Node node(std::move(options));
  const Client client = node.client();
  ASSERT_TRUE(wait_until([&] { return client.get(key).has_value(); }, 5s));
  EXPECT_EQ(client.get(key)->value, "default");
}

TEST(NodeRoleTest, EtcdKilledFromOutsideIsReportedWithItsSignal) {
  RoleRecorder roles;
  std::mutex mutex;
  std::optional<ExitInfo> exit;
  NodeOptions options = recorded(roles);
  options.on_exit = [&](const ExitInfo& info) {
    std::lock_guard lock(mutex);
    exit = info;
  };
  Node node(std::move(options));
  ASSERT_TRUE(wait_until([&] { return node.role() == Role::leader; }, 2s));
  const int pid = node.pid();
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_TRUE(wait_until(
      [&] {
        std::lock_guard lock(mutex);
        return exit.has_value();
      },
      2s));
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(exit->signal, SIGKILL);
    EXPECT_FALSE(exit->exit_code);
    EXPECT_EQ(exit->pid, pid);
    EXPECT_EQ(exit->name, "default");
    EXPECT_EQ(exit->description(), "was killed by signal 9 (SIGKILL)");
  }
  EXPECT_FALSE(node.running());
  EXPECT_EQ(node.role(), Role::none);
  EXPECT_EQ(roles.count(Role::none), 1u);

  // Started again, it is leader again, and says so again.
  node.start();
  EXPECT_TRUE(wait_until([&] { return roles.count(Role::leader) == 2; }, 2s));
}

TEST(NodeRoleTest, StopAndKillAskedForByTheProgramCallNothing) {
  RoleRecorder roles;
  std::atomic<int> exits{0};
  NodeOptions options = recorded(roles);
  options.on_exit = [&](const ExitInfo&) { ++exits; };
  Node node(std::move(options));
  ASSERT_TRUE(wait_until([&] { return roles.count(Role::leader) == 1; }, 2s));
  node.stop();
  EXPECT_EQ(node.role(), Role::none);
  node.start();
  ASSERT_TRUE(wait_until([&] { return roles.count(Role::leader) == 2; }, 2s));
  node.kill();
  EXPECT_FALSE(node.running());
  EXPECT_FALSE(wait_until([&] { return exits > 0 || roles.count(Role::none) > 0; }, 500ms));
}

TEST(NodeRoleTest, LogSinkReceivesEtcdsLines) {
  std::mutex mutex;
  std::vector<std::string> lines;
  NodeOptions options;
  options.log_sink = [&](std::string_view line) {
    std::lock_guard lock(mutex);
    lines.emplace_back(line);
  };
  Node node(std::move(options));
  std::lock_guard lock(mutex);
  EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [](const std::string& l) {
    return l.find("ready to serve client requests") != std::string::npos;
  }));
  // The ring for error messages is kept all the same.
  EXPECT_NE(node.log_tail().find("ready to serve client requests"), std::string::npos);
}

TEST(NodeRoleTest, NodeMadeInAThreadThatEndsKeepsRunning) {
  std::optional<Node> node;
  std::thread([&] { node.emplace(); }).join();
  const int pid = node->pid();
  // Had it been forked from that thread, its death signal would have killed etcd by now.
  EXPECT_FALSE(wait_until([&] { return !node->running(); }, 1s));
  EXPECT_EQ(::kill(pid, 0), 0);
  EXPECT_NO_THROW(node->client().put("from-a-thread", "v"));
}

TEST(NodeRoleTest, ExceptionFromACallbackIsLoggedAndDropped) {
  NodeOptions options;
  options.on_leader = [](const RoleChange&) { throw std::runtime_error("callback failed"); };
  Node node(std::move(options));
  EXPECT_TRUE(wait_until(
      [&] { return node.log_tail().find("on_leader threw: callback failed") != std::string::npos; },
      2s));
  EXPECT_TRUE(node.running());
}

TEST(NodeRoleTest, SeedTomlFilesFormOneClusterWhoseLeaderWritesForAll) {
  const auto ports = test::free_ports(6);
  const std::string key = "seed/hello";
  RoleRecorder roles;
  std::array<std::optional<Node>, 3> nodes;
  std::vector<std::thread> threads;
  std::mutex mutex;
  std::vector<std::string> errors;
  // One thread per member, as three programs would start them; each constructor returns once
  // its member serves, which takes a quorum, and the threads end while the nodes run on.
  for (std::size_t i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] {
      try {
        NodeOptions options = NodeOptions::from_toml(test::seed_toml(i, ports),
                                                     "config" + std::to_string(i + 1) + ".ini");
        options.on_role_change = [&roles, i](const RoleChange& c) { roles.record(i, c); };
        options.on_leader = [key](const RoleChange& c) { c.client.put(key, c.name); };
        nodes[i].emplace(std::move(options));
      } catch (const std::exception& e) {
        std::lock_guard lock(mutex);
        errors.push_back(e.what());
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(errors.empty()) << errors.front();

  ASSERT_TRUE(wait_until([&] { return roles.count(Role::leader) >= 1; }, 5s));
  const auto leader = roles.first(Role::leader, {});
  for (std::size_t i = 0; i < 3; ++i) {
    const Client client = nodes[i]->client();
    ASSERT_TRUE(wait_until([&] { return client.get(key).has_value(); }, 5s)) << i;
    EXPECT_EQ(client.get(key)->value, leader->name) << i;
  }
  EXPECT_TRUE(wait_until([&] { return roles.count(Role::follower) == 2; }, 2s));
  EXPECT_EQ(roles.count(Role::leader), 1u);

  // One cluster of three, its peers on TLS although the files say http://.
  const auto members = nodes[0]->client().cluster().member_list();
  ASSERT_EQ(members.size(), 3u);
  std::set<std::string> names;
  for (const auto& m : members) {
    names.insert(m.name);
    ASSERT_EQ(m.peer_urls.size(), 1u);
    EXPECT_TRUE(m.peer_urls[0].starts_with("https://127.0.0.1:")) << m.peer_urls[0];
  }
  EXPECT_EQ(names, (std::set<std::string>{"infra0", "infra1", "infra2"}));
  EXPECT_TRUE(has_flag(nodes[0]->command_line(), "--peer-auto-tls"));
}

TEST(NodeRoleTest, PeerAutoTlsOffKeepsThePeerUrlsAsWritten) {
  const auto ports = test::free_ports(6);
  NodeOptions options =
      NodeOptions::from_toml(test::seed_toml(0, ports) + "peer-auto-tls = false\n");
  options.wait_ready = false;  // alone, it cannot elect a leader
  Node node(std::move(options));
  const auto args = node.command_line();
  EXPECT_FALSE(has_flag(args, "--peer-auto-tls"));
  EXPECT_TRUE(has_flag(args, "--listen-peer-urls=http://127.0.0.1:"));
  EXPECT_FALSE(node.ready());
  EXPECT_EQ(node.member_id(), MemberId{});
}

TEST(NodeRoleTest, WaitReadyWithoutAQuorumFailsAtItsDeadlineAndStopsEtcd) {
  const auto ports = test::free_ports(6);
  NodeOptions options = NodeOptions::from_toml(test::seed_toml(0, ports));
  options.wait_ready = false;  // one member of three: it never gets a leader
  Node node(std::move(options));
  const int pid = node.pid();
  const auto before = Clock::now();
  try {
    node.wait_ready(700ms);
    FAIL() << "a member without a quorum became ready";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::node_failed);
    EXPECT_NE(std::string(e.what()).find("did not serve within 700 ms"), std::string::npos)
        << e.what();
  }
  const auto took = Clock::now() - before;
  EXPECT_GE(took, 700ms);
  EXPECT_LT(took, 5s);
  EXPECT_FALSE(node.running());
  EXPECT_EQ(node.pid(), -1);
  EXPECT_TRUE(wait_until([&] { return ::kill(pid, 0) != 0; }, 2s));
}

TEST(NodeRoleTest, UnusableUrlsAreRefusedNamingTheOption) {
  const auto error_of = [](NodeOptions options) -> std::string {
    try {
      Node node(std::move(options));
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::invalid_option) << e.what();
      return e.what();
    }
    ADD_FAILURE() << "no error";
    return {};
  };
  EXPECT_NE(error_of({.listen_client_urls = {"https://127.0.0.1:2379"}}).find("listen_client_urls"),
            std::string::npos);
  EXPECT_NE(error_of({.client_port = 2379, .listen_client_urls = {"http://127.0.0.1:2379"}})
                .find("not both"),
            std::string::npos);
  EXPECT_NE(error_of({.listen_peer_urls = {"127.0.0.1:2380"}}).find("listen_peer_urls"),
            std::string::npos);
  EXPECT_NE(error_of({.initial_cluster = "a"}).find("initial_cluster"), std::string::npos);
  EXPECT_NE(error_of({.initial_cluster_state = "old"}).find("\"old\""), std::string::npos);
}

}  // namespace
}  // namespace etcdpp::embedded
