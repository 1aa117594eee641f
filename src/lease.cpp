// SPDX-License-Identifier: Apache-2.0
// Leases: the unary calls, and the keeper that renews every kept-alive lease of a client over
// one LeaseKeepAlive stream.
//
// A lease lives at the server until its TTL runs out after the last renewal the server applied.
// The keeper cannot know when the server applied it, so it counts from when the request was
// sent (the earliest the server can have applied it): its deadline is never later than the
// server's, and "lost" is never reported late.
#include "lease_keeper.hpp"

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <map>
#include <set>

#include "client_core.hpp"
#include "detail/convert.hpp"
#include "detail/creation.hpp"
#include "detail/status.hpp"
#include "etcdpp/client.hpp"

namespace etcdpp {
namespace detail {
namespace {

constexpr transport::Method kLeaseGrant{"/etcdserverpb.Lease/LeaseGrant", false};
// Not idempotent: a revoke applied before a broken connection would be "lease not found" again.
constexpr transport::Method kLeaseRevoke{"/etcdserverpb.Lease/LeaseRevoke", false};
constexpr transport::Method kLeaseTimeToLive{"/etcdserverpb.Lease/LeaseTimeToLive", true};
constexpr transport::Method kLeaseLeases{"/etcdserverpb.Lease/LeaseLeases", true};
constexpr transport::Method kLeaseKeepAlive{"/etcdserverpb.Lease/LeaseKeepAlive", false};
constexpr auto kTick = std::chrono::milliseconds(100);

}  // namespace

LeaseTimeToLiveResult from_proto(pb::LeaseTimeToLiveResponse&& r) {
  // etcd answers -1 for a lease it no longer has. A lease whose time is up but that etcd has not
  // revoked yet (its leader looks for expired leases every half second and revokes them through
  // raft, so a busy or paused leader lags) it reports with the seconds since its expiry as a
  // negative TTL (-4): expired all the same, so -1 here too, its granted TTL kept.
  LeaseTimeToLiveResult out{from_proto(r.header()), static_cast<LeaseId>(r.id()),
                            std::chrono::seconds(r.ttl() < 0 ? -1 : r.ttl()),
                            std::chrono::seconds(r.grantedttl()), {}};
  for (auto& k : *r.mutable_keys()) out.keys.push_back(std::move(k));
  return out;
}

// ---- LeaseKeeper -----------------------------------------------------------------------------

class LeaseKeeper::Observer final : public transport::StreamObserver {
 public:
  Observer(std::weak_ptr<LeaseKeeper> k, std::uint64_t g) : keeper_(std::move(k)), gen_(g) {}
  void on_message(const transport::Message& m) override {
    if (auto k = keeper_.lock()) k->on_message(gen_, static_cast<const pb::LeaseKeepAliveResponse&>(m));
  }
  void on_done(const transport::Status& s) override {
    if (auto k = keeper_.lock()) k->on_done(gen_, s);
  }

 private:
  std::weak_ptr<LeaseKeeper> keeper_;
  std::uint64_t gen_;
};

LeaseKeeper::LeaseKeeper(transport::Transport& transport, asio::any_io_executor executor)
    : transport_(transport), timer_(executor), executor_(executor) {}

LeaseKeeper::~LeaseKeeper() { shutdown(); }

void LeaseKeeper::shutdown() {
  // Destroyed after the lock is released: a stream's destructor waits for its on_done.
  Slot slot;
  std::vector<Slot> dead;
  std::map<std::int64_t, std::vector<OnceWaiter>> waiting;
  {
    std::lock_guard lock(mutex_);
    if (closing_) return;
    closing_ = true;
    slot = std::move(current_);
    dead.swap(dead_);
    waiting.swap(once_);
    asio::post(executor_, [weak = weak_from_this()] {
      if (auto k = weak.lock()) k->timer_.cancel();
    });
  }
  // Answered, not dropped: an asynchronous waiter's handler holds work on its executor.
  for (auto& [id, waiters] : waiting) {
    for (auto& w : waiters) {
      w.done(CallStatus{make_error_code(Errc::cancelled), "the client is shutting down"}, {});
    }
  }
}

void LeaseKeeper::add(const std::shared_ptr<KeepAliveState>& state) {
  std::lock_guard lock(mutex_);
  wake_ticks_locked();
  {
    std::lock_guard s(state->mutex);
    state->next_send = Clock::now();
  }
  leases_.insert(state);
  renew_due_locked();
}

void LeaseKeeper::remove(const std::shared_ptr<KeepAliveState>& state) {
  std::lock_guard lock(mutex_);
  leases_.erase(state);
}

void LeaseKeeper::once(LeaseId id, Clock::time_point deadline,
                       std::function<void(CallStatus, LeaseKeepAliveResult)> done) {
  std::unique_lock lock(mutex_);
  if (closing_) {
    lock.unlock();
    done(CallStatus{make_error_code(Errc::cancelled), "the client is shutting down"}, {});
    return;
  }
  once_[static_cast<std::int64_t>(id)].push_back(OnceWaiter{deadline, std::move(done)});
  wake_ticks_locked();
  const bool fresh = !current_.stream || down_;
  ensure_stream_locked();  // a fresh stream sends for every waiting keep_alive_once
  if (!fresh) send_locked(static_cast<std::int64_t>(id));
}

void LeaseKeeper::wake_ticks_locked() {
  if (ticking_ || closing_) return;
  ticking_ = true;
  // The timer is only touched on the executor.
  asio::post(executor_, [weak = weak_from_this()] {
    if (auto k = weak.lock()) {
      std::lock_guard lock(k->mutex_);
      k->schedule_tick_locked();
    }
  });
}

void LeaseKeeper::schedule_tick_locked() {
  if (closing_ || (leases_.empty() && once_.empty())) {
    ticking_ = false;
    return;
  }
  timer_.expires_after(kTick);
  timer_.async_wait([weak = weak_from_this()](std::error_code ec) {
    auto k = weak.lock();
    if (!k) return;
    std::vector<Slot> dead;  // destroyed after the lock is released
    std::vector<OnceWaiter> expired;  // answered after the lock is released
    {
      std::lock_guard lock(k->mutex_);
      if (ec || k->closing_) {
        k->ticking_ = false;
        return;
      }
      dead.swap(k->dead_);
      k->take_expired_once_locked(Clock::now(), expired);
      k->renew_due_locked();
      k->schedule_tick_locked();
    }
    for (auto& w : expired) {
      w.done(CallStatus{make_error_code(Errc::deadline_exceeded),
                        "no answer to the renewal within the call timeout"},
             {});
    }
  });
}

void LeaseKeeper::take_expired_once_locked(Clock::time_point now, std::vector<OnceWaiter>& out) {
  for (auto it = once_.begin(); it != once_.end();) {
    auto& waiters = it->second;
    for (auto w = waiters.begin(); w != waiters.end();) {
      if (w->deadline <= now) {
        out.push_back(std::move(*w));
        w = waiters.erase(w);
      } else {
        ++w;
      }
    }
    it = waiters.empty() ? once_.erase(it) : std::next(it);
  }
}

void LeaseKeeper::ensure_stream_locked() {
  if (closing_ || refreshing_ || (current_.stream && !down_)) return;
  if (current_.stream) dead_.push_back(std::move(current_));
  down_ = false;
  ++generation_;
  current_.observer = std::make_unique<Observer>(weak_from_this(), generation_);
  stream_token_ = transport_.token();
  stream_opened_ = Clock::now();
  current_.stream = transport_.open_stream(
      kLeaseKeepAlive, [] { return std::make_unique<pb::LeaseKeepAliveResponse>(); },
      current_.observer.get());
  // Requests in flight on the old stream are lost with it: send again now.
  for (const auto& state : leases_) {
    std::lock_guard s(state->mutex);
    state->next_send = Clock::now();
  }
  for (const auto& entry : once_) send_locked(entry.first);
}

void LeaseKeeper::send_locked(std::int64_t id) {
  auto request = std::make_unique<pb::LeaseKeepAliveRequest>();
  request->set_id(id);
  current_.stream->write(std::move(request));
}

void LeaseKeeper::renew_due_locked() {
  if (leases_.empty() && once_.empty()) return;
  ensure_stream_locked();
  const auto now = Clock::now();
  if (current_.stream && !down_ && unanswered_too_long_locked(now)) {
    down_ = true;
    transport_.stream_failed(current_.stream->endpoint());
    current_.stream->cancel();
    ensure_stream_locked();  // on another endpoint; sends every renewal again
  }
  for (const auto& state : leases_) {
    std::lock_guard s(state->mutex);
    if (state->lost) continue;
    if (state->first_answer && now >= state->deadline) {
      state->lose_locked(LeaseLoss::expired, true);
      continue;
    }
    if (now >= state->next_send) {
      if (state->sent_at == Clock::time_point{}) state->sent_at = now;
      // Until answered, ask again every half second: a lost stream must not cost the lease.
      state->next_send = now + std::chrono::milliseconds(500);
      send_locked(static_cast<std::int64_t>(state->id));
    }
  }
}

bool LeaseKeeper::unanswered_too_long_locked(Clock::time_point now) const {
  for (const auto& state : leases_) {
    std::lock_guard s(state->mutex);
    if (state->lost || state->sent_at == Clock::time_point{}) continue;
    const auto since = std::max(state->sent_at, stream_opened_);
    // In milliseconds: a third of a whole number of seconds, in seconds, would be cut down to
    // one (a TTL of 2 s would wait 500 ms instead of 666, one of 5 s 1 s instead of 1.67).
    const auto limit = state->ttl > 0
                           ? std::max<Clock::duration>(std::chrono::milliseconds(500),
                                                       std::chrono::milliseconds(state->ttl * 1000) / 3)
                           : Clock::duration(std::chrono::seconds(1));
    if (now - since > limit) return true;
  }
  return false;
}

void LeaseKeeper::on_message(std::uint64_t gen, const pb::LeaseKeepAliveResponse& r) {
  std::vector<OnceWaiter> waiters;
  {
    std::lock_guard lock(mutex_);
    if (gen != generation_ || closing_) return;
    const auto now = Clock::now();
    for (const auto& state : leases_) {
      if (state->id != static_cast<LeaseId>(r.id())) continue;
      std::lock_guard s(state->mutex);
      if (state->lost) continue;
      if (r.ttl() <= 0) {
        // Gone at the server. Before our deadline only a revoke explains it.
        const bool kept = state->first_answer;
        const bool early = !kept || now < state->deadline;
        state->first_answer = true;
        state->lose_locked(early ? LeaseLoss::revoked : LeaseLoss::expired, kept);
        continue;
      }
      const auto sent = state->sent_at == Clock::time_point{} ? now : state->sent_at;
      state->ttl = r.ttl();
      state->deadline = sent + std::chrono::seconds(r.ttl());
      state->next_send = sent + std::chrono::milliseconds(r.ttl() * 1000 / 3);
      state->sent_at = {};
      state->first_answer = true;
      state->cv.notify_all();
      if (state->on_change) state->on_change();
    }
    auto it = once_.find(r.id());
    if (it != once_.end()) {
      waiters.swap(it->second);
      once_.erase(it);
    }
  }
  const LeaseKeepAliveResult result{from_proto(r.header()), static_cast<LeaseId>(r.id()),
                                    std::chrono::seconds(r.ttl())};
  for (auto& w : waiters) {
    if (r.ttl() <= 0) {
      w.done(CallStatus{make_error_code(Errc::lease_not_found),
                        "etcdserver: requested lease not found"},
             result);
    } else {
      w.done(CallStatus{}, result);
    }
  }
}

void LeaseKeeper::on_done(std::uint64_t gen, const transport::Status& status) {
  std::lock_guard lock(mutex_);
  if (gen != generation_ || closing_) return;
  down_ = true;
  if (transport::is_token_error(status.message) && transport_.has_credentials()) {
    // Refused for its token (neither etcd 3.4 nor 3.5 checks keep-alives; others may): the
    // next stream opens with a new one. A failed authentication leaves the leases to expire
    // and be reported lost, as a broken stream would.
    refreshing_ = true;
    // The answer may come at once, on this thread, under this lock: take it on the executor.
    transport_.refresh_token(stream_token_,
                             [weak = weak_from_this(), executor = executor_](transport::Status) {
                               asio::post(executor, [weak] {
                                 if (auto k = weak.lock()) {
                                   std::lock_guard keeper_lock(k->mutex_);
                                   k->refreshing_ = false;
                                 }
                               });
                             });
    return;
  }
  if (status.code != 1 && current_.stream) transport_.stream_failed(current_.stream->endpoint());
  // The next tick opens a stream on another endpoint and resends; keep_alive_once callers keep
  // waiting for it (within their own deadline).
}

std::shared_ptr<LeaseKeeper> ClientCore::lease_keeper() {
  std::lock_guard lock(hubs_mutex_);
  if (!lease_keeper_) {
    lease_keeper_ = std::make_shared<LeaseKeeper>(*transport_, executor_);
    lease_keeper_->start();
  }
  return lease_keeper_;
}

void ClientCore::shutdown_lease_keeper() {
  if (lease_keeper_) lease_keeper_->shutdown();
  lease_keeper_.reset();
}

}  // namespace detail

// ---- Client: leases ------------------------------------------------------------------------

namespace detail::calls {
namespace {
std::string lease_text(LeaseId id) {
  return "lease " + std::to_string(static_cast<std::int64_t>(id));
}
}  // namespace

void start(const CallContext& cx, LeaseGrant call, Callback<LeaseGrantResult> cb,
           CancellerPtr canceller) {
  cb = described("lease_grant", lease_text(call.id), std::move(cb));
  cx.core->call_with<pb::LeaseGrantRequest, pb::LeaseGrantResponse>(
      kLeaseGrant,
      [&](pb::LeaseGrantRequest& request) {
        request.set_ttl(call.ttl.count());
        request.set_id(static_cast<std::int64_t>(call.id));
      },
      cx.timeout, std::move(canceller), false,
      [cb = std::move(cb)](CallStatus status, pb::LeaseGrantResponse&& r) {
        if (!status.code && !r.error().empty()) status = call_status(9, r.error());
        cb(std::move(status), LeaseGrantResult{from_proto(r.header()), static_cast<LeaseId>(r.id()),
                                               std::chrono::seconds(r.ttl())});
      });
}

void start(const CallContext& cx, LeaseRevoke call, Callback<LeaseRevokeResult> cb,
           CancellerPtr canceller) {
  cb = described("lease_revoke", lease_text(call.id), std::move(cb));
  cx.core->call_with<pb::LeaseRevokeRequest, pb::LeaseRevokeResponse>(
      kLeaseRevoke,
      [&](pb::LeaseRevokeRequest& request) { request.set_id(static_cast<std::int64_t>(call.id)); },
      cx.timeout, std::move(canceller), false,
      [cb = std::move(cb)](CallStatus status, pb::LeaseRevokeResponse&& r) {
        cb(std::move(status), LeaseRevokeResult{from_proto(r.header())});
      });
}

void start(const CallContext& cx, LeaseTimeToLive call, Callback<LeaseTimeToLiveResult> cb,
           CancellerPtr canceller) {
  cb = described("lease_time_to_live", lease_text(call.id), std::move(cb));
  cx.core->call_with<pb::LeaseTimeToLiveRequest, pb::LeaseTimeToLiveResponse>(
      kLeaseTimeToLive,
      [&](pb::LeaseTimeToLiveRequest& request) {
        request.set_id(static_cast<std::int64_t>(call.id));
        request.set_keys(call.options.keys);
      },
      cx.timeout, std::move(canceller), false,
      [ns = cx.ns, cb = std::move(cb)](CallStatus status, pb::LeaseTimeToLiveResponse&& r) {
        LeaseTimeToLiveResult out = from_proto(std::move(r));
        // A lease is not namespaced, its keys are: a view sees those inside it, as its own.
        std::vector<std::string> inside;
        for (auto& k : out.keys) {
          if (!std::string_view(k).starts_with(ns)) continue;
          cut_namespace(ns, k);
          inside.push_back(std::move(k));
        }
        out.keys = std::move(inside);
        cb(std::move(status), std::move(out));
      });
}

void start(const CallContext& cx, LeaseLeases, Callback<std::vector<LeaseId>> cb,
           CancellerPtr canceller) {
  cb = described("lease_leases", "", std::move(cb));
  cx.core->call_with<pb::LeaseLeasesRequest, pb::LeaseLeasesResponse>(
      kLeaseLeases, [](pb::LeaseLeasesRequest&) {}, cx.timeout, std::move(canceller), false,
      [cb = std::move(cb)](CallStatus status, pb::LeaseLeasesResponse&& r) {
        std::vector<LeaseId> ids;
        for (const auto& l : r.leases()) ids.push_back(static_cast<LeaseId>(l.id()));
        cb(std::move(status), std::move(ids));
      });
}

void start(const CallContext& cx, LeaseKeepAliveOnce call, Callback<LeaseKeepAliveResult> cb,
           CancellerPtr) {
  cb = described("lease_keep_alive_once", lease_text(call.id), std::move(cb));
  // The renewal goes on the keep-alive stream, which has no deadline of its own: the keeper
  // answers within the call timeout, and forgets the request then.
  cx.core->lease_keeper()->once(call.id, transport::Clock::now() + cx.timeout, std::move(cb));
}

void start(const CallContext& cx, MakeKeepAlive call, Callback<etcdpp::KeepAlive> done,
           CancellerPtr canceller) {
  done = described("keep_alive", lease_text(call.id), std::move(done));
  auto executor = call.options.executor ? call.options.executor : cx.core->executor();
  auto state = std::make_shared<KeepAliveState>(call.id, std::move(call.options), executor);
  auto core = cx.core;
  // Done once the first renewal is answered (the lease exists, its deadline is known), or the
  // lease is found gone, or the deadline passes, or the caller cancels.
  auto decide = [state, core](bool timed_out, bool cancelled)
      -> std::optional<std::pair<CallStatus, etcdpp::KeepAlive>> {
    std::unique_lock lock(state->mutex);
    std::optional<CallStatus> failure;
    if (state->lost) {
      failure = CallStatus{make_error_code(Errc::lease_not_found),
                           "etcdserver: requested lease not found"};
    } else if (state->first_answer) {
      // Kept.
    } else if (cancelled) {
      failure = CallStatus{make_error_code(Errc::cancelled), "cancelled"};
    } else if (timed_out) {
      failure = CallStatus{make_error_code(Errc::deadline_exceeded),
                           "no answer to the first renewal within the call timeout"};
    } else {
      return std::nullopt;
    }
    state->on_change = nullptr;
    lock.unlock();
    etcdpp::KeepAlive handle = HandleAccess::keep_alive(state, core);
    if (failure) {
      handle.stop();
      return std::pair{std::move(*failure), etcdpp::KeepAlive{}};
    }
    return std::pair{CallStatus{}, std::move(handle)};
  };
  auto creation = std::make_shared<Creation<etcdpp::KeepAlive>>(cx.core->executor(),
                                                                std::move(decide), std::move(done));
  {
    std::lock_guard lock(state->mutex);
    state->on_change = [weak = std::weak_ptr(creation)] {
      if (auto c = weak.lock()) c->poke();
    };
  }
  creation->start(cx.timeout, canceller);
  cx.core->lease_keeper()->add(state);
}

}  // namespace detail::calls

KeepAlive Client::keep_alive(LeaseId id, KeepAliveOptions options) const {
  // The same state as async_keep_alive's, waited for on this thread rather than through the
  // executor, which the caller's thread may be the only one to run.
  const auto& core = context_.core;
  auto executor = options.executor ? options.executor : core->executor();
  auto state = std::make_shared<detail::KeepAliveState>(id, std::move(options), executor);
  KeepAlive handle = detail::HandleAccess::keep_alive(state, core);
  core->lease_keeper()->add(state);
  // Return once the first renewal is answered: the lease exists and its deadline is known.
  std::unique_lock lock(state->mutex);
  const bool answered =
      state->cv.wait_for(lock, context_.timeout, [&] { return state->first_answer; });
  const bool lost = state->lost;
  lock.unlock();
  const std::string what =
      "keep_alive \"lease " + std::to_string(static_cast<std::int64_t>(id)) + "\"";
  if (!answered) {
    handle.stop();
    throw_error(make_error_code(Errc::deadline_exceeded), what);
  }
  if (lost) {
    handle.stop();
    throw_error(make_error_code(Errc::lease_not_found), what);
  }
  return handle;
}

// ---- KeepAlive -----------------------------------------------------------------------------

KeepAlive::KeepAlive(KeepAlive&&) noexcept = default;
KeepAlive& KeepAlive::operator=(KeepAlive&& other) noexcept {
  if (this != &other) {
    stop();
    client_ = std::move(other.client_);
    state_ = std::move(other.state_);
  }
  return *this;
}
KeepAlive::~KeepAlive() { stop(); }

LeaseId KeepAlive::id() const noexcept { return state_ ? state_->id : LeaseId{}; }
bool KeepAlive::alive() const noexcept {
  if (!state_) return false;
  std::lock_guard lock(state_->mutex);
  return !state_->lost;
}
LeaseLoss KeepAlive::loss() const noexcept {
  if (!state_) return LeaseLoss::expired;
  std::lock_guard lock(state_->mutex);
  return state_->loss;
}
std::chrono::seconds KeepAlive::ttl() const noexcept {
  if (!state_) return std::chrono::seconds(0);
  std::lock_guard lock(state_->mutex);
  return std::chrono::seconds(state_->ttl);
}

void KeepAlive::stop() noexcept {
  if (!state_) return;
  auto state = std::move(state_);
  auto core = std::move(client_);
  core->lease_keeper()->remove(state);
  if (state->options.revoke_on_destroy) {
    try {
      auto request = std::make_unique<detail::pb::LeaseRevokeRequest>();
      request->set_id(static_cast<std::int64_t>(state->id));
      detail::Waiter<int> waiter;
      core->call<detail::pb::LeaseRevokeResponse>(
          detail::kLeaseRevoke, std::move(request), std::chrono::seconds(2), nullptr, false,
          [cb = waiter.callback()](detail::CallStatus s, detail::pb::LeaseRevokeResponse&&) {
            cb(std::move(s), 0);
          });
      std::optional<int> ignored;
      waiter.wait(ignored);
    } catch (...) {
      // Best effort: the lease then expires on its own.
    }
  }
}

}  // namespace etcdpp
