// SPDX-License-Identifier: Apache-2.0
// The first program: a private etcd, a client on it, then a put, a get, a prefix read and a
// delete. Against your own cluster, drop the Node and list your members' endpoints.
#include <etcdpp/etcdpp.hpp>
#include <iostream>

int main() try {
  //! [hello]
  etcdpp::embedded::Node node;  // a private etcd on free loopback ports, stopped at exit
  etcdpp::Client client({.endpoints = {node.client_endpoint()}});

  client.put("app/mode", "blue");
  client.put("app/color", "green");
  if (auto kv = client.get("app/mode")) std::cout << "app/mode = " << kv->value << "\n";

  auto all = client.get("app/", {.prefix = true});  // every key under app/, sorted by key
  for (const auto& kv : all.kvs) std::cout << kv.key << " = " << kv.value << "\n";

  auto gone = client.delete_range("app/mode");
  std::cout << "deleted " << gone.deleted << " key; app/mode is "
            << (client.get("app/mode") ? "still there" : "absent") << "\n";  // std::nullopt
  //! [hello]

  const bool ok = all.count == 2 && gone.deleted == 1 && !client.get("app/mode") &&
                  client.get("app/color")->value == "green";
  if (!ok) std::cerr << "hello: unexpected contents\n";
  return ok ? 0 : 1;
} catch (const etcdpp::Error& e) {  // every failed call throws one, naming the call and the key
  std::cerr << "hello: " << e.what() << "\n";
  return 1;
}
