// SPDX-License-Identifier: Apache-2.0
#include "etcdpp/concurrency/barrier.hpp"

#include <algorithm>

#include "concurrency/coroutine_calls.hpp"

namespace etcdpp::concurrency {
namespace detail {

struct DoubleBarrierState {
  Client client;
  std::string key;
  std::size_t count;
  LeaseId lease;
  std::string my_key;  // empty while not entered
  std::int64_t my_revision = 0;
};

namespace {

using etcdpp::detail::Deadline;

Error barrier_error(Errc code, std::string_view key, const std::string& what) {
  return Error(make_error_code(code), "double barrier \"" + std::string(key) + "\": " + what);
}

bool is_delete(const Event& e) { return e.type == Event::Type::delete_range; }

/// Waits for the delete of `key` after `revision`; false at the deadline.
asio::awaitable<bool> deleted_after(const Client& client, std::string key, std::int64_t revision,
                                    Deadline deadline) {
  // Options are named before co_await: GCC 12 mis-copies aggregate temporaries there (README).
  const WatchOptions deletes = etcdpp::detail::watch_from(revision + 1, etcdpp::detail::Only::deletes);
  const auto event =
      co_await etcdpp::detail::wait_event(client, std::move(key), deletes, is_delete, deadline);
  co_return event.has_value();
}

/// The barrier's key itself is read, not a prefix; while it is held, its delete is awaited
/// from the read's revision on, so a release in between is seen.
asio::awaitable<bool> barrier_wait(Client client, std::string key, Deadline deadline) {
  const GetOptions one_key;
  const GetResult held = co_await etcdpp::detail::co_get(client, key, one_key);
  if (held.kvs.empty()) co_return true;
  co_return co_await deleted_after(client, key, held.header.revision, deadline);
}

asio::awaitable<void> barrier_wait_forever(Client client, std::string key) {
  co_await barrier_wait(std::move(client), std::move(key), std::nullopt);
}

asio::awaitable<bool> enter(std::shared_ptr<DoubleBarrierState> state, Deadline deadline) {
  const Client& client = state->client;
  if (!state->my_key.empty()) {
    throw barrier_error(Errc::failed_precondition, state->key,
                        "entered already (as " + state->my_key + "); leave first");
  }
  const std::string waiters = state->key + "/waiters";
  // Refused before a key is made: a full barrier is left as it is.
  GetOptions count_only = etcdpp::detail::prefix_read();
  count_only.count_only = true;
  const GetResult in = co_await etcdpp::detail::co_get(client, waiters + "/", count_only);
  const auto full = [&] {
    return barrier_error(Errc::failed_precondition, state->key,
                         std::to_string(state->count) + " participants are in already");
  };
  if (in.count >= static_cast<std::int64_t>(state->count)) throw full();
  auto [my_key, my_revision] =
      co_await etcdpp::detail::put_unique(client, waiters, "", state->lease);
  // Others may have entered between the count and the put: the first `count` by creation are
  // in, and a later one takes its key back.
  GetOptions by_creation = etcdpp::detail::prefix_read();
  by_creation.sort_order = SortOrder::ascend;
  by_creation.sort_target = SortTarget::create_revision;
  const GetResult all = co_await etcdpp::detail::co_get(client, waiters + "/", by_creation);
  const auto mine = std::find_if(all.kvs.begin(), all.kvs.end(),
                                 [&](const KeyValue& kv) { return kv.key == my_key; });
  const auto index = static_cast<std::size_t>(mine - all.kvs.begin());
  if (mine == all.kvs.end() || index >= state->count) {
    co_await etcdpp::detail::co_delete(client, my_key);
    throw full();
  }
  state->my_key = my_key;
  state->my_revision = my_revision;
  if (index + 1 == state->count) {
    co_await etcdpp::detail::co_put(client, state->key + "/ready", "");
    co_return true;
  }
  const WatchOptions puts = etcdpp::detail::watch_from(my_revision + 1, etcdpp::detail::Only::puts);
  const auto ready = co_await etcdpp::detail::wait_event(
      client, state->key + "/ready", puts,
      [](const Event& e) { return e.type == Event::Type::put; }, deadline);
  co_return ready.has_value();
}

/// Leaving: the participant entered first (lowest mod revision) leaves last. It waits for the
/// others' keys to go, then deletes `ready` and its own key; every other one deletes its key
/// and waits for the first one's. A participant whose lease expired has no key, so nobody
/// waits for it.
asio::awaitable<bool> leave(std::shared_ptr<DoubleBarrierState> state, Deadline deadline) {
  const Client& client = state->client;
  const std::string waiters = state->key + "/waiters/";
  bool first_pass = true;
  const GetOptions every = etcdpp::detail::prefix_read();
  for (;;) {
    const GetResult in = co_await etcdpp::detail::co_get(client, waiters, every);
    const auto mine = std::find_if(in.kvs.begin(), in.kvs.end(),
                                   [&](const KeyValue& kv) { return kv.key == state->my_key; });
    if (first_pass && (state->my_key.empty() || mine == in.kvs.end())) {
      const std::string who = state->my_key.empty() ? "this participant never entered"
                                                    : "key " + state->my_key +
                                                          " is gone (its lease expired?)";
      state->my_key.clear();
      throw barrier_error(Errc::not_found, state->key, who + "; nothing to leave");
    }
    first_pass = false;
    if (in.kvs.empty()) {
      state->my_key.clear();
      co_return true;
    }
    const auto by_mod = [](const KeyValue& a, const KeyValue& b) {
      return a.mod_revision < b.mod_revision;
    };
    const KeyValue& lowest = *std::min_element(in.kvs.begin(), in.kvs.end(), by_mod);
    const KeyValue& highest = *std::max_element(in.kvs.begin(), in.kvs.end(), by_mod);
    if (mine != in.kvs.end() && in.kvs.size() == 1) {
      co_await etcdpp::detail::co_delete(client, state->key + "/ready");
      co_await etcdpp::detail::co_delete(client, state->my_key);
      state->my_key.clear();
      co_return true;
    }
    std::string awaited;
    if (mine != in.kvs.end() && mine->key == lowest.key) {
      awaited = highest.key;
    } else {
      if (mine != in.kvs.end()) co_await etcdpp::detail::co_delete(client, state->my_key);
      awaited = lowest.key;
    }
    if (!co_await deleted_after(client, awaited, in.header.revision, deadline)) co_return false;
  }
}

asio::awaitable<void> run_double_barrier(std::shared_ptr<DoubleBarrierState> state, bool entering) {
  if (entering) {
    co_await enter(std::move(state), std::nullopt);
  } else {
    co_await leave(std::move(state), std::nullopt);
  }
}

}  // namespace

void start_barrier_wait(const Client& client, const std::string& key,
                        asio::any_io_executor executor, etcdpp::detail::RecipeCallback<> callback) {
  etcdpp::detail::spawn(executor, barrier_wait_forever(client, key), std::move(callback));
}

void start_double_barrier(const std::shared_ptr<DoubleBarrierState>& state, bool entering,
                          asio::any_io_executor executor, etcdpp::detail::RecipeCallback<> callback) {
  etcdpp::detail::spawn(executor, run_double_barrier(state, entering), std::move(callback));
}

}  // namespace detail

Barrier::Barrier(Client client, std::string key)
    : client_(std::move(client)), key_(std::move(key)) {
  if (key_.empty()) {
    throw Error(make_error_code(Errc::invalid_option), "Barrier: the key is empty");
  }
}

bool Barrier::hold() const {
  return etcdpp::detail::block_on(client_, etcdpp::detail::put_new(client_, key_, "", {}))
      .has_value();
}
void Barrier::release() const { client_.delete_range(key_); }
void Barrier::wait() const {
  etcdpp::detail::block_on(client_, detail::barrier_wait(client_, key_, std::nullopt));
}
bool Barrier::wait(std::chrono::milliseconds timeout) const {
  return etcdpp::detail::block_on(
      client_, detail::barrier_wait(client_, key_, etcdpp::detail::deadline_in(timeout)));
}

DoubleBarrier::DoubleBarrier(Client client, std::string key, std::size_t count, LeaseId lease) {
  if (key.empty()) {
    throw Error(make_error_code(Errc::invalid_option), "DoubleBarrier: the key is empty");
  }
  if (count == 0) {
    throw Error(make_error_code(Errc::invalid_option),
                "double barrier \"" + key + "\": the count of participants must be at least 1");
  }
  state_ = std::make_shared<detail::DoubleBarrierState>(
      detail::DoubleBarrierState{std::move(client), std::move(key), count, lease, {}, 0});
}
DoubleBarrier::~DoubleBarrier() = default;
DoubleBarrier::DoubleBarrier(DoubleBarrier&&) noexcept = default;
DoubleBarrier& DoubleBarrier::operator=(DoubleBarrier&&) noexcept = default;

asio::any_io_executor DoubleBarrier::executor() const { return state_->client.executor(); }

void DoubleBarrier::enter() {
  etcdpp::detail::block_on(state_->client, detail::enter(state_, std::nullopt));
}
bool DoubleBarrier::enter(std::chrono::milliseconds timeout) {
  return etcdpp::detail::block_on(state_->client,
                                  detail::enter(state_, etcdpp::detail::deadline_in(timeout)));
}
void DoubleBarrier::leave() {
  etcdpp::detail::block_on(state_->client, detail::leave(state_, std::nullopt));
}
bool DoubleBarrier::leave(std::chrono::milliseconds timeout) {
  return etcdpp::detail::block_on(state_->client,
                                  detail::leave(state_, etcdpp::detail::deadline_in(timeout)));
}

}  // namespace etcdpp::concurrency
