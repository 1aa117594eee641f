// SPDX-License-Identifier: Apache-2.0
// NodeOptions from TOML: the [etcd] table of cl-etcd's config files, one key per etcd flag.
//
// The keys are checked here, against the flags of etcd 3.4 (etcdmain/config.go), because a
// misspelt key would otherwise reach etcd as a flag it rejects with "flag provided but not
// defined" and no line number. The values are checked only for their TOML type; what they mean
// is etcd's to judge, and its own message comes back with its log when it refuses one.
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "etcdpp/embedded/node.hpp"
#include "etcdpp/error.hpp"

namespace etcdpp::embedded {
namespace {

enum class Kind {
  string,   // a TOML string (an integer is taken as its decimal text)
  boolean,  // a TOML boolean
  unsigned_integer,
  integer,
  duration,  // a Go duration as a string: "5s", "100ms"
  list,      // a string with commas, or an array of strings
};

struct Flag {
  std::string_view name;
  Kind kind;
};

// etcd 3.4's flags, sorted by name. config-file and version are left out on purpose: the first
// would make etcd ignore every other flag, the second prints and exits.
constexpr std::array kFlags = {
    Flag{"advertise-client-urls", Kind::list},
    Flag{"auth-token", Kind::string},
    Flag{"auth-token-ttl", Kind::unsigned_integer},
    Flag{"auto-compaction-mode", Kind::string},
    Flag{"auto-compaction-retention", Kind::string},
    Flag{"auto-tls", Kind::boolean},
    Flag{"backend-batch-interval", Kind::duration},
    Flag{"backend-batch-limit", Kind::integer},
    Flag{"bcrypt-cost", Kind::unsigned_integer},
    Flag{"cert-file", Kind::string},
    Flag{"cipher-suites", Kind::list},
    Flag{"client-cert-allowed-hostname", Kind::string},
    Flag{"client-cert-auth", Kind::boolean},
    Flag{"client-crl-file", Kind::string},
    Flag{"cors", Kind::list},
    Flag{"data-dir", Kind::string},
    Flag{"debug", Kind::boolean},
    Flag{"discovery", Kind::string},
    Flag{"discovery-fallback", Kind::string},
    Flag{"discovery-proxy", Kind::string},
    Flag{"discovery-srv", Kind::string},
    Flag{"discovery-srv-name", Kind::string},
    Flag{"election-timeout", Kind::unsigned_integer},
    Flag{"enable-grpc-gateway", Kind::boolean},
    Flag{"enable-pprof", Kind::boolean},
    Flag{"enable-v2", Kind::boolean},
    Flag{"experimental-backend-bbolt-freelist-type", Kind::string},
    Flag{"experimental-compaction-batch-limit", Kind::integer},
    Flag{"experimental-corrupt-check-time", Kind::duration},
    Flag{"experimental-enable-lease-checkpoint", Kind::boolean},
    Flag{"experimental-enable-lease-checkpoint-persist", Kind::boolean},
    Flag{"experimental-enable-v2v3", Kind::string},
    Flag{"experimental-initial-corrupt-check", Kind::boolean},
    Flag{"experimental-peer-skip-client-san-verification", Kind::boolean},
    Flag{"experimental-warning-apply-duration", Kind::duration},
    Flag{"experimental-watch-progress-notify-interval", Kind::duration},
    Flag{"force-new-cluster", Kind::boolean},
    Flag{"grpc-keepalive-interval", Kind::duration},
    Flag{"grpc-keepalive-min-time", Kind::duration},
    Flag{"grpc-keepalive-timeout", Kind::duration},
    Flag{"heartbeat-interval", Kind::unsigned_integer},
    Flag{"host-whitelist", Kind::list},
    Flag{"initial-advertise-peer-urls", Kind::list},
    Flag{"initial-cluster", Kind::list},
    Flag{"initial-cluster-state", Kind::string},
    Flag{"initial-cluster-token", Kind::string},
    Flag{"initial-election-tick-advance", Kind::boolean},
    Flag{"key-file", Kind::string},
    Flag{"listen-client-urls", Kind::list},
    Flag{"listen-metrics-urls", Kind::list},
    Flag{"listen-peer-urls", Kind::list},
    Flag{"log-level", Kind::string},
    Flag{"log-output", Kind::list},
    Flag{"log-outputs", Kind::list},
    Flag{"log-package-levels", Kind::string},
    Flag{"logger", Kind::string},
    Flag{"max-concurrent-streams", Kind::unsigned_integer},
    Flag{"max-request-bytes", Kind::unsigned_integer},
    Flag{"max-snapshots", Kind::unsigned_integer},
    Flag{"max-txn-ops", Kind::unsigned_integer},
    Flag{"max-wals", Kind::unsigned_integer},
    Flag{"metrics", Kind::string},
    Flag{"name", Kind::string},
    Flag{"peer-auto-tls", Kind::boolean},
    Flag{"peer-cert-allowed-cn", Kind::string},
    Flag{"peer-cert-allowed-hostname", Kind::string},
    Flag{"peer-cert-file", Kind::string},
    Flag{"peer-client-cert-auth", Kind::boolean},
    Flag{"peer-crl-file", Kind::string},
    Flag{"peer-key-file", Kind::string},
    Flag{"peer-trusted-ca-file", Kind::string},
    Flag{"pre-vote", Kind::boolean},
    Flag{"proxy", Kind::string},
    Flag{"proxy-dial-timeout", Kind::unsigned_integer},
    Flag{"proxy-failure-wait", Kind::unsigned_integer},
    Flag{"proxy-read-timeout", Kind::unsigned_integer},
    Flag{"proxy-refresh-interval", Kind::unsigned_integer},
    Flag{"proxy-write-timeout", Kind::unsigned_integer},
    Flag{"quota-backend-bytes", Kind::integer},
    Flag{"snapshot-count", Kind::unsigned_integer},
    Flag{"strict-reconfig-check", Kind::boolean},
    Flag{"trusted-ca-file", Kind::string},
    Flag{"unsafe-no-fsync", Kind::boolean},
    Flag{"wal-dir", Kind::string},
};

const Flag* find_flag(std::string_view name) {
  for (const auto& flag : kFlags) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

// The flag closest to a misspelt key, if it is close enough to be what was meant.
const Flag* closest_flag(std::string_view key) {
  const auto distance = [](std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      std::size_t diagonal = row[0];
      row[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j) {
        const std::size_t above = row[j];
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
        diagonal = above;
      }
    }
    return row[b.size()];
  };
  const Flag* best = nullptr;
  std::size_t best_distance = 3;  // at most two edits away
  for (const auto& flag : kFlags) {
    const std::size_t d = distance(key, flag.name);
    if (d < best_distance) {
      best = &flag;
      best_distance = d;
    }
  }
  return best;
}

std::string where(std::string_view source, const toml::source_region& region) {
  return std::string(source) + ":" + std::to_string(region.begin.line) + ":" +
         std::to_string(region.begin.column);
}

[[noreturn]] void bad(const std::string& message) {
  throw_error(make_error_code(Errc::invalid_option), message);
}

const char* kind_text(Kind kind) {
  switch (kind) {
    case Kind::string:
      return "a string";
    case Kind::boolean:
      return "a boolean (true or false)";
    case Kind::unsigned_integer:
      return "a non-negative integer";
    case Kind::integer:
      return "an integer";
    case Kind::duration:
      return "a duration string such as \"5s\" or \"100ms\"";
    case Kind::list:
      return "a string or an array of strings";
  }
  return "a value";
}

// The value as etcd's command line takes it; throws naming the key when its type is wrong.
std::string flag_value(std::string_view source, const Flag& flag, const toml::node& node) {
  const auto wrong = [&]() -> std::string {
    bad(where(source, node.source()) + ": [etcd] " + std::string(flag.name) + " must be " +
        kind_text(flag.kind));
  };
  switch (flag.kind) {
    case Kind::string:
      if (const auto* s = node.as_string()) return s->get();
      if (const auto* i = node.as_integer()) return std::to_string(i->get());
      return wrong();
    case Kind::boolean:
      if (const auto* b = node.as_boolean()) return b->get() ? "true" : "false";
      return wrong();
    case Kind::unsigned_integer:
      if (const auto* i = node.as_integer(); i != nullptr && i->get() >= 0) {
        return std::to_string(i->get());
      }
      return wrong();
    case Kind::integer:
      if (const auto* i = node.as_integer()) return std::to_string(i->get());
      return wrong();
    case Kind::duration:
      if (const auto* s = node.as_string()) return s->get();
      if (const auto* i = node.as_integer(); i != nullptr && i->get() == 0) return "0s";
      return wrong();
    case Kind::list:
      if (const auto* s = node.as_string()) return s->get();
      if (const auto* a = node.as_array()) {
        std::string out;
        for (const auto& item : *a) {
          const auto* s = item.as_string();
          if (s == nullptr) return wrong();
          if (!out.empty()) out += ',';
          out += s->get();
        }
        return out;
      }
      return wrong();
  }
  return wrong();
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string_view rest = text;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    if (const auto item = rest.substr(0, comma); !item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

NodeOptions NodeOptions::from_toml(std::string_view text, std::string_view source) {
  toml::table document;
  try {
    document = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    bad(where(source, e.source()) + ": malformed TOML: " + std::string(e.description()));
  }
  const toml::node* etcd = document.get("etcd");
  if (etcd == nullptr) bad(std::string(source) + ": no [etcd] table");
  const toml::table* table = etcd->as_table();
  if (table == nullptr) bad(where(source, etcd->source()) + ": etcd must be a table ([etcd])");

  NodeOptions options;
  for (const auto& [key, value] : *table) {
    const std::string name(key.str());
    const Flag* flag = find_flag(name);
    if (flag == nullptr) {
      std::string message = where(source, key.source()) + ": unknown key \"" + name +
                            "\" in [etcd]: not an etcd 3.4 flag";
      std::string dashed = name;
      std::replace(dashed.begin(), dashed.end(), '_', '-');
      if (name == "config-file" || name == "version") {
        message += " that an embedded node can take (put the flags in [etcd] itself)";
      } else if (dashed != name && find_flag(dashed) != nullptr) {
        message += " (etcd spells it " + dashed + ")";
      } else if (const Flag* near = closest_flag(dashed)) {
        message += " (did you mean " + std::string(near->name) + "?)";
      }
      bad(message);
    }
    const std::string v = flag_value(source, *flag, value);
    // etcd takes its flags as C strings: a NUL would silently cut the value short.
    if (v.find('\0') != std::string::npos) {
      bad(where(source, value.source()) + ": [etcd] " + name +
          " holds a NUL character (\\u0000), which etcd's command line cannot carry");
    }
    if (name == "name") {
      options.name = v;
    } else if (name == "data-dir") {
      options.data_dir = v;
    } else if (name == "listen-client-urls") {
      options.listen_client_urls = split_list(v);
    } else if (name == "advertise-client-urls") {
      options.advertise_client_urls = split_list(v);
    } else if (name == "listen-peer-urls") {
      options.listen_peer_urls = split_list(v);
    } else if (name == "initial-advertise-peer-urls") {
      options.initial_advertise_peer_urls = split_list(v);
    } else if (name == "initial-cluster") {
      options.initial_cluster = v;
    } else if (name == "initial-cluster-state") {
      options.initial_cluster_state = v;
    } else if (name == "initial-cluster-token") {
      options.initial_cluster_token = v;
    } else if (name == "peer-auto-tls") {
      options.peer_auto_tls = value.as_boolean()->get();
    } else if (name == "heartbeat-interval") {
      options.heartbeat_interval = std::chrono::milliseconds(value.as_integer()->get());
    } else if (name == "election-timeout") {
      options.election_timeout = std::chrono::milliseconds(value.as_integer()->get());
    } else {
      options.extra_flags.push_back("--" + name + "=" + v);
    }
  }
  return options;
}

NodeOptions NodeOptions::from_toml_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    bad("cannot read TOML file " + path.string() + ": " + std::generic_category().message(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) bad("cannot read TOML file " + path.string());
  return from_toml(text.str(), path.string());
}

}  // namespace etcdpp::embedded
