// SPDX-License-Identifier: Apache-2.0
// embedded::Cluster: N Nodes configured to form one cluster, started at once, stopped at once.
#include "etcdpp/embedded/cluster.hpp"

#include <stdlib.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <random>
#include <string_view>
#include <thread>
#include <utility>

#include "embedded/net.hpp"
#include "embedded/node_impl.hpp"
#include "embedded/temp_dir.hpp"
#include "etcdpp/error.hpp"

namespace etcdpp::embedded {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Starts of the whole cluster on fresh ports after a member lost a port race.
constexpr int kMaxPortRetries = 3;
// How long leader_index() waits for each member's Status.
constexpr auto kStatusTimeout = 500ms;
constexpr std::size_t kMaxSize = 15;

[[noreturn]] void fail(Errc errc, const std::string& message) {
  throw_error(make_error_code(errc), message);
}

std::string random_token() {
  std::random_device rd;
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "etcdpp-%08x%08x", rd(), rd());
  return buffer;
}

}  // namespace

struct Cluster::Impl {
  ClusterOptions options;
  std::filesystem::path root;
  bool owns_root = false;
  std::string token;
  std::deque<Node> nodes;  // a deque: add_member leaves references to the others valid
  std::vector<bool> removed;  // by index, as nodes
  std::optional<Client> client;

  explicit Impl(ClusterOptions opts) : options(std::move(opts)) {}
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  ~Impl() {
    shut_down();
    if (owns_root) {
      std::error_code ignored;
      std::filesystem::remove_all(root, ignored);
    }
  }

  // No callback from here on. Then the followers get SIGTERM at once, and the leader last: a
  // leader that stops hands its role to a connected follower first, and waits for that up to
  // etcd's request timeout (7 s by default) when the follower is stopping too. With no
  // follower left it just stops. Each member stops in about a second (etcd waits up to 1 s
  // for idle peer connections), so the whole cluster stops in about two.
  void shut_down() noexcept {
    for (auto& node : nodes) node.impl_->silence();
    for (const bool leaders : {false, true}) {
      const auto last = [&](const Node& node) { return (node.role() == Role::leader) == leaders; };
      for (auto& node : nodes) {
        if (last(node)) node.impl_->begin_stop();
      }
      for (auto& node : nodes) {
        if (last(node)) node.stop();
      }
    }
    nodes.clear();
  }

  void validate() const {
    const auto bad = [](const std::string& what) { fail(Errc::invalid_option, what); };
    for (const auto& [first, name] : {std::pair{options.client_port, "client_port"},
                                      std::pair{options.peer_port, "peer_port"}}) {
      if (first != 0 && first + options.size - 1 > 65535) {
        bad(std::string("ClusterOptions::") + name + " " + std::to_string(first) +
            " leaves no room for " + std::to_string(options.size) + " members (member i uses " +
            name + " + i, at most 65535)");
      }
    }
    if (options.client_port != 0 && options.peer_port != 0 &&
        options.client_port < options.peer_port + options.size &&
        options.peer_port < options.client_port + options.size) {
      bad("ClusterOptions::client_port " + std::to_string(options.client_port) + " and peer_port " +
          std::to_string(options.peer_port) + " overlap for " + std::to_string(options.size) +
          " members (member i uses each + i)");
    }
    if (options.size == 0 || options.size > kMaxSize) {
      bad("ClusterOptions::size is " + std::to_string(options.size) + "; it must be 1 to " +
          std::to_string(kMaxSize));
    }
    if (options.name_prefix.empty() ||
        options.name_prefix.find_first_of("=,") != std::string::npos) {
      bad("ClusterOptions::name_prefix \"" + options.name_prefix +
          "\" must be non-empty without '=' or ','");
    }
  }

  void make_root() {
    if (!options.data_dir.empty()) {
      root = options.data_dir;
      return;
    }
    root = detail::make_owned_temp_dir("etcdpp-cluster");
    owns_root = true;
  }

  template <class Callback>
  static auto with_index(const Callback& callback, std::size_t index) {
    return [callback, index](const auto& arg) { callback(index, arg); };
  }

  std::vector<NodeOptions> member_options() const {
    const std::size_t n = options.size;
    // All ports at once, each socket open until the last is picked, so that none repeats.
    std::vector<detail::FdGuard> held;
    std::vector<std::uint16_t> ports(2 * n);
    for (std::size_t i = 0; i < 2 * n; ++i) {
      const std::uint16_t first = i % 2 == 0 ? options.client_port : options.peer_port;
      if (first != 0) {
        ports[i] = static_cast<std::uint16_t>(first + i / 2);
      } else {
        held.push_back(detail::bind_ephemeral(options.host, ports[i]));
      }
    }
    std::string initial_cluster;
    const std::string scheme = options.peer_auto_tls ? "https://" : "http://";
    for (std::size_t i = 0; i < n; ++i) {
      if (i > 0) initial_cluster += ",";
      initial_cluster += options.name_prefix + std::to_string(i) + "=" + scheme +
                         detail::host_for_url(options.host) + ":" +
                         std::to_string(ports[2 * i + 1]);
    }
    std::vector<NodeOptions> out;
    for (std::size_t i = 0; i < n; ++i) {
      out.push_back(node_options(i, ports[2 * i], ports[2 * i + 1], initial_cluster, "new"));
    }
    return out;
  }

  std::string peer_url(std::uint16_t port) const {
    return (options.peer_auto_tls ? "https://" : "http://") + detail::host_for_url(options.host) +
           ":" + std::to_string(port);
  }

  // The options of member `i`, as every member of this cluster gets them.
  NodeOptions node_options(std::size_t i, std::uint16_t client_port, std::uint16_t peer_port,
                           const std::string& initial_cluster, const char* state) const {
    NodeOptions o;
    o.name = options.name_prefix + std::to_string(i);
    o.data_dir = root / o.name;
    o.host = options.host;
    o.client_port = client_port;
    o.peer_port = peer_port;
    o.initial_cluster = initial_cluster;
    o.initial_cluster_state = state;
    o.initial_cluster_token = token;
    o.peer_auto_tls = options.peer_auto_tls;
    o.heartbeat_interval = options.heartbeat_interval;
    o.election_timeout = options.election_timeout;
    if (options.pre_vote) o.extra_flags.push_back("--pre-vote=true");
    // After ours: the last value of a flag wins.
    o.extra_flags.insert(o.extra_flags.end(), options.extra_flags.begin(),
                         options.extra_flags.end());
    o.binary = options.binary;
    o.wait_ready = false;  // all start at once; a lone member cannot elect a leader
    o.start_timeout = options.start_timeout;
    o.stop_timeout = options.stop_timeout;
    o.role_poll_interval = options.role_poll_interval;
    if (options.on_role_change) o.on_role_change = with_index(options.on_role_change, i);
    if (options.on_leader) o.on_leader = with_index(options.on_leader, i);
    if (options.on_follower) o.on_follower = with_index(options.on_follower, i);
    if (options.on_exit) o.on_exit = with_index(options.on_exit, i);
    if (options.log_sink) {
      o.log_sink = [sink = options.log_sink, i](std::string_view line) { sink(i, line); };
    }
    return o;
  }

  // A client over the members that are not removed.
  void make_client() {
    std::vector<std::string> endpoints;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (!removed[i]) endpoints.push_back(nodes[i].client_endpoint());
    }
    ClientOptions o;
    o.endpoints = std::move(endpoints);
    client.emplace(std::move(o));
  }

  // Whether a start failed because a port picked for it was taken meanwhile: every port of a
  // Cluster is picked, so any "address already in use" is such a race.
  bool lost_port_race(const Error& error) const {
    if (options.client_port != 0 || options.peer_port != 0) return false;  // chosen: no retry
    // A member's check before its start found a picked port taken.
    if (std::string_view(error.what()).find("is already in use") != std::string_view::npos) {
      return true;
    }
    for (const auto& node : nodes) {
      if (node.log_tail().find("address already in use") != std::string::npos) return true;
    }
    return false;
  }

  void start() {
    for (int attempt = 0;; ++attempt) {
      try {
        start_once();
        return;
      } catch (const Error& e) {
        const bool retry = lost_port_race(e) && attempt < kMaxPortRetries;
        shut_down();
        if (!retry) throw;
      }
      // The members' dirs may hold the start of a cluster on the old ports.
      for (std::size_t i = 0; i < options.size; ++i) {
        std::error_code ignored;
        std::filesystem::remove_all(root / (options.name_prefix + std::to_string(i)), ignored);
      }
    }
  }

  void start_once() {
    const auto deadline = Clock::now() + options.start_timeout;
    for (auto& o : member_options()) nodes.emplace_back(std::move(o));
    removed.assign(nodes.size(), false);
    for (auto& node : nodes) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      node.wait_ready(std::max(left, std::chrono::milliseconds(1)));
    }
    make_client();
  }

  // etcd refuses to change its membership (Errc::unhealthy_cluster) until every member has been
  // connected for 5 s (--strict-reconfig-check), as after a start; `change` is tried again
  // until then, within start_timeout.
  template <class Change>
  auto until_healthy(const Change& change) {
    const auto deadline = Clock::now() + options.start_timeout;
    while (true) {
      try {
        return change();
      } catch (const Error& e) {
        if (e.code() != Errc::unhealthy_cluster || Clock::now() >= deadline) throw;
      }
      std::this_thread::sleep_for(100ms);
    }
  }

  // Waits (within start_timeout) until every member but `gone` that runs (and is not paused)
  // takes one of them as leader.
  // Until then a write may go to a member that still forwards it to the member gone, where it
  // is lost and waits out its whole deadline: a removed leader is noticed only after an
  // election timeout, and its successor elected after another.
  void until_led_without(std::size_t gone, const char* call) {
    const auto deadline = Clock::now() + options.start_timeout;
    std::vector<MemberId> ids;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      if (i != gone && !removed[i]) ids.push_back(nodes[i].member_id());
    }
    const auto known = [&](MemberId id) {
      return std::find(ids.begin(), ids.end(), id) != ids.end();
    };
    std::string last;
    while (true) {
      bool led = true;
      last.clear();
      for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (i == gone || removed[i] || !nodes[i].running() || nodes[i].paused()) continue;
        try {
          const auto status = client->maintenance().status(nodes[i].client_endpoint());
          const bool ok = status.leader != MemberId{} && known(status.leader);
          led = led && ok;
          last += "\n  " + nodes[i].name() + ": " +
                  (status.leader == MemberId{} ? std::string("no leader")
                   : ok ? "leader " + to_string(status.leader)
                        : "still takes " + to_string(status.leader) + " (gone) as leader");
        } catch (const Error& e) {
          led = false;
          last += "\n  " + nodes[i].name() + ": " + e.what();
        }
      }
      if (led) return;
      if (Clock::now() >= deadline) {
        fail(Errc::node_failed, std::string("Cluster::") + call + "(" + std::to_string(gone) +
                                    "): the other members have no leader after " +
                                    std::to_string(options.start_timeout.count()) +
                                    " ms (ClusterOptions::start_timeout):" + last);
      }
      std::this_thread::sleep_for(20ms);
    }
  }

  Node& live(std::size_t index, const char* call) {
    Node& node = at(index, call);
    if (removed[index]) {
      fail(Errc::invalid_option, std::string("Cluster::") + call + "(" + std::to_string(index) +
                                     "): member " + node.name() + " was removed");
    }
    return node;
  }

  Node& at(std::size_t index, const char* call) {
    if (index >= nodes.size()) {
      fail(Errc::invalid_option, std::string("Cluster::") + call + "(" + std::to_string(index) +
                                     "): the cluster has " + std::to_string(nodes.size()) +
                                     " members");
    }
    return nodes[index];
  }
};

Cluster::Cluster() : Cluster(ClusterOptions{}) {}

Cluster::Cluster(ClusterOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  Impl& impl = *impl_;
  impl.validate();
  impl.token = impl.options.initial_cluster_token.empty() ? random_token()
                                                          : impl.options.initial_cluster_token;
  impl.make_root();
  impl.start();
}

Cluster::~Cluster() = default;
Cluster::Cluster(Cluster&&) noexcept = default;
Cluster& Cluster::operator=(Cluster&&) noexcept = default;

std::size_t Cluster::size() const noexcept { return impl_ ? impl_->nodes.size() : 0; }

Node& Cluster::node(std::size_t index) { return impl_->at(index, "node"); }

const Node& Cluster::node(std::size_t index) const { return impl_->at(index, "node"); }

Client Cluster::client() const { return *impl_->client; }

std::vector<std::string> Cluster::client_endpoints() const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < impl_->nodes.size(); ++i) {
    if (!impl_->removed[i]) out.push_back(impl_->nodes[i].client_endpoint());
  }
  return out;
}

const std::string& Cluster::token() const noexcept { return impl_->token; }

std::optional<std::size_t> Cluster::leader_index() const {
  // Every running member at once, each with a short deadline: a paused or dead one must not
  // hold up the answer.
  struct Answers {
    std::mutex mutex;
    std::condition_variable cv;
    std::size_t pending = 0;
    std::vector<std::optional<StatusResult>> results;
  };
  auto answers = std::make_shared<Answers>();
  const std::size_t n = impl_->nodes.size();
  answers->results.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Node& node = impl_->nodes[i];
    if (!node.running() || node.paused()) continue;
    {
      std::lock_guard lock(answers->mutex);
      ++answers->pending;
    }
    node.client()
        .with_timeout(kStatusTimeout)
        .maintenance().async_status([answers, i](std::exception_ptr error, StatusResult status) {
          std::lock_guard lock(answers->mutex);
          if (!error) answers->results[i] = std::move(status);
          if (--answers->pending == 0) answers->cv.notify_all();
        });
  }
  {
    std::unique_lock lock(answers->mutex);
    // Each call ends by its own deadline; the margin covers the hop to the client's thread.
    answers->cv.wait_for(lock, kStatusTimeout + 2s, [&] { return answers->pending == 0; });
  }
  std::optional<std::size_t> leader;
  std::uint64_t best_term = 0;
  std::lock_guard lock(answers->mutex);
  for (std::size_t i = 0; i < n; ++i) {
    const auto& s = answers->results[i];
    if (!s || s->leader == MemberId{} || s->leader != s->header.member_id) continue;
    if (!leader || s->raft_term > best_term) {
      leader = i;
      best_term = s->raft_term;
    }
  }
  return leader;
}

std::size_t Cluster::wait_for_leader(std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (const auto leader = leader_index()) return *leader;
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(20ms);
  }
  std::string members;
  for (const auto& node : impl_->nodes) {
    members += "\n  " + node.name() + ": " +
               (!node.running() ? "not running"
                : node.paused() ? "paused"
                                : "running, role " + std::string(to_string(node.role())));
  }
  fail(Errc::node_failed, "no member of the cluster is leader after " +
                              std::to_string(timeout.count()) + " ms:" + members);
}

void Cluster::kill(std::size_t index) { impl_->at(index, "kill").kill(); }

void Cluster::stop(std::size_t index) { impl_->at(index, "stop").stop(); }

void Cluster::restart(std::size_t index) {
  Node& node = impl_->live(index, "restart");
  node.start();
  node.wait_ready();
}

void Cluster::pause(std::size_t index) { impl_->live(index, "pause").pause(); }

void Cluster::resume(std::size_t index) { impl_->at(index, "resume").resume(); }

std::size_t Cluster::add_member() {
  Impl& impl = *impl_;
  const std::size_t index = impl.nodes.size();
  if (index >= kMaxSize) {
    fail(Errc::invalid_option, "Cluster::add_member: the cluster has " + std::to_string(index) +
                                   " members, the most it may have");
  }
  NodeOptions o;
  MemberAddResult added;
  {
    // Both ports held until etcd knows the peer URL, then let go for the new etcd to bind.
    std::uint16_t client_port = 0;
    std::uint16_t peer_port = 0;
    const auto client_socket = detail::bind_ephemeral(impl.options.host, client_port);
    const auto peer_socket = detail::bind_ephemeral(impl.options.host, peer_port);
    added = impl.until_healthy([&] { return impl.client->cluster().member_add({impl.peer_url(peer_port)}); });
    // --initial-cluster names every member that has started, and the new one.
    const std::string name = impl.options.name_prefix + std::to_string(index);
    std::string initial_cluster;
    for (const auto& m : added.members) {
      const std::string& n = m.id == added.member.id ? name : m.name;
      if (n.empty()) continue;  // added by someone else, not started yet
      for (const auto& url : m.peer_urls) {
        initial_cluster += (initial_cluster.empty() ? "" : ",") + n + "=" + url;
      }
    }
    o = impl.node_options(index, client_port, peer_port, initial_cluster, "existing");
  }
  try {
    impl.nodes.emplace_back(std::move(o));
    impl.removed.push_back(false);
    impl.nodes.back().wait_ready(impl.options.start_timeout);
  } catch (...) {
    // Nothing half-done: the member leaves the cluster again, its etcd and data dir go.
    try {
      impl.client->cluster().member_remove(added.member.id);
    } catch (const Error&) {
    }
    if (impl.nodes.size() > index) {
      std::filesystem::path dir = impl.nodes.back().data_dir();
      impl.nodes.back().impl_->silence();
      impl.nodes.pop_back();
      impl.removed.resize(impl.nodes.size());
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
    throw;
  }
  impl.make_client();
  return index;
}

void Cluster::remove_member(std::size_t index) {
  Impl& impl = *impl_;
  Node& node = impl.live(index, "remove_member");
  const MemberId id = node.member_id();
  // Asked first, so that a member etcd does not know fails here with the node untouched.
  bool known = false;
  for (const auto& m : impl.client->cluster().member_list()) known = known || m.id == id;
  if (!known) {
    fail(Errc::member_not_found, "Cluster::remove_member(" + std::to_string(index) + "): member " +
                                     node.name() + " is not in the member list");
  }
  // A removed member's etcd ends by itself: that is no crash to report.
  node.impl_->silence();
  impl.until_healthy([&] { return impl.client->cluster().member_remove(id); });
  node.stop();
  impl.removed[index] = true;
  impl.make_client();
  impl.until_led_without(index, "remove_member");
}

bool Cluster::removed(std::size_t index) const {
  impl_->at(index, "removed");
  return impl_->removed[index];
}

}  // namespace etcdpp::embedded
