// SPDX-License-Identifier: Apache-2.0
// embedded::Node: turns NodeOptions into etcd's command line, runs it as a ChildProcess, waits
// until it serves /health, and watches it: its role (from Maintenance.Status, compared with its
// own member id) and an exit nobody asked for.
//
// Locks: control_mutex serialises the operations that start or end a child (start, stop,
// kill, pause, resume, wait_ready). state_mutex guards what the watcher thread shares with
// them, and is never held while calling etcd, a callback, or waiting for a process.
#include "etcdpp/embedded/node.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>

#include "embedded/fd.hpp"
#include "embedded/net.hpp"
#include "embedded/node_impl.hpp"
#include "embedded/process.hpp"
#include "embedded/temp_dir.hpp"
#include "etcdpp/error.hpp"

extern char** environ;

namespace etcdpp::embedded {
namespace {

using detail::bind_ephemeral;
using detail::Clock;
using detail::ensure_port_free;
using detail::FdGuard;
using detail::host_for_url;
using detail::listener_belongs_to;
using detail::probe_health;
using namespace std::chrono_literals;

// Error messages quote this many of etcd's last lines, so that what() stays readable while
// log_tail() still has the context around a failure.
constexpr std::size_t kMessageLogLines = 40;
constexpr std::size_t kLogTailLines = 200;
// Auto-picked ports race with other processes between our close() and etcd's bind(); this many
// fresh picks are tried after the first attempt before giving up.
constexpr int kMaxPortRetries = 3;
constexpr auto kReadyPollInterval = 20ms;
// One /health probe or Status call during start may take at most this long; a stalled
// connection must not eat the whole start_timeout when the next try might succeed.
constexpr auto kProbeTimeout = 1000ms;
// A role poll gives up after this long (or twice the poll interval, if longer): a paused or
// overloaded etcd must not stall the watcher, and its role then stays as last seen.
constexpr auto kMinRolePollTimeout = 500ms;
constexpr auto kPauseTimeout = 5s;

[[noreturn]] void fail(Errc errc, const std::string& message) {
  throw_error(make_error_code(errc), message);
}


bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// A name without a slash is looked up on PATH, as a shell would; a path is taken as it is.
std::string find_executable(const std::string& name) {
  if (name.find('/') != std::string::npos) return is_executable_file(name) ? name : std::string();
  const char* env_path = std::getenv("PATH");
  std::string_view path = env_path != nullptr ? env_path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const auto colon = path.find(':');
    std::string dir(path.substr(0, colon));
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + name;
    if (is_executable_file(candidate)) return candidate;
    if (colon == std::string_view::npos) return {};
    path.remove_prefix(colon + 1);
  }
}

std::string resolve_binary(const std::filesystem::path& configured) {
  std::string wanted;
  std::string source;
  if (!configured.empty()) {
    wanted = configured.string();
    source = "NodeOptions::binary";
  } else if (const char* env = std::getenv("ETCDPP_ETCD_BINARY"); env != nullptr && *env != '\0') {
    wanted = env;
    source = "$ETCDPP_ETCD_BINARY";
  } else {
    wanted = "etcd";
    const char* env_path = std::getenv("PATH");
    source = std::string("PATH=") + (env_path != nullptr ? env_path : "");
  }
  std::string found = find_executable(wanted);
  if (found.empty()) {
    std::error_code ec;
    const bool exists =
        wanted.find('/') != std::string::npos && std::filesystem::exists(wanted, ec);
    fail(Errc::etcd_not_found,
         (exists ? "etcd binary " + wanted + " (from " + source + ") is not an executable file"
                 : "etcd binary not found (looked for " + wanted + " from " + source + ")") +
             "; install the Debian package etcd-server or set ETCDPP_ETCD_BINARY");
  }
  return found;
}

// etcd listening on a wildcard address is reached through loopback.
std::string host_to_reach(const std::string& host) {
  if (host == "0.0.0.0") return "127.0.0.1";
  if (host == "::") return "::1";
  return host;
}

// `scheme://host:port[/...]`, host without brackets. Only what etcd's URL flags take.
struct Url {
  std::string scheme;
  std::string host;
  std::uint16_t port = 0;
};

std::optional<Url> parse_url(std::string_view text) {
  const auto sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  Url url;
  url.scheme = std::string(text.substr(0, sep));
  std::string_view rest = text.substr(sep + 3);
  rest = rest.substr(0, rest.find('/'));
  std::string_view port;
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return std::nullopt;
    }
    url.host = std::string(rest.substr(1, close - 1));
    port = rest.substr(close + 2);
  } else {
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    url.host = std::string(rest.substr(0, colon));
    port = rest.substr(colon + 1);
  }
  if (url.host.empty() || port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  const int value = std::stoi(std::string(port));
  if (value <= 0 || value > 65535) return std::nullopt;
  url.port = static_cast<std::uint16_t>(value);
  return url;
}

// With peer auto-TLS, a peer URL written as http:// is served as https://.
std::string to_https(const std::string& url) {
  return url.starts_with("http://") ? "https://" + url.substr(7) : url;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto at = text.find(separator);
    out.emplace_back(text.substr(0, at));
    if (at == std::string_view::npos) break;
    text.remove_prefix(at + 1);
  }
  return out;
}

bool has_flag(const std::vector<std::string>& flags, std::string_view name) {
  return std::any_of(flags.begin(), flags.end(), [&](const std::string& f) {
    return f == name || (f.starts_with(name) && f.size() > name.size() && f[name.size()] == '=');
  });
}

// The state letter of /proc/<pid>/task/<tid>/stat: after the ")" that ends the command name.
char task_state(const std::filesystem::path& stat) {
  std::ifstream in(stat);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  return close == std::string::npos || close + 2 >= text.size() ? '?' : text[close + 2];
}

// Whether every thread of `pid` is stopped (or gone): kill(SIGSTOP) returns before the signal
// has reached them all.
bool all_threads_stopped(pid_t pid) {
  std::error_code ec;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
    const char state = task_state(task.path() / "stat");
    if (state != 'T' && state != 't' && state != '?') return false;
  }
  return true;
}

// The child's environment: ours without ETCD_* variables, which etcd would read as flags. Its
// configuration is the options and nothing else.
std::vector<std::string> child_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    if (entry.starts_with("ETCD_") && !entry.starts_with("ETCD_UNSUPPORTED_ARCH=")) continue;
    env.emplace_back(entry);
  }
  return env;
}

}  // namespace

std::string_view to_string(Role role) noexcept {
  switch (role) {
    case Role::follower:
      return "follower";
    case Role::leader:
      return "leader";
    case Role::none:
      break;
  }
  return "none";
}

std::string ExitInfo::description() const {
  if (exit_code) return "exited with status " + std::to_string(*exit_code);
  if (signal) {
    const char* abbrev = ::sigabbrev_np(*signal);
    return "was killed by signal " + std::to_string(*signal) +
           (abbrev != nullptr ? std::string(" (SIG") + abbrev + ")" : std::string());
  }
  return "ended";
}

Node::Impl::Impl(NodeOptions opts)
    : options(std::move(opts)), log(std::make_shared<detail::Log>(options.log_sink)) {}

Node::Impl::~Impl() {
  if (watcher.joinable() && watcher.get_id() == std::this_thread::get_id()) {
    // The watcher would have to join itself, and would then run on in a freed object.
    std::fputs("etcdpp: an embedded::Node was destroyed from its own callback; aborting\n", stderr);
    std::abort();
  }
  silence();
  std::lock_guard control(control_mutex);
  end_child(options.stop_timeout);
  {
    std::lock_guard lock(state_mutex);
    client.reset();
  }
  if (owns_data_dir) {
    std::error_code ignored;
    std::filesystem::remove_all(options.data_dir, ignored);
  }
}

void Node::Impl::validate() const {
  const auto bad = [](const std::string& what) { fail(Errc::invalid_option, what); };
  // The name goes into --initial-cluster as NAME=URL[,NAME=URL...].
  if (options.name.empty() || options.name.find_first_of("=,") != std::string::npos) {
    bad("NodeOptions::name \"" + options.name + "\" must be non-empty without '=' or ','");
  }
  if (options.host.empty()) bad("NodeOptions::host must not be empty");
  if (options.client_port != 0 && options.client_port == options.peer_port) {
    bad("NodeOptions::client_port and peer_port are both " + std::to_string(options.client_port));
  }
  if (options.client_port != 0 && !options.listen_client_urls.empty()) {
    bad("NodeOptions: set client_port or listen_client_urls, not both");
  }
  if (options.peer_port != 0 && !options.listen_peer_urls.empty()) {
    bad("NodeOptions: set peer_port or listen_peer_urls, not both");
  }
  const auto check_urls = [&](const std::vector<std::string>& urls, const char* field,
                              bool for_clients) {
    for (const auto& text : urls) {
      const auto url = parse_url(text);
      const bool scheme_ok = url && (url->scheme == "http" || url->scheme == "https");
      if (!scheme_ok) {
        bad(std::string("NodeOptions::") + field + ": \"" + text +
            "\" is not an http:// or https://host:port URL with a port");
      }
      if (for_clients && url->scheme == "https" && !has_flag(options.extra_flags, "--cert-file")) {
        bad(std::string("NodeOptions::") + field + ": \"" + text +
            "\" is https:// but no --cert-file and --key-file are among extra_flags");
      }
    }
  };
  check_urls(options.listen_client_urls, "listen_client_urls (listen-client-urls)", true);
  check_urls(options.advertise_client_urls, "advertise_client_urls (advertise-client-urls)", true);
  check_urls(options.listen_peer_urls, "listen_peer_urls (listen-peer-urls)", false);
  check_urls(options.initial_advertise_peer_urls,
             "initial_advertise_peer_urls (initial-advertise-peer-urls)", false);
  for (const auto& entry : split(options.initial_cluster, ',')) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0 || !parse_url(entry.substr(eq + 1))) {
      bad("NodeOptions::initial_cluster (initial-cluster): \"" + entry +
          "\" is not name=scheme://host:port");
    }
  }
  if (!options.initial_cluster_state.empty() && options.initial_cluster_state != "new" &&
      options.initial_cluster_state != "existing") {
    bad("NodeOptions::initial_cluster_state (initial-cluster-state) is \"" +
        options.initial_cluster_state + "\"; it must be \"new\" or \"existing\"");
  }
  if (options.heartbeat_interval.count() < 0 || options.election_timeout.count() < 0) {
    bad("NodeOptions::heartbeat_interval and election_timeout must not be negative");
  }
  if (options.start_timeout.count() <= 0) bad("NodeOptions::start_timeout must be positive");
  if (options.stop_timeout.count() < 0) bad("NodeOptions::stop_timeout must not be negative");
  if (options.role_poll_interval.count() <= 0) {
    bad("NodeOptions::role_poll_interval must be positive");
  }
}

bool Node::Impl::clustered() const {
  if (options.initial_cluster_state == "existing") return true;
  std::set<std::string> names;
  for (const auto& entry : split(options.initial_cluster, ',')) {
    names.insert(entry.substr(0, entry.find('=')));
  }
  return names.size() > 1;
}

bool Node::Impl::peer_tls() const {
  return options.peer_auto_tls.value_or(clustered() &&
                                        !has_flag(options.extra_flags, "--peer-cert-file"));
}

std::vector<std::string> Node::Impl::listen_client_urls() const {
  if (!options.listen_client_urls.empty()) return options.listen_client_urls;
  return {"http://" + host_for_url(options.host) + ":" + std::to_string(client_port.load())};
}

std::vector<std::string> Node::Impl::advertise_client_urls() const {
  if (!options.advertise_client_urls.empty()) return options.advertise_client_urls;
  return listen_client_urls();
}

std::vector<std::string> Node::Impl::listen_peer_urls() const {
  const bool tls = peer_tls();
  std::vector<std::string> urls = options.listen_peer_urls;
  if (urls.empty()) {
    urls = {"http://" + host_for_url(options.host) + ":" + std::to_string(peer_port.load())};
  }
  if (tls) std::transform(urls.begin(), urls.end(), urls.begin(), to_https);
  return urls;
}

std::vector<std::string> Node::Impl::advertise_peer_urls() const {
  if (options.initial_advertise_peer_urls.empty()) return listen_peer_urls();
  std::vector<std::string> urls = options.initial_advertise_peer_urls;
  if (peer_tls()) std::transform(urls.begin(), urls.end(), urls.begin(), to_https);
  return urls;
}

std::string Node::Impl::initial_cluster() const {
  if (options.initial_cluster.empty()) {
    std::vector<std::string> entries;
    for (const auto& url : advertise_peer_urls()) entries.push_back(options.name + "=" + url);
    return join(entries, ",");
  }
  if (!peer_tls()) return options.initial_cluster;
  std::vector<std::string> entries = split(options.initial_cluster, ',');
  for (auto& entry : entries) {
    const auto eq = entry.find('=');
    entry = entry.substr(0, eq + 1) + to_https(entry.substr(eq + 1));
  }
  return join(entries, ",");
}

std::vector<std::string> Node::Impl::endpoints() const {
  std::vector<std::string> out;
  for (const auto& text : listen_client_urls()) {
    const auto url = parse_url(text);
    if (url) {
      out.push_back((url->scheme == "https" ? "https://" : "") +
                    host_for_url(host_to_reach(url->host)) + ":" + std::to_string(url->port));
    }
  }
  return out;
}

std::vector<std::string> Node::Impl::arguments() const {
  std::vector<std::string> args = {
      binary,
      "--name=" + options.name,
      "--data-dir=" + options.data_dir.string(),
      "--listen-client-urls=" + join(listen_client_urls(), ","),
      "--advertise-client-urls=" + join(advertise_client_urls(), ","),
      "--listen-peer-urls=" + join(listen_peer_urls(), ","),
      "--initial-advertise-peer-urls=" + join(advertise_peer_urls(), ","),
      "--initial-cluster=" + initial_cluster(),
  };
  if (!options.initial_cluster_state.empty()) {
    args.push_back("--initial-cluster-state=" + options.initial_cluster_state);
  }
  if (!options.initial_cluster_token.empty()) {
    args.push_back("--initial-cluster-token=" + options.initial_cluster_token);
  }
  if (peer_tls()) args.push_back("--peer-auto-tls");
  if (options.heartbeat_interval.count() > 0) {
    args.push_back("--heartbeat-interval=" + std::to_string(options.heartbeat_interval.count()));
  }
  if (options.election_timeout.count() > 0) {
    args.push_back("--election-timeout=" + std::to_string(options.election_timeout.count()));
  }
  // Last, so that a user's flag overrides ours: etcd's flag parser keeps the last value.
  args.insert(args.end(), options.extra_flags.begin(), options.extra_flags.end());
  return args;
}

void Node::Impl::make_temp_data_dir() {
  options.data_dir = detail::make_owned_temp_dir("etcdpp-node");
  owns_data_dir = true;
}

void Node::Impl::pick_ports() {
  // Each socket stays open until both ports are known, so the two picks cannot collide; a pick
  // equal to a fixed port the user chose (free now, bound by etcd later) is redone.
  FdGuard client_socket;
  FdGuard peer_socket;
  std::uint16_t for_clients = client_port;
  std::uint16_t for_peers = peer_port;
  if (client_port_auto) {
    do {
      client_socket = bind_ephemeral(options.host, for_clients);
    } while (for_clients == for_peers);
  }
  if (peer_port_auto) {
    do {
      peer_socket = bind_ephemeral(options.host, for_peers);
    } while (for_peers == for_clients);
  }
  client_port = for_clients;
  peer_port = for_peers;
}

void Node::Impl::make_client() {
  // Tuned for a member on this machine: a restarted etcd is reconnected to within a quarter
  // second, so that roles are seen again quickly.
  ClientOptions o;
  o.endpoints = endpoints();
  o.connect_timeout = 1000ms;
  o.call_timeout = 5000ms;
  o.reconnect_backoff_max = 250ms;
  o.tls = options.client_tls;
  Client fresh(std::move(o));
  std::lock_guard lock(state_mutex);
  client = std::move(fresh);
}

Client Node::Impl::own_client() const {
  std::lock_guard lock(state_mutex);
  return *client;
}

void Node::Impl::check_fixed_ports() const {
  // A port picked free a moment ago needs no check (a race is retried on new ports); a port
  // the user chose is checked now, so that a node never reports ready on an address that
  // another process answers (Debian's etcd-server package serves 127.0.0.1:2379).
  const auto check = [](const std::vector<std::string>& urls, const std::string& what) {
    for (const auto& text : urls) {
      const auto url = parse_url(text);
      if (url && url->port != 0) ensure_port_free(url->host, url->port, what);
    }
  };
  if (!client_port_auto) {
    check(listen_client_urls(), options.listen_client_urls.empty()
                                    ? "NodeOptions::client_port of member " + options.name
                                    : "NodeOptions::listen_client_urls of member " + options.name);
  }
  if (!peer_port_auto) {
    check(listen_peer_urls(), options.listen_peer_urls.empty()
                                  ? "NodeOptions::peer_port of member " + options.name
                                  : "NodeOptions::listen_peer_urls of member " + options.name);
  }
}

bool Node::Impl::someone_else_serves() const {
  const auto eps = endpoints();
  if (eps.empty()) return false;
  const auto url =
      parse_url(eps.front().starts_with("https://") ? eps.front() : "http://" + eps.front());
  if (!url) return false;
  pid_t pid;
  {
    std::lock_guard lock(state_mutex);
    if (!child) return false;
    pid = child->pid();
  }
  return listener_belongs_to(pid, url->port) == false;
}

void Node::Impl::spawn() {
  check_fixed_ports();
  log->clear();
  auto fresh = std::make_unique<detail::ChildProcess>(arguments(), child_environment(), log);
  std::lock_guard lock(state_mutex);
  child = std::move(fresh);
  ready_flag = false;
  paused_flag = false;
  ++generation;
}

std::unique_ptr<detail::ChildProcess> Node::Impl::take_child(bool* was_paused) {
  std::lock_guard lock(state_mutex);
  if (was_paused != nullptr) *was_paused = paused_flag;
  ready_flag = false;
  paused_flag = false;
  ++generation;
  current_role = Role::none;
  return std::move(child);
}

int Node::Impl::end_child(std::chrono::milliseconds grace) noexcept {
  bool was_paused = false;
  auto c = take_child(&was_paused);
  if (!c) return -1;
  if (was_paused && grace.count() > 0) {
    // A stopped process keeps SIGTERM pending: let it run to shut down in order.
    c->signal(SIGTERM);
    c->signal(SIGCONT);
  }
  return c->kill_and_reap(grace);
}

void Node::Impl::begin_stop() noexcept {
  std::lock_guard lock(state_mutex);
  if (!child) return;
  child->signal(SIGTERM);
  if (paused_flag) child->signal(SIGCONT);
}

std::string Node::Impl::failure_message(const std::string& what) const {
  const auto eps = endpoints();
  return "etcd member " + options.name + " " + what + " (" + binary + " on " +
         (eps.empty() ? "?" : eps.front()) + ", data dir " + options.data_dir.string() +
         "); last lines of its log:\n" + log->tail(kMessageLogLines);
}

std::optional<std::string> Node::Impl::address_in_use() const {
  // etcd says "listen tcp 127.0.0.1:PORT: bind: address already in use" before it exits.
  for (const auto& line : log->lines()) {
    const auto end = line.find(": bind: address already in use");
    if (end == std::string::npos) continue;
    const auto begin = line.rfind("listen tcp ", end);
    if (begin == std::string::npos) return std::string("an address of this member");
    return line.substr(begin + 11, end - begin - 11);
  }
  return std::nullopt;
}

bool Node::Impl::lost_port_race() const {
  if (!client_port_auto && !peer_port_auto) return false;
  bool raced = false;
  for (const auto& line : log->lines()) {
    if (line.find("address already in use") == std::string::npos) continue;
    // etcd says "listen tcp 127.0.0.1:PORT: bind: address already in use".
    const bool on_client =
        line.find(":" + std::to_string(client_port.load()) + ":") != std::string::npos;
    const bool on_peer =
        line.find(":" + std::to_string(peer_port.load()) + ":") != std::string::npos;
    // A taken port the user chose is not retried: a new pick would not help, and the error
    // says which port.
    if ((on_client && !client_port_auto) || (on_peer && !peer_port_auto) ||
        (!on_client && !on_peer)) {
      return false;
    }
    raced = true;
  }
  return raced;
}

void Node::Impl::serve_once(Clock::time_point deadline, std::chrono::milliseconds budget) {
  detail::ChildProcess* c;
  {
    std::lock_guard lock(state_mutex);
    if (ready_flag) return;
    c = child.get();
  }
  if (c == nullptr) fail(Errc::node_failed, "etcd node " + options.name + " is not running");
  // The watcher leaves a child alone until it is ready, and control_mutex keeps the other
  // operations out: `c` stays valid here.
  const auto failed = [&](const std::string& what) {
    const int status = end_child(0ms);
    std::string message =
        failure_message(what.empty() ? detail::describe_wait_status(status) : what);
    if (auto address = address_in_use()) message = *address + " is already in use: " + message;
    fail(Errc::node_failed, message);
  };
  const auto timed_out = [&] {
    failed("did not serve within " + std::to_string(budget.count()) + " ms");
  };
  const auto wait_a_little = [&] {
    const auto next = std::min(deadline, Clock::now() + kReadyPollInterval);
    // Sleeps on the child, so that an exit ends the wait at once.
    c->wait_exit(next);
  };

  const auto eps = endpoints();
  const auto first =
      parse_url(eps.front().starts_with("https://") ? eps.front() : "http://" + eps.front());
  // /health is probed over plain HTTP; an https:// member is asked for its status alone.
  while (first->scheme == "http") {
    const auto probe_deadline = std::min(deadline, Clock::now() + kProbeTimeout);
    if (probe_health(first->host, first->port, probe_deadline)) break;
    if (c->exited()) failed("");
    if (Clock::now() >= deadline) timed_out();
    wait_a_little();
  }
  // Who it is: the member id is how its role is told from the leader id that etcd reports.
  const Client node_client = own_client();
  while (true) {
    try {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      const StatusResult status =
          node_client
              .with_timeout(std::clamp(left, std::chrono::milliseconds(1),
                                       std::chrono::milliseconds(kProbeTimeout)))
              .maintenance().status();
      // An answer proves only that some etcd serves the address: it must be our child's. (A
      // port checked free before the start may have been taken before etcd bound it.)
      if (someone_else_serves()) {
        port_taken = true;
        end_child(0ms);
        fail(Errc::node_failed, eps.front() +
                                    " is already in use by another process, which answered in "
                                    "place of etcd member " +
                                    options.name + "; stop that process, or choose another port");
      }
      std::lock_guard lock(state_mutex);
      member_id = status.header.member_id;
      version_text = status.version;
      ready_flag = true;
      wake_watcher = true;
      break;
    } catch (const Error&) {
      if (c->exited()) failed("");
      if (Clock::now() >= deadline) timed_out();
      wait_a_little();
    }
  }
  watcher_cv.notify_all();
  // From now on the ports are the Node's: a restart uses the same ones, as documented.
  client_port_auto = false;
  peer_port_auto = false;
}

void Node::Impl::wait_ready_locked(Clock::time_point deadline) {
  const auto budget = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
  for (int attempt = 0;; ++attempt) {
    try {
      serve_once(deadline, budget);
      return;
    } catch (const Error&) {
      const bool raced = lost_port_race() || (port_taken && client_port_auto);
      port_taken = false;
      if (!raced || attempt >= kMaxPortRetries) throw;
    }
    // Another process took a port between our pick and etcd's bind. etcd binds its listeners
    // before it writes the data dir, but a dir of our own is cleared anyway so that no member
    // is left registered under the old peer URL.
    if (owns_data_dir) {
      std::error_code ignored;
      for (const auto& entry : std::filesystem::directory_iterator(options.data_dir, ignored)) {
        if (entry.path().filename() == detail::kOwnerFile) continue;
        std::filesystem::remove_all(entry.path(), ignored);
      }
    }
    pick_ports();
    make_client();
    spawn();
  }
}

void Node::Impl::silence() noexcept {
  {
    std::lock_guard lock(state_mutex);
    stopping_watcher = true;
  }
  watcher_cv.notify_all();
  if (watcher.joinable()) watcher.join();
  log->disable_sink();
}

void Node::Impl::start_watcher() {
  watcher = std::thread([this] { watch(); });
}

template <class Callback, class Arg>
void Node::Impl::invoke(const Callback& callback, const char* what, const Arg& arg) noexcept {
  if (!callback) return;
  try {
    callback(arg);
  } catch (const std::exception& e) {
    log->push(std::string("etcdpp: ") + what + " threw: " + e.what());
  } catch (...) {
    log->push(std::string("etcdpp: ") + what + " threw an exception");
  }
}

void Node::Impl::announce(Role previous, Role now, MemberId id, MemberId leader,
                          std::uint64_t term, const Client& node_client) noexcept {
  const RoleChange change{previous, now, options.name, id, leader, term, node_client};
  invoke(options.on_role_change, "on_role_change", change);
  if (now == Role::leader) invoke(options.on_leader, "on_leader", change);
  if (now == Role::follower) invoke(options.on_follower, "on_follower", change);
}

void Node::Impl::watch() noexcept {
  // The role last announced, and the child generation it belongs to: a stop or a new child
  // starts over from Role::none without a word (the program did that itself).
  Role announced = Role::none;
  std::uint64_t announced_generation = 0;
  const auto poll_timeout =
      std::max<std::chrono::milliseconds>(kMinRolePollTimeout, 2 * options.role_poll_interval);
  while (true) {
    std::unique_ptr<detail::ChildProcess> dead;
    std::uint64_t gen;
    bool poll;
    MemberId id;
    std::optional<Client> node_client;
    {
      std::unique_lock lock(state_mutex);
      watcher_cv.wait_for(lock, options.role_poll_interval,
                          [&] { return stopping_watcher || wake_watcher; });
      if (stopping_watcher) return;
      wake_watcher = false;
      // Only a child that served is the watcher's: one that dies while starting is reported
      // by the call that started it.
      if (child && ready_flag && child->exited()) {
        dead = std::move(child);
        ready_flag = false;
        paused_flag = false;
        ++generation;
        current_role = Role::none;
      }
      gen = generation;
      poll = child && ready_flag && !paused_flag;
      id = member_id;
      node_client = client;
    }
    if (dead) {
      const int status = dead->kill_and_reap(0ms);
      ExitInfo info{options.name, dead->pid(), std::nullopt, std::nullopt,
                    log->tail(kMessageLogLines)};
      if (status >= 0 && WIFEXITED(status)) info.exit_code = WEXITSTATUS(status);
      if (status >= 0 && WIFSIGNALED(status)) info.signal = WTERMSIG(status);
      dead.reset();
      if (announced != Role::none) announce(announced, Role::none, id, MemberId{}, 0, *node_client);
      announced = Role::none;
      announced_generation = gen;
      invoke(options.on_exit, "on_exit", info);
      continue;
    }
    if (gen != announced_generation) {
      announced = Role::none;
      announced_generation = gen;
    }
    if (!poll) continue;
    StatusResult status;
    try {
      status = node_client->with_timeout(poll_timeout).maintenance().status();
    } catch (const std::exception&) {
      continue;  // no answer: the role stays as last seen
    }
    const Role now = status.leader != MemberId{} && status.leader == status.header.member_id
                         ? Role::leader
                         : Role::follower;
    {
      std::lock_guard lock(state_mutex);
      if (generation != gen || !ready_flag) continue;  // stopped or restarted meanwhile
      current_role = now;
    }
    if (now != announced) {
      announce(announced, now, status.header.member_id, status.leader, status.raft_term,
               *node_client);
      announced = now;
    }
  }
}

Node::Node() : Node(NodeOptions{}) {}

Node::Node(NodeOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  Impl& impl = *impl_;
  impl.validate();
  impl.binary = resolve_binary(impl.options.binary);
  impl.client_port = impl.options.client_port;
  impl.peer_port = impl.options.peer_port;
  impl.client_port_auto = impl.options.client_port == 0 && impl.options.listen_client_urls.empty();
  impl.peer_port_auto = impl.options.peer_port == 0 && impl.options.listen_peer_urls.empty();
  if (impl.options.data_dir.empty()) impl.make_temp_data_dir();
  impl.pick_ports();
  impl.make_client();
  impl.start_watcher();
  // If this throws, ~Impl stops the watcher, reaps whatever was started and removes the
  // temporary data dir.
  std::lock_guard control(impl.control_mutex);
  impl.spawn();
  if (impl.options.wait_ready) impl.wait_ready_locked(Clock::now() + impl.options.start_timeout);
}

// ~Impl stops the watcher (no callback after that), stops the node (SIGTERM, SIGKILL after
// stop_timeout), joins the log reader and removes a temporary data dir; none of that throws.
Node::~Node() = default;
Node::Node(Node&&) noexcept = default;
Node& Node::operator=(Node&&) noexcept = default;

Node::Impl& Node::Impl::checked(const std::unique_ptr<Impl>& impl, const char* call) {
  if (!impl) fail(Errc::node_failed, std::string(call) + " on a moved-from embedded::Node");
  return *impl;
}

void Node::start() {
  Impl& impl = Impl::checked(impl_, "start()");
  std::lock_guard control(impl.control_mutex);
  bool alive;
  {
    std::lock_guard lock(impl.state_mutex);
    alive = impl.child && !impl.child->exited();
  }
  // A child that died on its own is reaped before the new one starts.
  if (!alive) {
    impl.end_child(0ms);
    impl.spawn();
  }
  if (impl.options.wait_ready) impl.wait_ready_locked(Clock::now() + impl.options.start_timeout);
}

void Node::wait_ready() { wait_ready(Impl::checked(impl_, "wait_ready()").options.start_timeout); }

void Node::wait_ready(std::chrono::milliseconds timeout) {
  Impl& impl = Impl::checked(impl_, "wait_ready()");
  std::lock_guard control(impl.control_mutex);
  impl.wait_ready_locked(Clock::now() + timeout);
}

void Node::stop() {
  if (!impl_) return;
  std::lock_guard control(impl_->control_mutex);
  impl_->end_child(impl_->options.stop_timeout);
}

void Node::kill() {
  if (!impl_) return;
  std::lock_guard control(impl_->control_mutex);
  impl_->end_child(0ms);
}

void Node::pause() {
  Impl& impl = Impl::checked(impl_, "pause()");
  std::lock_guard control(impl.control_mutex);
  pid_t pid;
  {
    std::lock_guard lock(impl.state_mutex);
    if (!impl.child || impl.child->exited()) {
      fail(Errc::node_failed, "pause(): etcd node " + impl.options.name + " is not running");
    }
    if (impl.paused_flag) return;
    impl.child->signal(SIGSTOP);
    impl.paused_flag = true;
    pid = impl.child->pid();
  }
  const auto deadline = Clock::now() + kPauseTimeout;
  while (!all_threads_stopped(pid) && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
}

void Node::resume() {
  if (!impl_) return;
  std::lock_guard control(impl_->control_mutex);
  {
    std::lock_guard lock(impl_->state_mutex);
    if (!impl_->paused_flag) return;
    if (impl_->child) impl_->child->signal(SIGCONT);
    impl_->paused_flag = false;
    impl_->wake_watcher = true;
  }
  impl_->watcher_cv.notify_all();
}

bool Node::running() const {
  if (!impl_) return false;
  std::lock_guard lock(impl_->state_mutex);
  return impl_->child && !impl_->child->exited();
}

bool Node::ready() const {
  if (!impl_) return false;
  std::lock_guard lock(impl_->state_mutex);
  return impl_->ready_flag && impl_->child && !impl_->child->exited();
}

bool Node::paused() const {
  if (!impl_) return false;
  std::lock_guard lock(impl_->state_mutex);
  return impl_->paused_flag;
}

Role Node::role() const noexcept {
  if (!impl_) return Role::none;
  std::lock_guard lock(impl_->state_mutex);
  return impl_->current_role;
}

std::string Node::client_endpoint() const {
  if (!impl_) return {};
  const auto eps = impl_->endpoints();
  return eps.empty() ? std::string() : eps.front();
}

std::vector<std::string> Node::client_endpoints() const {
  return impl_ ? impl_->endpoints() : std::vector<std::string>{};
}

Client Node::client() const { return Impl::checked(impl_, "client()").own_client(); }

std::uint16_t Node::client_port() const noexcept {
  if (!impl_) return 0;
  const auto eps = impl_->endpoints();
  if (eps.empty()) return 0;
  const auto url =
      parse_url(eps.front().starts_with("https://") ? eps.front() : "http://" + eps.front());
  return url ? url->port : 0;
}

std::uint16_t Node::peer_port() const noexcept {
  if (!impl_) return 0;
  const auto urls = impl_->listen_peer_urls();
  const auto url = urls.empty() ? std::nullopt : parse_url(urls.front());
  return url ? url->port : 0;
}

const std::string& Node::name() const noexcept {
  static const std::string empty;
  return impl_ ? impl_->options.name : empty;
}

const std::filesystem::path& Node::data_dir() const noexcept {
  static const std::filesystem::path empty;
  return impl_ ? impl_->options.data_dir : empty;
}

MemberId Node::member_id() const noexcept {
  if (!impl_) return MemberId{};
  std::lock_guard lock(impl_->state_mutex);
  return impl_->member_id;
}

std::string Node::version() const {
  if (!impl_) return {};
  std::lock_guard lock(impl_->state_mutex);
  return impl_->version_text;
}

int Node::pid() const noexcept {
  if (!impl_) return -1;
  std::lock_guard lock(impl_->state_mutex);
  return impl_->child ? impl_->child->pid() : -1;
}

std::string Node::log_tail() const {
  return impl_ ? impl_->log->tail(kLogTailLines) : std::string();
}

std::vector<std::string> Node::command_line() const {
  return impl_ ? impl_->arguments() : std::vector<std::string>{};
}

}  // namespace etcdpp::embedded
