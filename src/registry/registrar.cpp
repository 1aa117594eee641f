// SPDX-License-Identifier: Apache-2.0
// Registrar: registration under a Session, re-registration after a lost lease on one worker
// thread, events derived from a PrefixCache of the registry's root, delivered from one queue.
#include "etcdpp/registry/registrar.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <asio/post.hpp>

#include "etcdpp/concurrency/session.hpp"
#include "etcdpp/prefix_cache.hpp"
#include "etcdpp/txn.hpp"

#include "concurrency/recipe.hpp"

namespace etcdpp::registry {

// ---- the calls whose signatures the Client is about to change, each in one place ----
namespace {

// A client whose calls have `timeout` as their deadline.
Client timed(const Client& client, std::chrono::milliseconds timeout) {
  return client.with_timeout(timeout);
}

concurrency::Session make_session(const Client& client, std::chrono::seconds ttl,
                                  std::function<void(concurrency::SessionState)> on_lost) {
  concurrency::SessionOptions options;
  options.ttl = ttl;
  options.on_lost = std::move(on_lost);
  return concurrency::Session(client, std::move(options));
}

PrefixCache make_cache(const Client& client, const std::string& prefix,
                       PrefixCacheOptions options) {
  return PrefixCache(client, prefix, std::move(options));
}

}  // namespace

// ---- names and checks ----
namespace {

GetOptions prefix_read(bool keys_only = false, std::int64_t revision = 0) {
  GetOptions options;
  options.prefix = true;
  options.keys_only = keys_only;
  options.revision = revision;
  return options;
}

[[noreturn]] void bad_option(const std::string& what) {
  throw Error(make_error_code(Errc::invalid_option), "Registrar: " + what);
}

void check_name(std::string_view option, std::string_view value) {
  if (value.empty()) bad_option(std::string(option) + " is empty; give a name");
  if (value.find('/') != std::string_view::npos) {
    bad_option(std::string(option) + " \"" + std::string(value) +
               "\" contains '/', which the key layout cannot hold; pick a name without it");
  }
}

void check_options(const RegistrarOptions& o) {
  check_name("node", o.node);
  check_name("cluster", o.cluster);
  if (o.node == "*" || o.node == "global") {
    // config/{node}/X would be the cluster-wide (*) or the global level: every node's config.
    bad_option("node \"" + o.node + "\" is the name of a configuration level (config/" + o.node +
               "/ holds every node's items); pick another name");
  }
  if (o.root.empty() || o.root.back() == '/') {
    bad_option("root \"" + o.root + "\" must be non-empty and not end with '/'");
  }
  if (o.lease_ttl < std::chrono::seconds(2)) {
    bad_option("lease_ttl " + std::to_string(o.lease_ttl.count()) +
               " s is below etcd's minimum of 2 s");
  }
  if (o.request_timeout <= std::chrono::milliseconds::zero() ||
      o.unregister_timeout <= std::chrono::milliseconds::zero()) {
    bad_option("request_timeout and unregister_timeout must be positive");
  }
  if (o.max_pending_events == 0) bad_option("max_pending_events must be at least 1");
}

std::chrono::milliseconds keep_alive_of(const RegistrarOptions& o) {
  if (o.keep_alive > std::chrono::milliseconds::zero()) return o.keep_alive;
  return std::max<std::chrono::milliseconds>(std::chrono::seconds(1), o.lease_ttl / 3);
}

ClientOptions with_registrar_defaults(ClientOptions c, const RegistrarOptions& o) {
  c.connect_timeout = o.dial_timeout;
  c.call_timeout = o.request_timeout;
  c.keepalive_time = keep_alive_of(o);
  c.keepalive_timeout = keep_alive_of(o);
  return c;
}

Event::Type type_of(ApplicationState state) {
  switch (state) {
    case ApplicationState::loaded: return Event::Type::application_loaded;
    case ApplicationState::running: return Event::Type::application_started;
    case ApplicationState::stopping: return Event::Type::application_stopping;
  }
  return Event::Type::application_loaded;
}

}  // namespace

std::string_view to_string(Event::Type type) noexcept {
  switch (type) {
    case Event::Type::node_joined: return "node_joined";
    case Event::Type::node_left: return "node_left";
    case Event::Type::application_loaded: return "application_loaded";
    case Event::Type::application_started: return "application_started";
    case Event::Type::application_stopping: return "application_stopping";
    case Event::Type::application_stopped: return "application_stopped";
    case Event::Type::config_updated: return "config_updated";
    case Event::Type::reregistered: return "reregistered";
    case Event::Type::registration_lost: return "registration_lost";
    case Event::Type::events_dropped: return "events_dropped";
  }
  return "?";
}

std::string to_string(const Event& e) {
  auto quoted = [](const std::optional<std::string>& v) {
    return v ? "\"" + *v + "\"" : std::string("(unset)");
  };
  std::string out(to_string(e.type));
  switch (e.type) {
    case Event::Type::node_joined:
    case Event::Type::node_left: out += " " + e.node; break;
    case Event::Type::application_loaded:
    case Event::Type::application_started:
    case Event::Type::application_stopping:
    case Event::Type::application_stopped:
      out += " " + e.application.name + " on " + e.node +
             " (weight " + std::to_string(e.application.weight) + ", " +
             std::string(to_string(e.application.mode)) + ")";
      break;
    case Event::Type::config_updated:
      out += " " + e.item + " " + quoted(e.old_value) + " -> " + quoted(e.new_value);
      break;
    case Event::Type::reregistered:
      out += " " + e.node + (e.reclaimed ? " (reclaimed its key)" : " (new key)");
      break;
    case Event::Type::registration_lost: out += " " + e.node + ": " + e.detail; break;
    case Event::Type::events_dropped: out += " " + std::to_string(e.dropped); break;
  }
  if (e.revision != 0) out += " @" + std::to_string(e.revision);
  if (e.initial) out += " (initial)";
  return out;
}

// ---- ClusterView ----

ClusterView::ClusterView(Client client, ClusterKeys keys)
    : client_(std::move(client)), keys_(std::move(keys)) {}

std::vector<std::string> ClusterView::nodes() const {
  const std::string prefix = keys_.nodes();
  std::vector<std::string> out;
  for (const KeyValue& kv : client_.get(prefix, prefix_read(true)).kvs) {
    std::string name = kv.key.substr(prefix.size());
    if (!name.empty() && name.find('/') == std::string::npos) out.push_back(std::move(name));
  }
  return out;
}

std::optional<std::vector<Route>> ClusterView::resolve(std::string_view node) const {
  const std::string key = keys_.node(node);
  const auto kv = client_.get(key);
  if (!kv) return std::nullopt;
  auto routes = decode_node_routes(kv->value);
  if (!routes) {
    throw Error(make_error_code(Errc::invalid_argument),
                "registry resolve \"" + std::string(node) + "\": the value of " + key +
                    " is not " + std::string(kRouteCodec) +
                    " (a node using Ergo's EDF codec?); its routes cannot be read");
  }
  return routes;
}

std::vector<ApplicationRoute> ClusterView::resolve_application(std::string_view app) const {
  // The trailing '/' keeps `web` from matching `webui/...`.
  const std::string prefix = keys_.application(app);
  std::vector<ApplicationRoute> out;
  for (const KeyValue& kv : client_.get(prefix, prefix_read()).kvs) {
    const std::string node = kv.key.substr(prefix.size());
    if (node.empty() || node.find('/') != std::string::npos) continue;
    auto route = decode_application_route(kv.value);
    if (!route) continue;
    route->node = node;
    route->name = std::string(app);
    out.push_back(std::move(*route));
  }
  return out;
}

ConfigLayers ClusterView::layers(std::string_view node) const {
  ConfigLayers layers({.root = keys_.root, .cluster = keys_.cluster, .node = std::string(node)});
  // Both roots at one revision; the cross-cluster root second, so it wins where both give the
  // same relative path.
  const auto first =
      client_.get(keys_.root + "/cluster/" + keys_.cluster + "/config/", prefix_read());
  for (const KeyValue& kv : first.kvs) layers.apply(kv.key, kv.value);
  const auto second = client_.get(keys_.root + "/config/",
                                  prefix_read(false, first.header.revision));
  for (const KeyValue& kv : second.kvs) layers.apply(kv.key, kv.value);
  return layers;
}

Config ClusterView::config(std::string_view node, const std::vector<std::string>& items,
                           TypedValues mode) const {
  return resolve_config(layers(node), items, mode);
}

// ---- Registrar ----
namespace detail {

class RegistrarState : public std::enable_shared_from_this<RegistrarState> {
 public:
  RegistrarState(Client c, RegistrarOptions o)
      : client(std::move(c)),
        options(std::move(o)),
        keys{.root = options.root, .cluster = options.cluster},
        node_key(keys.node(options.node)),
        executor(options.executor ? options.executor : client.executor()),
        layers_({.root = options.root, .cluster = options.cluster, .node = options.node}) {}

  void start();
  void close();

  // Events out of the cache (run on the client's executor, one at a time).
  void on_put(const KeyValue& kv);
  void on_delete(const KeyValue& prev, std::int64_t revision);

  void publish(ApplicationRoute route);
  void remove(std::string_view name);
  LeaseId current_lease() const {
    std::lock_guard lock(mutex);
    return lease;
  }
  bool is_registered() const {
    std::lock_guard lock(mutex);
    return registered;
  }
  ConfigLayers config_layers() const;
  void sync(std::chrono::milliseconds timeout) const;

  std::optional<Event> next(std::chrono::milliseconds timeout);
  void start_next(etcdpp::detail::Callback<Event> callback,
                  std::shared_ptr<etcdpp::detail::Canceller> canceller);

  const Client client;
  const RegistrarOptions options;
  const ClusterKeys keys;
  const std::string node_key;
  const asio::any_io_executor executor;

 private:
  std::function<void(concurrency::SessionState)> lost_handler(std::uint64_t generation);
  std::shared_ptr<PrefixCache> live_cache(std::string_view call) const;
  void register_first();
  void worker_loop();
  bool reregister(bool& reported_taken);
  void put_applications(LeaseId on, const std::map<std::string, ApplicationRoute>& apps) const;
  void apply_change(const KeyValue& kv, bool deleted, std::int64_t revision, bool initial);
  void emit(Event event);
  Event take();
  void drain();

  mutable std::mutex mutex;
  std::condition_variable cv;

  // Registration.
  std::optional<concurrency::Session> session;
  LeaseId lease{};
  std::uint64_t generation = 0;  // of the current session, so that a stale loss is ignored
  bool registered = false;
  bool lost = false;
  bool closing = false;
  std::map<std::string, ApplicationRoute> apps;  // this node's, by name
  std::thread worker;

  // The view the events are derived from.
  bool view_ready = false;
  std::int64_t view_revision = 0;
  std::set<std::string> live_nodes;
  std::map<std::string, ApplicationRoute> app_routes;  // by key
  ConfigLayers layers_;
  std::shared_ptr<PrefixCache> cache;  // shared with a sync() under way

  // Delivery.
  std::deque<Event> queue;
  std::size_t dropped = 0;
  bool drain_posted = false;
  bool delivering = false;
  std::thread::id delivering_thread;
  etcdpp::detail::Callback<Event> waiter;
};

std::function<void(concurrency::SessionState)> RegistrarState::lost_handler(
    std::uint64_t gen) {
  return [weak = weak_from_this(), gen](concurrency::SessionState why) {
    auto self = weak.lock();
    if (!self) return;
    std::lock_guard lock(self->mutex);
    if (self->closing || gen != self->generation) return;
    self->registered = false;
    self->lost = true;
    self->emit({.type = Event::Type::registration_lost,
                .node = self->options.node,
                .detail = std::string("lease ") + concurrency::to_string(why) +
                          "; registering again"});
    self->cv.notify_all();
  };
}

void RegistrarState::register_first() {
  const std::string value = encode_node_routes(options.routes);
  auto fresh = make_session(timed(client, options.unregister_timeout), options.lease_ttl,
                            lost_handler(1));
  const auto result = client.txn(Txn{}
                                     .if_(Compare::create_revision(node_key) == 0)
                                     .then(Op::put(node_key, value, {.lease = fresh.lease()}))
                                     .else_(Op::get(node_key)));
  if (!result.succeeded) {
    std::string holder;
    const auto& kvs = result.responses.at(0).get().kvs;
    if (!kvs.empty()) holder = " (lease " + etcdpp::detail::lease_hex(kvs.front().lease) + ")";
    try {
      fresh.close();
    } catch (const Error&) {
      // The unused lease expires by itself.
    }
    throw Error(make_error_code(Errc::already_exists),
                "Registrar: node \"" + options.node + "\" of cluster \"" + options.cluster +
                    "\" is already registered by a live node: " + node_key + holder +
                    "; pick another node name, or wait for that node's lease to expire");
  }
  std::lock_guard lock(mutex);
  generation = 1;
  lease = fresh.lease();
  session.emplace(std::move(fresh));
  registered = true;
}

void RegistrarState::start() {
  register_first();
  PrefixCacheOptions cache_options;
  std::weak_ptr<RegistrarState> weak = weak_from_this();
  cache_options.on_put = [weak](const KeyValue& kv, const std::optional<KeyValue>&) {
    if (auto self = weak.lock()) self->on_put(kv);
  };
  cache_options.on_delete = [weak](const KeyValue& prev, std::int64_t revision) {
    if (auto self = weak.lock()) self->on_delete(prev, revision);
  };
  try {
    auto made = std::make_shared<PrefixCache>(
        make_cache(client, options.root + "/", std::move(cache_options)));
    std::lock_guard lock(mutex);
    cache = std::move(made);
    // Callbacks run after their change is visible in the cache: those that ran before this
    // point were dropped (view_ready false) and are in the snapshot; those after it are
    // skipped up to the snapshot's revision.
    const auto snapshot = cache->snapshot();
    view_revision = snapshot.revision();
    for (const KeyValue& kv : snapshot) apply_change(kv, false, view_revision, true);
    view_ready = true;
  } catch (...) {
    close();
    throw;
  }
  worker = std::thread([this] { worker_loop(); });
}

void RegistrarState::on_put(const KeyValue& kv) {
  std::lock_guard lock(mutex);
  if (!view_ready || closing || kv.mod_revision <= view_revision) return;
  apply_change(kv, false, kv.mod_revision, false);
}

void RegistrarState::on_delete(const KeyValue& prev, std::int64_t revision) {
  std::lock_guard lock(mutex);
  if (!view_ready || closing || revision <= view_revision) return;
  apply_change(prev, true, revision, false);
}

// The view's one transition function, under the mutex: events only where the derived state
// changes, so a relist, a resumed watch or a re-registration never repeats one.
void RegistrarState::apply_change(const KeyValue& kv, bool deleted, std::int64_t revision,
                                  bool initial) {
  const std::string nodes_prefix = keys.nodes();
  const std::string apps_prefix = keys.applications();
  const std::string_view key = kv.key;
  if (key.starts_with(nodes_prefix)) {
    const std::string name(key.substr(nodes_prefix.size()));
    if (name.empty() || name.find('/') != std::string::npos || name == options.node) return;
    const bool changed = deleted ? live_nodes.erase(name) > 0 : live_nodes.insert(name).second;
    if (changed) {
      emit({.type = deleted ? Event::Type::node_left : Event::Type::node_joined,
            .revision = revision,
            .initial = initial,
            .node = name});
    }
    return;
  }
  if (key.starts_with(apps_prefix)) {
    const std::string_view rest = key.substr(apps_prefix.size());
    const std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size() ||
        rest.find('/', slash + 1) != std::string_view::npos) {
      return;
    }
    const std::string app(rest.substr(0, slash));
    const std::string node(rest.substr(slash + 1));
    const auto known = app_routes.find(kv.key);
    if (deleted) {
      if (known == app_routes.end()) return;
      Event e{.type = Event::Type::application_stopped, .revision = revision, .node = node,
              .application = known->second};
      app_routes.erase(known);
      emit(std::move(e));
      return;
    }
    auto route = decode_application_route(kv.value);
    if (!route) return;  // another codec (an Ergo node's EDF): not ours to read
    route->node = node;
    route->name = app;
    const bool changed = known == app_routes.end() || known->second.state != route->state;
    app_routes.insert_or_assign(kv.key, *route);
    if (changed) {
      emit({.type = type_of(route->state), .revision = revision, .initial = initial,
            .node = node, .application = *route});
    }
    return;
  }
  const auto item = layers_.item_of(key);
  if (!item) return;
  const auto before = layers_.lookup(*item);
  layers_.apply(key, deleted ? std::nullopt : std::optional<std::string_view>(kv.value));
  if (initial) return;
  auto after = layers_.lookup(*item);
  if (before == after) return;
  emit({.type = Event::Type::config_updated, .revision = revision, .item = *item,
        .old_value = before, .new_value = std::move(after)});
}

std::shared_ptr<PrefixCache> RegistrarState::live_cache(std::string_view call) const {
  std::lock_guard lock(mutex);
  if (!cache) {
    throw Error(make_error_code(Errc::failed_precondition),
                "Registrar::" + std::string(call) + ": the registrar is closed");
  }
  return cache;
}

// Config is read from the cache's current contents rather than from the events' view, so that
// after sync() it is as fresh as a linearizable read (the view trails the cache by the
// callbacks not yet run).
ConfigLayers RegistrarState::config_layers() const {
  ConfigLayers out(layers_.scope());
  for (const KeyValue& kv : live_cache("config")->snapshot()) out.apply(kv.key, kv.value);
  return out;
}

void RegistrarState::sync(std::chrono::milliseconds timeout) const {
  live_cache("sync")->sync(timeout);
}

// ---- delivery ----

void RegistrarState::emit(Event event) {
  if (queue.size() >= options.max_pending_events) {
    queue.pop_front();
    ++dropped;
  }
  queue.push_back(std::move(event));
  if (options.on_event) {
    if (!drain_posted && !closing) {
      drain_posted = true;
      asio::post(executor, [self = shared_from_this()] { self->drain(); });
    }
  } else if (waiter) {
    auto callback = std::move(waiter);
    waiter = nullptr;
    callback({}, take());  // it posts to the handler's executor
  }
  cv.notify_all();
}

Event RegistrarState::take() {
  if (dropped > 0) {
    Event e{.type = Event::Type::events_dropped, .dropped = dropped};
    dropped = 0;
    return e;
  }
  Event e = std::move(queue.front());
  queue.pop_front();
  return e;
}

void RegistrarState::drain() {
  std::unique_lock lock(mutex);
  drain_posted = false;
  if (closing) return;
  delivering = true;
  delivering_thread = std::this_thread::get_id();
  // A bounded batch per run, so that one registrar does not hold an executor thread forever.
  for (int n = 0; n < 256 && (!queue.empty() || dropped > 0) && !closing; ++n) {
    Event e = take();
    lock.unlock();
    try {
      options.on_event(e);
    } catch (...) {
      // A throwing callback loses only its own event.
    }
    lock.lock();
  }
  delivering = false;
  delivering_thread = {};
  if ((!queue.empty() || dropped > 0) && !closing && !drain_posted) {
    drain_posted = true;
    asio::post(executor, [self = shared_from_this()] { self->drain(); });
  }
  cv.notify_all();
}

std::optional<Event> RegistrarState::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex);
  if (!cv.wait_for(lock, timeout,
                   [&] { return closing || !queue.empty() || dropped > 0; })) {
    return std::nullopt;
  }
  if (queue.empty() && dropped == 0) return std::nullopt;
  return take();
}

void RegistrarState::start_next(etcdpp::detail::Callback<Event> callback,
                                std::shared_ptr<etcdpp::detail::Canceller> canceller) {
  std::unique_lock lock(mutex);
  if (closing) {
    lock.unlock();
    callback({make_error_code(Errc::cancelled), "Registrar closed"}, {});
    return;
  }
  if (!queue.empty() || dropped > 0) {
    Event e = take();
    lock.unlock();
    callback({}, std::move(e));
    return;
  }
  waiter = std::move(callback);
  lock.unlock();
  if (canceller) {
    auto cancel = [weak = weak_from_this()] {
      auto self = weak.lock();
      if (!self) return;
      std::unique_lock l(self->mutex);
      if (!self->waiter) return;
      auto cb = std::move(self->waiter);
      self->waiter = nullptr;
      l.unlock();
      cb({make_error_code(Errc::cancelled), "async_next_event cancelled"}, {});
    };
    if (!canceller->set_action(cancel)) cancel();  // cancelled before it was installed
  }
}

// ---- applications ----

void RegistrarState::put_applications(LeaseId on,
                                      const std::map<std::string, ApplicationRoute>& routes) const {
  for (const auto& [name, route] : routes) {
    client.put(keys.application(name, options.node), encode_application_route(route),
               {.lease = on});
  }
}

void RegistrarState::publish(ApplicationRoute route) {
  if (route.name.empty() || route.name.find('/') != std::string::npos) {
    throw Error(make_error_code(Errc::invalid_argument),
                "Registrar::publish_application: application name \"" + route.name +
                    "\" must be non-empty and without '/'");
  }
  route.node = options.node;
  LeaseId on{};
  {
    std::lock_guard lock(mutex);
    if (closing) {
      throw Error(make_error_code(Errc::failed_precondition),
                  "Registrar::publish_application \"" + route.name + "\": registrar closed");
    }
    apps.insert_or_assign(route.name, route);
    on = lease;
  }
  // Recorded first: a re-registration running meanwhile puts it again with its new lease.
  try {
    client.put(keys.application(route.name, options.node), encode_application_route(route),
               {.lease = on});
  } catch (const Error& e) {
    // The lease was lost under us: the re-registration puts the route with the new one.
    if (e.code() != make_error_code(Errc::lease_not_found) || is_registered()) throw;
  }
}

void RegistrarState::remove(std::string_view name) {
  {
    std::lock_guard lock(mutex);
    apps.erase(std::string(name));
  }
  // Deleted even when not recorded, so that a remove repeated after a failure still deletes.
  client.delete_range(keys.application(name, options.node));
}

// ---- re-registration ----

bool RegistrarState::reregister(bool& reported_taken) {
  LeaseId old{};
  std::uint64_t gen = 0;
  {
    std::lock_guard lock(mutex);
    old = lease;
    gen = generation + 1;
  }
  const std::string value = encode_node_routes(options.routes);
  auto fresh = make_session(timed(client, options.unregister_timeout), options.lease_ttl,
                            lost_handler(gen));
  const PutOptions on_fresh{.lease = fresh.lease()};
  // The key is free: create it. Else, if it is still ours (we came back before etcd expired the
  // old lease), move it to the new lease. Else another node has the name.
  auto result = client.txn(Txn{}
                               .if_(Compare::create_revision(node_key) == 0)
                               .then(Op::put(node_key, value, on_fresh)));
  bool reclaimed = false;
  if (!result.succeeded) {
    result = client.txn(
        Txn{}.if_(Compare::lease(node_key) == old).then(Op::put(node_key, value, on_fresh)));
    reclaimed = result.succeeded;
  }
  if (!result.succeeded) {
    try {
      fresh.close();
    } catch (const Error&) {
    }
    std::lock_guard lock(mutex);
    if (!reported_taken) {
      reported_taken = true;
      emit({.type = Event::Type::registration_lost,
            .node = options.node,
            .detail = "the name is taken by another live node (" + node_key +
                      "); retrying until it is free"});
    }
    return false;
  }
  std::map<std::string, ApplicationRoute> routes;
  {
    std::lock_guard lock(mutex);
    routes = apps;
  }
  put_applications(fresh.lease(), routes);
  std::optional<concurrency::Session> previous;
  {
    std::lock_guard lock(mutex);
    if (closing) {
      previous.emplace(std::move(fresh));  // closed below, outside the lock
    } else {
      previous = std::move(session);
      generation = gen;
      lease = fresh.lease();
      session.emplace(std::move(fresh));
      registered = true;
      lost = false;
      emit({.type = Event::Type::reregistered,
            .revision = result.header.revision,
            .node = options.node,
            .reclaimed = reclaimed});
    }
  }
  // The old lease is lost already; its Session only has to go (it revokes if it can, bounded
  // by unregister_timeout). Our keys are on the new lease now.
  previous.reset();
  return true;
}

void RegistrarState::worker_loop() {
  std::unique_lock lock(mutex);
  int attempt = 0;
  bool reported_taken = false;
  while (true) {
    cv.wait(lock, [&] { return closing || lost; });
    if (closing) return;
    ++attempt;
    lock.unlock();
    bool done = false;
    try {
      done = reregister(reported_taken);
    } catch (const Error&) {
      done = false;  // unavailable, a deadline: try again after the backoff
    }
    lock.lock();
    if (done) {
      attempt = 0;
      reported_taken = false;
      continue;
    }
    const auto wait = std::min<std::chrono::milliseconds>(options.reregister_backoff * attempt,
                                                          std::chrono::seconds(30));
    cv.wait_for(lock, wait, [&] { return closing; });
  }
}

void RegistrarState::close() {
  std::shared_ptr<PrefixCache> stopping_cache;
  std::optional<concurrency::Session> stopping_session;
  etcdpp::detail::Callback<Event> pending;
  {
    std::lock_guard lock(mutex);
    if (closing) return;
    closing = true;
    registered = false;
    stopping_cache = std::move(cache);
    stopping_session = std::move(session);
    session.reset();
    pending = std::move(waiter);
    waiter = nullptr;
    cv.notify_all();
  }
  if (pending) pending({make_error_code(Errc::cancelled), "Registrar closed"}, {});
  if (worker.joinable()) {
    if (worker.get_id() == std::this_thread::get_id()) {
      worker.detach();
    } else {
      worker.join();
    }
  }
  // The cache's destructor waits for a callback of ours that is running: not under our lock.
  stopping_cache.reset();
  {
    std::unique_lock lock(mutex);
    if (delivering_thread != std::this_thread::get_id()) {
      cv.wait(lock, [&] { return !delivering; });
    }
  }
  if (stopping_session) stopping_session->close();  // revokes: node key and routes go at once
}

}  // namespace detail

Registrar::Registrar(Client client, RegistrarOptions options) {
  check_options(options);
  state_ = std::make_shared<detail::RegistrarState>(std::move(client), std::move(options));
  state_->start();
}

Registrar::Registrar(ClientOptions client_options, RegistrarOptions options) {
  check_options(options);
  Client client(with_registrar_defaults(std::move(client_options), options));
  state_ = std::make_shared<detail::RegistrarState>(std::move(client), std::move(options));
  state_->start();
}

Registrar::Registrar(Registrar&&) noexcept = default;
Registrar& Registrar::operator=(Registrar&& other) noexcept {
  if (this != &other) {
    if (state_) {
      try {
        state_->close();
      } catch (...) {
      }
    }
    state_ = std::move(other.state_);
  }
  return *this;
}

Registrar::~Registrar() {
  if (!state_) return;
  try {
    state_->close();
  } catch (...) {
    // The lease expires after its TTL.
  }
}

const std::string& Registrar::node() const noexcept { return state_->options.node; }
const std::string& Registrar::cluster() const noexcept { return state_->options.cluster; }
LeaseId Registrar::lease() const noexcept { return state_->current_lease(); }
bool Registrar::registered() const noexcept { return state_->is_registered(); }
const Client& Registrar::client() const noexcept { return state_->client; }
asio::any_io_executor Registrar::executor() const { return state_->executor; }

void Registrar::publish_application(ApplicationRoute route) { state_->publish(std::move(route)); }
void Registrar::remove_application(std::string_view name) { state_->remove(name); }

std::vector<std::string> Registrar::nodes() const {
  auto all = ClusterView(timed(state_->client, state_->options.request_timeout), state_->keys)
                 .nodes();
  std::erase(all, state_->options.node);
  return all;
}

std::optional<std::vector<Route>> Registrar::resolve(std::string_view node) const {
  return ClusterView(timed(state_->client, state_->options.request_timeout), state_->keys)
      .resolve(node);
}

std::vector<ApplicationRoute> Registrar::resolve_application(std::string_view app) const {
  auto routes =
      ClusterView(timed(state_->client, state_->options.request_timeout), state_->keys)
          .resolve_application(app);
  std::erase_if(routes, [&](const ApplicationRoute& r) { return r.node == state_->options.node; });
  return routes;
}

std::optional<std::string> Registrar::config_text(std::string_view item) const {
  return state_->config_layers().lookup(item);
}

std::optional<ConfigValue> Registrar::config_item(std::string_view item) const {
  auto text = config_text(item);
  if (!text) return std::nullopt;
  return parse_config_value(*text, state_->options.typed_values, item);
}

Config Registrar::config(const std::vector<std::string>& items) const {
  return resolve_config(state_->config_layers(), items, state_->options.typed_values);
}

void Registrar::sync(std::chrono::milliseconds timeout) const { state_->sync(timeout); }

std::optional<Event> Registrar::next_event(std::chrono::milliseconds timeout) {
  return state_->next(timeout);
}

void Registrar::start_next_event(const std::shared_ptr<detail::RegistrarState>& state,
                                 etcdpp::detail::Callback<Event> callback,
                                 std::shared_ptr<etcdpp::detail::Canceller> canceller) {
  state->start_next(std::move(callback), std::move(canceller));
}

void Registrar::close() { state_->close(); }

}  // namespace etcdpp::registry
