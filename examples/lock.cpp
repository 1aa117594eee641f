// SPDX-License-Identifier: Apache-2.0
// A distributed lock: three workers, each with its own session, add to a counter under one
// Mutex, each write guarded by the lock's compare; the counter ends at the number of additions.
// The keys are those of the Go client and `etcdctl lock`, which would wait their turn with them.
#include <etcdpp/etcdpp.hpp>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

int main() {
  etcdpp::embedded::Node node;  // a private etcd on free loopback ports
  etcdpp::Client client({.endpoints = {node.client_endpoint()}});
  client.put("example/counter", "0");

  constexpr int kWorkers = 3;
  constexpr int kRounds = 5;
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&client] {
      //! [lock]
      etcdpp::concurrency::Session session(client, {.ttl = std::chrono::seconds(10)});
      etcdpp::concurrency::Mutex mutex(session, "example/lock");
      for (int i = 0; i < kRounds; ++i) {
        std::lock_guard guard(mutex);  // waits for the holders before it
        const int n = std::stoi(client.get("example/counter")->value);
        // Written only while the lock is held: a holder whose session died writes nothing.
        const auto r = client.txn(etcdpp::Txn{}
                                      .if_(mutex.owner_compare())
                                      .then(etcdpp::Op::put("example/counter",
                                                            std::to_string(n + 1))));
        if (!r.succeeded) throw std::runtime_error("lost the lock while holding it");
      }
      //! [lock]
    });
  }
  for (auto& t : workers) t.join();

  const int total = std::stoi(client.get("example/counter")->value);
  std::cout << "lock: counter = " << total << " after " << kWorkers * kRounds << " additions\n";
  return total == kWorkers * kRounds ? 0 : 1;
}
