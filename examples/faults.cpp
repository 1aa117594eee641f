// SPDX-License-Identifier: Apache-2.0
// Riding through faults: an embedded 3-member cluster whose members are stopped, frozen and
// killed while one client writes, watches and keeps a lease alive. A write that fails on a
// transient error may have been applied, so each write is a create-if-absent txn, harmless to
// send again. At the end every key is there, the watch saw each once, and the lease lived.
#include <etcdpp/etcdpp.hpp>

#include <atomic>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;

// Writes `key` once however often it must be sent; returns how many times it was sent.
int write_once(const etcdpp::Client& client, const std::string& key) {
  using etcdpp::Compare, etcdpp::Op;
  for (int attempt = 1;; ++attempt) {
    try {
      client.txn(etcdpp::Txn{}.if_(Compare::create_revision(key) == 0).then(Op::put(key, "v")));
      return attempt;
    } catch (const etcdpp::Error& e) {
      if (!etcdpp::is_transient(e.code()) || attempt == 50) throw;
    }
  }
}

}  // namespace

int main() try {
  etcdpp::embedded::ClusterOptions options;
  options.heartbeat_interval = 50ms;  // fast elections on a local cluster (etcd: 100 ms, 1 s)
  options.election_timeout = 500ms;
  etcdpp::embedded::Cluster cluster(options);
  const etcdpp::Client client = cluster.client().with_timeout(2s);  // over all three members

  std::atomic<int> seen{0};
  etcdpp::Watch watch = client.watch("faults/", {.prefix = true},
                                     [&](std::error_code ec, const etcdpp::WatchBatch& batch) {
                                       if (!ec) seen += static_cast<int>(batch.events.size());
                                     });
  // Ten seconds: room for renewals to move past a frozen member and then a killed one in a row.
  const auto lease = client.lease_grant(10s);
  etcdpp::KeepAlive keep_alive = client.keep_alive(lease.id);
  client.put("alive", "yes", {.lease = lease.id});

  //! [faults]
  int written = 0;
  const auto write_20 = [&](const std::string& state) {
    const auto start = std::chrono::steady_clock::now();
    int sent = 0;
    for (int i = 0; i < 20; ++i) sent += write_once(client, "faults/" + std::to_string(written++));
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    std::cout << state << ": 20 writes in " << took.count() << " ms, " << sent - 20
              << " sent again" << std::endl;
  };
  write_20("healthy");
  std::size_t leader = cluster.wait_for_leader(10s);
  const std::size_t follower = (leader + 1) % cluster.size();
  cluster.stop(follower);  // a clean shutdown: two members of three still make a majority
  write_20("a follower stopped");
  cluster.restart(follower);  // back on its data dir; returns once it has caught up
  cluster.pause(leader);      // SIGSTOP: the leader hangs with its sockets open
  write_20("the leader frozen");
  cluster.resume(leader);
  leader = cluster.wait_for_leader(10s);
  cluster.kill(leader);  // SIGKILL: the leader crashes
  write_20("the leader killed");
  cluster.restart(leader);
  write_20("all members back");
  //! [faults]

  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (seen < written && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  const auto stored = client.get("faults/", {.prefix = true, .count_only = true}).count;
  const bool kept = keep_alive.alive();
  const bool key_stayed = client.get("alive").has_value();
  const bool lease_lived = kept && key_stayed;
  std::cout << "faults: " << stored << " of " << written << " keys stored, the watch saw "
            << seen << ", the lease " << (lease_lived ? "lived" : "was lost") << std::endl;
  if (!lease_lived) {
    std::cout << "faults: keep-alive " << (kept ? "alive" : "reported lost") << ", its key "
              << (key_stayed ? "stayed" : "is gone") << std::endl;
  }
  return stored == written && seen == written && lease_lived ? 0 : 1;
} catch (const std::exception& e) {
  std::cerr << "faults: " << e.what() << std::endl;
  return 1;
}
