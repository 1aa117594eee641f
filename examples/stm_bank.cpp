// SPDX-License-Identifier: Apache-2.0
// A bank on etcd's software transactional memory: accounts are keys, and clients move money
// between them with run_stm, each transfer a function that reads two balances and writes both.
// At the end the money is all there. It prints the committed transfers per second and the
// retries the conflicts cost.
//
//   stm_bank [clients=4] [transfers per client=50] [isolation=serializable_snapshot|
//            serializable|repeatable_read|read_committed] [members=1]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <etcdpp/etcdpp.hpp>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using etcdpp::concurrency::Isolation;
using etcdpp::concurrency::Stm;

constexpr int kAccounts = 10;
constexpr int kInitial = 1000;

std::string account(int i) { return "bank/acct/" + std::to_string(i); }

Isolation parse_isolation(const std::string& name) {
  if (name == "serializable") return Isolation::serializable;
  if (name == "repeatable_read") return Isolation::repeatable_read;
  if (name == "read_committed") return Isolation::read_committed;
  if (name == "serializable_snapshot") return Isolation::serializable_snapshot;
  throw std::invalid_argument("unknown isolation \"" + name + "\"");
}

int balance(const std::optional<std::string>& value) { return value ? std::stoi(*value) : 0; }

}  // namespace

int main(int argc, char** argv) try {
  const int clients = argc > 1 ? std::atoi(argv[1]) : 4;
  const int transfers = argc > 2 ? std::atoi(argv[2]) : 50;
  const std::string level_name = argc > 3 ? argv[3] : "serializable_snapshot";
  const std::size_t members = argc > 4 ? std::strtoul(argv[4], nullptr, 10) : 1;
  const Isolation level = parse_isolation(level_name);

  // An embedded etcd (or local cluster) for the bank, gone when main returns.
  std::unique_ptr<etcdpp::embedded::Node> node;
  std::unique_ptr<etcdpp::embedded::Cluster> cluster;
  std::vector<std::string> endpoints;
  if (members <= 1) {
    node = std::make_unique<etcdpp::embedded::Node>();
    endpoints = node->client_endpoints();
  } else {
    cluster = std::make_unique<etcdpp::embedded::Cluster>(
        etcdpp::embedded::ClusterOptions{.size = members});
    endpoints = cluster->client_endpoints();
  }
  etcdpp::Client bank({.endpoints = endpoints});
  for (int i = 0; i < kAccounts; ++i) bank.put(account(i), std::to_string(kInitial));

  std::atomic<long> committed{0}, attempts{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      etcdpp::Client client({.endpoints = endpoints});
      std::mt19937 rng(static_cast<unsigned>(c + 1));
      std::uniform_int_distribution<int> pick(0, kAccounts - 1), amount(1, 100);
      for (int i = 0; i < transfers; ++i) {
        const int from = pick(rng);
        const int to = (from + 1 + pick(rng) % (kAccounts - 1)) % kAccounts;
        const int want = amount(rng);
        //! [transfer]
        const auto result = etcdpp::concurrency::run_stm(
            client,
            [&](Stm& stm) {
              const int a = balance(stm.get(account(from)));
              const int b = balance(stm.get(account(to)));
              const int moved = std::min(want, a);  // no overdraft
              stm.put(account(from), std::to_string(a - moved));
              stm.put(account(to), std::to_string(b + moved));
            },
            {.isolation = level, .prefetch = {account(from), account(to)}});
        //! [transfer]
        ++committed;
        attempts += result.attempts;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  long total = 0;
  for (int i = 0; i < kAccounts; ++i) {
    if (const auto kv = bank.get(account(i))) total += std::stoi(kv->value);
  }
  std::printf(
      "{\"isolation\": \"%s\", \"members\": %zu, \"clients\": %d, \"committed\": %ld, "
      "\"seconds\": %.2f, \"transfers_per_s\": %.0f, \"retries_per_transfer\": %.3f, "
      "\"total\": %ld, \"expected_total\": %d}\n",
      level_name.c_str(), members, clients, committed.load(), seconds, committed / seconds,
      static_cast<double>(attempts - committed) / static_cast<double>(committed), total,
      kAccounts * kInitial);
  // Read-committed loses updates by design; every other level keeps the money.
  if (level != Isolation::read_committed && total != kAccounts * kInitial) {
    std::cerr << "stm_bank: money was made or lost\n";
    return 1;
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "stm_bank: " << e.what() << "\n";
  return 1;
}
