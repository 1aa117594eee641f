// SPDX-License-Identifier: Apache-2.0
// A configuration watcher on a plain watch, with a callback: read the prefix once, then watch it
// from the revision after that read, so that no change falls between the two. Each change
// updates a local copy. (PrefixCache does all of this for you: examples/cache.cpp.)
#include <etcdpp/etcdpp.hpp>

#include <chrono>
#include <condition_variable>
#include <iostream>
#include <map>
#include <mutex>
#include <string>

int main() try {
  etcdpp::embedded::Node node;  // a private etcd on free loopback ports
  etcdpp::Client client({.endpoints = {node.client_endpoint()}});
  client.put("config/log_level", "info");
  client.put("config/workers", "4");

  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::string, std::string> config;  // the local copy, guarded by mutex

  //! [config watcher]
  const etcdpp::GetResult initial = client.get("config/", {.prefix = true});
  for (const etcdpp::KeyValue& kv : initial.kvs) config[kv.key] = kv.value;

  const etcdpp::WatchOptions after_the_read{.prefix = true,
                                            .start_revision = initial.header.revision + 1};
  // The callback runs on the client's executor, one batch at a time, in revision order.
  etcdpp::Watch watch = client.watch(
      "config/", after_the_read, [&](std::error_code ec, const etcdpp::WatchBatch& batch) {
        std::lock_guard lock(mutex);
        if (ec) {  // the last call: etcd compacted past us (read again, watch again) or cancelled
          std::cerr << "config_watcher: the watch ended: " << ec.message() << std::endl;
          return;
        }
        for (const etcdpp::Event& e : batch.events) {
          if (e.type == etcdpp::Event::Type::put) {
            std::cout << e.kv.key << " = " << e.kv.value << std::endl;
            config[e.kv.key] = e.kv.value;
          } else {
            std::cout << e.kv.key << " deleted" << std::endl;
            config.erase(e.kv.key);
          }
        }
        changed.notify_all();
      });
  //! [config watcher]

  // An operator changes the configuration (as `etcdctl put` would); the last put marks the end.
  client.put("config/log_level", "debug");
  client.delete_range("config/workers");
  client.put("config/version", "2");

  std::unique_lock lock(mutex);
  const bool seen = changed.wait_for(lock, std::chrono::seconds(10), [&] {
    return config.count("config/version") == 1;
  });
  const std::map<std::string, std::string> expected{{"config/log_level", "debug"},
                                                    {"config/version", "2"}};
  if (!seen || config != expected) {
    std::cerr << "config_watcher: the local copy differs from etcd's\n";
    return 1;
  }
  std::cout << "config_watcher: the local copy matches etcd (" << config.size() << " keys)\n";
  return 0;
} catch (const etcdpp::Error& e) {
  std::cerr << "config_watcher: " << e.what() << "\n";
  return 1;
}
