// SPDX-License-Identifier: Apache-2.0
// The watch machinery: every watch of a Client is multiplexed on one Watch stream, which the hub
// opens, feeds, and re-opens after a failure, resuming each watch where it stopped.
#pragma once

#include <asio/steady_timer.hpp>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "detail/convert.hpp"
#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"
#include "etcdpp/client.hpp"
#include "etcdpp/watch.hpp"
#include "transport/transport.hpp"

namespace etcdpp::detail {

class WatchHub;

/// One watch's state, shared by its Watch handle and the hub.
class WatchState : public std::enable_shared_from_this<WatchState> {
 public:
  /// `ns` is the namespace of the Client that made it (Client::with_namespace).
  WatchState(std::string_view ns, std::string_view key, const WatchOptions& options,
             Watch::Callback callback, asio::any_io_executor executor);

  // What the watch asks for; fixed. key and range_end are etcd's, mapped into the namespace;
  // the events' keys are cut out of it again on arrival.
  const std::string ns;
  const std::string name;  // the key as the caller gave it, for messages
  const std::string key;
  const std::string range_end;
  const WatchOptions options;
  const Watch::Callback callback;
  const asio::any_io_executor executor;
  std::weak_ptr<WatchHub> hub;

  std::mutex mutex;
  std::condition_variable cv;
  // Where the server side stands. server_id is 0 while no server watch exists for it.
  std::int64_t server_id = 0;
  bool paused = false;      // stopped on the server because the consumer is behind
  bool cancelled = false;   // by the owner
  bool ended = false;       // by an error; final_error says which
  std::error_code final_error;
  bool final_delivered = false;
  std::int64_t created_revision = 0;
  std::int64_t next_revision = 0;  // first revision not yet received; 0 before creation
  std::int64_t compacted_revision = 0;
  // Received, not yet delivered.
  std::deque<WatchBatch> queue;
  std::size_t pending_events = 0;
  // A response split into fragments, until its last part.
  std::optional<WatchBatch> fragments;
  // Push face: one drain runs at a time; callback_thread is the thread inside the callback.
  bool dispatching = false;
  std::thread::id callback_thread;
  // Told (under the lock, so it must only post) when the watch is created or ends: an
  // asynchronous creation waiting for either.
  std::function<void()> on_change;
  // Pull face: the one async_next waiting for a batch.
  Callback<WatchBatch> waiter;
  std::shared_ptr<Canceller> waiter_canceller;

  /// Adds a batch (or the end) and makes sure it gets delivered. Lock held by the caller.
  void push_locked(WatchBatch batch);
  void end_locked(std::error_code ec);
  /// The exception the end reports on both pull faces (CompactedError with the revision for a
  /// compaction). Lock held by the caller.
  std::exception_ptr final_exception_locked() const;
  /// Called after a batch left the queue; resumes a paused watch once half the room is free.
  void after_pop_locked(std::unique_lock<std::mutex>& lock);
  /// Starts delivery on the executor, or hands a batch to a waiting async_next.
  void deliver_locked();
  void drain();

 private:
  WatchState(std::string_view ns, std::string_view key, KeyRange range, const WatchOptions& options,
             Watch::Callback callback, asio::any_io_executor executor);
};

class WatchHub : public std::enable_shared_from_this<WatchHub> {
 public:
  WatchHub(transport::Transport& transport, asio::any_io_executor executor,
           const ClientOptions& options);
  ~WatchHub();

  void start();  // arms the liveness timer; call once, after construction
  /// Ends every stream and stops touching the transport; the owner calls it before the
  /// transport goes, wherever the last reference to the hub may die.
  void shutdown();
  void add(const std::shared_ptr<WatchState>& state);
  void remove(const std::shared_ptr<WatchState>& state);
  void resume(const std::shared_ptr<WatchState>& state);
  void request_progress();

 private:
  class Observer;
  friend class Observer;

  void on_message(std::uint64_t generation, const etcdserverpb::WatchResponse& response);
  void on_done(std::uint64_t generation, const transport::Status& status);
  void on_refused_create_locked(const etcdserverpb::WatchResponse& response);
  void on_token(const transport::Status& status);
  void ensure_stream_locked();
  void send_create_locked(const std::shared_ptr<WatchState>& state);
  void send_cancel_locked(std::int64_t server_id);
  void write_locked(std::unique_ptr<etcdserverpb::WatchRequest> request);
  void fail_stream_locked(bool endpoint_at_fault);
  /// Arms the tick timer; with the hub's lock held, on the executor.
  void schedule_tick_locked();
  /// Starts ticking again, from any thread, if the hub stopped for want of watches.
  void wake_ticks_locked();
  void tick();

  transport::Transport& transport_;
  asio::any_io_executor executor_;
  const std::chrono::milliseconds stall_timeout_;

  std::mutex mutex_;
  bool closing_ = false;
  std::set<std::shared_ptr<WatchState>> watches_;             // every live watch
  std::map<std::int64_t, std::shared_ptr<WatchState>> by_id_;  // registered on the stream
  std::int64_t next_id_ = 1;
  std::uint64_t generation_ = 0;  // of the current stream; older streams' news is ignored
  /// A stream with its observer, which must outlive it (members go in reverse order).
  struct Slot {
    std::unique_ptr<Observer> observer;
    std::unique_ptr<transport::BidiStream> stream;
  };
  Slot current_;
  std::vector<Slot> dead_;  // to destroy outside the lock, off the stream's own callbacks
  bool stream_down_ = false;       // the current stream failed; a new one is due
  transport::Clock::time_point reopen_at_{};
  int failures_ = 0;
  transport::Clock::time_point last_message_{};
  transport::Clock::time_point last_probe_{};
  bool user_progress_ = false;  // a progress answer is owed to the watches
  /// Ids of the creates sent on the current stream and not yet answered, in order: etcd 3.4
  /// refuses a create with watch id -1, so the order tells which one it refused.
  std::deque<std::int64_t> pending_creates_;
  /// The token the current stream carries, and whether a new one is being fetched (no stream
  /// opens meanwhile). Refreshes since the last watch created: bounded, never a loop.
  std::string stream_token_;
  bool awaiting_token_ = false;
  int token_refreshes_ = 0;
  asio::steady_timer timer_;
  /// The timer is armed, or about to be. It ticks only while watches live, so that a client
  /// whose watches are gone holds no work on the user's executor (io_context::run returns).
  bool ticking_ = false;
};

}  // namespace etcdpp::detail
