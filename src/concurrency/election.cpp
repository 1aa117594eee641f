// SPDX-License-Identifier: Apache-2.0
// Election: the Go client's election (key `<name>/<lease hex>` holding the proposal, the leader
// is the oldest key, a candidate waits for its predecessor), and an observer that follows the
// whole prefix from one revision on, so that it misses no leader and can report a vacancy.
#include "etcdpp/concurrency/election.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <condition_variable>
#include <thread>

#include "concurrency/recipe.hpp"

namespace etcdpp {
namespace detail {

namespace {
using asio::use_awaitable;

GetOptions first_created() {
  return {.range_end = {},
          .prefix = true,
          .limit = 1,
          .sort_order = SortOrder::ascend,
          .sort_target = SortTarget::create_revision};
}
}  // namespace

// ---- Observer -----------------------------------------------------------------------------

class ObserverState : public std::enable_shared_from_this<ObserverState> {
 public:
  ObserverState(Client c, std::string p, concurrency::Observer::Callback cb)
      : client(std::move(c)), prefix(std::move(p)), callback_(std::move(cb)) {}

  const Client client;
  const std::string prefix;

  void start(const asio::any_io_executor& executor) {
    canceller_ = std::make_shared<Canceller>();
    spawn<bool>(
        executor,
        [self = shared_from_this()](CallStatus status, bool) {
          if (status.code && status.code != Errc::cancelled) self->deliver(status.code, {});
        },
        canceller_, [self = shared_from_this()] { return self->run(); });
  }

  void cancel() noexcept {
    {
      std::unique_lock lock(mutex_);
      cancelled_ = true;
      cv_.wait(lock, [&] {
        return callback_thread_ == std::thread::id{} ||
               callback_thread_ == std::this_thread::get_id();
      });
    }
    if (canceller_) canceller_->cancel();
  }

 private:
  asio::awaitable<bool> run() {
    for (;;) {
      // Read every candidate at one revision, then follow every change after it.
      GetOptions all{.range_end = {},
                     .prefix = true,
                     .sort_order = SortOrder::ascend,
                     .sort_target = SortTarget::create_revision};
      const GetResult now = co_await client.async_get(prefix, all, use_awaitable);
      candidates_.clear();
      for (const auto& kv : now.kvs) candidates_[kv.key] = kv;
      publish(now.header.revision);
      const auto strand = co_await asio::this_coro::executor;
      Watch::Callback pulled;  // no callback: batches are pulled with async_next
      Watch watch;
      try {
        watch = co_await open_watch(client, prefix, true, now.header.revision + 1, strand,
                                    std::move(pulled));
      } catch (const CompactedError&) {
        continue;  // compacted since the read: read again
      }
      for (;;) {
        auto [error, batch] =
            co_await watch.async_next(asio::experimental::as_tuple(use_awaitable));
        co_await throw_if_cancelled();
        const std::error_code ec = error_code_of(error);
        if (ec == Errc::compacted) break;  // read again from a revision that still exists
        if (ec) throw Error(ec, "observe \"" + prefix + "\"");
        apply(batch);
      }
    }
  }

  // Applies the events revision by revision: a transaction that replaces the leader at one
  // revision is one change, not a vacancy and a new leader.
  void apply(const WatchBatch& batch) {
    for (std::size_t i = 0; i < batch.events.size(); ++i) {
      const Event& e = batch.events[i];
      if (e.type == Event::Type::put) {
        candidates_[e.kv.key] = e.kv;
      } else {
        candidates_.erase(e.kv.key);
      }
      const bool last_of_revision = i + 1 == batch.events.size() ||
                                    batch.events[i + 1].kv.mod_revision != e.kv.mod_revision;
      if (last_of_revision) publish(e.kv.mod_revision);
    }
  }

  // Reports the leader if it differs from the last one reported (key, creation or value).
  void publish(std::int64_t revision) {
    const KeyValue* first = nullptr;
    for (const auto& [key, kv] : candidates_) {
      if (!first || kv.create_revision < first->create_revision) first = &kv;
    }
    std::optional<KeyValue> leader;
    if (first) leader = *first;
    if (reported_ && same(leader, last_)) return;
    reported_ = true;
    last_ = leader;
    deliver({}, concurrency::LeaderEvent{std::move(leader), revision});
  }

  static bool same(const std::optional<KeyValue>& a, const std::optional<KeyValue>& b) {
    if (a.has_value() != b.has_value()) return false;
    if (!a) return true;
    return a->key == b->key && a->create_revision == b->create_revision &&
           a->mod_revision == b->mod_revision;
  }

  void deliver(std::error_code ec, concurrency::LeaderEvent event) {
    {
      std::lock_guard lock(mutex_);
      if (cancelled_) return;
      callback_thread_ = std::this_thread::get_id();
    }
    try {
      callback_(ec, std::move(event));
    } catch (...) {
      // A throwing callback must not end the observation or take the executor down.
    }
    std::lock_guard lock(mutex_);
    callback_thread_ = {};
    cv_.notify_all();
  }

  const concurrency::Observer::Callback callback_;
  std::shared_ptr<Canceller> canceller_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool cancelled_ = false;
  std::thread::id callback_thread_;
  // Touched by the coroutine only (on its strand).
  std::map<std::string, KeyValue> candidates_;
  bool reported_ = false;
  std::optional<KeyValue> last_;
};

struct ObserverAccess {
  static void set(concurrency::Observer& observer, std::shared_ptr<ObserverState> state) {
    observer.state_ = std::move(state);
  }
};

concurrency::Observer start_observer(const Client& client, std::string prefix,
                                     concurrency::Observer::Callback callback,
                                     const asio::any_io_executor& executor);

// ---- Election -----------------------------------------------------------------------------

class ElectionState : public std::enable_shared_from_this<ElectionState> {
 public:
  ElectionState(std::shared_ptr<SessionCore> s, std::string_view n,
                concurrency::ElectionOptions o)
      : session(std::move(s)),
        name(n),
        prefix(std::string(n) + "/"),
        key(prefix + lease_hex(session->lease)),
        options(std::move(o)),
        executor(options.executor ? options.executor : session->client.executor()) {}

  const std::shared_ptr<SessionCore> session;
  const std::string name;
  const std::string prefix;
  const std::string key;
  const concurrency::ElectionOptions options;
  const asio::any_io_executor executor;

  mutable std::mutex mutex;
  bool leader = false;
  bool closed = false;
  std::int64_t key_revision = 0;
  ResponseHeader header;
  std::uint64_t listener = 0;
  std::shared_ptr<Canceller> pending;
  concurrency::Observer role_observer;

  std::string what(std::string_view call) const { return std::string(call) + " \"" + name + "\""; }

  bool wants_roles() const {
    return options.on_leader || options.on_follower || options.on_role_change;
  }

  void start_roles() {
    if (!wants_roles()) return;
    role_observer = start_observer(
        session->client, prefix,
        [weak = weak_from_this()](std::error_code ec, concurrency::LeaderEvent event) {
          if (auto self = weak.lock(); self && !ec) self->on_observed(event);
        },
        executor);
  }

  std::shared_ptr<Canceller> begin(const std::shared_ptr<Canceller>& caller) {
    auto op = chain(caller);
    std::lock_guard lock(mutex);
    pending = op;
    return op;
  }

  void elected(std::int64_t revision, const ResponseHeader& at) {
    std::lock_guard lock(mutex);
    key_revision = revision;
    if (closed) {
      throw Error(make_error_code(Errc::cancelled), what("campaign") + ": Election destroyed");
    }
    const auto id = session->subscribe([weak = weak_from_this()] {
      if (auto s = weak.lock()) {
        std::lock_guard l(s->mutex);
        s->leader = false;
        s->listener = 0;
      }
    });
    if (id == 0) {
      throw Error(make_error_code(Errc::session_lost),
                  what("campaign") + ": session " + to_string(session->state()));
    }
    listener = id;
    leader = true;
    header = at;
  }

  /// No longer leading; returns the revision to delete at (0: no key).
  std::int64_t stepped_down() {
    std::lock_guard lock(mutex);
    leader = false;
    if (listener != 0) session->unsubscribe(listener);
    listener = 0;
    return key_revision;
  }

 private:
  // The role follows what etcd shows: leader while this candidate's key is the first.
  void on_observed(const concurrency::LeaderEvent& event) {
    const auto role = event.leader && event.leader->key == key ? concurrency::Role::leader
                                                              : concurrency::Role::follower;
    if (role_ == role) return;
    role_ = role;
    if (role == concurrency::Role::leader) {
      if (options.on_leader) options.on_leader(event);
    } else if (options.on_follower) {
      options.on_follower(event);
    }
    if (options.on_role_change) options.on_role_change(role, event);
  }
  std::optional<concurrency::Role> role_;  // touched by the observer's callback only
};

namespace {

asio::awaitable<void> undo(std::shared_ptr<ElectionState> s, std::int64_t revision) {
  co_await detail::undo(s->session->client, s->key, revision);
  std::lock_guard lock(s->mutex);
  if (s->key_revision == revision) s->key_revision = 0;
}

asio::awaitable<ResponseHeader> proclaim_op(std::shared_ptr<ElectionState> s, std::string value) {
  std::int64_t revision = 0;
  {
    std::lock_guard lock(s->mutex);
    if (s->leader) revision = s->key_revision;
  }
  const auto not_elected = [&] {
    return Error(make_error_code(Errc::not_elected), s->what("proclaim") + ": not the leader");
  };
  if (revision == 0) throw not_elected();
  // Built before the co_await: GCC 12 mis-copies aggregate temporaries inside one.
  const auto txn = Txn{}
                       .if_(owner_compare(s->key, revision))
                       .then(Op::put(s->key, value, {.lease = s->session->lease}));
  const TxnResult r = co_await s->session->client.async_txn(txn, use_awaitable);
  if (!r.succeeded) {
    s->stepped_down();
    throw not_elected();
  }
  co_return r.header;
}

asio::awaitable<ResponseHeader> campaign_op(std::shared_ptr<ElectionState> s, std::string value) {
  bool leading = false;
  {
    std::lock_guard lock(s->mutex);
    leading = s->leader;
  }
  if (leading) co_return co_await proclaim_op(s, value);
  require_alive(*s->session, s->what("campaign"));
  const Client& client = s->session->client;
  const Place place = co_await enqueue(client, s->prefix, s->key, value, s->session->lease);
  ResponseHeader header = place.header;
  std::exception_ptr failure;
  try {
    if (!place.created && place.value != value) {
      // Standing already with another value: keep the place, change the value.
      const auto txn = Txn{}
                           .if_(owner_compare(s->key, place.revision))
                           .then(Op::put(s->key, value, {.lease = s->session->lease}));
      const TxnResult r = co_await client.async_txn(txn, use_awaitable);
      if (!r.succeeded) {
        throw Error(make_error_code(Errc::session_lost),
                    s->what("campaign") + ": the key went while proclaiming");
      }
    }
    if (!place.first) {
      header = co_await wait_predecessors(client, *s->session, s->prefix, s->key, place.revision);
    }
    s->elected(place.revision, header);
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    // A key that stood before this call is another candidacy of the same session: leave it.
    if (place.created) {
      // A cancelled coroutine throws at its next co_await unless its state is reset.
      co_await asio::this_coro::reset_cancellation_state();
      co_await undo(s, place.revision);
    }
    std::rethrow_exception(failure);
  }
  co_return header;
}

asio::awaitable<bool> resign_op(std::shared_ptr<ElectionState> s) {
  const std::int64_t revision = s->stepped_down();
  if (revision == 0) co_return false;
  const bool deleted = co_await delete_own(s->session->client, s->key, revision);
  std::lock_guard lock(s->mutex);
  if (!s->leader && s->key_revision == revision) s->key_revision = 0;
  co_return deleted;
}


}  // namespace

concurrency::Observer start_observer(const Client& client, std::string prefix,
                                     concurrency::Observer::Callback callback,
                                     const asio::any_io_executor& executor) {
  auto state = std::make_shared<ObserverState>(client, std::move(prefix), std::move(callback));
  state->start(executor ? executor : client.executor());
  concurrency::Observer observer;
  ObserverAccess::set(observer, std::move(state));
  return observer;
}

}  // namespace detail

namespace concurrency {

const char* to_string(Role role) noexcept {
  return role == Role::leader ? "leader" : "follower";
}

// ---- Observer -----------------------------------------------------------------------------

Observer::Observer(Observer&&) noexcept = default;
Observer& Observer::operator=(Observer&& other) noexcept {
  if (this != &other) {
    cancel();
    state_ = std::move(other.state_);
  }
  return *this;
}
Observer::~Observer() { cancel(); }

void Observer::cancel() noexcept {
  if (!state_) return;
  auto state = std::move(state_);
  state->cancel();
}

// ---- Election -----------------------------------------------------------------------------

namespace {
void check_name(std::string_view name, const char* what) {
  if (name.empty()) {
    throw Error(make_error_code(Errc::invalid_option),
                std::string(what) +
                    ": the election name is empty; give it a name (its keys are <name>/...)");
  }
}
}  // namespace

Election::Election(const Session& session, std::string_view name, ElectionOptions options) {
  check_name(name, "Election");
  state_ = std::make_shared<etcdpp::detail::ElectionState>(
      etcdpp::detail::SessionAccess::core(session, "Election"), name, std::move(options));
  state_->start_roles();
}

Election::Election(Election&&) noexcept = default;

Election& Election::operator=(Election&& other) noexcept {
  if (this != &other) {
    release();
    state_ = std::move(other.state_);
  }
  return *this;
}

Election::~Election() { release(); }

void Election::release() noexcept {
  if (!state_) return;
  std::shared_ptr<etcdpp::detail::Canceller> pending;
  bool has_key = false;
  {
    std::lock_guard lock(state_->mutex);
    state_->closed = true;
    pending = std::move(state_->pending);
    has_key = state_->key_revision != 0;
  }
  if (pending) pending->cancel();
  if (has_key) {
    try {
      resign();
    } catch (...) {
      // The key goes with the session.
    }
  }
  state_->role_observer.cancel();
  state_.reset();
}

asio::any_io_executor Election::executor() const { return state_->session->client.executor(); }

void Election::start_campaign(const StatePtr& state, const std::string& value,
                              etcdpp::detail::Callback<ResponseHeader> callback,
                              CancellerPtr canceller) {
  etcdpp::detail::spawn<ResponseHeader>(
      state->session->client.executor(), std::move(callback), state->begin(canceller),
      [state, value] { return etcdpp::detail::campaign_op(state, value); });
}

void Election::start_proclaim(const StatePtr& state, const std::string& value,
                              etcdpp::detail::Callback<ResponseHeader> callback,
                              CancellerPtr canceller) {
  etcdpp::detail::spawn<ResponseHeader>(
      state->session->client.executor(), std::move(callback), std::move(canceller),
      [state, value] { return etcdpp::detail::proclaim_op(state, value); });
}

void Election::start_resign(const StatePtr& state, etcdpp::detail::Callback<bool> callback,
                            CancellerPtr canceller) {
  etcdpp::detail::spawn<bool>(state->session->client.executor(), std::move(callback),
                              std::move(canceller),
                              [state] { return etcdpp::detail::resign_op(state); });
}

void Election::campaign(std::string_view value) {
  etcdpp::detail::wait_blocking<ResponseHeader>(
      "campaign", state_->name, [this, value = std::string(value)](auto cb) {
        start_campaign(state_, value, std::move(cb), nullptr);
      });
}

void Election::proclaim(std::string_view value) {
  etcdpp::detail::wait_blocking<ResponseHeader>(
      "proclaim", state_->name, [this, value = std::string(value)](auto cb) {
        start_proclaim(state_, value, std::move(cb), nullptr);
      });
}

void Election::resign() {
  etcdpp::detail::wait_blocking<bool>(
      "resign", state_->name, [this](auto cb) { start_resign(state_, std::move(cb), nullptr); });
}

std::optional<KeyValue> Election::leader() const {
  return leader(state_->session->client, state_->name);
}

std::optional<KeyValue> Election::leader(const Client& client, std::string_view name) {
  check_name(name, "leader");
  auto r = client.get(std::string(name) + "/", etcdpp::detail::first_created());
  if (r.kvs.empty()) return std::nullopt;
  return std::move(r.kvs.front());
}

Observer Election::observe(Observer::Callback callback, asio::any_io_executor executor) const {
  return etcdpp::detail::start_observer(state_->session->client, state_->prefix,
                                        std::move(callback), std::move(executor));
}

Observer Election::observe(const Client& client, std::string_view name,
                           Observer::Callback callback, asio::any_io_executor executor) {
  check_name(name, "observe");
  return etcdpp::detail::start_observer(client, std::string(name) + "/", std::move(callback),
                                        std::move(executor));
}

const std::string& Election::name() const noexcept { return state_->name; }
const std::string& Election::key() const noexcept { return state_->key; }

bool Election::is_leader() const noexcept {
  std::lock_guard lock(state_->mutex);
  return state_->leader;
}

std::int64_t Election::revision() const noexcept {
  std::lock_guard lock(state_->mutex);
  return state_->leader ? state_->key_revision : 0;
}

Compare Election::leader_compare() const {
  const auto revision = this->revision();
  if (revision == 0) {
    throw Error(make_error_code(Errc::not_elected),
                state_->what("leader_compare") + ": not the leader");
  }
  return etcdpp::detail::owner_compare(state_->key, revision);
}

}  // namespace concurrency
}  // namespace etcdpp
