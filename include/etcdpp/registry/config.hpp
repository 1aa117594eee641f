// SPDX-License-Identifier: Apache-2.0
// Layered configuration of the service registry: the four priority levels of keys under the
// registry's root (cross-cluster node, cluster node, cluster-wide `*`, global), byte-compatible
// with Ergo's etcd registrar, and Config, a set of resolved typed items. The Registrar
// (registrar.hpp) keeps one ConfigLayers up to date from its watch; ClusterView reads one once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "etcdpp/error.hpp"
#include "etcdpp/registry/typed_value.hpp"

namespace etcdpp::registry {

/// Whose configuration is read: a node of a cluster, under the registry's root.
struct ConfigScope {
  std::string root = "services/ergo";  ///< The registry's root key, without a trailing `/`.
  std::string cluster = "default";     ///< The cluster the node belongs to.
  /// The node whose configuration is read; empty: only the cluster-wide and global levels.
  std::string node{};
};

/// Which of the four levels an effective value came from, highest priority first.
enum class ConfigLevel {
  cross_cluster_node,  ///< `{root}/config/{cluster}/{node}/{item}`
  cluster_node,        ///< `{root}/cluster/{cluster}/config/{node}/{item}`
  cluster_wide,        ///< `{root}/cluster/{cluster}/config/*/{item}`
  global,              ///< `{root}/config/global/{item}`
};

/// "cross-cluster node", "cluster node", "cluster-wide" or "global".
std::string_view to_string(ConfigLevel level) noexcept;

/// The configuration keys of one scope and the value each item takes.
///
/// Keys are read as Ergo's registrar reads them, so that keys written by hand for it mean the
/// same here. Both config roots, `{root}/cluster/{cluster}/config/` and `{root}/config/`, feed
/// one map keyed by the path relative to its root:
/// - a relative path of 2 non-empty `/`-segments whose first is this node, `*` or `global`, or
///   of 3 whose first two are this cluster and this node, is relevant; any other key under the
///   roots is ignored (so `…/config/item` with one segment is ignored, and an item name holds no
///   `/`);
/// - where both roots give the same relative path, `{root}/config/` wins.
/// An item X then takes the first value present of `{cluster}/{node}/X`, `{node}/X`, `*/X`,
/// `global/X`. So `{root}/config/{node}/X` fills the node level and
/// `{root}/cluster/{cluster}/config/global/X` the global one, as for Ergo nodes.
///
/// **Thread safety** Const members may be called from several threads at once; apply() and
/// clear() need exclusive access.
class ConfigLayers {
 public:
  /// Empty layers for `scope`; apply() fills them.
  explicit ConfigLayers(ConfigScope scope);

  /// The scope given.
  const ConfigScope& scope() const noexcept { return scope_; }

  /// The item a key configures for this scope, or std::nullopt when the key is not a relevant
  /// config key (see the class comment).
  std::optional<std::string> item_of(std::string_view key) const;
  /// Records `value` at `key` (std::nullopt: the key was deleted). Returns the item the key
  /// configures, or std::nullopt (and records nothing) when the key is not relevant.
  std::optional<std::string> apply(std::string_view key, std::optional<std::string_view> value);
  /// Forgets every key.
  void clear() noexcept { slots_.clear(); }

  /// The stored text of `item`'s effective value, or std::nullopt when no level sets it.
  std::optional<std::string> lookup(std::string_view item) const;
  /// The level `item`'s effective value comes from, or std::nullopt when no level sets it.
  std::optional<ConfigLevel> level(std::string_view item) const;
  /// Every item some level sets, in byte order.
  std::vector<std::string> items() const;

 private:
  struct Slot {
    std::optional<std::string> cluster_root;  // from {root}/cluster/{cluster}/config/
    std::optional<std::string> config_root;   // from {root}/config/ (wins)
  };
  // The relative path and which root, for a relevant key.
  std::optional<std::pair<std::string, bool>> locate(std::string_view key) const;
  const std::string* effective(const std::string& relative) const;

  ConfigScope scope_;
  std::string cluster_prefix_{};  // {root}/cluster/{cluster}/config/
  std::string config_prefix_{};   // {root}/config/
  std::map<std::string, Slot, std::less<>> slots_;
};

/// Resolved configuration items with typed values: what Registrar::config and
/// ClusterView::config return. Items that no level sets are absent.
///
/// `config.get<std::int64_t>("database.port")` reads one as its type; get<ConfigValue> the
/// variant itself.
class Config {
 public:
  /// The items by name, in byte order.
  using Map = std::map<std::string, ConfigValue, std::less<>>;

  Config() = default;
  /// A Config of these items, as they are; resolve_config makes one from ConfigLayers.
  explicit Config(Map values) : values_(std::move(values)) {}

  /// The value of `item`, or nullptr when it is absent.
  const ConfigValue* find(std::string_view item) const {
    const auto it = values_.find(item);
    return it == values_.end() ? nullptr : &it->second;
  }
  /// Whether `item` is present.
  bool contains(std::string_view item) const { return find(item) != nullptr; }

  /// The value of `item` as T: std::string, std::int64_t, double, bool, or ConfigValue.
  /// Throws Error: Errc::not_found when the item is absent, Errc::invalid_argument when it has
  /// another type (naming both types and the value).
  template <class T>
  T get(std::string_view item) const {
    const ConfigValue* value = find(item);
    if (value == nullptr) throw_missing(item);
    if constexpr (std::is_same_v<T, ConfigValue>) {
      return *value;
    } else {
      static_assert(std::is_same_v<T, std::string> || std::is_same_v<T, std::int64_t> ||
                        std::is_same_v<T, double> || std::is_same_v<T, bool>,
                    "Config::get takes std::string, std::int64_t, double, bool or ConfigValue");
      if (const T* typed = std::get_if<T>(value)) return *typed;
      throw_wrong_type(item, *value, type_of<T>());
    }
  }
  /// As get<T>, with `fallback` when the item is absent (a value of another type still throws).
  template <class T>
  T get_or(std::string_view item, T fallback) const {
    return contains(item) ? get<T>(item) : std::move(fallback);
  }

  /// Every item with its value, by name in byte order.
  const Map& values() const noexcept { return values_; }
  /// The number of items.
  std::size_t size() const noexcept { return values_.size(); }
  /// Whether there is no item.
  bool empty() const noexcept { return values_.empty(); }
  /// The first item (a pair of name and value), by name in byte order.
  Map::const_iterator begin() const noexcept { return values_.begin(); }
  /// Past the last item.
  Map::const_iterator end() const noexcept { return values_.end(); }

  bool operator==(const Config&) const = default;  ///< Member-wise comparison.

 private:
  template <class T>
  static std::string_view type_of() {
    if constexpr (std::is_same_v<T, std::string>) return "string";
    else if constexpr (std::is_same_v<T, std::int64_t>) return "int";
    else if constexpr (std::is_same_v<T, double>) return "float";
    else return "bool";
  }
  [[noreturn]] static void throw_missing(std::string_view item);
  [[noreturn]] static void throw_wrong_type(std::string_view item, const ConfigValue& value,
                                            std::string_view wanted);
  Map values_;
};

/// Resolves `items` in `layers` into a Config, parsing each with `mode` (strict: a malformed
/// typed value throws Error naming the item and the text). Items no level sets are left out.
Config resolve_config(const ConfigLayers& layers, const std::vector<std::string>& items,
                      TypedValues mode = TypedValues::strict);

}  // namespace etcdpp::registry
