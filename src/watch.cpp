// SPDX-License-Identifier: Apache-2.0
// Watches: the hub that multiplexes them on one stream and resumes them after failures, and the
// per-watch delivery to a callback or to next()/async_next().
//
// Revisions are the whole story. Each watch remembers next_revision, the first revision it has
// not received. A (re)created server watch starts there, and any event below it is dropped, so
// a resume neither loses nor repeats an event. Progress notifications never move next_revision:
// etcd 3.4 may send a progress answer ahead of events still queued for a slow watcher.
#include "watch_hub.hpp"

#include <asio/post.hpp>
#include <asio/system_executor.hpp>
#include <random>

#include "client_core.hpp"
#include "detail/convert.hpp"
#include "detail/creation.hpp"
#include "detail/status.hpp"

namespace etcdpp {
namespace detail {
namespace {

namespace pb = etcdserverpb;
constexpr transport::Method kWatch{"/etcdserverpb.Watch/Watch", false};
constexpr auto kTick = std::chrono::milliseconds(250);
constexpr std::size_t kBatchesPerDrain = 16;

Event from_proto(std::string_view ns, const mvccpb::Event& e) {
  Event out;
  out.type = e.type() == mvccpb::Event::DELETE ? Event::Type::delete_range : Event::Type::put;
  out.kv = detail::from_proto(e.kv(), ns);
  if (e.has_prev_kv()) out.prev_kv = detail::from_proto(e.prev_kv(), ns);
  return out;
}

/// The error of a watch that etcd cancelled: its reason ("rpc error: code = PermissionDenied
/// desc = etcdserver: permission denied") when it is one of etcd's errors, else watch_canceled.
std::error_code cancel_error(std::string_view reason) {
  const auto at = reason.find("etcdserver: ");
  if (at != std::string_view::npos) {
    const auto ec = error_from_status(static_cast<int>(Errc::unknown), reason.substr(at));
    if (ec != Errc::unknown) return ec;
  }
  return make_error_code(Errc::watch_canceled);
}

bool is_token_error(std::error_code ec) {
  return ec == Errc::invalid_auth_token || ec == Errc::user_empty || ec == Errc::auth_old_revision;
}

}  // namespace

// ---- WatchState ----------------------------------------------------------------------------

namespace {

/// The options a watch keeps: its range is in key and range_end, and WatchOptions::range_end is
/// a view of the caller's bytes, which need not outlive the watch's creation.
WatchOptions without_range_end(WatchOptions o) {
  o.range_end = {};
  return o;
}

}  // namespace

WatchState::WatchState(std::string_view n, std::string_view k, const WatchOptions& o,
                       Watch::Callback cb, asio::any_io_executor ex)
    : WatchState(n, k, key_range(n, k, o.range_end, o.prefix, o.from_key), o, std::move(cb),
                 std::move(ex)) {}

WatchState::WatchState(std::string_view n, std::string_view k, KeyRange range,
                       const WatchOptions& o, Watch::Callback cb, asio::any_io_executor ex)
    : ns(n),
      name(k),
      key(std::move(range.key)),
      range_end(std::move(range.range_end)),
      options(without_range_end(o)),
      callback(std::move(cb)),
      executor(std::move(ex)),
      next_revision(o.start_revision) {}

void WatchState::push_locked(WatchBatch batch) {
  pending_events += batch.events.size();
  queue.push_back(std::move(batch));
  deliver_locked();
}

void WatchState::end_locked(std::error_code ec) {
  if (ended || cancelled) return;
  ended = true;
  final_error = ec;
  cv.notify_all();
  if (on_change) on_change();
  deliver_locked();
}

void WatchState::deliver_locked() {
  cv.notify_all();
  if (callback) {
    if (!dispatching && !cancelled) {
      dispatching = true;
      asio::post(executor, [self = shared_from_this()] { self->drain(); });
    }
    return;
  }
  if (!waiter) return;
  if (!queue.empty()) {
    auto w = std::move(waiter);
    waiter = nullptr;
    if (waiter_canceller) waiter_canceller->clear_action();
    WatchBatch batch = std::move(queue.front());
    queue.pop_front();
    pending_events -= batch.events.size();
    w(CallStatus{}, std::move(batch));
  } else if (ended && !final_delivered) {
    final_delivered = true;
    auto w = std::move(waiter);
    waiter = nullptr;
    w(CallStatus{final_error, {}, final_exception_locked()}, WatchBatch{});
  }
}

std::exception_ptr WatchState::final_exception_locked() const {
  const std::string what = "watch \"" + name + "\"";
  if (final_error == Errc::compacted) {
    return std::make_exception_ptr(CompactedError(
        what + ": revision " + std::to_string(next_revision) +
            ", the first this watch has not received, is compacted (the store was compacted at "
            "revision " + std::to_string(compacted_revision) +
            "); read the range again and watch from the revision after that read",
        compacted_revision));
  }
  return std::make_exception_ptr(Error(final_error, what));
}

void WatchState::after_pop_locked(std::unique_lock<std::mutex>& lock) {
  if (!paused || cancelled || ended || pending_events > options.max_pending_events / 2) return;
  paused = false;
  auto h = hub.lock();
  lock.unlock();
  if (h) h->resume(shared_from_this());
  lock.lock();
}

void WatchState::drain() {
  std::unique_lock lock(mutex);
  for (std::size_t n = 0;; ++n) {
    if (cancelled || (queue.empty() && (!ended || final_delivered))) {
      dispatching = false;
      cv.notify_all();
      return;
    }
    if (n == kBatchesPerDrain) {
      // Let other work on the executor run; continue in a fresh turn.
      asio::post(executor, [self = shared_from_this()] { self->drain(); });
      return;
    }
    std::error_code ec;
    WatchBatch batch;
    if (!queue.empty()) {
      batch = std::move(queue.front());
      queue.pop_front();
      pending_events -= batch.events.size();
    } else {
      ec = final_error;
      final_delivered = true;
    }
    callback_thread = std::this_thread::get_id();
    lock.unlock();
    try {
      callback(ec, std::move(batch));
    } catch (...) {
      // A callback that throws must not take the executor's thread down; it has been told.
    }
    lock.lock();
    callback_thread = {};
    cv.notify_all();
    after_pop_locked(lock);
  }
}

// ---- WatchHub ------------------------------------------------------------------------------

class WatchHub::Observer final : public transport::StreamObserver {
 public:
  Observer(std::weak_ptr<WatchHub> hub, std::uint64_t generation)
      : hub_(std::move(hub)), generation_(generation) {}
  void on_message(const transport::Message& message) override {
    if (auto h = hub_.lock()) {
      h->on_message(generation_, static_cast<const pb::WatchResponse&>(message));
    }
  }
  void on_done(const transport::Status& status) override {
    if (auto h = hub_.lock()) h->on_done(generation_, status);
  }

 private:
  std::weak_ptr<WatchHub> hub_;
  std::uint64_t generation_;
};

WatchHub::WatchHub(transport::Transport& transport, asio::any_io_executor executor,
                   const ClientOptions& options)
    : transport_(transport),
      executor_(executor),
      stall_timeout_(options.watch_stall_timeout),
      timer_(executor) {}

WatchHub::~WatchHub() { shutdown(); }

void WatchHub::shutdown() {
  std::vector<Slot> slots;
  {
    std::lock_guard lock(mutex_);
    if (closing_) return;
    closing_ = true;
    // The timer belongs to the executor's thread: cancel it there, so that the client's thread
    // is not held up by the next tick.
    asio::post(executor_, [weak = weak_from_this()] {
      if (auto h = weak.lock()) h->timer_.cancel();
    });
    slots.swap(dead_);
    slots.push_back(std::move(current_));
  }
  // Each stream's destructor cancels it and waits for its last callback; the observers ignore
  // what comes once the hub is closing.
  slots.clear();
}

void WatchHub::start() {
  std::lock_guard lock(mutex_);
  wake_ticks_locked();
}

void WatchHub::wake_ticks_locked() {
  if (ticking_ || closing_) return;
  ticking_ = true;
  // The timer is only touched on the executor.
  asio::post(executor_, [weak = weak_from_this()] {
    if (auto h = weak.lock()) {
      std::lock_guard lock(h->mutex_);
      h->schedule_tick_locked();
    }
  });
}

void WatchHub::schedule_tick_locked() {
  if (closing_ || watches_.empty()) {
    ticking_ = false;
    return;
  }
  timer_.expires_after(kTick);
  timer_.async_wait([weak = weak_from_this()](std::error_code ec) {
    if (auto h = weak.lock()) {
      if (ec) {
        std::lock_guard lock(h->mutex_);
        h->ticking_ = false;
        return;
      }
      h->tick();
      std::lock_guard lock(h->mutex_);
      h->schedule_tick_locked();
    }
  });
}

void WatchHub::tick() {
  std::vector<Slot> dead;
  {
    std::lock_guard lock(mutex_);
    if (closing_) return;
    dead.swap(dead_);
    const auto now = transport::Clock::now();
    if (current_.stream && !stream_down_ && !watches_.empty()) {
      if (now - last_message_ > stall_timeout_) {
        // Nothing, not even an answer to our progress requests: the stream is stuck (a member
        // that is alive on TCP but does not serve). Start over elsewhere.
        fail_stream_locked(true);
      } else if (now - last_message_ > stall_timeout_ / 3 && now - last_probe_ > stall_timeout_ / 3) {
        last_probe_ = now;
        auto request = std::make_unique<pb::WatchRequest>();
        request->mutable_progress_request();
        write_locked(std::move(request));
      }
    }
    if ((stream_down_ || !current_.stream) && !watches_.empty() && now >= reopen_at_) {
      ensure_stream_locked();
    }
  }
  // Destroyed outside the lock: a stream's destructor waits for its on_done, which locks.
}

void WatchHub::ensure_stream_locked() {
  if (closing_ || awaiting_token_) return;
  if (current_.stream && !stream_down_) return;
  if (current_.stream) dead_.push_back(std::move(current_));
  ++generation_;
  stream_down_ = false;
  by_id_.clear();
  pending_creates_.clear();
  current_.observer = std::make_unique<Observer>(weak_from_this(), generation_);
  stream_token_ = transport_.token();
  // "hasleader": etcd ends the stream when its member loses the leader, instead of keeping a
  // partitioned member's watches alive and silent.
  current_.stream = transport_.open_stream(
      kWatch, [] { return std::make_unique<pb::WatchResponse>(); }, current_.observer.get(),
      {{"hasleader", "true"}});
  last_message_ = transport::Clock::now();
  last_probe_ = last_message_;
  for (const auto& state : watches_) {
    std::lock_guard s(state->mutex);
    if (!state->paused && !state->ended && !state->cancelled) send_create_locked(state);
  }
}

void WatchHub::send_create_locked(const std::shared_ptr<WatchState>& state) {
  // Caller holds both the hub's and the state's lock.
  const std::int64_t id = next_id_++;
  state->server_id = id;
  by_id_[id] = state;
  pending_creates_.push_back(id);
  auto request = std::make_unique<pb::WatchRequest>();
  auto* create = request->mutable_create_request();
  create->set_key(state->key);
  create->set_range_end(state->range_end);
  create->set_start_revision(state->next_revision);
  create->set_prev_kv(state->options.prev_kv);
  create->set_progress_notify(state->options.progress_notify);
  create->set_fragment(true);
  create->set_watch_id(id);
  if (state->options.no_put) create->add_filters(pb::WatchCreateRequest::NOPUT);
  if (state->options.no_delete) create->add_filters(pb::WatchCreateRequest::NODELETE);
  write_locked(std::move(request));
}

void WatchHub::send_cancel_locked(std::int64_t server_id) {
  by_id_.erase(server_id);
  auto request = std::make_unique<pb::WatchRequest>();
  request->mutable_cancel_request()->set_watch_id(server_id);
  write_locked(std::move(request));
}

void WatchHub::write_locked(std::unique_ptr<pb::WatchRequest> request) {
  if (current_.stream && !stream_down_) current_.stream->write(std::move(request));
}

void WatchHub::add(const std::shared_ptr<WatchState>& state) {
  std::lock_guard lock(mutex_);
  state->hub = weak_from_this();
  watches_.insert(state);
  wake_ticks_locked();
  if (!current_.stream || stream_down_) {
    reopen_at_ = transport::Clock::now();
    ensure_stream_locked();
    return;  // ensure_stream_locked sent the create
  }
  std::lock_guard s(state->mutex);
  send_create_locked(state);
}

void WatchHub::remove(const std::shared_ptr<WatchState>& state) {
  std::lock_guard lock(mutex_);
  watches_.erase(state);
  std::lock_guard s(state->mutex);
  if (state->server_id != 0 && by_id_.count(state->server_id)) send_cancel_locked(state->server_id);
  state->server_id = 0;
}

void WatchHub::resume(const std::shared_ptr<WatchState>& state) {
  std::lock_guard lock(mutex_);
  if (!watches_.count(state)) return;
  std::lock_guard s(state->mutex);
  if (state->cancelled || state->ended || state->paused) return;
  if (current_.stream && !stream_down_) send_create_locked(state);
  // Else the next stream creates it.
}

void WatchHub::request_progress() {
  std::lock_guard lock(mutex_);
  // With the stream down there is no one to ask: the request is dropped (the watches resume and
  // deliver what they missed). Were it kept, the answer to the hub's own stall probe on the next
  // stream would reach the watches as the user's progress notification.
  if (!current_.stream || stream_down_) return;
  user_progress_ = true;
  auto request = std::make_unique<pb::WatchRequest>();
  request->mutable_progress_request();
  write_locked(std::move(request));
}

void WatchHub::fail_stream_locked(bool endpoint_at_fault) {
  if (stream_down_ || closing_) return;
  stream_down_ = true;
  user_progress_ = false;  // asked of the stream that is gone
  if (current_.stream) current_.stream->cancel();
  if (endpoint_at_fault && current_.stream) transport_.stream_failed(current_.stream->endpoint());
  for (auto& [id, state] : by_id_) {
    std::lock_guard s(state->mutex);
    state->server_id = 0;
    state->fragments.reset();  // an incomplete response is resent whole after the resume
  }
  by_id_.clear();
  pending_creates_.clear();
  // The first reopen is immediate (another member is likely fine); repeated failures back off,
  // up to a second, with jitter.
  static thread_local std::minstd_rand rng{std::random_device{}()};
  const int shift = std::min(failures_, 5);
  const auto cap = std::chrono::milliseconds(std::min(1000, 30 << shift));
  const auto wait = failures_ == 0 ? std::chrono::milliseconds(0)
                                   : std::chrono::milliseconds(rng() % (cap.count() + 1));
  ++failures_;
  reopen_at_ = transport::Clock::now() + wait;
}

void WatchHub::on_done(std::uint64_t generation, const transport::Status& status) {
  std::lock_guard lock(mutex_);
  if (generation != generation_ || closing_) return;
  if (const auto ec = error_from_status(status.code, status.message);
      ec == Errc::tls_handshake_failed) {
    // The server's certificate is not trusted: no new stream would fare better. Say so.
    for (const auto& state : watches_) {
      std::lock_guard s(state->mutex);
      state->end_locked(ec);
    }
  }
  // Any end of the stream is a failure while watches remain: resume them on a new stream. The
  // endpoint is to blame unless the stream was cancelled from here.
  fail_stream_locked(status.code != 1);
  asio::post(executor_, [weak = weak_from_this()] {
    if (auto h = weak.lock()) h->tick();
  });
}

void WatchHub::on_refused_create_locked(const pb::WatchResponse& r) {
  // etcd checks a create against the token the stream opened with: refused as permission
  // denied, or for want of a valid token (expired, or none yet), with watch id -1. Creates are
  // answered in order, so it is the oldest one still unanswered.
  if (pending_creates_.empty()) return;
  const std::int64_t id = pending_creates_.front();
  pending_creates_.pop_front();
  const std::error_code ec = cancel_error(r.cancel_reason());
  if (is_token_error(ec) && transport_.has_credentials() && token_refreshes_ < 2) {
    // A new token, then a new stream that carries it; every watch resumes there from its
    // next revision, as after any broken stream. Twice at most without a watch created.
    ++token_refreshes_;
    fail_stream_locked(false);
    awaiting_token_ = true;
    // The answer may come at once, on this thread, under this lock: take it on the executor.
    transport_.refresh_token(
        stream_token_, [weak = weak_from_this(), executor = executor_](transport::Status status) {
          asio::post(executor, [weak, status = std::move(status)] {
            if (auto h = weak.lock()) h->on_token(status);
          });
        });
    return;
  }
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  const auto state = it->second;
  by_id_.erase(it);
  std::lock_guard s(state->mutex);
  state->server_id = 0;
  state->end_locked(ec);
}

void WatchHub::on_token(const transport::Status& status) {
  std::lock_guard lock(mutex_);
  awaiting_token_ = false;
  if (closing_) return;
  const auto ec = error_from_status(status.code, status.message);
  if (ec && !is_transient(ec)) {
    // Wrong credentials (or a user gone): no watch can be made again; say why, once.
    for (const auto& state : watches_) {
      std::lock_guard s(state->mutex);
      state->end_locked(ec);
    }
    return;
  }
  // A transient failure is retried as a broken stream is: the next stream's creates will be
  // refused again, and a token asked for again, after the stream's backoff.
  asio::post(executor_, [weak = weak_from_this()] {
    if (auto h = weak.lock()) h->tick();
  });
}

void WatchHub::on_message(std::uint64_t generation, const pb::WatchResponse& r) {
  std::unique_lock lock(mutex_);
  if (generation != generation_ || stream_down_ || closing_) return;
  last_message_ = transport::Clock::now();
  failures_ = 0;
  if (r.watch_id() == -1 && r.canceled()) {
    on_refused_create_locked(r);
    return;
  }
  if (r.watch_id() == -1) {
    // The answer to a progress request: liveness, and owed to the watches if the user asked.
    if (!user_progress_) return;
    user_progress_ = false;
    for (auto& [id, state] : by_id_) {
      std::lock_guard s(state->mutex);
      state->push_locked(WatchBatch{from_proto(r.header()), {}});
    }
    return;
  }
  if (r.created()) {
    std::erase(pending_creates_, r.watch_id());
    if (!r.canceled()) token_refreshes_ = 0;
  }
  auto it = by_id_.find(r.watch_id());
  if (it == by_id_.end()) return;  // a watch we cancelled or paused: its news is stale
  const auto state = it->second;
  std::lock_guard s(state->mutex);

  if (r.compact_revision() != 0 || r.canceled()) {
    by_id_.erase(it);
    state->server_id = 0;
    if (r.compact_revision() != 0) {
      state->compacted_revision = r.compact_revision();
      state->end_locked(make_error_code(Errc::compacted));
    } else {
      state->end_locked(cancel_error(r.cancel_reason()));
    }
    return;
  }
  if (r.created()) {
    if (state->created_revision == 0) state->created_revision = r.header().revision();
    if (state->next_revision == 0) state->next_revision = r.header().revision() + 1;
    state->cv.notify_all();
    if (state->on_change) state->on_change();
    return;
  }
  // Events, whole or in fragments.
  if (!state->fragments) state->fragments.emplace(WatchBatch{from_proto(r.header()), {}});
  for (const auto& e : r.events()) {
    // Below next_revision: already received before a resume.
    if (e.kv().mod_revision() < state->next_revision) continue;
    state->fragments->events.push_back(from_proto(state->ns, e));
  }
  if (r.fragment()) return;
  WatchBatch batch = std::move(*state->fragments);
  state->fragments.reset();
  batch.header = from_proto(r.header());
  if (batch.events.empty()) {
    // A progress notification of this watch (or a batch that was all duplicates).
    if (r.events_size() == 0 && state->options.progress_notify) state->push_locked(std::move(batch));
    return;
  }
  state->next_revision = batch.events.back().kv.mod_revision + 1;
  state->push_locked(std::move(batch));
  if (state->pending_events > state->options.max_pending_events) {
    // The consumer is behind: stop this watch on the server rather than buffer without bound
    // or stall the shared stream. It starts again from next_revision once the queue drains.
    state->paused = true;
    send_cancel_locked(state->server_id);
    state->server_id = 0;
  }
}

}  // namespace detail

// ---- Watch ---------------------------------------------------------------------------------

Watch::Watch(std::shared_ptr<detail::WatchState> state) : state_(std::move(state)) {}
Watch::Watch(Watch&&) noexcept = default;
Watch& Watch::operator=(Watch&& other) noexcept {
  if (this != &other) {
    cancel();
    state_ = std::move(other.state_);
    client_ = std::move(other.client_);
  }
  return *this;
}
Watch::~Watch() { cancel(); }

asio::any_io_executor Watch::executor() const {
  // An empty Watch (made by default, moved from, cancelled) has no executor of its own: its
  // async_next completes at once with cancelled, on the handler's executor or the system one.
  if (!state_) return asio::system_executor();
  return state_->executor;
}

void Watch::cancel() noexcept {
  if (!state_) return;
  auto state = std::move(state_);
  detail::Callback<WatchBatch> waiter;
  {
    std::unique_lock lock(state->mutex);
    state->cancelled = true;
    waiter = std::move(state->waiter);
    state->waiter = nullptr;
    state->cv.notify_all();
    // A callback running on another thread finishes before cancel() returns; one running on
    // this thread (cancel from inside the callback) cannot be waited for.
    state->cv.wait(lock, [&] {
      return state->callback_thread == std::thread::id{} ||
             state->callback_thread == std::this_thread::get_id();
    });
  }
  if (waiter) waiter(detail::CallStatus{make_error_code(Errc::cancelled), {}}, WatchBatch{});
  if (auto hub = state->hub.lock()) hub->remove(state);
}

void Watch::request_progress() {
  if (!state_) return;
  if (auto hub = state_->hub.lock()) hub->request_progress();
}

std::int64_t Watch::created_revision() const noexcept {
  if (!state_) return 0;
  std::lock_guard lock(state_->mutex);
  return state_->created_revision;
}

std::int64_t Watch::compacted_revision() const noexcept {
  if (!state_) return 0;
  std::lock_guard lock(state_->mutex);
  return state_->compacted_revision;
}

std::int64_t Watch::next_revision() const noexcept {
  if (!state_) return 0;
  std::lock_guard lock(state_->mutex);
  return state_->next_revision;
}

std::optional<WatchBatch> Watch::next(std::chrono::milliseconds timeout) {
  if (!state_) return std::nullopt;
  auto& s = *state_;
  std::unique_lock lock(s.mutex);
  s.cv.wait_for(lock, timeout, [&] { return !s.queue.empty() || s.ended || s.cancelled; });
  if (!s.queue.empty()) {
    WatchBatch batch = std::move(s.queue.front());
    s.queue.pop_front();
    s.pending_events -= batch.events.size();
    s.after_pop_locked(lock);
    return batch;
  }
  if (s.ended) {
    s.final_delivered = true;
    std::rethrow_exception(s.final_exception_locked());
  }
  return std::nullopt;
}

void Watch::start_next(const std::shared_ptr<detail::WatchState>& state,
                       detail::Callback<WatchBatch> callback,
                       std::shared_ptr<detail::Canceller> canceller) {
  callback = detail::described("watch", state ? state->name : std::string(), std::move(callback));
  if (!state) {
    callback(detail::CallStatus{make_error_code(Errc::cancelled),
                                "this Watch is empty (made by default, moved from or cancelled)"},
             WatchBatch{});
    return;
  }
  std::unique_lock lock(state->mutex);
  if (state->cancelled) {
    lock.unlock();
    callback(detail::CallStatus{make_error_code(Errc::cancelled), {}}, WatchBatch{});
    return;
  }
  std::weak_ptr<detail::WatchState> weak = state;
  // No canceller: the handler has no cancellation slot, so nothing can cancel this wait.
  const bool live = !canceller || canceller->set_action([weak] {
    auto s = weak.lock();
    if (!s) return;
    detail::Callback<WatchBatch> w;
    {
      std::lock_guard l(s->mutex);
      w = std::move(s->waiter);
      s->waiter = nullptr;
    }
    if (w) w(detail::CallStatus{make_error_code(Errc::cancelled), {}}, WatchBatch{});
  });
  if (!live) {
    lock.unlock();
    callback(detail::CallStatus{make_error_code(Errc::cancelled), {}}, WatchBatch{});
    return;
  }
  state->waiter = std::move(callback);
  state->waiter_canceller = canceller;
  state->deliver_locked();
  if (state->waiter == nullptr) {
    // Delivered at once: the batch left the queue.
    state->after_pop_locked(lock);
  }
}

// ---- Client::watch -------------------------------------------------------------------------

namespace {

/// The count-only read at a watch's start revision that tells a compacted one at once: local
/// (serializable), over the watch's own range.
GetOptions start_probe(const WatchOptions& options) {
  GetOptions at;
  at.range_end = options.range_end;
  at.prefix = options.prefix;
  at.from_key = options.from_key;
  at.revision = options.start_revision;
  at.serializable = true;
  at.count_only = true;
  return at;
}

std::string start_compacted(const std::string& what, const WatchOptions& options,
                            std::int64_t compacted) {
  std::string text = what + ": start revision " + std::to_string(options.start_revision) +
                     " is compacted";
  if (compacted != 0) text += " (the store was compacted at revision " + std::to_string(compacted) + ")";
  return text + "; read the range again and watch from the revision after that read";
}

}  // namespace

namespace detail::calls {

void start(const CallContext& cx, MakeWatch call, Callback<etcdpp::Watch> done,
           CancellerPtr canceller) {
  const std::string& key = call.key;
  WatchOptions& options = call.options;
  options.range_end = call.range_end;
  done = described("watch", key, std::move(done));
  auto executor = options.executor ? options.executor : cx.core->executor();
  auto state = std::make_shared<WatchState>(cx.ns, key, options, std::move(call.callback),
                                            executor);
  // As in watch(): a count-only read at the start revision tells a compacted one at once.
  struct Probe {
    std::mutex mutex;
    bool pending = false;
    bool compacted = false;
  };
  auto probe = std::make_shared<Probe>();
  probe->pending = options.start_revision > 0;
  const GetOptions probe_options = start_probe(options);
  // `decide` runs later, without the description: it keeps a copy of the options whose range
  // end views nothing (the state has its own copy of the range).
  WatchOptions decided = options;
  decided.range_end = {};
  auto core = cx.core;
  auto decide = [state, probe, core, key, options = decided](bool timed_out, bool cancelled)
      -> std::optional<std::pair<CallStatus, etcdpp::Watch>> {
    std::unique_lock lock(state->mutex);
    bool probe_pending = false, compacted = false;
    {
      std::lock_guard p(probe->mutex);
      probe_pending = probe->pending;
      compacted = probe->compacted;
    }
    const std::string what = "watch \"" + key + "\"";
    std::optional<CallStatus> failure;
    if (state->ended && state->final_error == Errc::compacted) {
      const auto at = state->compacted_revision;
      failure = CallStatus{make_error_code(Errc::compacted), {},
                                   std::make_exception_ptr(CompactedError(
                                       start_compacted(what, options, at), at))};
    } else if (state->ended) {
      failure = CallStatus{state->final_error, {}};
    } else if (cancelled) {
      failure = CallStatus{make_error_code(Errc::cancelled), "cancelled"};
    } else if (state->created_revision != 0 && !probe_pending && !compacted) {
      // Created, and its start revision is not compacted.
    } else if (timed_out && compacted) {
      failure = CallStatus{make_error_code(Errc::compacted), {},
                                   std::make_exception_ptr(CompactedError(
                                       start_compacted(what, options, 0), 0))};
    } else if (timed_out) {
      failure = CallStatus{make_error_code(Errc::deadline_exceeded),
                                   "etcd did not create the watch within the call timeout"};
    } else {
      return std::nullopt;  // a compacted start: its end, with the revision, comes next
    }
    state->on_change = nullptr;
    lock.unlock();
    etcdpp::Watch watch = HandleAccess::watch(state, core);
    if (failure) {
      watch.cancel();
      return std::pair{std::move(*failure), etcdpp::Watch{}};
    }
    return std::pair{CallStatus{}, std::move(watch)};
  };
  auto creation = std::make_shared<Creation<etcdpp::Watch>>(cx.core->executor(),
                                                            std::move(decide), std::move(done));
  {
    std::lock_guard lock(state->mutex);
    state->on_change = [weak = std::weak_ptr(creation)] {
      if (auto c = weak.lock()) c->poke();
    };
  }
  creation->start(cx.timeout, canceller);
  if (options.start_revision > 0) {
    start(cx, Get(key, probe_options),
          [probe, weak = std::weak_ptr(creation)](CallStatus status, GetResult) {
                {
                  std::lock_guard p(probe->mutex);
                  probe->pending = false;
                  probe->compacted = status.code == Errc::compacted;
                }
                if (auto c = weak.lock()) c->poke();
              },
          nullptr);
  }
  cx.core->watch_hub()->add(state);
}

}  // namespace detail::calls

Watch Client::watch(std::string_view key, const WatchOptions& options,
                    Watch::Callback callback) const {
  // The same state as async_watch's, waited for on this thread rather than through the
  // executor, which the caller's thread may be the only one to run.
  const auto& core = context_.core;
  const auto timeout = context_.timeout;
  auto executor = options.executor ? options.executor : core->executor();
  auto state = std::make_shared<detail::WatchState>(context_.ns, key, options, std::move(callback),
                                                    executor);
  // etcd creates a watch whose start revision is compacted, and ends it only a moment later. A
  // count-only read at that revision, made beside the creation, says so at once, so that watch()
  // throws CompactedError as it promises (one local read, only for a start revision).
  std::optional<detail::Waiter<GetResult>> probe;
  if (options.start_revision > 0) {
    probe.emplace();
    start(context_, detail::calls::Get(key, start_probe(options)), probe->callback(), nullptr);
  }
  core->watch_hub()->add(state);
  Watch watch = detail::HandleAccess::watch(state, core);
  // Return once the server has the watch, so that "changes after now" has a meaning the caller
  // can rely on (created_revision()).
  std::unique_lock lock(state->mutex);
  const bool created = state->cv.wait_for(lock, timeout, [&] {
    return state->created_revision != 0 || state->ended;
  });
  if (!created || state->ended) {
    const auto ec = state->ended ? state->final_error : make_error_code(Errc::deadline_exceeded);
    const auto compacted = state->compacted_revision;
    lock.unlock();
    watch.cancel();
    const std::string what = "watch \"" + std::string(key) + "\"";
    if (ec == Errc::compacted) throw CompactedError(start_compacted(what, options, compacted), compacted);
    throw_error(ec, what);
  }
  lock.unlock();
  if (probe) {
    std::optional<GetResult> ignored;
    const detail::CallStatus read = probe->wait_for(ignored, timeout);
    // Only the compaction counts: a future start revision is a valid watch, and any other
    // failure of the read leaves the watch to report its own.
    if (read.code == Errc::compacted) {
      // The watch's own end follows: it carries the revision the store was compacted at.
      lock.lock();
      state->cv.wait_for(lock, timeout, [&] { return state->ended; });
      const auto compacted = state->compacted_revision;
      lock.unlock();
      watch.cancel();
      const std::string what = "watch \"" + std::string(key) + "\"";
      throw CompactedError(start_compacted(what, options, compacted), compacted);
    }
  }
  return watch;
}

}  // namespace etcdpp
