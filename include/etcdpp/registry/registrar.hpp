// SPDX-License-Identifier: Apache-2.0
// The service registry: a Registrar registers one node of a cluster under a lease, publishes its
// applications' routes, resolves nodes and applications, reads layered typed configuration
// (config.hpp, typed_value.hpp) and reports cluster events in order with no gap. Its key layout
// is that of Ergo's etcd registrar, so both kinds of node see each other join and leave and read
// the same configuration (docs/guide/registry.md says what interoperates).
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/any_io_executor.hpp>

#include "etcdpp/client.hpp"
#include "etcdpp/detail/async.hpp"
#include "etcdpp/registry/config.hpp"
#include "etcdpp/registry/route.hpp"
#include "etcdpp/registry/typed_value.hpp"

namespace etcdpp::registry {

namespace detail {
class RegistrarState;
}

/// The keys of one cluster of the registry (all under `root`, default `services/ergo`):
/// - node: `{root}/cluster/{cluster}/routes/nodes/{node}`
/// - application: `{root}/cluster/{cluster}/routes/applications/{app}/{node}`
/// - config: see ConfigLayers.
struct ClusterKeys {
  std::string root = "services/ergo";  ///< The registry's root key, without a trailing `/`.
  std::string cluster = "default";     ///< The cluster's name.

  /// The prefix of every route key: `{root}/cluster/{cluster}/routes/`.
  std::string routes() const { return root + "/cluster/" + cluster + "/routes/"; }
  /// The prefix of the node keys: `{root}/cluster/{cluster}/routes/nodes/`.
  std::string nodes() const { return routes() + "nodes/"; }
  /// The key of node `name`, which holds its routes.
  std::string node(std::string_view name) const { return nodes() + std::string(name); }
  /// The prefix of the application keys: `{root}/cluster/{cluster}/routes/applications/`.
  std::string applications() const { return routes() + "applications/"; }
  /// The prefix of every node's route of `app`, with its trailing `/`.
  std::string application(std::string_view app) const {
    return applications() + std::string(app) + "/";
  }
  /// The key of application `app`'s route on node `node`.
  std::string application(std::string_view app, std::string_view node) const {
    return application(app) + std::string(node);
  }
};

/// One cluster event, as Registrar reports it.
struct Event {
  /// What happened; it says which of the other fields are set.
  enum class Type {
    node_joined,           ///< Another node registered (`node`).
    node_left,             ///< Another node's registration went (`node`): unregistered or
                           ///< its lease expired.
    application_loaded,    ///< An application route appeared or changed to state loaded.
    application_started,   ///< … to state running.
    application_stopping,  ///< … to state stopping.
    application_stopped,   ///< An application route was removed (or its node left).
    config_updated,        ///< The effective value of `item` for this node changed.
    reregistered,          ///< This node registered again after losing its lease;
                           ///< `reclaimed` when it took back its own key before it expired.
    registration_lost,     ///< This node lost its lease and cannot register again yet
                           ///< (`detail` says why); it keeps trying.
    events_dropped,        ///< Events were dropped because nobody took them
                           ///< (RegistrarOptions::max_pending_events); `dropped` says how many.
  };
  Type type = Type::node_joined;  ///< What happened.
  /// The etcd revision of the change; for the initial events, the revision of the snapshot.
  std::int64_t revision = 0;
  /// True for the events that describe what existed when the Registrar started.
  bool initial = false;
  std::string node{};                 ///< The node concerned (node and application events).
  ApplicationRoute application{};     ///< Application events: the route (as last seen, when
                                    ///< stopped).
  std::string item{};                 ///< config_updated: the item.
  std::optional<std::string> old_value{};  ///< config_updated: stored text before; none if unset.
  std::optional<std::string> new_value{};  ///< config_updated: stored text now; none if unset.
  bool reclaimed = false;           ///< reregistered: the old key was still there, reclaimed.
  std::size_t dropped = 0;          ///< events_dropped: how many.
  std::string detail{};               ///< registration_lost: why.

  bool operator==(const Event&) const = default;  ///< Member-wise comparison.
};

/// "node_joined", "node_left", ..., "events_dropped".
std::string_view to_string(Event::Type type) noexcept;
/// One readable line, e.g. `node_joined web2 @12` or
/// `config_updated database.port "int:5432" -> "int:6432" @40`.
std::string to_string(const Event& event);

/// How a Registrar registers, keeps and reports. Fill it with designated initializers:
/// `Registrar r(client, {.node = "web1", .cluster = "production"});`
struct RegistrarOptions {
  /// This node's name: non-empty, without `/`, and neither `*` nor `global` (the names of the
  /// cluster-wide and global configuration levels). Required.
  std::string node{};
  /// The cluster it belongs to (non-empty, without `/`).
  std::string cluster = "default";
  /// The registry's root key (non-empty, without a trailing `/`).
  std::string root = "services/ergo";
  /// The routes published as this node's value (codec `etcdpp-json/1`, route.hpp).
  std::vector<Route> routes{};
  /// The TTL of the node's lease: how long the node stays registered after it dies. At least 2 s.
  std::chrono::seconds lease_ttl{10};
  /// For a Registrar that makes its own Client: HTTP/2 keep-alive pings every `keep_alive` and
  /// as long a wait for their answer, so a dead link is noticed in about twice that, within the
  /// lease TTL. Zero: lease_ttl / 3, at least 1 s. (The lease is renewed every TTL / 3.)
  std::chrono::milliseconds keep_alive{0};
  /// Deadline of the calls nodes(), resolve() and resolve_application() make, and, for a
  /// Registrar that makes its own Client, of every call.
  std::chrono::milliseconds request_timeout{10000};
  /// For a Registrar that makes its own Client: the connect timeout.
  std::chrono::milliseconds dial_timeout{10000};
  /// How long the destructor (or close()) may take to revoke the lease.
  std::chrono::milliseconds unregister_timeout{5000};
  /// After a lost lease, the wait before each attempt to register again: attempt × this,
  /// capped at 30 s.
  std::chrono::milliseconds reregister_backoff{1000};
  /// What reading a malformed typed config value does (see TypedValues).
  TypedValues typed_values = TypedValues::strict;
  /// Called with each event, one at a time, in order, on `executor`. Without it, take the
  /// events with next_event() or async_next_event().
  std::function<void(const Event&)> on_event{};
  /// Where on_event and async_next_event handlers without an executor run; by default the
  /// client's executor.
  asio::any_io_executor executor{};
  /// The most events waiting to be delivered; beyond it the oldest are dropped and an
  /// events_dropped event says how many.
  std::size_t max_pending_events = 10000;
};

/// A node registered in the service registry, with its applications, the cluster's events and
/// its configuration.
///
/// **Registration** The constructor grants a lease of RegistrarOptions::lease_ttl and, in one
/// transaction, creates the node key with the routes only if no such key exists: a name held by
/// a live node is refused. The lease is kept alive (concurrency::Session). When it is lost
/// anyway (a partition longer than the TTL), the Registrar grants a new lease and registers
/// again: if its old key is still there under its old lease (it came back before etcd expired
/// it) it takes the key back, otherwise it creates it if free; then it puts its application
/// routes again and reports Event::reregistered (with `reclaimed`). If another node has taken
/// the name meanwhile it reports registration_lost and retries with backoff. A broken watch
/// costs nothing of this: the events follow their own resumed watch.
///
/// **Events** The Registrar follows `{root}/` with a PrefixCache: listed at one revision R,
/// then watched from R + 1, resumed after disconnects and leader changes from the next
/// revision, and relisted with only the differences reported after a compaction. So every
/// event comes once, in revision order, without a gap. First come the *initial* events
/// (`initial == true`, revision R): a node_joined for every other live node and an
/// application_loaded, _started or _stopping for every application route, by key order.
/// Then the changes. Node events leave out this node itself; application events include it.
/// An application event comes when a route appears or its state changes (not for a change of
/// weight or mode alone). config_updated comes only when the effective value of an item for
/// this node changes (a change to a masked lower level reports nothing), with old and new
/// text; there are no initial config events: read config_item().
///
/// **Config** config_item() and config() read this node's configuration from the local copy
/// (no network call), through ConfigLayers; sync() makes that copy as fresh as a linearizable
/// read.
///
/// **Thread safety** Any member function may be called from any thread at once.
///
/// **Errors** The constructor throws Error: Errc::invalid_option for bad options (named),
/// Errc::already_exists when a live node holds the name, or the error of the calls it makes.
///
/// **Lifetime** Move-only. The destructor unregisters, as close() does, ignoring errors: it
/// stops the watch, revokes the lease (so the node key and its application routes go at once,
/// and the others see node_left) within RegistrarOptions::unregister_timeout, waits for an
/// on_event callback that is running (unless called from inside one), fails a waiting
/// async_next_event with Errc::cancelled, and joins its one thread.
///
/// **Example** @snippet examples/registry.cpp registrar
class Registrar {
 public:
  /// Registers on `client` (its credentials, TLS and timeouts as they are).
  Registrar(Client client, RegistrarOptions options);
  /// Registers on a Client of its own made from `client_options`, with the options' dial
  /// timeout (connect_timeout), request timeout (call_timeout) and keep-alive
  /// (keepalive_time and keepalive_timeout); endpoints, credentials and TLS as given.
  Registrar(ClientOptions client_options, RegistrarOptions options);
  /// Takes over `other`'s registration; `other` may then only be assigned or destroyed.
  Registrar(Registrar&&) noexcept;
  /// Unregisters this one, as the destructor does, then takes over `other`'s registration.
  Registrar& operator=(Registrar&&) noexcept;
  ~Registrar();

  /// This node's name (RegistrarOptions::node).
  const std::string& node() const noexcept;
  /// The cluster it is registered in (RegistrarOptions::cluster).
  const std::string& cluster() const noexcept;
  /// The lease the node key is on now (it changes after a re-registration).
  LeaseId lease() const noexcept;
  /// Whether the node is registered now (false between a lost lease and the re-registration,
  /// and after close()).
  bool registered() const noexcept;
  /// The client it uses.
  const Client& client() const noexcept;

  /// Publishes (or updates) an application route of this node under the node's lease; its
  /// `node` field is set to this node. Throws Error: Errc::invalid_argument for an empty name or
  /// one with `/`, or the error of the put. Published routes are put again after a
  /// re-registration.
  void publish_application(ApplicationRoute route);
  /// Removes an application route of this node (a delete, so it may be repeated after a
  /// failure). Throws Error: the error of the delete.
  void remove_application(std::string_view name);

  /// The other live nodes of the cluster, by name (one read, no local copy).
  std::vector<std::string> nodes() const;
  /// A node's routes; std::nullopt when no such node is registered. Throws Error
  /// (Errc::invalid_argument) when its value is not `etcdpp-json/1` (an Ergo node's EDF value).
  std::optional<std::vector<Route>> resolve(std::string_view node) const;
  /// The routes of application `app` (its exact name: `web` never matches `webui`) on the other
  /// nodes, by node name. Values that do not decode (an Ergo node's EDF) are left out.
  std::vector<ApplicationRoute> resolve_application(std::string_view app) const;

  /// This node's effective value of `item`, typed; std::nullopt when no level sets it.
  /// Throws Error (Errc::invalid_argument, naming the item and the text) for a malformed typed
  /// value, unless RegistrarOptions::typed_values is compatible.
  std::optional<ConfigValue> config_item(std::string_view item) const;
  /// The effective values of `items`; items no level sets are left out. Throws as config_item.
  Config config(const std::vector<std::string>& items) const;
  /// `config("database.port", "cache.ratio")`: as config(std::vector).
  template <class... Items>
    requires(sizeof...(Items) > 0 && (std::convertible_to<const Items&, std::string_view> && ...))
  Config config(const Items&... items) const {
    return config(std::vector<std::string>{std::string(std::string_view(items))...});
  }
  /// The stored text of `item`'s effective value, untyped; std::nullopt when unset.
  std::optional<std::string> config_text(std::string_view item) const;
  /// Waits until the local copy that config_item() and config() read is as fresh as a
  /// linearizable read made now (a config put before it is seen after it), for at most
  /// `timeout`. The events of those changes may still be on their way. Throws Error
  /// (Errc::deadline_exceeded; Errc::failed_precondition after close()).
  void sync(std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  /// Pull face of the events (when RegistrarOptions::on_event is not set): the next event, or
  /// std::nullopt after `timeout` or once closed.
  std::optional<Event> next_event(std::chrono::milliseconds timeout);
  /// Asynchronous pull: **Handler signature** `void(std::exception_ptr, Event)`; Errc::cancelled
  /// when cancelled through the handler's slot or when the Registrar closes first.
  /// **Executor** the handler's, else RegistrarOptions::executor, else the client's. **Object
  /// lifetimes** the Registrar may be destroyed before completion. One at a time.
  template <class Token>
  auto async_next_event(Token&& token) {
    return etcdpp::detail::initiate<Event>(
        executor(), std::forward<Token>(token), [state = state_](auto callback, auto canceller) {
          start_next_event(state, std::move(callback), std::move(canceller));
        });
  }

  /// Unregisters: stops following events, revokes the lease within
  /// RegistrarOptions::unregister_timeout (the node key and application routes go). Idempotent.
  /// Throws Error when etcd cannot be told (the lease then expires after its TTL).
  void close();

 private:
  asio::any_io_executor executor() const;
  static void start_next_event(const std::shared_ptr<detail::RegistrarState>& state,
                               etcdpp::detail::Callback<Event> callback,
                               std::shared_ptr<etcdpp::detail::Canceller> canceller);
  std::shared_ptr<detail::RegistrarState> state_;
};

/// A read-only view of one cluster of the registry, for tools and processes that do not
/// register: the same reads as a Registrar's, made on demand.
///
/// **Thread safety** Any thread.
class ClusterView {
 public:
  /// `keys` names the root and cluster. Calls use `client`'s timeout.
  ClusterView(Client client, ClusterKeys keys = {});

  /// The live nodes, by name.
  std::vector<std::string> nodes() const;
  /// A node's routes, as Registrar::resolve.
  std::optional<std::vector<Route>> resolve(std::string_view node) const;
  /// The routes of application `app` on every node, as Registrar::resolve_application (no node
  /// left out).
  std::vector<ApplicationRoute> resolve_application(std::string_view app) const;
  /// Node `node`'s effective values of `items` (both config roots read at one revision).
  Config config(std::string_view node, const std::vector<std::string>& items,
                TypedValues mode = TypedValues::strict) const;
  /// Node `node`'s configuration layers: every item it sees, with levels (for tools).
  ConfigLayers layers(std::string_view node) const;

  /// The root and cluster it reads.
  const ClusterKeys& keys() const noexcept { return keys_; }

 private:
  Client client_;
  ClusterKeys keys_;
};

}  // namespace etcdpp::registry
