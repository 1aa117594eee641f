// SPDX-License-Identifier: Apache-2.0
#include "support/test_env.hpp"

#include <fstream>
#include <random>

namespace etcdpp::test {

embedded::Node& node() {
  static embedded::Node node;
  return node;
}

Client client(std::chrono::milliseconds timeout) {
  return Client({.endpoints = {node().client_endpoint()}, .call_timeout = timeout});
}

TestPrefix::TestPrefix(Client client) : client_(std::move(client)) {
  std::random_device rd;
  prefix_ = "etcdpp-test/" + std::to_string(rd()) + std::to_string(rd()) + "/";
}

TestPrefix::~TestPrefix() {
  try {
    client_.delete_range(prefix_, {.prefix = true});
  } catch (const std::exception&) {
    // The server may be down on purpose at the end of a fault test; nothing to clean then.
  }
}

int thread_count() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::stoi(line.substr(8));
  }
  return -1;
}

}  // namespace etcdpp::test
