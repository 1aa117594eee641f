// SPDX-License-Identifier: Apache-2.0
// A configuration watcher: a PrefixCache keeps every key under "app/config/" in memory, reads
// it locally, and is told of each change; wait_for makes the cache see our own write.
#include <etcdpp/etcdpp.hpp>
#include <iostream>

int main() try {
  etcdpp::embedded::Node node;  // a throwaway etcd for this example; use your cluster's client
  etcdpp::Client client = node.client();
  client.put("app/config/log_level", "info");

  //! [config watcher]
  etcdpp::PrefixCache config(
      client, "app/config/",
      {
          .on_put =
              [](const etcdpp::KeyValue& kv, const std::optional<etcdpp::KeyValue>& prev) {
                std::cout << kv.key << ": " << (prev ? prev->value : "(new)") << " -> " << kv.value
                          << std::endl;
              },
          .on_delete = [](const etcdpp::KeyValue& prev,
                          std::int64_t) { std::cout << prev.key << ": deleted" << std::endl; },
      });
  std::cout << "log_level is " << config.get("app/config/log_level")->value << std::endl;

  const auto put = client.put("app/config/log_level", "debug");
  config.wait_for(put.header.revision);  // read-your-writes: the cache has it now
  for (const etcdpp::KeyValue& kv : config.snapshot())
    std::cout << kv.key << " = " << kv.value << std::endl;
  //! [config watcher]

  if (config.get("app/config/log_level")->value != "debug") return 1;
  client.delete_range("app/config/log_level");
  config.sync();  // as fresh as a linearizable read
  return config.size() == 0 ? 0 : 1;
} catch (const std::exception& e) {
  std::cerr << "cache: " << e.what() << std::endl;
  return 1;
}
