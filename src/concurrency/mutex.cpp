// SPDX-License-Identifier: Apache-2.0
// Mutex: the Go client's lock (key `<name>/<lease hex>`, the holder is the oldest key, a waiter
// watches its predecessor), with three fixes: a waiter re-reads its key after waiting and fails
// with session_lost if it went; unlock is fenced on the key's create revision; the holder hears
// of a lost session.
#include "etcdpp/concurrency/mutex.hpp"

#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "concurrency/recipe.hpp"

namespace etcdpp {
namespace detail {

class MutexState {
 public:
  MutexState(std::shared_ptr<SessionCore> s, std::string_view n, concurrency::MutexOptions o)
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
  const concurrency::MutexOptions options;
  const asio::any_io_executor executor;

  mutable std::mutex mutex;
  bool held = false;
  bool closed = false;            // the Mutex is gone: a lock that completes now is undone
  std::int64_t key_revision = 0;  // the create revision of the key this lock made or found
  ResponseHeader header;
  std::uint64_t listener = 0;
  std::shared_ptr<Canceller> pending;

  std::string what(std::string_view call) const { return std::string(call) + " \"" + name + "\""; }

  /// A new operation's canceller, which a caller's canceller (if any) and the destructor reach.
  std::shared_ptr<Canceller> begin(const std::shared_ptr<Canceller>& caller) {
    auto op = chain(caller);
    std::lock_guard lock(mutex);
    pending = op;
    return op;
  }

  /// Records the lock as taken, and listens for the session's loss.
  void acquired(std::int64_t revision, const ResponseHeader& at, std::shared_ptr<MutexState> self) {
    std::lock_guard lock(mutex);
    key_revision = revision;
    if (closed) throw Error(make_error_code(Errc::cancelled), what("lock") + ": Mutex destroyed");
    const auto id = session->subscribe([weak = std::weak_ptr<MutexState>(self)] {
      if (auto s = weak.lock()) s->lost();
    });
    if (id == 0) {
      throw Error(make_error_code(Errc::session_lost),
                  what("lock") + ": session " + to_string(session->state()));
    }
    listener = id;
    held = true;
    header = at;
  }

  /// No longer held; returns the revision to delete at (0: nothing to delete).
  std::int64_t released() {
    std::lock_guard lock(mutex);
    held = false;
    if (listener != 0) session->unsubscribe(listener);
    listener = 0;
    return key_revision;
  }

 private:
  void lost() {
    {
      std::lock_guard lock(mutex);
      if (!held) return;
      held = false;
      listener = 0;
    }
    if (options.on_lost) {
      asio::post(executor, [cb = options.on_lost] { cb(make_error_code(Errc::session_lost)); });
    }
  }
};

namespace {

using asio::use_awaitable;

const std::string kNoValue;  // a lock's key holds no value

/// Deletes the key a failed lock made; never throws (the session's end removes it otherwise).
asio::awaitable<void> undo(std::shared_ptr<MutexState> s, std::int64_t revision) {
  co_await detail::undo(s->session->client, s->key, revision);
  std::lock_guard lock(s->mutex);
  if (s->key_revision == revision) s->key_revision = 0;
}

asio::awaitable<ResponseHeader> lock_op(std::shared_ptr<MutexState> s) {
  {
    std::lock_guard lock(s->mutex);
    if (s->held) co_return s->header;
  }
  require_alive(*s->session, s->what("lock"));
  const Client& client = s->session->client;
  const Place place = co_await enqueue(client, s->prefix, s->key, kNoValue, s->session->lease);
  ResponseHeader header = place.header;
  std::exception_ptr failure;
  try {
    if (!place.first) {
      header = co_await wait_predecessors(client, *s->session, s->prefix, s->key, place.revision);
    }
    s->acquired(place.revision, header, s);
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    // A key found (not made) here belongs to another lock of the same session: leave it.
    if (place.created) {
      // A cancelled coroutine throws at its next co_await unless its state is reset.
      co_await asio::this_coro::reset_cancellation_state();
      co_await undo(s, place.revision);
    }
    std::rethrow_exception(failure);
  }
  co_return header;
}

asio::awaitable<bool> try_lock_op(std::shared_ptr<MutexState> s) {
  {
    std::lock_guard lock(s->mutex);
    if (s->held) co_return true;
  }
  require_alive(*s->session, s->what("try_lock"));
  const Place place =
      co_await enqueue(s->session->client, s->prefix, s->key, kNoValue,
                                       s->session->lease);
  std::exception_ptr failure;
  if (place.first) {
    try {
      s->acquired(place.revision, place.header, s);
      co_return true;
    } catch (...) {
      failure = std::current_exception();
    }
  }
  if (place.created) {
      // A cancelled coroutine throws at its next co_await unless its state is reset.
      co_await asio::this_coro::reset_cancellation_state();
      co_await undo(s, place.revision);
    }
  if (failure) std::rethrow_exception(failure);
  co_return false;
}

asio::awaitable<bool> unlock_op(std::shared_ptr<MutexState> s) {
  const std::int64_t revision = s->released();
  if (revision == 0) co_return false;
  // Fenced on the create revision: a repeated unlock cannot delete a later holder's key.
  const bool deleted = co_await delete_own(s->session->client, s->key, revision);
  std::lock_guard lock(s->mutex);
  if (!s->held && s->key_revision == revision) s->key_revision = 0;
  co_return deleted;
}


}  // namespace
}  // namespace detail

namespace concurrency {

Mutex::Mutex(const Session& session, std::string_view name, MutexOptions options) {
  if (name.empty()) {
    throw Error(make_error_code(Errc::invalid_option),
                "Mutex: the name is empty; give the lock a name (its keys are <name>/...)");
  }
  state_ = std::make_shared<etcdpp::detail::MutexState>(
      etcdpp::detail::SessionAccess::core(session, "Mutex"), name, std::move(options));
}

Mutex::Mutex(Mutex&&) noexcept = default;

Mutex& Mutex::operator=(Mutex&& other) noexcept {
  if (this != &other) {
    release();
    state_ = std::move(other.state_);
  }
  return *this;
}

Mutex::~Mutex() { release(); }

void Mutex::release() noexcept {
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
  if (has_key) unlock();
  state_.reset();
}

asio::any_io_executor Mutex::executor() const { return state_->executor; }

void Mutex::start_lock(const StatePtr& state, etcdpp::detail::Callback<ResponseHeader> callback,
                       CancellerPtr canceller) {
  etcdpp::detail::spawn<ResponseHeader>(state->session->client.executor(), std::move(callback),
                                        state->begin(canceller),
                                        [state] { return etcdpp::detail::lock_op(state); });
}

void Mutex::start_try_lock(const StatePtr& state, etcdpp::detail::Callback<bool> callback,
                           CancellerPtr canceller) {
  etcdpp::detail::spawn<bool>(state->session->client.executor(), std::move(callback),
                              state->begin(canceller),
                              [state] { return etcdpp::detail::try_lock_op(state); });
}

void Mutex::start_unlock(const StatePtr& state, etcdpp::detail::Callback<bool> callback,
                         CancellerPtr canceller) {
  // Not through begin(): an unlock is not what the destructor cancels.
  etcdpp::detail::spawn<bool>(state->session->client.executor(), std::move(callback),
                              std::move(canceller),
                              [state] { return etcdpp::detail::unlock_op(state); });
}

void Mutex::lock() {
  etcdpp::detail::wait_blocking<ResponseHeader>(
      "lock", state_->name, [this](auto cb) { start_lock(state_, std::move(cb), nullptr); });
}

bool Mutex::try_lock() {
  return etcdpp::detail::wait_blocking<bool>(
      "try_lock", state_->name, [this](auto cb) { start_try_lock(state_, std::move(cb), nullptr); });
}

void Mutex::unlock() noexcept {
  if (!state_) return;
  try {
    etcdpp::detail::wait_blocking<bool>(
        "unlock", state_->name, [this](auto cb) { start_unlock(state_, std::move(cb), nullptr); });
  } catch (...) {
    // The key stays until the session ends (see the documentation).
  }
}

const std::string& Mutex::name() const noexcept { return state_->name; }
const std::string& Mutex::key() const noexcept { return state_->key; }

bool Mutex::held() const noexcept {
  std::lock_guard lock(state_->mutex);
  return state_->held;
}

std::int64_t Mutex::revision() const noexcept {
  std::lock_guard lock(state_->mutex);
  return state_->held ? state_->key_revision : 0;
}

ResponseHeader Mutex::header() const noexcept {
  std::lock_guard lock(state_->mutex);
  return state_->header;
}

Compare Mutex::owner_compare() const {
  const auto revision = this->revision();
  if (revision == 0) {
    etcdpp::detail::require_alive(*state_->session, state_->what("owner_compare"));
    throw Error(make_error_code(Errc::invalid_option),
                state_->what("owner_compare") + ": the lock is not held; lock it first");
  }
  return etcdpp::detail::owner_compare(state_->key, revision);
}

}  // namespace concurrency
}  // namespace etcdpp
