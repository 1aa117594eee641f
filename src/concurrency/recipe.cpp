// SPDX-License-Identifier: Apache-2.0
// The pieces every concurrency recipe uses: the Client calls they make, the coroutine bridge,
// and the queue of keys ordered by create revision (the Go client's lock and election, key
// for key and compare for compare, so that both contend correctly on one name).
#include "concurrency/recipe.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/redirect_error.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <cstdio>

namespace etcdpp::detail {

using asio::use_awaitable;

// ---- The Client calls that change shape soon ---------------------------------------------

asio::awaitable<LeaseGrantResult> grant_lease(const Client& client, std::chrono::seconds ttl) {
  co_return co_await client.async_lease_grant(ttl, LeaseId{}, use_awaitable);
}

asio::awaitable<KeepAlive> keep_lease_alive(const Client& client, LeaseId lease,
                                            asio::any_io_executor executor,
                                            std::function<void(LeaseLoss)>&& on_lost) {
  // Named before the co_await (GCC 12: no aggregate temporary or capturing lambda inside one).
  KeepAliveOptions options;
  options.on_lost = [on_lost = std::move(on_lost)](LeaseId, LeaseLoss why) { on_lost(why); };
  options.executor = std::move(executor);
  co_return co_await client.async_keep_alive(lease, options, use_awaitable);
}

asio::awaitable<Watch> open_watch(const Client& client, std::string_view key, bool prefix,
                                  std::int64_t start_revision, asio::any_io_executor executor,
                                  Watch::Callback&& callback) {
  WatchOptions options;  // named before the co_await, as above
  options.prefix = prefix;
  options.start_revision = start_revision;
  options.executor = std::move(executor);
  const Watch::Callback on_batch = std::move(callback);
  co_return co_await client.async_watch(key, options, on_batch, use_awaitable);
}

// ---- Session ------------------------------------------------------------------------------

asio::awaitable<void> SessionCore::start_keep_alive() {
  // Named before the co_await: GCC 12 destroys a capturing lambda made inside a co_await
  // expression twice (its shared_ptr captures are released twice, and the heap corrupted).
  std::function<void(LeaseLoss)> on_lost = [weak = weak_from_this()](LeaseLoss why) {
    if (auto self = weak.lock()) {
      self->lose(why == LeaseLoss::revoked ? concurrency::SessionState::revoked
                                           : concurrency::SessionState::expired);
    }
  };
  auto keep = co_await keep_lease_alive(client, lease, executor_, std::move(on_lost));
  std::lock_guard lock(mutex_);
  // Closed meanwhile (the Session went while it was being made): stop at once.
  if (state_ == concurrency::SessionState::closed) {
    keep.stop();
    co_return;
  }
  keep_alive_ = std::move(keep);
}

concurrency::SessionState SessionCore::state() const {
  std::lock_guard lock(mutex_);
  return state_;
}

std::uint64_t SessionCore::subscribe(std::function<void()> listener) {
  std::lock_guard lock(mutex_);
  if (state_ != concurrency::SessionState::alive) return 0;
  const auto id = next_listener_++;
  listeners_.emplace(id, std::move(listener));
  return id;
}

void SessionCore::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  listeners_.erase(id);
}

std::map<std::uint64_t, std::function<void()>> SessionCore::end_locked(
    concurrency::SessionState state) {
  if (state_ != concurrency::SessionState::alive) return {};
  state_ = state;
  return std::move(listeners_);
}

void SessionCore::lose(concurrency::SessionState why) {
  std::map<std::uint64_t, std::function<void()>> listeners;
  {
    std::lock_guard lock(mutex_);
    if (state_ != concurrency::SessionState::alive) return;  // closed (or lost) before
    listeners = end_locked(why);
  }
  for (auto& [id, listener] : listeners) listener();
  // Runs on the session's executor already (the keep-alive's on_lost).
  if (on_lost_) {
    try {
      on_lost_(why);
    } catch (...) {
      // The owner's callback must not take the executor's thread down.
    }
  }
}

void SessionCore::close(bool revoke) {
  std::map<std::uint64_t, std::function<void()>> listeners;
  KeepAlive keep;
  bool was_alive = false;
  {
    std::lock_guard lock(mutex_);
    was_alive = state_ == concurrency::SessionState::alive;
    listeners = end_locked(concurrency::SessionState::closed);
    if (!was_alive) state_ = concurrency::SessionState::closed;
    keep = std::move(keep_alive_);
  }
  keep.stop();
  for (auto& [id, listener] : listeners) listener();
  if (!revoke || !was_alive) return;
  try {
    // Bounded: a lease that cannot be revoked expires after its TTL anyway.
    client.with_timeout(std::min<std::chrono::milliseconds>(ttl, std::chrono::seconds(5)))
        .lease_revoke(lease);
  } catch (const Error& e) {
    if (e.code() != Errc::lease_not_found) throw;
  }
}

void require_alive(const SessionCore& session, std::string_view what) {
  if (session.state() != concurrency::SessionState::alive) {
    throw Error(make_error_code(Errc::session_lost),
                std::string(what) + ": session " + to_string(session.state()) + " (lease " +
                    lease_hex(session.lease) + ")");
  }
}

std::string lease_hex(LeaseId lease) {
  const auto id = static_cast<std::int64_t>(lease);
  char buffer[24];
  if (id < 0) {
    std::snprintf(buffer, sizeof buffer, "-%llx",
                  0ULL - static_cast<unsigned long long>(id));
  } else {
    std::snprintf(buffer, sizeof buffer, "%llx", static_cast<unsigned long long>(id));
  }
  return buffer;
}

// ---- Coroutine bridge ---------------------------------------------------------------------

CallStatus status_of(const std::exception_ptr& e) {
  if (!e) return {};
  try {
    std::rethrow_exception(e);
  } catch (const std::system_error& error) {
    if (error.code() == std::errc::operation_canceled ||
        error.code() == asio::error::operation_aborted) {
      return {make_error_code(Errc::cancelled), "cancelled", nullptr};
    }
    // etcdpp's own exceptions reach the handler as they are: the same type and words as the
    // blocking face's.
    if (dynamic_cast<const Error*>(&error) != nullptr) return {error.code(), error.what(), e};
    return {error.code(), error.what(), nullptr};
  } catch (const std::exception& error) {
    return {make_error_code(Errc::unknown), error.what(), nullptr};
  } catch (...) {
    return {make_error_code(Errc::unknown), "unknown exception", nullptr};
  }
}

asio::awaitable<void> throw_if_cancelled() {
  const auto state = co_await asio::this_coro::cancellation_state;
  if (state.cancelled() != asio::cancellation_type::none) {
    throw Error(make_error_code(Errc::cancelled), "cancelled");
  }
}

void Wakeup::notify(std::function<void()> change) {
  asio::post(strand_, [self = shared_from_this(), change = std::move(change)] {
    if (change) change();
    self->timer_.cancel();
  });
}

asio::awaitable<void> Wakeup::wait() {
  timer_.expires_at(asio::steady_timer::time_point::max());
  std::error_code ec;
  co_await timer_.async_wait(asio::redirect_error(use_awaitable, ec));
  co_await throw_if_cancelled();
}

// ---- The queue ----------------------------------------------------------------------------

namespace {
GetOptions first_created() {
  return {.range_end = {},
          .prefix = true,
          .limit = 1,
          .sort_order = SortOrder::ascend,
          .sort_target = SortTarget::create_revision};
}
}  // namespace

asio::awaitable<Place> enqueue(const Client& client, const std::string& prefix,
                               const std::string& key, const std::string& value, LeaseId lease) {
  auto txn = Txn{}
                 .if_(Compare::create_revision(key) == 0)
                 .then({Op::put(key, value, {.lease = lease}), Op::get(prefix, first_created())})
                 .else_({Op::get(key), Op::get(prefix, first_created())});
  auto [error, r] = co_await client.async_txn(txn, asio::experimental::as_tuple(use_awaitable));
  // The lease is gone before the keep-alive has noticed: the session is lost.
  if (error_code_of(error) == Errc::lease_not_found) {
    throw Error(make_error_code(Errc::session_lost),
                "\"" + key + "\": the session's lease " + lease_hex(lease) + " is gone");
  }
  if (error) std::rethrow_exception(error);
  Place place;
  place.header = r.header;
  place.created = r.succeeded;
  if (r.succeeded) {
    place.revision = r.header.revision;
  } else {
    const auto& mine = r.responses.at(0).get().kvs;
    // The compare saw the key; the get in the same transaction cannot miss it.
    place.revision = mine.at(0).create_revision;
    place.value = mine.at(0).value;
  }
  const auto& owner = r.responses.at(1).get().kvs;
  place.first = owner.empty() || owner.front().create_revision == place.revision;
  co_return place;
}

asio::awaitable<ResponseHeader> wait_predecessors(const Client& client, SessionCore& session,
                                                  const std::string& prefix,
                                                  const std::string& key, std::int64_t revision) {
  const auto strand = co_await asio::this_coro::executor;
  struct Flags {
    bool predecessor_gone = false;
    bool mine_gone = false;
    bool session_lost = false;
    std::error_code watch_error;
  };
  auto flags = std::make_shared<Flags>();
  auto wake = std::make_shared<Wakeup>(strand);
  const auto listener = session.subscribe([wake, flags] {
    wake->notify([flags] { flags->session_lost = true; });
  });
  struct Unsubscribe {
    SessionCore& session;
    std::uint64_t id;
    ~Unsubscribe() {
      if (id != 0) session.unsubscribe(id);
    }
  } unsubscribe{session, listener};
  const auto lost = [&](const char* why) {
    return Error(make_error_code(Errc::session_lost),
                 "\"" + key + "\": " + why + " (lease " + lease_hex(session.lease) + ")");
  };
  if (listener == 0) throw lost("the session ended while waiting");

  // My own key going (its lease revoked or expired, or someone deleted it) ends the wait at
  // once: a waiter without a key must not wait for its predecessor and then "acquire".
  // The watches' callbacks are made outside the co_await expressions (see start_keep_alive).
  const auto on_delete = [&wake, &flags](bool Flags::*gone) -> Watch::Callback {
    return [wake, flags, gone](std::error_code ec, WatchBatch batch) {
      for (const auto& e : batch.events) {
        if (e.type == Event::Type::delete_range) (*flags).*gone = true;
      }
      if (ec) flags->watch_error = ec;
      wake->notify({});
    };
  };
  Watch::Callback on_mine = on_delete(&Flags::mine_gone);
  Watch mine = co_await open_watch(client, key, false, revision + 1, strand, std::move(on_mine));
  const GetOptions predecessor{.range_end = {},
                               .prefix = true,
                               .limit = 1,
                               .sort_order = SortOrder::descend,
                               .sort_target = SortTarget::create_revision,
                               .max_create_revision = revision - 1};
  const auto check = [&] {
    if (flags->session_lost) throw lost("the session ended while waiting");
    if (flags->mine_gone) throw lost("the key was deleted while waiting");
    if (flags->watch_error) throw Error(flags->watch_error, "watch \"" + key + "\"");
  };
  for (;;) {
    check();
    const GetResult before = co_await client.async_get(prefix, predecessor, use_awaitable);
    if (before.kvs.empty()) break;
    flags->predecessor_gone = false;
    // Only the direct predecessor is watched: when it goes, only this waiter looks again.
    Watch::Callback on_predecessor = on_delete(&Flags::predecessor_gone);
    Watch watch = co_await open_watch(client, before.kvs.front().key, false,
                                      before.header.revision + 1, strand,
                                      std::move(on_predecessor));
    while (!flags->predecessor_gone) {
      check();
      co_await wake->wait();
    }
    watch.cancel();
  }
  // Confirm the key is still mine: a lease lost at the last moment must not give the lock.
  const GetOptions one{};
  const GetResult now = co_await client.async_get(key, one, use_awaitable);
  if (now.kvs.empty() || now.kvs.front().create_revision != revision) {
    throw lost("the key was deleted while waiting");
  }
  check();
  co_return now.header;
}

asio::awaitable<bool> delete_own(const Client& client, const std::string& key,
                                 std::int64_t revision) {
  // Built before the co_await: GCC 12 mis-copies aggregate temporaries inside one.
  const auto txn = Txn{}.if_(owner_compare(key, revision)).then(Op::delete_range(key));
  const TxnResult r = co_await client.async_txn(txn, use_awaitable);
  co_return r.succeeded;
}

asio::awaitable<void> undo(const Client& client, const std::string& key, std::int64_t revision) {
  co_await asio::this_coro::reset_cancellation_state();
  co_await asio::this_coro::throw_if_cancelled(false);
  try {
    co_await delete_own(client, key, revision);
  } catch (const std::exception&) {
  }
}

}  // namespace etcdpp::detail
