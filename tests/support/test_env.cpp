// SPDX-License-Identifier: Apache-2.0
#include "support/test_env.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
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

namespace {

// The state letter of /proc/<pid>/task/<tid>/stat: after the ")" that ends the command name.
char task_state(const std::filesystem::path& stat) {
  std::ifstream in(stat);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  return close == std::string::npos || close + 2 >= text.size() ? '?' : text[close + 2];
}

}  // namespace

void pause_process(int pid) {
  ASSERT_EQ(::kill(pid, SIGSTOP), 0);
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  const bool stopped = wait_until(
      [&] {
        for (const auto& task : std::filesystem::directory_iterator(tasks)) {
          if (task_state(task.path() / "stat") != 'T') return false;
        }
        return true;
      },
      std::chrono::seconds(5));
  ASSERT_TRUE(stopped) << "process " << pid << " did not stop";
}

void resume_process(int pid) { ASSERT_EQ(::kill(pid, SIGCONT), 0); }

}  // namespace etcdpp::test
