// SPDX-License-Identifier: Apache-2.0
// Namespace views: two tenants share one cluster and one connection, each through a view of its
// own prefix. Each sees its keys as if they were the whole keyspace, and never the other's.
#include <etcdpp/etcdpp.hpp>
#include <iostream>

int main() {
  etcdpp::embedded::Node node;  // a private etcd on free loopback ports
  etcdpp::Client client({.endpoints = {node.client_endpoint()}});
  //! [views]
  const etcdpp::Client blue = client.with_namespace("tenants/blue/");
  const etcdpp::Client green = client.with_namespace("tenants/green/");
  blue.put("config/mode", "fast");
  green.put("config/mode", "safe");
  // "List all" of a view: every key of the view, and only those, without the prefix.
  for (const auto& kv : blue.get("", {.prefix = true}).kvs) {
    std::cout << "blue sees " << kv.key << " = " << kv.value << "\n";  // config/mode = fast
  }
  //! [views]
  // The real keyspace, through the plain client.
  const auto real = client.get("tenants/", {.prefix = true});
  for (const auto& kv : real.kvs) std::cout << "etcd holds " << kv.key << " = " << kv.value << "\n";
  const bool ok = real.count == 2 && blue.get("config/mode")->value == "fast" &&
                  green.get("", {.prefix = true}).count == 1;
  return ok ? 0 : 1;
}
