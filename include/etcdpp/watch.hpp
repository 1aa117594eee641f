// SPDX-License-Identifier: Apache-2.0
// Watching keys: a Watch delivers every change to a key, a range or a prefix, in revision order,
// each once, across reconnects and failovers. Made by Client::watch (client.hpp); all watches of
// a Client share one gRPC stream.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <asio/any_io_executor.hpp>

#include "etcdpp/detail/async.hpp"
#include "etcdpp/kv.hpp"

namespace etcdpp {

namespace detail {
class ClientCore;
class WatchState;
struct HandleAccess;
}

/// One change.
struct Event {
  /// What happened to the key: put (created or written; KeyValue::version is 1 for a creation)
  /// or delete_range (deleted, by a delete or by the end of its lease).
  enum class Type { put, delete_range };
  Type type = Type::put;  ///< Whether the key was written or deleted.
  KeyValue kv;  ///< For a delete: the key, with mod_revision set to the deletion's revision.
  std::optional<KeyValue> prev_kv;  ///< Set when WatchOptions::prev_kv asked for it.

  bool operator==(const Event&) const = default;  ///< Member-wise comparison.
};

/// What one delivery holds: the events of one or more whole revisions, in order; or none, when it
/// is a progress notification (the store has reached `header.revision` with nothing more to see).
struct WatchBatch {
  ResponseHeader header;  ///< The header of etcd's response (cluster, member, revision, term).
  std::vector<Event> events;  ///< The changes, in revision order; none in a progress notification.
  /// True for a progress notification (no events). The last call of a Watch::Callback, which
  /// carries an error, passes an empty batch too: look at the error first.
  bool progress_notify() const noexcept { return events.empty(); }

  bool operator==(const WatchBatch&) const = default;  ///< Member-wise comparison.
};

/// Options of a watch; the range is chosen as in GetOptions.
struct WatchOptions {
  /// Watch [key, range_end); empty: only `key`; `"\0"`: every key >= it. A view, as
  /// GetOptions::range_end: copied when the watch is made (its resumes use the copy).
  std::string_view range_end;
  bool prefix = false;    ///< Watch every key that starts with `key` (an empty key: all keys).
  bool from_key = false;  ///< Watch every key >= `key` (an empty key: all keys).
  /// First revision to deliver; 0 is "changes after now" (the revision at which the watch is
  /// created). A compacted revision ends the watch with CompactedError.
  std::int64_t start_revision = 0;
  bool prev_kv = false;  ///< Deliver each event's previous pair, if any, in Event::prev_kv.
  bool no_put = false;     ///< Filter out puts.
  bool no_delete = false;  ///< Filter out deletes.
  /// Ask etcd for periodic progress notifications (empty batches) while nothing changes.
  bool progress_notify = false;
  /// The most events received but not yet delivered. Beyond it, etcdpp stops this watch on the
  /// server (other watches and calls go on), and starts it again from the next undelivered
  /// revision once the consumer has caught up: memory stays bounded and nothing is lost, unless
  /// that revision is compacted meanwhile (CompactedError).
  std::size_t max_pending_events = 10000;
  /// Where callbacks run; by default the client's executor.
  asio::any_io_executor executor;
};

/// A running watch. Destroying it (or cancel()) stops it: after that returns, its callback is
/// not called again (unless cancel() is called from inside the callback, which then finishes).
///
/// **Delivery contract** Events arrive in strictly increasing revision order, each once. When
/// the stream breaks, its member dies or loses its leader, or nothing (not even a progress
/// answer) arrives for ClientOptions::watch_stall_timeout, the watch resumes on a healthy
/// endpoint from the revision after the last one it received. It ends only when cancelled, when
/// the resume revision has been compacted (Errc::compacted; the error passed to the callback, or
/// thrown by next(), is that code and compacted_revision() tells the revision), or when etcd
/// cancels it.
///
/// **Two faces** With a callback, batches are pushed to it on the executor, one at a time per
/// watch. Without one, pull them with next() or async_next().
///
/// **Thread safety** A Watch may be used from one thread at a time; its callback runs on its
/// executor.
class Watch {
 public:
  /// The callback: `(error, batch)`. A non-empty error is the last call: the watch has ended.
  using Callback = std::function<void(std::error_code, WatchBatch)>;

  Watch() = default;
  /// Takes over the watch moved from, which is left empty (as after cancel()).
  Watch(Watch&&) noexcept;
  /// Cancels this watch, as cancel() does, then takes over the other one.
  Watch& operator=(Watch&&) noexcept;
  ~Watch();

  /// Stops the watch and waits until no callback runs (except the calling one).
  void cancel() noexcept;
  /// Asks etcd for a progress notification, delivered as an empty batch to every watch of the
  /// stream. While the stream is down (being resumed on another endpoint) the request is
  /// dropped: the resumed watches deliver what they missed, and no notification comes.
  void request_progress();
  /// The revision the watch was created at on the server (events start after it unless a start
  /// revision was given).
  std::int64_t created_revision() const noexcept;
  /// The compact revision after the watch ended with Errc::compacted, else 0.
  std::int64_t compacted_revision() const noexcept;
  /// The revision after the last delivered event: where a resume starts.
  std::int64_t next_revision() const noexcept;

  /// Pull face: waits for the next batch; throws Error when the watch has ended with an error,
  /// and returns std::nullopt after `timeout` or when the watch was cancelled.
  std::optional<WatchBatch> next(std::chrono::milliseconds timeout);

  /// Pull face, asynchronous. Handler signature: `void(std::exception_ptr, WatchBatch)`;
  /// completes on the handler's executor (else the watch's). Only one async_next at a time.
  template <class Token>
  auto async_next(Token&& token) {
    return detail::initiate<WatchBatch>(
        executor(), std::forward<Token>(token),
        [state = state_](auto callback, auto canceller) {
          start_next(state, std::move(callback), std::move(canceller));
        });
  }

 private:
  friend struct detail::HandleAccess;
  explicit Watch(std::shared_ptr<detail::WatchState> state);
  asio::any_io_executor executor() const;
  static void start_next(const std::shared_ptr<detail::WatchState>& state,
                         detail::Callback<WatchBatch> callback,
                         std::shared_ptr<detail::Canceller> canceller);
  std::shared_ptr<detail::ClientCore> client_;  // keeps the stream's hub alive
  std::shared_ptr<detail::WatchState> state_;
};

}  // namespace etcdpp
