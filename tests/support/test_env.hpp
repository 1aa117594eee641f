// SPDX-License-Identifier: Apache-2.0
// What the integration tests share: one embedded etcd per test process, a client on it, a key
// prefix of their own that is deleted afterwards, and waiting on a condition with a deadline.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <thread>

#include "etcdpp/etcdpp.hpp"

namespace etcdpp::test {

/// The process's etcd node, started on first use and stopped at exit.
embedded::Node& node();

/// A client of node() with the given per-call timeout.
Client client(std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// A random key prefix for one test; every key under it is deleted when it goes.
class TestPrefix {
 public:
  explicit TestPrefix(Client client);
  ~TestPrefix();
  TestPrefix(const TestPrefix&) = delete;
  TestPrefix& operator=(const TestPrefix&) = delete;

  const std::string& str() const noexcept { return prefix_; }
  /// The prefix followed by `suffix`.
  std::string operator()(std::string_view suffix) const { return prefix_ + std::string(suffix); }

 private:
  Client client_;
  std::string prefix_;
};

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
template <class Condition>
bool wait_until(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

/// The number of threads of this process (from /proc/self/status).
int thread_count();

/// Sends SIGSTOP to `pid` and waits until every thread of it is stopped: kill() returns before
/// the signal has taken effect everywhere.
void pause_process(int pid);
/// Sends SIGCONT to `pid`.
void resume_process(int pid);

}  // namespace etcdpp::test
