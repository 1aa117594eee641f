// SPDX-License-Identifier: Apache-2.0
// PrefixCache: a consistent local copy of every key under a prefix, listed at one revision and
// then kept up to date by a watch on the client's shared stream (client.hpp, watch.hpp). Reads
// never touch the network; changes are called back in revision order.
#pragma once

#include <asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "etcdpp/client.hpp"
#include "etcdpp/detail/async.hpp"
#include "etcdpp/kv.hpp"

namespace etcdpp {

namespace detail {
struct CacheNode;
struct CacheVersion;
class PrefixCacheState;
}  // namespace detail

/// What a PrefixCacheOptions::on_relist callback is told: the cache replaced its contents by a
/// fresh list instead of following events one by one. The differences between the old and the
/// new contents follow it as on_put and on_delete callbacks, `puts + deletes` of them; keys
/// whose value did not change get none.
struct PrefixCacheRelist {
  /// Why the cache relisted.
  enum class Reason {
    /// The watch could not resume because etcd had compacted the revisions it missed (after a
    /// disconnect): the cache listed the prefix again.
    compacted,
    /// The callbacks fell more than PrefixCacheOptions::max_pending_changes behind: the
    /// changes they had not seen were dropped and are replaced by the difference between what
    /// they saw last and the cache now.
    overflow,
  };
  Reason reason = Reason::compacted;  ///< Why the cache relisted.
  std::int64_t from_revision = 0;  ///< The revision of the contents the callbacks saw last.
  std::int64_t revision = 0;       ///< The revision of the new contents.
  std::size_t puts = 0;            ///< Keys added or changed.
  std::size_t deletes = 0;         ///< Keys gone.

  bool operator==(const PrefixCacheRelist&) const = default;  ///< Member-wise comparison.
};

/// How a PrefixCache lists, follows and calls back.
struct PrefixCacheOptions {
  /// Keys per page of a list; each page is one message, read at the revision of the first.
  std::int64_t page_size = 1000;
  /// A key was created or changed: its new value, and its value before (none when new).
  std::function<void(const KeyValue& kv, const std::optional<KeyValue>& prev)> on_put;
  /// A key was deleted: its last value, and the revision of the deletion (of the list, after a
  /// relist).
  std::function<void(const KeyValue& prev, std::int64_t revision)> on_delete;
  /// The contents were relisted; see PrefixCacheRelist.
  std::function<void(const PrefixCacheRelist& relist)> on_relist;
  /// A failure the cache could not get past at once (etcd refused the watch or the list, or
  /// relisting failed): it retries with backoff, and reports each failure here. Transient
  /// network failures are not reported: the watch resumes from them by itself.
  std::function<void(std::error_code error)> on_error;
  /// Where the callbacks run, one at a time; by default the client's executor.
  asio::any_io_executor executor;
  /// The most changes waiting for the callbacks. Beyond it they are dropped, and the callbacks
  /// get a relist (Reason::overflow) instead once they catch up: memory stays bounded by the
  /// prefix's size, and the cache itself never waits for a callback.
  std::size_t max_pending_changes = 10000;
  /// Backoff between retries when resuming the watch or relisting failed: exponential from
  /// this (positive), capped, with full jitter. The first relist after a compaction is
  /// immediate.
  std::chrono::milliseconds retry_backoff_base{800};
  /// The cap of that backoff; at least retry_backoff_base.
  std::chrono::milliseconds retry_backoff_max{30000};
};

/// A consistent local copy of every key under a prefix.
///
/// The constructor lists the prefix page by page, every page at the first page's revision R,
/// then watches it from R + 1 on the client's shared watch stream. Every event is applied
/// atomically per revision: readers see the contents at one revision, never a mix. The watch
/// resumes across disconnects and failovers from the revision after the last one applied, so
/// nothing is lost or repeated. When the revisions it missed have been compacted meanwhile,
/// the cache lists the prefix again and calls back only the real differences.
///
/// **Reads** get(), size(), revision() and snapshot() read local memory only: an immutable
/// version of the contents, which the applier replaces by swapping a pointer. Readers on
/// different threads share no lock and no reference count, and wait at most for that swap;
/// the applier waits at most for one lookup. A Snapshot stays the same however long it is
/// kept.
///
/// **Freshness** revision() is the revision through which the cache is known to be complete.
/// wait_for(W) returns once it is at least W, for read-your-writes after a write at W.
/// sync() proves the cache is as fresh as a linearizable read: it asks etcd (one small
/// request) whether any key under the prefix changed since revision() at the newest
/// revision, and waits for those changes if so. Neither relies on etcd's progress
/// notifications, which some etcd versions send early or not at all.
///
/// **Keys** are those the Client sees: through a namespaced client, the keys inside the
/// namespace. The cache uses the public Client calls only.
///
/// **Thread safety** Every member function may be called from any thread at once. Callbacks
/// run one at a time, in revision order, each change once, on PrefixCacheOptions::executor.
///
/// **Errors** The constructor throws Error when the first list fails. Later failures are
/// retried by the cache and reported to PrefixCacheOptions::on_error.
///
/// **Lifetime** Move-only. The destructor stops the watch, waits for a callback that is
/// running (unless called from inside one), drops the callbacks not yet run, fails waiting
/// async_wait_for and async_sync handlers with Errc::cancelled, and leaves no work on any
/// executor but a freshness read in flight, which the client ends within its call timeout.
/// It waits at most one call timeout, for a relist under way. A moved-from cache may only be
/// assigned or destroyed.
///
/// **Example** @snippet examples/cache.cpp config watcher
class PrefixCache {
 public:
  class Snapshot;

  /// Lists `prefix` and starts following it; returns once the list is complete and the watch
  /// is created. Throws Error for bad options (Errc::invalid_option, naming the option) or
  /// when the list fails (as Client::get and Client::watch do).
  PrefixCache(Client client, std::string_view prefix, PrefixCacheOptions options = {});
  /// Takes over `other`'s cache; `other` may then only be assigned or destroyed.
  PrefixCache(PrefixCache&&) noexcept;
  /// Stops this cache, as the destructor does, then takes over `other`'s.
  PrefixCache& operator=(PrefixCache&&) noexcept;
  ~PrefixCache();

  /// The prefix, as given.
  const std::string& prefix() const noexcept;

  /// The value of `key` now; std::nullopt when the cache has no such key.
  std::optional<KeyValue> get(std::string_view key) const;
  /// The number of keys now.
  std::size_t size() const noexcept;
  /// The revision through which the cache is complete (see **Freshness**).
  std::int64_t revision() const noexcept;
  /// The whole contents at one revision, to iterate in key order. Cheap: it shares memory
  /// with the cache, which goes on changing without affecting it.
  Snapshot snapshot() const;

  /// Waits until revision() >= `revision`, for at most `timeout`; returns revision(). A
  /// revision that changes nothing under the prefix is reached too (a freshness read proves
  /// it). Throws Error: Errc::deadline_exceeded after `timeout`.
  std::int64_t wait_for(std::int64_t revision,
                        std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;
  /// Proves the cache is as fresh as a linearizable read made now, waiting for the changes
  /// it lacks, for at most `timeout`; returns that read's revision, which revision() now
  /// reaches. Throws Error: Errc::deadline_exceeded, or the error of the read.
  std::int64_t sync(std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  /// @copydoc wait_for
  /// Asynchronous, without a timeout: cancel it through the handler's cancellation slot.
  /// **Handler signature** `void(std::exception_ptr, std::int64_t revision)`; Errc::cancelled
  /// when cancelled or when the cache is destroyed first. **Executor** the handler's, else
  /// the client's. **Object lifetimes** the cache may be destroyed before completion.
  template <class Token>
  auto async_wait_for(std::int64_t revision, Token&& token) const {
    return detail::initiate<std::int64_t>(
        executor(), std::forward<Token>(token),
        [state = state_, revision](auto callback, auto canceller) {
          start_wait_for(state, revision, std::move(callback), std::move(canceller));
        });
  }
  /// @copydoc sync
  /// Asynchronous, without a timeout: cancel it through the handler's cancellation slot.
  /// **Handler signature** `void(std::exception_ptr, std::int64_t revision)`. **Executor** the
  /// handler's, else the client's. **Object lifetimes** as async_wait_for.
  template <class Token>
  auto async_sync(Token&& token) const {
    return detail::initiate<std::int64_t>(
        executor(), std::forward<Token>(token), [state = state_](auto callback, auto canceller) {
          start_sync(state, std::move(callback), std::move(canceller));
        });
  }

 private:
  asio::any_io_executor executor() const;
  static void start_wait_for(const std::shared_ptr<detail::PrefixCacheState>& state,
                             std::int64_t revision, detail::Callback<std::int64_t> callback,
                             std::shared_ptr<detail::Canceller> canceller);
  static void start_sync(const std::shared_ptr<detail::PrefixCacheState>& state,
                         detail::Callback<std::int64_t> callback,
                         std::shared_ptr<detail::Canceller> canceller);
  std::shared_ptr<detail::PrefixCacheState> state_;
};

/// The contents of a PrefixCache at one revision, immutable: iterate it in key order
/// (`for (const KeyValue& kv : cache.snapshot())`). It shares its memory with the cache and
/// with other snapshots.
///
/// **Thread safety** Any number of threads may read one Snapshot at once. **Lifetime** The
/// references and iterators it hands out are valid as long as the Snapshot (or a copy).
class PrefixCache::Snapshot {
 public:
  /// A forward iterator over the keys in ascending byte order.
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;  ///< A forward iterator.
    using value_type = KeyValue;                          ///< It iterates key-values.
    using difference_type = std::ptrdiff_t;               ///< The distance between two.
    using pointer = const KeyValue*;                      ///< What operator-> gives.
    using reference = const KeyValue&;                    ///< What operator* gives.

    iterator() = default;
    /// The key-value it is at; not to be called at the end.
    reference operator*() const;
    /// The key-value it is at; not to be called at the end.
    pointer operator->() const { return &**this; }
    /// Moves to the next key; not to be called at the end.
    iterator& operator++();
    /// Moves to the next key; returns the iterator as it was before.
    iterator operator++(int) {
      iterator before = *this;
      ++*this;
      return before;
    }
    /// Whether both are at the same key of one Snapshot, or both at the end.
    friend bool operator==(const iterator& a, const iterator& b) noexcept {
      if (a.path_.empty() || b.path_.empty()) return a.path_.empty() && b.path_.empty();
      return a.path_.back() == b.path_.back();
    }

   private:
    friend class Snapshot;
    void descend_left(const detail::CacheNode* node);
    std::vector<const detail::CacheNode*> path_;  // the nodes whose key is still to come
  };

  /// An empty Snapshot: no key, revision 0.
  Snapshot() = default;

  /// The key's value, or nullptr when there is none; valid as long as the Snapshot.
  const KeyValue* find(std::string_view key) const;
  /// The number of keys.
  std::size_t size() const noexcept;
  /// Whether there is no key.
  bool empty() const noexcept { return size() == 0; }
  /// The revision through which these contents are complete.
  std::int64_t revision() const noexcept;
  /// The first key, in ascending byte order; end() when empty.
  iterator begin() const;
  /// Past the last key.
  iterator end() const noexcept { return {}; }

 private:
  friend class PrefixCache;
  explicit Snapshot(std::shared_ptr<const detail::CacheVersion> version)
      : version_(std::move(version)) {}
  std::shared_ptr<const detail::CacheVersion> version_;
};

}  // namespace etcdpp
