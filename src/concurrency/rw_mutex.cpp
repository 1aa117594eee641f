// SPDX-License-Identifier: Apache-2.0
// RWMutex: the Go recipe's readers-writer lock (`<name>/read/<unix nanoseconds>`,
// `<name>/write/<unix nanoseconds>`), ordered by create revision, with the waiter's key checked
// after waiting.
#include "etcdpp/concurrency/rw_mutex.hpp"

#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>

#include "concurrency/recipe.hpp"

namespace etcdpp {
namespace detail {

class RWMutexState : public std::enable_shared_from_this<RWMutexState> {
 public:
  RWMutexState(std::shared_ptr<SessionCore> s, std::string_view n)
      : session(std::move(s)), name(n), prefix(std::string(n) + "/") {}

  const std::shared_ptr<SessionCore> session;
  const std::string name;
  const std::string prefix;

  mutable std::mutex mutex;
  bool held = false;
  bool closed = false;
  std::string key;                // the key this object made, while it has one
  std::int64_t key_revision = 0;  // its create revision
  std::uint64_t listener = 0;
  std::shared_ptr<Canceller> pending;

  std::string what(std::string_view call) const { return std::string(call) + " \"" + name + "\""; }

  void acquired() {
    std::lock_guard lock(mutex);
    if (closed) throw Error(make_error_code(Errc::cancelled), what("lock") + ": RWMutex destroyed");
    const auto id = session->subscribe([weak = weak_from_this()] {
      if (auto s = weak.lock()) {
        std::lock_guard l(s->mutex);
        s->held = false;
        s->listener = 0;
      }
    });
    if (id == 0) {
      throw Error(make_error_code(Errc::session_lost),
                  what("lock") + ": session " + to_string(session->state()));
    }
    listener = id;
    held = true;
  }
};

namespace {

using asio::use_awaitable;

/// Puts a new key `<prefix><unix nanoseconds>` on the lease; returns it and its revision.
asio::awaitable<std::pair<std::string, std::int64_t>> put_unique(const Client& client,
                                                                   const std::string& prefix,
                                                                   LeaseId lease) {
  for (;;) {
    const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    std::string key = prefix + std::to_string(nanos);
    const auto txn =
        Txn{}.if_(Compare::version(key) == 0).then(Op::put(key, "", {.lease = lease}));
    const TxnResult r = co_await client.async_txn(txn, use_awaitable);
    if (r.succeeded) co_return std::pair{std::move(key), r.header.revision};
  }
}

asio::awaitable<ResponseHeader> lock_op(std::shared_ptr<RWMutexState> s, bool write) {
  {
    std::lock_guard lock(s->mutex);
    if (!s->key.empty()) {
      throw Error(make_error_code(Errc::invalid_option),
                  s->what("lock") + ": this RWMutex holds or awaits the lock already");
    }
  }
  require_alive(*s->session, s->what("lock"));
  const Client& client = s->session->client;
  const std::string kind = s->prefix + (write ? "write/" : "read/");
  auto [key, revision] = co_await put_unique(client, kind, s->session->lease);
  {
    std::lock_guard lock(s->mutex);
    s->key = key;
    s->key_revision = revision;
  }
  // A reader waits for the writers before it; a writer for everyone before it.
  const std::string waits_for = write ? s->prefix : s->prefix + "write";
  std::exception_ptr failure;
  ResponseHeader header;
  try {
    header = co_await wait_predecessors(client, *s->session, waits_for, key, revision);
    s->acquired();
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    co_await asio::this_coro::reset_cancellation_state();
    co_await undo(client, key, revision);
    std::lock_guard lock(s->mutex);
    if (s->key_revision == revision) {
      s->key.clear();
      s->key_revision = 0;
    }
    std::rethrow_exception(failure);
  }
  co_return header;
}

asio::awaitable<bool> unlock_op(std::shared_ptr<RWMutexState> s) {
  std::string key;
  std::int64_t revision = 0;
  {
    std::lock_guard lock(s->mutex);
    s->held = false;
    if (s->listener != 0) s->session->unsubscribe(s->listener);
    s->listener = 0;
    key = s->key;
    revision = s->key_revision;
  }
  if (revision == 0) co_return false;
  const bool deleted = co_await delete_own(s->session->client, key, revision);
  std::lock_guard lock(s->mutex);
  if (s->key_revision == revision) {
    s->key.clear();
    s->key_revision = 0;
  }
  co_return deleted;
}

}  // namespace
}  // namespace detail

namespace concurrency {

RWMutex::RWMutex(const Session& session, std::string_view name) {
  if (name.empty()) {
    throw Error(make_error_code(Errc::invalid_option),
                "RWMutex: the name is empty; give the lock a name (its keys are <name>/...)");
  }
  state_ = std::make_shared<etcdpp::detail::RWMutexState>(
      etcdpp::detail::SessionAccess::core(session, "RWMutex"), name);
}

RWMutex::RWMutex(RWMutex&&) noexcept = default;

RWMutex& RWMutex::operator=(RWMutex&& other) noexcept {
  if (this != &other) {
    release();
    state_ = std::move(other.state_);
  }
  return *this;
}

RWMutex::~RWMutex() { release(); }

void RWMutex::release() noexcept {
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

asio::any_io_executor RWMutex::executor() const { return state_->session->client.executor(); }

void RWMutex::start_lock(const StatePtr& state, bool write,
                         etcdpp::detail::Callback<ResponseHeader> callback,
                         CancellerPtr canceller) {
  auto op = etcdpp::detail::chain(canceller);
  {
    std::lock_guard lock(state->mutex);
    state->pending = op;
  }
  etcdpp::detail::spawn<ResponseHeader>(
      state->session->client.executor(), std::move(callback), op,
      [state, write] { return etcdpp::detail::lock_op(state, write); });
}

void RWMutex::start_unlock(const StatePtr& state, etcdpp::detail::Callback<bool> callback,
                           CancellerPtr canceller) {
  etcdpp::detail::spawn<bool>(state->session->client.executor(), std::move(callback),
                              std::move(canceller),
                              [state] { return etcdpp::detail::unlock_op(state); });
}

void RWMutex::lock() {
  etcdpp::detail::wait_blocking<ResponseHeader>(
      "lock", state_->name, [this](auto cb) { start_lock(state_, true, std::move(cb), nullptr); });
}

void RWMutex::lock_shared() {
  etcdpp::detail::wait_blocking<ResponseHeader>("lock_shared", state_->name, [this](auto cb) {
    start_lock(state_, false, std::move(cb), nullptr);
  });
}

void RWMutex::unlock() noexcept {
  if (!state_) return;
  try {
    etcdpp::detail::wait_blocking<bool>(
        "unlock", state_->name, [this](auto cb) { start_unlock(state_, std::move(cb), nullptr); });
  } catch (...) {
    // The key stays until the session ends (see the documentation).
  }
}

const std::string& RWMutex::name() const noexcept { return state_->name; }

std::string RWMutex::key() const {
  std::lock_guard lock(state_->mutex);
  return state_->held ? state_->key : std::string();
}

bool RWMutex::held() const noexcept {
  std::lock_guard lock(state_->mutex);
  return state_->held;
}

std::int64_t RWMutex::revision() const noexcept {
  std::lock_guard lock(state_->mutex);
  return state_->held ? state_->key_revision : 0;
}

Compare RWMutex::owner_compare() const {
  std::lock_guard lock(state_->mutex);
  if (!state_->held) {
    etcdpp::detail::require_alive(*state_->session, state_->what("owner_compare"));
    throw Error(make_error_code(Errc::invalid_option),
                state_->what("owner_compare") + ": the lock is not held; lock it first");
  }
  return etcdpp::detail::owner_compare(state_->key, state_->key_revision);
}

}  // namespace concurrency
}  // namespace etcdpp
