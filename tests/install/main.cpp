// SPDX-License-Identifier: Apache-2.0
// Builds against the installed etcdpp and talks to an embedded node through it.
#include <etcdpp/etcdpp.hpp>
#include <iostream>

int main() {
  etcdpp::embedded::Node node;
  etcdpp::Client client({.endpoints = {node.client_endpoint()}});
  client.put("consumer/hello", "world");
  const auto kv = client.get("consumer/hello");
  if (!kv || kv->value != "world") {
    std::cerr << "consumer: read back the wrong value\n";
    return 1;
  }
  std::cout << "consumer: " << kv->key << " = " << kv->value << "\n";
  return 0;
}
