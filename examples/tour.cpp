// SPDX-License-Identifier: Apache-2.0
// A tour of etcdpp: start an embedded three-member etcd cluster and watch its members' role
// callbacks, then key-value calls and transactions on it, in the blocking face and in a
// coroutine, a lease kept alive, a watch, a lock and an election; then kill the leader and see
// another member take over while the lease lives, the watch misses nothing, and the lock and
// the leadership stay with their holders until they let go.
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <etcdpp/etcdpp.hpp>
#include <future>
#include <iostream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

namespace {

using namespace std::chrono_literals;

// Callbacks run on the members' own threads: one line at a time.
std::mutex say_mutex;

void say(const std::string& what) {
  std::lock_guard lock(say_mutex);
  std::cout << "tour: " << what << std::endl;
}

asio::awaitable<void> count_services(etcdpp::Client client) {
  // The same calls, asynchronous: no thread blocks while etcd answers.
  auto result = co_await client.async_get("tour/services/", {.prefix = true, .count_only = true},
                                          asio::use_awaitable);
  say("coroutine: " + std::to_string(result.count) + " services registered");
}

// Who is leader, as the members' on_leader callbacks tell it.
struct Leadership {
  std::mutex mutex;
  std::condition_variable changed;
  std::optional<std::size_t> leader;

  void became_leader(std::size_t index) {
    std::lock_guard lock(mutex);
    leader = index;
    changed.notify_all();
  }
  // Waits until a member other than `not_this` has said it leads; false after `timeout`.
  bool wait_for_other(std::size_t not_this, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, [&] { return leader && *leader != not_this; });
  }
};

}  // namespace

int main() try {
  using etcdpp::Compare;
  using etcdpp::Op;
  using etcdpp::Txn;
  using etcdpp::embedded::RoleChange;
  Leadership leadership;
  const auto started = std::chrono::steady_clock::now();
  const auto at = [&] {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    return std::to_string(ms.count()) + " ms";
  };

  say("starting an embedded 3-member etcd cluster (child processes, stopped when main returns)");
  etcdpp::embedded::ClusterOptions options;
  // A local cluster can afford fast elections: etcd's defaults are 100 ms and 1000 ms.
  options.heartbeat_interval = 50ms;
  options.election_timeout = 500ms;
  options.on_leader = [&](std::size_t i, const RoleChange& c) {
    say("  [" + at() + "] " + c.name + ": on_leader, term " + std::to_string(c.raft_term));
    leadership.became_leader(i);
  };
  options.on_follower = [&](std::size_t, const RoleChange& c) {
    say("  [" + at() + "] " + c.name + ": on_follower, term " + std::to_string(c.raft_term));
  };
  etcdpp::embedded::Cluster cluster(options);
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    const auto& node = cluster.node(i);
    say(node.name() + " serves on " + node.client_endpoint() + " (pid " +
        std::to_string(node.pid()) + ", etcd " + node.version() + ")");
  }
  const std::size_t leader = cluster.wait_for_leader(10s);
  say("the leader is " + cluster.node(leader).name() + "; peers talk TLS (" +
      cluster.client().cluster().member_list().front().peer_urls.front() + ")");

  etcdpp::Client client = cluster.client();

  // KV: put, get, prefix reads.
  const auto put = client.put("tour/config/mode", "blue");
  say("put tour/config/mode = blue at revision " + std::to_string(put.header.revision));
  for (const char* name : {"api", "db", "web"}) {
    client.put(std::string("tour/services/") + name, std::string(name) + ".local:8080");
  }
  const auto services = client.get("tour/services/", {.prefix = true});
  for (const auto& kv : services.kvs) say("  " + kv.key + " -> " + kv.value);
  if (!client.get("tour/missing"))
    say("get tour/missing: no such key (std::nullopt, not an error)");

  // Txn: compare-and-swap, written as etcd's documentation writes it.
  const auto cas = client.txn(Txn{}
                                  .if_(Compare::value("tour/config/mode") == "blue")
                                  .then(Op::put("tour/config/mode", "green"))
                                  .else_(Op::get("tour/config/mode")));
  say(std::string("txn if mode == blue then mode = green: ") +
      (cas.succeeded ? "swapped" : "not swapped"));
  const auto again = client.txn(Txn{}
                                    .if_(Compare::value("tour/config/mode") == "blue")
                                    .then(Op::put("tour/config/mode", "red"))
                                    .else_(Op::get("tour/config/mode")));
  say("the same txn again: " + std::string(again.succeeded ? "swapped" : "not swapped") +
      ", mode is " + again.responses.at(0).get().kvs.at(0).value);

  // Create-if-absent: a key's create revision is 0 while it does not exist.
  const auto create = client.txn(
      Txn{}.if_(Compare::create_revision("tour/leader") == 0).then(Op::put("tour/leader", "me")));
  say(std::string("create tour/leader if absent: ") + (create.succeeded ? "created" : "taken"));

  // Bad input gets a clear error naming the call and the key.
  try {
    client.put("", "no key");
  } catch (const etcdpp::Error& e) {
    say(std::string("put with an empty key: ") + e.what());
  }

  // A large range, page by page, at one revision.
  for (int i = 0; i < 250; ++i) client.put("tour/items/" + std::to_string(1000 + i), "x");
  int pages = 0;
  auto pager = client.paginate("tour/items/", {.prefix = true}, 100);
  while (!pager.done()) {
    if (!pager.next_page().empty()) ++pages;
  }
  say("read 250 items in " + std::to_string(pages) + " pages at revision " +
      std::to_string(pager.revision()));

  asio::io_context io;
  asio::co_spawn(io, count_services(client), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();

  // A lease kept alive by the client: the key lives as long as this program does.
  const auto lease = client.lease_grant(5s);
  client.put("tour/alive/worker-1", "busy", {.lease = lease.id});
  etcdpp::KeepAlive keep_alive = client.keep_alive(lease.id);
  say("lease " + std::to_string(static_cast<std::int64_t>(lease.id)) + " (TTL " +
      std::to_string(lease.ttl.count()) + " s) holds tour/alive/worker-1; the client renews it");

  // A service registry: two nodes register under leases; configuration written as plain
  // typed strings (as with etcdctl put) is read typed, by priority level.
  client.put("tour/registry/cluster/demo/config/*/db.port", "int:5432");
  client.put("tour/registry/config/global/log.level", "info");
  etcdpp::registry::Registrar api(client, {.node = "api", .cluster = "demo",
                                           .root = "tour/registry"});
  etcdpp::registry::Registrar worker(client, {.node = "worker", .cluster = "demo",
                                              .root = "tour/registry"});
  worker.publish_application({.name = "jobs", .state = etcdpp::registry::ApplicationState::running});
  const auto config = api.config("db.port", "log.level");
  say("registry: api sees nodes [" + api.nodes().front() + "], jobs on " +
      api.resolve_application("jobs").front().node + "; db.port is int " +
      std::to_string(config.get<std::int64_t>("db.port")) + ", log.level is \"" +
      config.get<std::string>("log.level") + "\"");

  // A watch on a prefix: every event is delivered once, in order, across failovers.
  std::mutex seen_mutex;
  std::condition_variable seen_changed;
  std::int64_t seen = 0, last_revision = 0;
  bool in_order = true;
  etcdpp::Watch watch = client.watch("tour/events/", {.prefix = true},
                                     [&](std::error_code ec, etcdpp::WatchBatch batch) {
                                       if (ec)
                                         return say(std::string("watch ended: ") + ec.message());
                                       std::lock_guard lock(seen_mutex);
                                       for (const auto& e : batch.events) {
                                         if (e.kv.mod_revision <= last_revision) in_order = false;
                                         last_revision = e.kv.mod_revision;
                                         ++seen;
                                       }
                                       seen_changed.notify_all();
                                     });
  say("watching tour/events/ from revision " + std::to_string(watch.created_revision() + 1));

  // A lock and an election, with the keys of `etcdctl lock` and `etcdctl elect`: each worker
  // has a Session (a lease the client keeps alive); worker-b waits for what worker-a holds.
  namespace cc = etcdpp::concurrency;
  cc::Session worker_a(client, {.ttl = 10s});
  cc::Session worker_b(client, {.ttl = 10s});
  cc::Mutex lock_a(worker_a, "tour/locks/report");
  cc::Mutex lock_b(worker_b, "tour/locks/report");
  lock_a.lock();
  const std::int64_t fence_a = lock_a.revision();
  say("worker-a holds tour/locks/report (fencing revision " + std::to_string(fence_a) + ")");
  auto b_locked = lock_b.async_lock(asio::use_future);
  cc::Election elect_a(worker_a, "tour/election/scheduler");
  cc::Election elect_b(worker_b, "tour/election/scheduler",
                       {.on_leader = [](const cc::LeaderEvent&) {
                         say("  worker-b: on_leader of tour/election/scheduler");
                       }});
  elect_a.campaign("worker-a");
  auto b_elected = elect_b.async_campaign("worker-b", asio::use_future);
  say("worker-a leads tour/election/scheduler; worker-b waits for the lock and the leadership");
  const auto within = [](auto& future, const char* what) {
    if (future.wait_for(15s) != std::future_status::ready) throw std::runtime_error(what);
    future.get();
  };

  // Failover: the leader crashes; the others elect one of them, whose on_leader fires. Writes
  // go on meanwhile. A write caught in the crash may fail without saying whether it was
  // applied (Errc::timeout_due_to_leader_fail, a transient error): it is written as a
  // create-if-absent txn, which is safe to send again.
  const auto& old = cluster.node(leader);
  constexpr int kEvents = 200;
  std::atomic<int> written = 0;
  std::thread writer([&] {
    for (int i = 0; i < kEvents; ++i) {
      const std::string key = "tour/events/" + std::to_string(1000 + i);
      for (int attempt = 1;; ++attempt) {
        try {
          client.txn(Txn{}.if_(Compare::create_revision(key) == 0).then(Op::put(key, "e")));
          break;
        } catch (const etcdpp::Error& e) {
          if (!etcdpp::is_transient(e.code()) || attempt == 20) throw;
          say("  put " + key + ": " + e.code().message() + "; again");
        }
      }
      ++written;
    }
  });
  while (written < kEvents / 4) std::this_thread::sleep_for(1ms);
  say("[" + at() + "] killing the leader " + old.name() + " (SIGKILL to pid " +
      std::to_string(old.pid()) + ")");
  cluster.kill(leader);
  if (!leadership.wait_for_other(leader, 10s)) throw std::runtime_error("no new leader");
  writer.join();
  {
    std::unique_lock lock(seen_mutex);
    if (!seen_changed.wait_for(lock, 10s, [&] { return seen == kEvents; })) {
      throw std::runtime_error("the watch saw " + std::to_string(seen) + " of " +
                               std::to_string(kEvents) + " events");
    }
    say("the watch saw all " + std::to_string(seen) + " puts made across the failover, " +
        (in_order ? "in revision order, each once" : "OUT OF ORDER"));
  }
  say(std::string("the lease is ") + (keep_alive.alive() ? "alive" : "lost") +
      ", tour/alive/worker-1 is " + (client.get("tour/alive/worker-1") ? "there" : "gone"));
  client.put("tour/config/mode", "after-failover");
  say("the cluster still serves: mode is " + client.get("tour/config/mode")->value);
  say("[" + at() + "] restarting " + old.name() + " on its data dir: it rejoins as follower");
  cluster.restart(leader);
  say(old.name() + " reads mode = " + cluster.node(leader).client().get("tour/config/mode")->value);

  say(std::string("after the failover worker-a still holds the lock: ") +
      (lock_a.held() && worker_a.alive() ? "yes" : "no") +
      "; it still leads: " + (elect_a.is_leader() ? "yes" : "no"));
  lock_a.unlock();
  within(b_locked, "worker-b never got the lock");
  say("worker-a unlocked: worker-b holds tour/locks/report (fencing revision " +
      std::to_string(lock_b.revision()) + " > " + std::to_string(fence_a) + ")");
  lock_b.unlock();
  elect_a.resign();
  within(b_elected, "worker-b was never elected");
  say("worker-a resigned: tour/election/scheduler is led by " +
      cc::Election::leader(client, "tour/election/scheduler")->value);
  elect_b.resign();

  watch.cancel();
  keep_alive.stop();
  client.lease_revoke(lease.id);
  say("lease revoked: tour/alive/worker-1 is " +
      std::string(client.get("tour/alive/worker-1") ? "still there" : "gone with it"));
  const auto removed = client.delete_range("tour/", {.prefix = true});
  say("deleted " + std::to_string(removed.deleted) + " keys under tour/");
  say("done; the cluster stops as main returns");
  return 0;
} catch (const std::exception& e) {
  std::cerr << "tour failed: " << e.what() << std::endl;
  return 1;
}
