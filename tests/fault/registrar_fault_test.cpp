// SPDX-License-Identifier: Apache-2.0
// The Registrar on a 3-member cluster: a node process killed is "left" on the others within
// its TTL plus a second; the leader killed while config changes and applications start and stop
// gives every event once, in order, none spurious; a compaction while the observer is cut off
// loses no event and repeats no "joined".
#include <gtest/gtest.h>
#include <signal.h>

#include <iostream>
#include <mutex>

#include "etcdpp/registry/registrar.hpp"
#include "support/registry_events.hpp"
#include "support/subprocess.hpp"
#include "support/tcp_proxy.hpp"
#include "support/test_env.hpp"

namespace etcdpp::registry {
namespace {

using namespace std::chrono_literals;
using embedded::Cluster;
using embedded::ClusterOptions;
using Type = Event::Type;
using Clock = std::chrono::steady_clock;

ClusterOptions fast_cluster() {
  ClusterOptions options;
  options.heartbeat_interval = 30ms;
  options.election_timeout = 300ms;
  return options;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

struct Recorder {
  std::mutex mutex;
  std::vector<std::pair<Event, Clock::time_point>> events;
  std::function<void(const Event&)> callback() {
    return [this](const Event& e) {
      std::lock_guard lock(mutex);
      events.emplace_back(e, Clock::now());
    };
  }
  std::vector<Event> copy() {
    std::lock_guard lock(mutex);
    std::vector<Event> out;
    for (const auto& [e, t] : events) out.push_back(e);
    return out;
  }
  std::optional<Clock::time_point> when(Type type, const std::string& node) {
    std::lock_guard lock(mutex);
    for (const auto& [e, t] : events) {
      if (e.type == type && e.node == node) return t;
    }
    return std::nullopt;
  }
};

using test::line_of;
using test::lines_of;

// Repeats a write until it is acknowledged (a leaderless moment fails some): the events
// derived from state make a write applied twice look like one.
template <class Write>
void until_done(Write write) {
  const auto give_up = Clock::now() + 30s;
  while (true) {
    try {
      write();
      return;
    } catch (const Error& e) {
      if (Clock::now() > give_up) throw;
      std::this_thread::sleep_for(50ms);
    }
  }
}

RegistrarOptions observer_options(const std::string& root, Recorder& recorder) {
  RegistrarOptions o;
  o.node = "observer";
  o.root = root;
  o.on_event = recorder.callback();
  return o;
}

TEST(RegistrarFaultTest, AKilledNodeProcessLeavesWithinItsTtlPlusOneSecond) {
  Cluster cluster(fast_cluster());
  auto client = cluster.client();
  test::TestPrefix prefix(client);
  const std::string root = prefix("services/ergo");
  Recorder recorder;
  Registrar observer(client, observer_options(root, recorder));
  constexpr int kTtl = 4;
  for (int round = 0; round < 2; ++round) {
    const std::string name = "victim" + std::to_string(round);
    test::Subprocess victim({ETCDPP_NODE_HELPER, "register", join(cluster.client_endpoints()),
                             root, "default", name, std::to_string(kTtl)});
    ASSERT_TRUE(victim.wait_for_line("registered", 30s)) << "the helper did not register";
    ASSERT_TRUE(test::wait_until(
        [&] { return recorder.when(Type::node_joined, name).has_value(); }, 10s));
    ASSERT_EQ(::kill(victim.pid(), SIGKILL), 0);
    const auto killed = Clock::now();
    ASSERT_TRUE(test::wait_until(
        [&] { return recorder.when(Type::node_left, name).has_value(); },
        std::chrono::seconds(kTtl + 5)))
        << name << " never left";
    const double took =
        std::chrono::duration<double>(*recorder.when(Type::node_left, name) - killed).count();
    std::cout << "registry: node process killed -> node_left after " << took << " s (TTL "
              << kTtl << " s)" << std::endl;
    EXPECT_LE(took, kTtl + 1.0);
    victim.wait(5s);
  }
}

TEST(RegistrarFaultTest, LeaderKilledWhileConfigAndApplicationsChangeEveryEventOnceInOrder) {
  Cluster cluster(fast_cluster());
  auto client = cluster.client();
  test::TestPrefix prefix(client);
  const std::string root = prefix("services/ergo");
  Recorder recorder;
  Registrar observer(client, observer_options(root, recorder));
  RegistrarOptions a;
  a.node = "actor";
  a.root = root;
  Registrar actor(client, a);

  std::vector<std::string> expected = {"node_joined actor"};
  constexpr int kSteps = 30;
  std::string value = "-";
  std::optional<std::size_t> killed;
  for (int i = 0; i < kSteps; ++i) {
    if (i == 10 || i == 20) {
      // Changes go on at once, while the others elect a new leader.
      killed = cluster.wait_for_leader(10s);
      cluster.kill(*killed);
    }
    if (i == 15) cluster.restart(*killed);  // a quorum for the second kill
    const std::string next = "int:" + std::to_string(i);
    until_done([&] { client.put(root + "/config/global/step", next); });
    expected.push_back("config_updated step " + value + ">" + next);
    value = next;
    const std::string app = "app" + std::to_string(i);
    until_done([&] { actor.publish_application({.name = app}); });
    expected.push_back("application_loaded actor " + app);
    until_done([&] {
      actor.publish_application({.name = app, .state = ApplicationState::running});
    });
    expected.push_back("application_started actor " + app);
    if (i % 2 == 0) {
      until_done([&] { actor.remove_application(app); });
      expected.push_back("application_stopped actor " + app);
    }
  }
  ASSERT_TRUE(test::wait_until([&] { return recorder.copy().size() >= expected.size(); }, 30s))
      << "got " << recorder.copy().size() << " of " << expected.size() << " events";
  observer.sync(20s);
  std::this_thread::sleep_for(500ms);  // room for a spurious or repeated event to show up
  const auto events = recorder.copy();
  EXPECT_EQ(lines_of(events), expected);
  for (std::size_t i = 1; i < events.size(); ++i) {
    EXPECT_GT(events[i].revision, events[i - 1].revision) << line_of(events[i]);
  }
  EXPECT_TRUE(observer.registered());
  EXPECT_TRUE(actor.registered());
}

TEST(RegistrarFaultTest, ACompactionDuringADisconnectLosesNothingAndRepeatsNoJoined) {
  Cluster cluster(fast_cluster());
  auto client = cluster.client();
  test::TestPrefix prefix(client);
  const std::string root = prefix("services/ergo");
  // The observer reaches every member through a proxy, so that it can be cut off alone.
  std::vector<std::unique_ptr<test::TcpProxy>> proxies;
  ClientOptions observer_client;
  for (const std::string& endpoint : cluster.client_endpoints()) {
    proxies.push_back(std::make_unique<test::TcpProxy>(endpoint));
    observer_client.endpoints.push_back(proxies.back()->endpoint());
  }
  observer_client.call_timeout = 3s;
  auto named = [&](std::string node) {
    RegistrarOptions o;
    o.node = std::move(node);
    o.root = root;
    return o;
  };
  auto stays = std::make_unique<Registrar>(client, named("stays"));
  auto goes = std::make_unique<Registrar>(client, named("goes"));
  client.put(root + "/config/global/mode", "blue");
  Recorder recorder;
  auto o = named("observer");
  o.on_event = recorder.callback();
  o.lease_ttl = 20s;  // outlives the cut
  Registrar observer(observer_client, o);
  ASSERT_TRUE(test::wait_until([&] { return recorder.copy().size() >= 2; }, 10s));

  for (auto& p : proxies) p->cut();
  auto comes = std::make_unique<Registrar>(client, named("comes"));
  comes->publish_application({.name = "web", .state = ApplicationState::running});
  goes.reset();
  client.put(root + "/config/global/mode", "green");
  client.put(root + "/config/global/mode", "red");  // only the net change is reported
  const auto put = client.put(root + "/config/global/other", "x");
  client.compact(put.header.revision);
  std::this_thread::sleep_for(1s);  // the observer's watch stays broken a while
  for (auto& p : proxies) p->restore();

  const std::vector<std::string> expected = {
      "node_joined goes initial", "node_joined stays initial", "application_started comes web",
      "node_joined comes", "config_updated mode blue>red", "config_updated other ->x",
      "node_left goes"};
  ASSERT_TRUE(test::wait_until([&] { return recorder.copy().size() >= expected.size(); }, 30s))
      << "got: " << join(lines_of(recorder.copy()));
  observer.sync(20s);
  std::this_thread::sleep_for(500ms);
  auto got = lines_of(recorder.copy());
  // The relist reports differences in key order within one revision: compare as sets after
  // the initial events, and check that nothing came twice.
  ASSERT_EQ(got.size(), expected.size()) << join(got);
  EXPECT_EQ(std::vector<std::string>(got.begin(), got.begin() + 2),
            std::vector<std::string>(expected.begin(), expected.begin() + 2));
  std::vector<std::string> rest(got.begin() + 2, got.end());
  std::vector<std::string> want(expected.begin() + 2, expected.end());
  std::sort(rest.begin(), rest.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(rest, want);
  EXPECT_TRUE(observer.registered());
}

}  // namespace
}  // namespace etcdpp::registry
