// SPDX-License-Identifier: Apache-2.0
// The Registrar against a real etcd: registration refused for a taken name, unregistration,
// nodes and exact application resolution, initial and ordered events without spurious ones,
// the seed document's config read as written, config_updated only on an effective change,
// delivery on the user's executor and as an awaitable, re-registration after a revoked lease.
#include <gtest/gtest.h>

#include <algorithm>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <atomic>
#include <iostream>
#include <mutex>
#include <thread>

#include "etcdpp/registry/registrar.hpp"
#include "support/registry_events.hpp"
#include "support/test_env.hpp"

namespace etcdpp::registry {
namespace {

using namespace std::chrono_literals;
using Type = Event::Type;

/// Records the events of a Registrar's on_event.
struct Recorder {
  std::mutex mutex;
  std::vector<Event> events;
  std::function<void(const Event&)> callback() {
    return [this](const Event& e) {
      std::lock_guard lock(mutex);
      events.push_back(e);
    };
  }
  std::vector<Event> copy() {
    std::lock_guard lock(mutex);
    return events;
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return events.size();
  }
  /// Waits until `n` events have come; fails naming what came.
  std::vector<Event> wait_for(std::size_t n, std::chrono::milliseconds timeout = 10s) {
    const bool ok = test::wait_until([&] { return size() >= n; }, timeout);
    auto got = copy();
    if (!ok) {
      std::string text;
      for (const Event& e : got) text += "  " + to_string(e) + "\n";
      ADD_FAILURE() << "waited for " << n << " events, got " << got.size() << ":\n" << text;
    }
    return got;
  }
};

std::string root_of(const test::TestPrefix& prefix) { return prefix("services/ergo"); }

RegistrarOptions options_for(const test::TestPrefix& prefix, std::string node,
                             std::string cluster = "default") {
  RegistrarOptions o;
  o.node = std::move(node);
  o.cluster = std::move(cluster);
  o.root = root_of(prefix);
  return o;
}

std::vector<std::string> describe(const std::vector<Event>& events) {
  return test::lines_of(events);
}

TEST(RegistrarTest, ATakenNameIsRefusedAndDestructionUnregisters) {
  auto client = test::client();
  test::TestPrefix prefix(client);
  const ClusterKeys keys{.root = root_of(prefix), .cluster = "default"};
  std::optional<Registrar> first(std::in_place, client, options_for(prefix, "web1"));
  EXPECT_TRUE(first->registered());
  const auto kv = client.get(keys.node("web1"));
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->lease, first->lease());
  EXPECT_EQ(kv->value.front(), '{');
  try {
    Registrar second(client, options_for(prefix, "web1"));
    FAIL() << "a second registration of a live name succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::already_exists));
    EXPECT_NE(std::string(e.what()).find("\"web1\""), std::string::npos) << e.what();
  }
  // The refused registration left no lease behind besides the first one's.
  const auto leases = client.lease_leases();
  EXPECT_EQ(std::count(leases.begin(), leases.end(), first->lease()), 1);
  const LeaseId lease = first->lease();
  const auto before = std::chrono::steady_clock::now();
  first.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - before, 5s);
  EXPECT_FALSE(client.get(keys.node("web1")).has_value());
  EXPECT_EQ(client.lease_time_to_live(lease).ttl, std::chrono::seconds(-1));
  Registrar again(client, options_for(prefix, "web1"));  // the name is free again
  EXPECT_TRUE(again.registered());
}

TEST(RegistrarTest, BadOptionsAreRefusedByName) {
  auto client = test::client();
  test::TestPrefix prefix(client);
  auto refuse = [&](RegistrarOptions o, const std::string& word) {
    try {
      Registrar r(client, std::move(o));
      ADD_FAILURE() << "accepted options with a bad " << word;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), make_error_code(Errc::invalid_option)) << e.what();
      EXPECT_NE(std::string(e.what()).find(word), std::string::npos) << e.what();
    }
  };
  refuse(options_for(prefix, ""), "node");
  refuse(options_for(prefix, "a/b"), "node");
  refuse(options_for(prefix, "global"), "configuration level");
  refuse(options_for(prefix, "*"), "configuration level");
  refuse(options_for(prefix, "n", "c/d"), "cluster");
  auto o = options_for(prefix, "n");
  o.root += "/";
  refuse(o, "root");
  o = options_for(prefix, "n");
  o.lease_ttl = 1s;
  refuse(o, "lease_ttl");
  EXPECT_TRUE(client.get(prefix.str(), {.range_end = {}, .prefix = true}).kvs.empty());
}

TEST(RegistrarTest, NodesResolveAndApplicationsByExactName) {
  auto client = test::client();
  test::TestPrefix prefix(client);
  auto o1 = options_for(prefix, "web1", "production");
  o1.routes = {Route{.host = "10.0.0.1", .port = 15000, .tls = true,
                     .handshake = {"EHS", "1.0", "c0ffee", "MIT"}, .proto = {}}};
  Registrar web1(client, o1);
  Registrar web2(client, options_for(prefix, "web2", "production"));
  Registrar other(client, options_for(prefix, "web3", "staging"));
  EXPECT_EQ(web1.nodes(), std::vector<std::string>{"web2"});
  EXPECT_EQ(web2.nodes(), std::vector<std::string>{"web1"});
  EXPECT_EQ(web2.resolve("web1"), o1.routes);
  EXPECT_FALSE(web2.resolve("nobody").has_value());

  web2.publish_application({.name = "web", .weight = 5, .mode = ApplicationMode::permanent,
                            .state = ApplicationState::running});
  web2.publish_application({.name = "webui", .weight = 1});
  const auto routes = web1.resolve_application("web");
  ASSERT_EQ(routes.size(), 1u);
  EXPECT_EQ(routes[0], (ApplicationRoute{.node = "web2", .name = "web", .weight = 5,
                                         .mode = ApplicationMode::permanent,
                                         .state = ApplicationState::running}));
  EXPECT_TRUE(web2.resolve_application("web").empty());  // its own routes are left out
  EXPECT_TRUE(web1.resolve_application("we").empty());
  const ClusterView view(client, {.root = root_of(prefix), .cluster = "production"});
  EXPECT_EQ(view.resolve_application("web").size(), 1u);
  EXPECT_EQ(view.nodes(), (std::vector<std::string>{"web1", "web2"}));
  web2.remove_application("web");
  EXPECT_TRUE(web1.resolve_application("web").empty());
  EXPECT_EQ(web1.resolve_application("webui").size(), 1u);
  EXPECT_THROW(web2.publish_application({.name = "a/b"}), Error);
}

TEST(RegistrarTest, InitialEventsThenEachChangeOnceInOrder) {
  auto client = test::client();
  test::TestPrefix prefix(client);
  Registrar early(client, options_for(prefix, "early"));
  early.publish_application({.name = "db", .state = ApplicationState::running});

  Recorder recorder;
  auto o = options_for(prefix, "observer");
  o.on_event = recorder.callback();
  Registrar observer(client, o);
  auto events = recorder.wait_for(2);
  EXPECT_EQ(describe(events), (std::vector<std::string>{"application_started early db initial",
                                                        "node_joined early initial"}));
  {
    Registrar late(client, options_for(prefix, "late"));
    late.publish_application({.name = "web", .weight = 1});
    late.publish_application({.name = "web", .weight = 2});  // weight only: no event
    late.publish_application({.name = "web", .weight = 2, .state = ApplicationState::running});
    late.publish_application({.name = "web", .weight = 2, .state = ApplicationState::stopping});
    late.remove_application("web");
    observer.publish_application({.name = "own"});  // its own applications are reported
  }
  events = recorder.wait_for(9);
  EXPECT_EQ(describe(events),
            (std::vector<std::string>{
                "application_started early db initial", "node_joined early initial",
                "node_joined late", "application_loaded late web", "application_started late web",
                "application_stopping late web", "application_stopped late web",
                "application_loaded observer own", "node_left late"}));
  for (std::size_t i = 3; i < events.size(); ++i) {
    EXPECT_GT(events[i].revision, events[i - 1].revision) << to_string(events[i]);
  }
  observer.sync();
  std::this_thread::sleep_for(300ms);  // room for a spurious event to show up
  EXPECT_EQ(recorder.size(), 9u);
}

TEST(RegistrarTest, TheSeedDocumentConfigIsReadAsWrittenAndTyped) {
  auto client = test::client();
  test::TestPrefix prefix(client);
  const std::string root = root_of(prefix);
  // The seed document's etcdctl lines, under this test's root.
  client.put(root + "/cluster/production/config/web1/database.port", "int:5432");
  client.put(root + "/cluster/production/config/*/cache.ratio", "float:0.75");
  client.put(root + "/cluster/production/config/*/debug.enabled", "bool:true");
  client.put(root + "/cluster/production/config/web1/ssl.enabled", "bool:false");
  client.put(root + "/cluster/production/config/*/myapp.cache.size", "int:256");
  client.put(root + "/cluster/production/config/*/client.timeout", "int:30");
  client.put(root + "/config/global/log.level", "info");
  client.put(root + "/cluster/production/config/web1/broken", "int:abc");
  Registrar web1(client, options_for(prefix, "web1", "production"));
  // Read at once: the configuration is loaded before the constructor returns.
  EXPECT_EQ(web1.config_item("database.port"), ConfigValue(std::int64_t{5432}));
  const Config config =
      web1.config("database.port", "cache.ratio", "debug.enabled", "log.level", "missing");
  EXPECT_EQ(config.get<std::int64_t>("database.port"), 5432);
  EXPECT_EQ(config.get<double>("cache.ratio"), 0.75);
  EXPECT_EQ(config.get<bool>("debug.enabled"), true);
  EXPECT_EQ(config.get<std::string>("log.level"), "info");
  EXPECT_FALSE(config.contains("missing"));
  EXPECT_EQ(web1.config_item("ssl.enabled"), ConfigValue(false));
  EXPECT_FALSE(web1.config_item("missing").has_value());
  try {
    (void)web1.config_item("broken");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("\"broken\""), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("\"int:abc\""), std::string::npos) << e.what();
  }
  auto compatible = options_for(prefix, "web2", "production");
  compatible.typed_values = TypedValues::compatible;
  client.put(root + "/cluster/production/config/web2/broken", "int:abc");
  Registrar web2(client, compatible);
  EXPECT_EQ(web2.config_item("broken"), ConfigValue("int:abc"));
  // The same through a view, as the command-line tool reads it.
  const ClusterView view(client, {.root = root, .cluster = "production"});
  EXPECT_EQ(view.config("web1", {"database.port"}).get<std::int64_t>("database.port"), 5432);
  // A put is visible after sync().
  client.put(root + "/cluster/production/config/web1/database.port", "int:6432");
  web1.sync();
  EXPECT_EQ(web1.config_item("database.port"), ConfigValue(std::int64_t{6432}));
}

TEST(RegistrarTest, ConfigUpdatedOnlyWhenTheEffectiveValueChanges) {
  auto client = test::client();
  test::TestPrefix prefix(client);
  const std::string root = root_of(prefix);
  const std::string node_level = root + "/cluster/c/config/n/x";
  const std::string cluster_level = root + "/cluster/c/config/*/x";
  const std::string global_level = root + "/config/global/x";
  const std::string cross_level = root + "/config/c/n/x";
  Recorder recorder;
  auto o = options_for(prefix, "n", "c");
  o.on_event = recorder.callback();
  Registrar r(client, o);
  client.put(global_level, "g1");                       // effective: g1
  client.put(node_level, "n1");                         // n1
  client.put(global_level, "g2");                       // masked: nothing
  client.put(cluster_level, "c1");                      // masked: nothing
  client.put(node_level, "n1");                         // same value: nothing
  client.put(cross_level, "x1");                        // x1
  client.delete_range(cross_level);                     // back to n1
  client.delete_range(node_level);                      // c1
  client.put(root + "/cluster/c/config/other/x", "o");  // another node: nothing
  client.put(root + "/cluster/c/config/x", "bad");      // one segment: ignored
  client.delete_range(cluster_level);                   // g2
  client.delete_range(global_level);                    // unset
  const auto events = recorder.wait_for(7);
  EXPECT_EQ(describe(events),
            (std::vector<std::string>{"config_updated x ->g1", "config_updated x g1>n1",
                                      "config_updated x n1>x1", "config_updated x x1>n1",
                                      "config_updated x n1>c1", "config_updated x c1>g2",
                                      "config_updated x g2>-"}));
  r.sync();
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(recorder.size(), 7u);
}

TEST(RegistrarTest, EventsRunOnTheUsersExecutorAndCanBeAwaited) {
  auto client = test::client();
  test::TestPrefix prefix(client);
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  std::thread runner([&] { io.run(); });
  std::atomic<int> on_runner{0};
  std::atomic<int> elsewhere{0};
  auto o = options_for(prefix, "a");
  o.executor = io.get_executor();
  o.on_event = [&](const Event&) {
    (std::this_thread::get_id() == runner.get_id() ? on_runner : elsewhere)++;
  };
  {
    Registrar a(client, o);
    Registrar b(client, options_for(prefix, "b"));  // pull face: no on_event
    Registrar c(client, options_for(prefix, "c"));
    EXPECT_TRUE(test::wait_until([&] { return on_runner >= 2; }, 10s));
    EXPECT_EQ(elsewhere, 0);
    // b saw a (initial) and then c join; pulled and awaited.
    const auto first = b.next_event(5s);
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(describe({*first}), std::vector<std::string>{"node_joined a initial"});
    auto second = b.async_next_event(asio::use_future);
    ASSERT_EQ(second.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(describe({second.get()}), std::vector<std::string>{"node_joined c"});
    EXPECT_FALSE(b.next_event(200ms).has_value());
    // A pending async_next_event fails with cancelled when the Registrar goes.
    ASSERT_TRUE(c.next_event(5s).has_value());  // a and b, initial
    ASSERT_TRUE(c.next_event(5s).has_value());
    auto pending = c.async_next_event(asio::use_future);
    auto pending2 = b.async_next_event(asio::use_future);
    c.close();
    ASSERT_EQ(pending.wait_for(5s), std::future_status::ready);
    try {
      pending.get();
      FAIL() << "expected cancelled";
    } catch (const std::system_error& e) {
      EXPECT_EQ(e.code(), make_error_code(Errc::cancelled));
    }
    ASSERT_EQ(pending2.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(describe({pending2.get()}), std::vector<std::string>{"node_left c"});
  }
  guard.reset();
  runner.join();
}

TEST(RegistrarTest, ARevokedLeaseIsReplacedAndTheRoutesPutAgain) {
  auto client = test::client();
  test::TestPrefix prefix(client);
  Recorder own;
  Recorder others;
  auto o = options_for(prefix, "victim");
  o.on_event = own.callback();
  Registrar victim(client, o);
  victim.publish_application({.name = "app", .state = ApplicationState::running});
  auto w = options_for(prefix, "watcher");
  w.on_event = others.callback();
  Registrar watcher(client, w);
  others.wait_for(2);  // the initial ones
  const LeaseId old = victim.lease();
  client.lease_revoke(old);  // as an operator or a partition longer than the TTL would
  ASSERT_TRUE(test::wait_until(
      [&] {
        for (const Event& e : own.copy()) {
          if (e.type == Type::reregistered) return true;
        }
        return false;
      },
      10s));
  EXPECT_TRUE(victim.registered());
  EXPECT_NE(victim.lease(), old);
  const ClusterKeys keys{.root = root_of(prefix), .cluster = "default"};
  EXPECT_EQ(client.get(keys.node("victim"))->lease, victim.lease());
  EXPECT_EQ(client.get(keys.application("app", "victim"))->lease, victim.lease());
  // The others saw it go and come back, each once.
  const auto seen = others.wait_for(6);
  EXPECT_EQ(describe(seen),
            (std::vector<std::string>{"application_started victim app initial",
                                      "node_joined victim initial",
                                      "application_stopped victim app", "node_left victim",
                                      "node_joined victim", "application_started victim app"}));
}

TEST(RegistrarTest, EventLatencyFromPutToCallback) {
  auto client = test::client();
  test::TestPrefix prefix(client);
  std::mutex mutex;
  std::condition_variable cv;
  std::optional<std::chrono::steady_clock::time_point> seen;
  auto o = options_for(prefix, "n");
  o.on_event = [&](const Event& e) {
    if (e.type != Type::config_updated) return;
    std::lock_guard lock(mutex);
    seen = std::chrono::steady_clock::now();
    cv.notify_all();
  };
  Registrar r(client, o);
  std::vector<double> micros;
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard lock(mutex);
      seen.reset();
    }
    const auto start = std::chrono::steady_clock::now();
    client.put(root_of(prefix) + "/config/global/latency", "int:" + std::to_string(i));
    std::unique_lock lock(mutex);
    ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return seen.has_value(); })) << i;
    micros.push_back(std::chrono::duration<double, std::micro>(*seen - start).count());
  }
  std::sort(micros.begin(), micros.end());
  const double p50 = micros[micros.size() / 2];
  const double p99 = micros[micros.size() * 99 / 100];
  std::cout << "registry event latency, put to on_event (200 config changes): p50 " << p50
            << " us, p99 " << p99 << " us" << std::endl;
  EXPECT_LT(p99, 1e6);
}

}  // namespace
}  // namespace etcdpp::registry
