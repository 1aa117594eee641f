// SPDX-License-Identifier: Apache-2.0
#include "etcdpp/registry/config.hpp"

#include <algorithm>
#include <array>

namespace etcdpp::registry {
namespace {

// Splits on '/', keeping empty segments (so that "a//b" has three, one empty).
std::vector<std::string_view> split(std::string_view path) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(path.substr(start));
      return out;
    }
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
}

}  // namespace

std::string_view to_string(ConfigLevel level) noexcept {
  switch (level) {
    case ConfigLevel::cross_cluster_node: return "cross-cluster node";
    case ConfigLevel::cluster_node: return "cluster node";
    case ConfigLevel::cluster_wide: return "cluster-wide";
    case ConfigLevel::global: return "global";
  }
  return "?";
}

ConfigLayers::ConfigLayers(ConfigScope scope)
    : scope_(std::move(scope)),
      cluster_prefix_(scope_.root + "/cluster/" + scope_.cluster + "/config/"),
      config_prefix_(scope_.root + "/config/") {}

std::optional<std::pair<std::string, bool>> ConfigLayers::locate(std::string_view key) const {
  bool from_config_root = false;
  std::string_view relative;
  if (key.starts_with(cluster_prefix_)) {
    relative = key.substr(cluster_prefix_.size());
  } else if (key.starts_with(config_prefix_)) {
    relative = key.substr(config_prefix_.size());
    from_config_root = true;
  } else {
    return std::nullopt;
  }
  const auto segments = split(relative);
  for (std::string_view s : segments) {
    if (s.empty()) return std::nullopt;
  }
  const bool relevant =
      (segments.size() == 2 &&
       (segments[0] == scope_.node || segments[0] == "*" || segments[0] == "global")) ||
      (segments.size() == 3 && segments[0] == scope_.cluster && segments[1] == scope_.node);
  if (!relevant) return std::nullopt;
  return std::pair<std::string, bool>(std::string(relative), from_config_root);
}

std::optional<std::string> ConfigLayers::item_of(std::string_view key) const {
  const auto located = locate(key);
  if (!located) return std::nullopt;
  const std::string& relative = located->first;
  return relative.substr(relative.rfind('/') + 1);
}

std::optional<std::string> ConfigLayers::apply(std::string_view key,
                                               std::optional<std::string_view> value) {
  auto located = locate(key);
  if (!located) return std::nullopt;
  auto& [relative, from_config_root] = *located;
  std::string item = relative.substr(relative.rfind('/') + 1);
  auto it = slots_.find(relative);
  if (!value) {
    if (it != slots_.end()) {
      (from_config_root ? it->second.config_root : it->second.cluster_root).reset();
      if (!it->second.config_root && !it->second.cluster_root) slots_.erase(it);
    }
    return item;
  }
  if (it == slots_.end()) it = slots_.emplace(std::move(relative), Slot{}).first;
  (from_config_root ? it->second.config_root : it->second.cluster_root) = std::string(*value);
  return item;
}

const std::string* ConfigLayers::effective(const std::string& relative) const {
  const auto it = slots_.find(relative);
  if (it == slots_.end()) return nullptr;
  if (it->second.config_root) return &*it->second.config_root;
  if (it->second.cluster_root) return &*it->second.cluster_root;
  return nullptr;
}

std::optional<ConfigLevel> ConfigLayers::level(std::string_view item) const {
  const std::string name(item);
  const std::array<std::pair<std::string, ConfigLevel>, 4> order{{
      {scope_.cluster + "/" + scope_.node + "/" + name, ConfigLevel::cross_cluster_node},
      {scope_.node + "/" + name, ConfigLevel::cluster_node},
      {"*/" + name, ConfigLevel::cluster_wide},
      {"global/" + name, ConfigLevel::global},
  }};
  for (const auto& [relative, lvl] : order) {
    if (effective(relative) != nullptr) return lvl;
  }
  return std::nullopt;
}

std::optional<std::string> ConfigLayers::lookup(std::string_view item) const {
  const std::string name(item);
  for (const std::string& relative :
       {scope_.cluster + "/" + scope_.node + "/" + name, scope_.node + "/" + name, "*/" + name,
        "global/" + name}) {
    if (const std::string* text = effective(relative)) return *text;
  }
  return std::nullopt;
}

std::vector<std::string> ConfigLayers::items() const {
  std::vector<std::string> out;
  for (const auto& [relative, slot] : slots_) {
    std::string item = relative.substr(relative.rfind('/') + 1);
    if (lookup(item)) out.push_back(std::move(item));
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void Config::throw_missing(std::string_view item) {
  throw Error(make_error_code(Errc::not_found),
              "registry config \"" + std::string(item) + "\": no level sets this item");
}

void Config::throw_wrong_type(std::string_view item, const ConfigValue& value,
                              std::string_view wanted) {
  throw Error(make_error_code(Errc::invalid_argument),
              "registry config \"" + std::string(item) + "\": asked for " + std::string(wanted) +
                  " but the value is " + std::string(type_name(value)) + " " + to_string(value));
}

Config resolve_config(const ConfigLayers& layers, const std::vector<std::string>& items,
                      TypedValues mode) {
  Config::Map values;
  for (const std::string& item : items) {
    if (auto text = layers.lookup(item)) {
      values.insert_or_assign(item, parse_config_value(*text, mode, item));
    }
  }
  return Config(std::move(values));
}

}  // namespace etcdpp::registry
