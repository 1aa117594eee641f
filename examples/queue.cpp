// SPDX-License-Identifier: Apache-2.0
// Work distribution on etcd: producers enqueue jobs, consumers on their own clients take each
// job once in FIFO order; urgent jobs go through a PriorityQueue; workers start together at a
// DoubleBarrier; a Barrier holds them until the coordinator releases it; a v2-style
// compare-and-swap records who finished last.
#include <asio/use_future.hpp>
#include <atomic>
#include <chrono>
#include <etcdpp/etcdpp.hpp>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
std::mutex say_mutex;

void say(const std::string& what) {
  std::lock_guard lock(say_mutex);
  std::cout << "queue: " << what << std::endl;
}

}  // namespace

int main() try {
  etcdpp::embedded::Node node;
  const auto endpoints = node.client_endpoints();
  etcdpp::Client client({.endpoints = endpoints});

  //! [queue]
  etcdpp::concurrency::Queue jobs(client, "example/jobs");
  for (int i = 0; i < 6; ++i) jobs.enqueue("job-" + std::to_string(i));

  constexpr int kWorkers = 3;
  std::atomic<int> done{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      etcdpp::Client mine({.endpoints = endpoints});
      // All workers start together...
      etcdpp::concurrency::DoubleBarrier start(mine, "example/start", kWorkers);
      start.enter();
      etcdpp::concurrency::Queue queue(mine, "example/jobs");
      // ...take jobs until none comes for half a second...
      while (auto job = queue.dequeue(500ms)) {
        say("worker " + std::to_string(w) + " took " + *job);
        ++done;
      }
      // ...and leave together.
      start.leave();
    });
  }
  for (auto& t : workers) t.join();
  //! [queue]
  say(std::to_string(done.load()) + " jobs done, each once");
  if (done != 6) return 1;

  etcdpp::concurrency::PriorityQueue urgent(client, "example/urgent");
  urgent.enqueue("routine", 5);
  urgent.enqueue("fire", 0);
  say("first urgent job: " + urgent.dequeue());  // "fire": priority 0 comes first

  // A waiter held by a Barrier until the coordinator releases it, asynchronously.
  etcdpp::concurrency::Barrier gate(client, "example/gate");
  gate.hold();
  auto passed = gate.async_wait(asio::use_future);
  say(passed.wait_for(200ms) == std::future_status::timeout ? "the gate holds" : "?");
  gate.release();
  passed.get();
  say("the gate opened");

  // The v2 vocabulary: create the record if absent, then compare-and-swap it.
  etcdpp::v2::set(client, "example/last", "nobody", {.prev_exist = false});
  const auto swapped = etcdpp::v2::set(client, "example/last", "worker", {.prev_value = "nobody"});
  say("compare-and-swap replaced \"" + swapped.prev->value + "\" at revision " +
      std::to_string(swapped.revision));
  return 0;
} catch (const std::exception& e) {
  std::cerr << "queue: " << e.what() << "\n";
  return 1;
}
