// SPDX-License-Identifier: Apache-2.0
// A program the fault tests run as separate processes, each with its own embedded etcd. It says
// what happens on stdout, one line per event, and ends when its stdin says "quit" or closes.
//
//   etcdpp_node_helper toml <file.toml> <key>
//       A Node from the [etcd] table of <file.toml>. Its on_leader writes <key> = its name; it
//       then waits until it can read <key>. Prints "leader <name>", "follower <name>",
//       "ready <name> <pid> <member id>", "read <value>".
//   etcdpp_node_helper hold node|cluster
//       A default Node, or a 3-member Cluster. Prints "pid <pid>" for each etcd, then "held".
//   etcdpp_node_helper lock <endpoints> <name> <ttl>
//       Takes the Mutex <name> on a session of <ttl> seconds against <endpoints> (comma
//       separated). Prints "locked <key> <revision>".
//   etcdpp_node_helper elect <endpoints> <name> <value> <ttl>
//       Campaigns in election <name> with <value>. Prints "elected <key> <revision>".
//   etcdpp_node_helper register <endpoints> <root> <cluster> <node> <ttl seconds>
//       A registry::Registrar of <node> on the comma-separated <endpoints>. Prints
//       "registered <node> <lease>".
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "etcdpp/etcdpp.hpp"

namespace {

using namespace std::chrono_literals;
using etcdpp::embedded::RoleChange;

std::mutex out_mutex;

void say(const std::string& line) {
  std::lock_guard lock(out_mutex);
  std::cout << line << std::endl;
}

// Blocks until stdin says "quit" or closes, at most five minutes: a helper whose test died
// must not live on.
void wait_for_quit() {
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + 300s;
  std::string buffer;
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{0, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) continue;
    char chunk[256];
    const ssize_t n = ::read(0, chunk, sizeof chunk);
    if (n <= 0) return;
    buffer.append(chunk, static_cast<std::size_t>(n));
    if (buffer.find("quit") != std::string::npos) return;
  }
}

int run_toml(const std::string& file, const std::string& key) {
  auto options = etcdpp::embedded::NodeOptions::from_toml_file(file);
  options.on_leader = [key](const RoleChange& c) {
    say("leader " + c.name);
    c.client.put(key, c.name);
  };
  options.on_follower = [](const RoleChange& c) { say("follower " + c.name); };
  etcdpp::embedded::Node node(std::move(options));
  say("ready " + node.name() + " " + std::to_string(node.pid()) + " " +
      std::to_string(static_cast<std::uint64_t>(node.member_id())));
  const auto client = node.client();
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  std::optional<etcdpp::KeyValue> kv;
  while (!(kv = client.get(key)) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  say(kv ? "read " + kv->value : "read nothing");
  wait_for_quit();
  return 0;
}

int run_hold(const std::string& what) {
  if (what == "cluster") {
    etcdpp::embedded::Cluster cluster;
    for (std::size_t i = 0; i < cluster.size(); ++i) {
      say("pid " + std::to_string(cluster.node(i).pid()));
    }
    say("dir " + cluster.node(0).data_dir().parent_path().string());
    say("held");
    wait_for_quit();
  } else {
    etcdpp::embedded::Node node;
    say("pid " + std::to_string(node.pid()));
    say("dir " + node.data_dir().string());
    say("held");
    wait_for_quit();
  }
  return 0;
}

std::vector<std::string> split_endpoints(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t comma; (comma = list.find(',', start)) != std::string::npos; start = comma + 1) {
    out.push_back(list.substr(start, comma - start));
  }
  out.push_back(list.substr(start));
  return out;
}

int run_recipe(const std::string& what, const std::string& endpoints, const std::string& name,
               const std::string& value, int ttl) {
  etcdpp::Client client({.endpoints = split_endpoints(endpoints)});
  etcdpp::concurrency::Session session(client, {.ttl = std::chrono::seconds(ttl)});
  if (what == "lock") {
    etcdpp::concurrency::Mutex mutex(session, name);
    mutex.lock();
    say("locked " + mutex.key() + " " + std::to_string(mutex.revision()));
    wait_for_quit();
  } else {
    etcdpp::concurrency::Election election(session, name);
    election.campaign(value);
    say("elected " + election.key() + " " + std::to_string(election.revision()));
    wait_for_quit();
  }
  return 0;
}

int run_register(const std::string& endpoints, const std::string& root,
                 const std::string& cluster, const std::string& name, const std::string& ttl) {
  etcdpp::ClientOptions client_options;
  client_options.endpoints = split_endpoints(endpoints);
  etcdpp::registry::RegistrarOptions options;
  options.node = name;
  options.cluster = cluster;
  options.root = root;
  options.lease_ttl = std::chrono::seconds(std::stoi(ttl));
  etcdpp::registry::Registrar registrar(client_options, options);
  say("registered " + name + " " +
      std::to_string(static_cast<std::int64_t>(registrar.lease())));
  wait_for_quit();
  return 0;
}

}  // namespace

int main(int argc, char** argv) try {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "toml" && argc == 4) return run_toml(argv[2], argv[3]);
  if (mode == "hold" && argc == 3) return run_hold(argv[2]);
  if (mode == "lock" && argc == 5) return run_recipe(mode, argv[2], argv[3], "", std::stoi(argv[4]));
  if (mode == "elect" && argc == 6) {
    return run_recipe(mode, argv[2], argv[3], argv[4], std::stoi(argv[5]));
  }
  if (mode == "register" && argc == 7) {
    return run_register(argv[2], argv[3], argv[4], argv[5], argv[6]);
  }
  std::cerr << "usage: " << argv[0]
            << " toml <file> <key> | hold node|cluster"
               " | lock <endpoints> <name> <ttl> | elect <endpoints> <name> <value> <ttl>"
               " | register <endpoints> <root> <cluster> <node> <ttl>\n";
  return 2;
} catch (const std::exception& e) {
  say(std::string("error ") + e.what());
  return 1;
}
