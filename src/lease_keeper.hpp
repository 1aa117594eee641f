// SPDX-License-Identifier: Apache-2.0
// The lease keeper: every kept-alive lease of a Client is renewed over one LeaseKeepAlive
// stream, which the keeper opens, feeds, and re-opens on another endpoint when it breaks or
// leaves a renewal unanswered too long (see src/lease.cpp for the deadline rule).
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <vector>

#include "detail/convert.hpp"
#include "detail/status.hpp"
#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"
#include "etcdpp/client.hpp"
#include "etcdpp/lease.hpp"
#include "transport/transport.hpp"

namespace etcdpp::detail {

class KeepAliveState {
 public:
  using Clock = transport::Clock;
  KeepAliveState(LeaseId lease, KeepAliveOptions o, asio::any_io_executor ex)
      : id(lease), options(std::move(o)), executor(std::move(ex)) {}
  const LeaseId id;
  const KeepAliveOptions options;
  const asio::any_io_executor executor;

  mutable std::mutex mutex;
  std::condition_variable cv;
  bool first_answer = false;      // the first renewal has been answered
  // Told (under the lock, so it must only post) of the first answer or the loss: an
  // asynchronous keep_alive waiting for either.
  std::function<void()> on_change;
  bool lost = false;
  LeaseLoss loss = LeaseLoss::expired;
  std::int64_t ttl = 0;
  Clock::time_point deadline{};   // lost if not renewed by then
  Clock::time_point next_send{};  // next renewal request
  Clock::time_point sent_at{};    // the oldest request not yet answered

  /// Marks the lease lost and tells the owner, once. Lock held by the caller. `kept`: the
  /// lease had been renewed at least once (keep_alive returned it).
  void lose_locked(LeaseLoss why, bool kept) {
    if (lost) return;
    lost = true;
    loss = why;
    cv.notify_all();
    if (on_change) on_change();
    // A lease lost before the first answer was never kept: keep_alive reports it (it fails with
    // lease_not_found), and on_lost, which speaks of a kept lease, is not called as well.
    if (options.on_lost && kept) {
      asio::post(executor, [cb = options.on_lost, lease = id, why] { cb(lease, why); });
    }
  }
};

/// Renews kept-alive leases over one stream, and answers keep_alive_once.
class LeaseKeeper : public std::enable_shared_from_this<LeaseKeeper> {
 public:
  using Clock = transport::Clock;
  LeaseKeeper(transport::Transport& transport, asio::any_io_executor executor);
  ~LeaseKeeper();

  void shutdown();
  void start() {}
  void add(const std::shared_ptr<KeepAliveState>& state);
  void remove(const std::shared_ptr<KeepAliveState>& state);
  /// One renewal, answered through `done` (on a transport thread, or on the executor): by its
  /// answer, else with deadline_exceeded within a tick after `deadline`, else with cancelled at
  /// shutdown. Every waiter is answered exactly once, and none is kept past its deadline.
  void once(LeaseId id, Clock::time_point deadline,
            std::function<void(CallStatus, LeaseKeepAliveResult)> done);

 private:
  class Observer;
  struct Slot {
    std::unique_ptr<Observer> observer;
    std::unique_ptr<transport::BidiStream> stream;
  };

  /// Starts ticking, from any thread, unless the timer is armed already. It ticks only while
  /// leases are kept alive or renewed once, so that a client with none holds no work on the
  /// user's executor (io_context::run returns).
  void wake_ticks_locked();
  void schedule_tick_locked();
  void ensure_stream_locked();
  void send_locked(std::int64_t id);
  // Sends the renewals that are due and declares lost the leases whose deadline has passed.
  // A stream whose member leaves a renewal unanswered for a third of the lease's TTL is
  // abandoned for another endpoint, well before the lease could expire: a hung member (a frozen
  // process, a partition that leaves the socket open) must not take the lease with it while
  // the other members could renew it. HTTP/2 keep-alive would notice only after
  // keepalive_time + keepalive_timeout, which may be longer than the TTL.
  void renew_due_locked();
  /// Whether a renewal sent on the current stream has waited for its answer longer than a third
  /// of its lease's TTL (half a second at least; one second before the TTL is known).
  bool unanswered_too_long_locked(Clock::time_point now) const;
  void on_message(std::uint64_t gen, const pb::LeaseKeepAliveResponse& r);
  void on_done(std::uint64_t gen, const transport::Status& status);

  transport::Transport& transport_;
  asio::steady_timer timer_;
  asio::any_io_executor executor_;
  std::mutex mutex_;
  bool closing_ = false;
  bool ticking_ = false;  // the timer is armed, or about to be
  bool down_ = false;
  bool refreshing_ = false;   // a new token is being fetched; no stream opens meanwhile
  std::string stream_token_;  // the token the current stream carries
  std::uint64_t generation_ = 0;
  Clock::time_point stream_opened_{};
  Slot current_;
  std::vector<Slot> dead_;
  std::set<std::shared_ptr<KeepAliveState>> leases_;
  struct OnceWaiter {
    Clock::time_point deadline;
    std::function<void(CallStatus, LeaseKeepAliveResult)> done;
  };
  /// Moves the waiters whose deadline has passed into `out` (the lease ids left without a
  /// waiter are dropped too).
  void take_expired_once_locked(Clock::time_point now, std::vector<OnceWaiter>& out);
  std::map<std::int64_t, std::vector<OnceWaiter>> once_;
};

}  // namespace etcdpp::detail
