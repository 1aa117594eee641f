// SPDX-License-Identifier: Apache-2.0
// A service registry on an embedded 3-member cluster: three nodes register, one starts and
// stops an application, an operator changes the configuration with a plain put (as with
// `etcdctl put`), a node leaves; the first node prints each event and reads its typed config.
#include <etcdpp/etcdpp.hpp>

#include <condition_variable>
#include <iostream>
#include <mutex>

namespace registry = etcdpp::registry;
using namespace std::chrono_literals;

int main() try {
  etcdpp::embedded::Cluster cluster;  // a throwaway cluster; use your own cluster's client
  etcdpp::Client client = cluster.client();
  client.put("services/ergo/cluster/production/config/web1/database.port", "int:5432");

  std::mutex mutex;
  std::condition_variable changed;
  std::vector<registry::Event> seen;

  //! [registrar]
  registry::Registrar web1(client, {
                                       .node = "web1",
                                       .cluster = "production",
                                       .routes = {{.host = "10.0.0.1", .port = 15000}},
                                       .on_event =
                                           [&](const registry::Event& e) {
                                             std::cout << "web1 sees: " << to_string(e)
                                                       << std::endl;
                                             std::lock_guard lock(mutex);
                                             seen.push_back(e);
                                             changed.notify_all();
                                           },
                                   });
  const registry::Config config = web1.config("database.port", "cache.ratio");
  std::cout << "database.port = " << config.get<std::int64_t>("database.port") << std::endl;
  //! [registrar]

  auto wait_for = [&](registry::Event::Type type, const std::string& what) {
    std::unique_lock lock(mutex);
    const bool ok = changed.wait_for(lock, 20s, [&] {
      return std::any_of(seen.begin(), seen.end(), [&](const registry::Event& e) {
        return e.type == type && (e.node == what || e.item == what);
      });
    });
    if (!ok) throw std::runtime_error("no " + std::string(to_string(type)) + " " + what);
  };

  registry::Registrar web2(client, {.node = "web2", .cluster = "production"});
  std::optional<registry::Registrar> web3(
      std::in_place, client, registry::RegistrarOptions{.node = "web3", .cluster = "production"});
  wait_for(registry::Event::Type::node_joined, "web3");
  std::cout << "nodes seen by web1:";
  for (const std::string& n : web1.nodes()) std::cout << " " << n;
  std::cout << std::endl;

  web2.publish_application({.name = "web", .weight = 10, .mode = registry::ApplicationMode::permanent,
                            .state = registry::ApplicationState::running});
  wait_for(registry::Event::Type::application_started, "web2");
  std::cout << "web runs on " << web1.resolve_application("web").size() << " node(s)" << std::endl;
  web2.remove_application("web");
  wait_for(registry::Event::Type::application_stopped, "web2");

  // The operator's change: a plain put of the documented key, read as a typed float.
  client.put("services/ergo/cluster/production/config/*/cache.ratio", "float:0.75");
  wait_for(registry::Event::Type::config_updated, "cache.ratio");
  std::cout << "cache.ratio = " << std::get<double>(*web1.config_item("cache.ratio")) << std::endl;

  web3.reset();  // unregisters: the others see it leave at once
  wait_for(registry::Event::Type::node_left, "web3");
  return 0;
} catch (const std::exception& e) {
  std::cerr << "registry example failed: " << e.what() << std::endl;
  return 1;
}
