// SPDX-License-Identifier: Apache-2.0
// PrefixCache: a persistent (path-copying) treap holds the contents, so that every applied
// revision is a new immutable version sharing all but O(log n) nodes with the previous one.
// Readers look it up under a lock of their own thread's slot, which the applier takes only to
// swap a pointer; the applier never waits for a callback, and readers never for each other.
//
// Revisions are the whole story, as for watches:
//  - the list is paged and every page pinned to the first page's revision R; the watch starts
//    at R + 1, and the Watch itself resumes after failures from the revision after the last
//    one delivered, so failover needs nothing here;
//  - only a compacted resume revision ends the watch for good: then the prefix is listed again
//    and diffed against the current contents, so that callbacks see only real differences;
//  - freshness is never taken from progress notifications (etcd 3.4 before 3.4.25 may send one
//    ahead of events still queued, and before 3.4.31 never answers a request on a watch that
//    has had no event). It is proven by one linearizable range read instead: no key under the
//    prefix has a mod revision above ours, and the count of keys is ours.
//
// The calls that the asynchronous Client API will replace are each behind one function here:
// open_watch() (a blocking Client::watch, so it runs on a short-lived recovery thread rather
// than on an executor) and list() (a Paginator on that same thread).
#include "etcdpp/prefix_cache.hpp"

#include <pthread.h>

#include <algorithm>
#include <array>
#include <asio/post.hpp>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

namespace etcdpp {
namespace detail {

// ---- The persistent treap ------------------------------------------------------------------

/// A node is immutable once made. The key-value lives behind its own pointer so that copying a
/// node on a changed path copies three pointers, not the key and value.
struct CacheNode {
  std::shared_ptr<const KeyValue> kv;
  std::shared_ptr<const CacheNode> left;
  std::shared_ptr<const CacheNode> right;
  std::uint64_t priority = 0;
  // The first bytes of the key after the cache's prefix (which every key shares), inline: a
  // lookup compares these and reads the key itself only when they tie, so that it touches
  // one cache line per level instead of three (node, key-value, key).
  static constexpr std::size_t kHead = 16;
  std::uint32_t offset = 0;  // the prefix's length
  std::uint8_t head_size = 0;
  char head[kHead] = {};
};
using NodePtr = std::shared_ptr<const CacheNode>;

/// One published version: what a Snapshot holds.
struct CacheVersion {
  NodePtr root;
  std::size_t size = 0;
  std::int64_t revision = 0;
};

namespace {

/// The heap priority of a key: a hash of it, so that one key always has the same priority and
/// the tree's shape depends only on its keys.
std::uint64_t priority_of(std::string_view key) {
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a, then a final mix
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

NodePtr make_node(std::shared_ptr<const KeyValue> kv, std::uint64_t priority, std::uint32_t offset,
                  NodePtr left, NodePtr right) {
  auto n = std::make_shared<CacheNode>();
  const std::string_view tail = std::string_view(kv->key).substr(offset);
  n->offset = offset;
  n->head_size = static_cast<std::uint8_t>(std::min(tail.size(), CacheNode::kHead));
  std::memcpy(n->head, tail.data(), n->head_size);
  n->kv = std::move(kv);
  n->priority = priority;
  n->left = std::move(left);
  n->right = std::move(right);
  return n;
}

/// A copy of `t` with other children.
NodePtr copy_node(const NodePtr& t, NodePtr left, NodePtr right) {
  auto n = std::make_shared<CacheNode>(*t);
  n->left = std::move(left);
  n->right = std::move(right);
  return n;
}

const CacheNode* find_node(const CacheNode* n, std::string_view key) {
  if (n == nullptr) return nullptr;
  // Every key in the tree starts with the same `offset` bytes: a key that does not is absent.
  const std::size_t offset = n->offset;
  if (key.size() < offset ||
      key.substr(0, offset) != std::string_view(n->kv->key).substr(0, offset)) {
    return nullptr;
  }
  const std::string_view tail = key.substr(offset);
  const std::size_t size = std::min(tail.size(), CacheNode::kHead);
  while (n != nullptr) {
    int c = std::memcmp(tail.data(), n->head, std::min<std::size_t>(size, n->head_size));
    if (c == 0) {
      // Equal heads: the shorter one, if any, is the whole of its tail, so it comes first.
      c = size == n->head_size ? 0 : size < n->head_size ? -1 : 1;
      if (c == 0 && size == CacheNode::kHead) c = key.compare(n->kv->key);
      if (c == 0) return n;
    }
    n = c < 0 ? n->left.get() : n->right.get();
  }
  return nullptr;
}

const KeyValue* find_in(const CacheNode* root, std::string_view key) {
  const CacheNode* n = find_node(root, key);
  return n == nullptr ? nullptr : n->kv.get();
}

/// Splits `t` into the keys below `key` and the keys above it (`key` is not in `t`).
std::pair<NodePtr, NodePtr> split(const NodePtr& t, std::string_view key) {
  if (!t) return {};
  if (std::string_view(t->kv->key) < key) {
    auto [l, r] = split(t->right, key);
    return {copy_node(t, t->left, std::move(l)), std::move(r)};
  }
  auto [l, r] = split(t->left, key);
  return {std::move(l), copy_node(t, std::move(r), t->right)};
}

NodePtr merge(const NodePtr& a, const NodePtr& b) {
  if (!a) return b;
  if (!b) return a;
  if (a->priority >= b->priority) return copy_node(a, a->left, merge(a->right, b));
  return copy_node(b, merge(a, b->left), b->right);
}

/// `t` with `kv` in it, replacing the key's value if present; `offset` is the prefix's length.
NodePtr insert(const NodePtr& t, std::shared_ptr<const KeyValue> kv, std::uint64_t priority,
               std::uint32_t offset) {
  if (!t) return make_node(std::move(kv), priority, offset, nullptr, nullptr);
  const int c = std::string_view(kv->key).compare(t->kv->key);
  if (c == 0) return make_node(std::move(kv), t->priority, offset, t->left, t->right);
  // A key's priority is its own, so a priority above t's means the key is not below t.
  if (priority > t->priority) {
    auto [l, r] = split(t, kv->key);
    return make_node(std::move(kv), priority, offset, std::move(l), std::move(r));
  }
  if (c < 0) return copy_node(t, insert(t->left, std::move(kv), priority, offset), t->right);
  return copy_node(t, t->left, insert(t->right, std::move(kv), priority, offset));
}

/// `t` without `key` (the same tree when it is absent).
NodePtr erase(const NodePtr& t, std::string_view key) {
  if (!t) return t;
  const int c = key.compare(t->kv->key);
  if (c == 0) return merge(t->left, t->right);
  if (c < 0) {
    NodePtr l = erase(t->left, key);
    return l == t->left ? t : copy_node(t, std::move(l), t->right);
  }
  NodePtr r = erase(t->right, key);
  return r == t->right ? t : copy_node(t, t->left, std::move(r));
}

/// In-order traversal with an explicit stack.
class Cursor {
 public:
  explicit Cursor(const CacheNode* root) { descend(root); }
  const CacheNode* get() const { return path_.empty() ? nullptr : path_.back(); }
  void next() {
    const CacheNode* n = path_.back();
    path_.pop_back();
    descend(n->right.get());
  }

 private:
  void descend(const CacheNode* n) {
    for (; n != nullptr; n = n->left.get()) path_.push_back(n);
  }
  std::vector<const CacheNode*> path_;
};

}  // namespace

// ---- The state shared by the cache, its watch, its callbacks and its waiters -----------------

/// One change as the callbacks see it.
struct CacheChange {
  bool deleted = false;
  std::shared_ptr<const KeyValue> kv;    // put: the new value; delete: the last value
  std::shared_ptr<const KeyValue> prev;  // put: the value before, or null
  std::int64_t revision = 0;             // of the change (of the list, for a relist's delete)
};

/// The changes of one applied revision range (or of a relist), with the version after them.
struct CacheNotice {
  std::vector<CacheChange> changes;
  std::optional<PrefixCacheRelist> relist;
  NodePtr after;
  std::int64_t after_revision = 0;
};

class PrefixCacheState : public std::enable_shared_from_this<PrefixCacheState> {
 public:
  PrefixCacheState(Client client, std::string prefix, PrefixCacheOptions options);

  void start();  // the first list and watch; throws
  void stop() noexcept;

  /// The current version (a copy of the pointer: for snapshots).
  std::shared_ptr<const CacheVersion> current() const {
    Slot& slot = reader_slot();
    std::lock_guard lock(slot.mutex);
    return slot.version;
  }
  /// Runs `read(version)` on the current version without copying its pointer.
  template <class Read>
  auto read(Read&& read) const {
    Slot& slot = reader_slot();
    std::lock_guard lock(slot.mutex);
    return read(*slot.version);
  }
  asio::any_io_executor client_executor() const { return client_.executor(); }
  const std::string& prefix() const noexcept { return prefix_; }
  std::uint32_t offset() const noexcept { return static_cast<std::uint32_t>(prefix_.size()); }

  void add_waiter(std::int64_t revision, Callback<std::int64_t> callback,
                  const std::shared_ptr<Canceller>& canceller);
  void sync(Callback<std::int64_t> callback, const std::shared_ptr<Canceller>& canceller);

 private:
  struct Waiter {
    std::int64_t revision;
    Callback<std::int64_t> callback;
  };

  // -- The calls the asynchronous Client API replaces (see the file's comment).
  Watch open_watch(std::int64_t start_revision);
  NodePtr list(const NodePtr& old_root, std::int64_t& revision, std::size_t& size,
               std::vector<CacheChange>& changes);

  // -- Applying.
  void on_watch(std::error_code ec, WatchBatch batch);
  void publish_locked();
  void relist();

  // -- Recovery after the watch ended.
  void request_recovery(bool compacted);
  void recover();
  bool recover_once(int& failures);

  // -- Freshness.
  void after_publish(std::int64_t revision, bool proven_by_probe = false);
  void start_probe(std::function<void(std::error_code, std::int64_t, bool)> done);
  void probe_for_waiters();

  // -- Callbacks.
  bool has_callbacks() const { return options_.on_put || options_.on_delete || options_.on_relist; }
  void enqueue(CacheNotice notice);
  void drain();
  void deliver(const CacheNotice& notice);
  CacheNotice diff(const NodePtr& from, const NodePtr& to, std::int64_t to_revision) const;

  Client client_;
  const std::string prefix_;
  const PrefixCacheOptions options_;
  const asio::any_io_executor callback_executor_;

  // What readers load. Each reader thread uses one of several slots, each with its own lock
  // and its own copy of the pointer to the current version: readers on different slots share
  // no cache line, not even a reference count, and the applier, which updates every slot,
  // waits at most for one lookup per slot. (One std::atomic<std::shared_ptr> made readers
  // spin on its lock bit: fifty times slower with four readers on two cores.)
  struct alignas(64) Slot {
    std::mutex mutex;
    std::shared_ptr<const CacheVersion> version;
  };
  static constexpr std::size_t kSlots = 16;
  Slot& reader_slot() const {
    static std::atomic<unsigned> next{0};
    thread_local const unsigned index = next++;
    return slots_[index % kSlots];
  }
  void publish(std::shared_ptr<const CacheVersion> version);
  mutable std::array<Slot, kSlots> slots_;

  // The applier's state: the watch callback and the recovery thread take turns.
  std::mutex apply_mutex_;
  NodePtr root_;
  std::size_t size_ = 0;
  std::int64_t applied_ = 0;  // the list's revision, then the last applied event's
  std::int64_t proven_ = 0;   // the newest revision a freshness read proved complete

  // Recovery. The watch and the thread are replaced only under control_mutex_.
  std::mutex control_mutex_;
  std::condition_variable control_cv_;
  bool stopping_ = false;
  bool recovering_ = false;
  bool recovery_due_ = false;
  bool relist_due_ = false;
  std::thread recovery_;
  Watch watch_;

  // Waiters and the freshness read that serves them (one at a time).
  std::mutex wait_mutex_;
  std::map<std::uint64_t, Waiter> waiters_;
  std::uint64_t next_waiter_ = 1;
  bool probing_ = false;
  bool probe_stale_ = false;  // something was published while the read was out

  // Callbacks.
  std::mutex delivery_mutex_;
  std::condition_variable delivery_cv_;
  std::deque<CacheNotice> notices_;
  std::size_t pending_changes_ = 0;
  bool overflowed_ = false;
  NodePtr overflow_to_;
  std::int64_t overflow_to_revision_ = 0;
  NodePtr delivered_;  // the version after the last notice called back
  std::int64_t delivered_revision_ = 0;
  bool dispatching_ = false;
  bool delivery_stopped_ = false;
  std::thread::id callback_thread_;
};

PrefixCacheState::PrefixCacheState(Client client, std::string prefix, PrefixCacheOptions options)
    : client_(std::move(client)),
      prefix_(std::move(prefix)),
      options_(std::move(options)),
      callback_executor_(options_.executor ? options_.executor : client_.executor()) {
  const auto refuse = [&](const char* why) {
    throw_error(make_error_code(Errc::invalid_option), "PrefixCache \"" + prefix_ + "\": " + why);
  };
  if (options_.page_size <= 0) refuse("page_size must be positive");
  if (options_.max_pending_changes == 0) refuse("max_pending_changes must be positive");
  if (options_.retry_backoff_base.count() <= 0 ||
      options_.retry_backoff_max < options_.retry_backoff_base) {
    refuse("retry_backoff_base must be positive and at most retry_backoff_max");
  }
  publish(std::make_shared<const CacheVersion>());
}

void PrefixCacheState::start() {
  // The first list at R; then the watch from R + 1. Should R be compacted before the watch is
  // created (a compaction right between the two), list again: a few times, not forever.
  for (int attempt = 0;; ++attempt) {
    std::int64_t revision = 0;
    std::size_t size = 0;
    std::vector<CacheChange> ignored;  // the first contents are read, not called back
    NodePtr root = list(nullptr, revision, size, ignored);
    {
      std::lock_guard lock(apply_mutex_);
      root_ = root;
      size_ = size;
      applied_ = revision;
      publish_locked();
    }
    {
      std::lock_guard lock(delivery_mutex_);
      delivered_ = root;
      delivered_revision_ = revision;
    }
    try {
      Watch watch = open_watch(revision + 1);
      std::lock_guard lock(control_mutex_);
      watch_ = std::move(watch);
      return;
    } catch (const CompactedError&) {
      if (attempt == 2) throw;
    }
  }
}

void PrefixCacheState::stop() noexcept {
  std::thread recovery;
  Watch watch;
  {
    std::lock_guard lock(control_mutex_);
    stopping_ = true;
    recovery = std::move(recovery_);
    control_cv_.notify_all();
  }
  // A relist under way finishes its current call (bounded by the call timeout) and stops.
  if (recovery.joinable()) recovery.join();
  {
    std::lock_guard lock(control_mutex_);
    watch = std::move(watch_);
  }
  watch.cancel();  // waits for a watch callback that runs, which then finds stopping_ set
  std::map<std::uint64_t, Waiter> waiters;
  {
    std::lock_guard lock(wait_mutex_);
    waiters.swap(waiters_);
  }
  for (auto& [id, w] : waiters) {
    w.callback(CallStatus{make_error_code(Errc::cancelled), "the PrefixCache was destroyed"}, 0);
  }
  std::unique_lock lock(delivery_mutex_);
  delivery_stopped_ = true;
  notices_.clear();
  // Wait for a callback that runs, not for a drain that is posted but not started: the
  // executor may not be running at all.
  if (callback_thread_ != std::this_thread::get_id()) {
    delivery_cv_.wait(lock, [&] { return callback_thread_ == std::thread::id(); });
  }
}

// ---- The calls the asynchronous Client API replaces ------------------------------------------

Watch PrefixCacheState::open_watch(std::int64_t start_revision) {
  // TODO(#14): Client::async_watch, from the continuation of the list, without a thread.
  // Called with no lock held: Client::watch may wait for this watch's own callback.
  std::weak_ptr<PrefixCacheState> weak = weak_from_this();
  WatchOptions options;
  options.prefix = true;
  options.start_revision = start_revision;
  return client_.watch(prefix_, options, [weak](std::error_code ec, WatchBatch batch) {
    if (auto self = weak.lock()) self->on_watch(ec, std::move(batch));
  });
}

/// Lists the prefix page by page at one revision and merges it with `old_root` in key order:
/// returns the new root, sets `revision` and `size`, and appends the differences to `changes`.
NodePtr PrefixCacheState::list(const NodePtr& old_root, std::int64_t& revision, std::size_t& size,
                               std::vector<CacheChange>& changes) {
  NodePtr root = old_root;
  Cursor old(old_root.get());
  std::size_t count = 0;
  std::size_t deletes_from = changes.size();
  const auto drop = [&](const CacheNode* gone) {
    root = erase(root, gone->kv->key);
    changes.push_back({true, gone->kv, nullptr, 0});
  };
  GetOptions range;
  range.prefix = true;
  Paginator pages = client_.paginate(prefix_, range, options_.page_size);
  for (;;) {
    std::vector<KeyValue> page = pages.next_page();
    if (page.empty()) break;
    {
      std::lock_guard lock(control_mutex_);
      if (stopping_) throw Error(make_error_code(Errc::cancelled), "PrefixCache stopped");
    }
    for (KeyValue& kv : page) {
      ++count;
      while (old.get() != nullptr && std::string_view(old.get()->kv->key) < kv.key) {
        drop(old.get());
        old.next();
      }
      std::shared_ptr<const KeyValue> before;
      if (old.get() != nullptr && old.get()->kv->key == kv.key) {
        before = old.get()->kv;
        old.next();
        if (*before == kv) continue;  // unchanged: no callback, and the node is shared
      }
      auto now = std::make_shared<const KeyValue>(std::move(kv));
      const std::uint64_t priority = priority_of(now->key);
      changes.push_back({false, now, before, now->mod_revision});
      root = insert(root, std::move(now), priority, offset());
    }
  }
  for (; old.get() != nullptr; old.next()) drop(old.get());
  revision = std::max(revision, pages.revision());
  for (std::size_t i = deletes_from; i < changes.size(); ++i) {
    if (changes[i].deleted) changes[i].revision = revision;
  }
  size = count;
  return root;
}

// ---- Applying ------------------------------------------------------------------------------

void PrefixCacheState::publish_locked() {
  auto version = std::make_shared<CacheVersion>();
  version->root = root_;
  version->size = size_;
  version->revision = std::max(applied_, proven_);
  publish(std::move(version));
}

void PrefixCacheState::publish(std::shared_ptr<const CacheVersion> version) {
  std::array<std::shared_ptr<const CacheVersion>, kSlots> old;
  for (std::size_t i = 0; i < kSlots; ++i) {
    std::lock_guard lock(slots_[i].mutex);
    old[i] = std::exchange(slots_[i].version, version);
  }
  // `old` goes here, outside the slots' locks: the last reference to a version frees the
  // nodes only it had.
}

void PrefixCacheState::on_watch(std::error_code ec, WatchBatch batch) {
  if (!batch.events.empty()) {
    CacheNotice notice;
    std::int64_t published = 0;
    {
      std::lock_guard lock(apply_mutex_);
      // A batch holds whole revisions; one below what is applied was applied already (the
      // Watch never repeats one, so this is only a guard).
      const std::int64_t floor = applied_;
      std::int64_t last = applied_;
      for (Event& e : batch.events) {
        const std::int64_t rev = e.kv.mod_revision;
        if (rev <= floor) continue;
        last = std::max(last, rev);
        const CacheNode* found = find_node(root_.get(), e.kv.key);
        std::shared_ptr<const KeyValue> before = found ? found->kv : nullptr;
        if (e.type == Event::Type::delete_range) {
          if (!before) continue;  // etcd reports no deletion of an absent key; a guard
          root_ = erase(root_, e.kv.key);
          --size_;
          notice.changes.push_back({true, std::move(before), nullptr, rev});
        } else {
          if (!before) ++size_;
          auto now = std::make_shared<const KeyValue>(std::move(e.kv));
          const std::uint64_t priority = priority_of(now->key);
          root_ = insert(root_, now, priority, offset());
          notice.changes.push_back({false, std::move(now), std::move(before), rev});
        }
      }
      applied_ = last;
      publish_locked();
      published = std::max(applied_, proven_);
      notice.after = root_;
      notice.after_revision = published;
    }
    if (!notice.changes.empty()) enqueue(std::move(notice));
    after_publish(published);
  }
  if (ec) request_recovery(ec == Errc::compacted);
}

void PrefixCacheState::relist() {
  NodePtr old_root;
  std::int64_t from = 0;
  std::int64_t revision = 0;
  std::size_t size = 0;
  {
    std::lock_guard lock(apply_mutex_);
    old_root = root_;
    from = std::max(applied_, proven_);
    revision = applied_;
  }
  std::vector<CacheChange> changes;
  NodePtr root = list(old_root, revision, size, changes);
  CacheNotice notice;
  std::int64_t published = 0;
  {
    std::lock_guard lock(apply_mutex_);
    // No watch runs during a relist, so nothing was applied meanwhile.
    root_ = root;
    size_ = size;
    applied_ = revision;
    publish_locked();
    published = std::max(applied_, proven_);
  }
  PrefixCacheRelist info{PrefixCacheRelist::Reason::compacted, from, revision, 0, 0};
  for (const auto& c : changes) ++(c.deleted ? info.deletes : info.puts);
  notice.changes = std::move(changes);
  notice.relist = info;
  notice.after = std::move(root);
  notice.after_revision = published;
  enqueue(std::move(notice));
  after_publish(published);
}

// ---- Recovery ------------------------------------------------------------------------------

void PrefixCacheState::request_recovery(bool compacted) {
  std::lock_guard lock(control_mutex_);
  if (stopping_) return;
  recovery_due_ = true;
  relist_due_ = relist_due_ || compacted;
  if (recovering_) return;  // the running thread sees recovery_due_ before it ends
  recovering_ = true;
  // A previous recovery thread has cleared recovering_ as its last act: joining it is brief.
  if (recovery_.joinable()) recovery_.join();
  recovery_ = std::thread([self = shared_from_this()] { self->recover(); });
}

void PrefixCacheState::recover() {
  pthread_setname_np(pthread_self(), "etcdpp-cache");
  int failures = 0;
  for (;;) {
    {
      std::lock_guard lock(control_mutex_);
      if (stopping_ || !recovery_due_) {
        recovering_ = false;
        return;
      }
      recovery_due_ = false;
    }
    while (!recover_once(failures)) {
      // Back off with full jitter; the first retry after a compaction is immediate.
      auto cap = options_.retry_backoff_base * (1 << std::min(failures - 1, 16));
      cap = std::min(cap, options_.retry_backoff_max);
      thread_local std::minstd_rand random(std::random_device{}());
      const auto wait = std::chrono::milliseconds(
          std::uniform_int_distribution<std::int64_t>(0, cap.count())(random));
      std::unique_lock lock(control_mutex_);
      if (control_cv_.wait_for(lock, wait, [&] { return stopping_; })) {
        recovering_ = false;
        return;
      }
    }
  }
}

/// One attempt: relist if due, then watch from the revision after the last applied one.
/// Returns false after a failure that calls for a backoff.
bool PrefixCacheState::recover_once(int& failures) {
  try {
    bool relist_due = false;
    {
      std::lock_guard lock(control_mutex_);
      if (stopping_) return true;
      relist_due = relist_due_;
    }
    if (relist_due) {
      relist();
      std::lock_guard lock(control_mutex_);
      relist_due_ = false;
    }
    std::int64_t start = 0;
    {
      std::lock_guard lock(apply_mutex_);
      start = applied_ + 1;
    }
    Watch watch = open_watch(start);
    failures = 0;
    std::lock_guard lock(control_mutex_);
    if (!stopping_) watch_ = std::move(watch);
    // else the watch is cancelled as it goes; stop() waits for this thread first.
    return true;
  } catch (const CompactedError&) {
    {
      std::lock_guard lock(control_mutex_);
      relist_due_ = true;
    }
    if (failures++ == 0) return recover_once(failures);
  } catch (const Error& e) {
    ++failures;
    if (e.code() != Errc::cancelled && !is_transient(e.code()) && options_.on_error) {
      asio::post(callback_executor_, [weak = weak_from_this(), ec = e.code()] {
        auto self = weak.lock();
        if (!self) return;
        {
          std::lock_guard lock(self->delivery_mutex_);
          if (self->delivery_stopped_) return;
        }
        self->options_.on_error(ec);
      });
    }
  }
  return false;
}

// ---- Freshness -----------------------------------------------------------------------------

/// Serves the waiters that `revision` satisfies, and starts a freshness read for the others
/// unless one is out (which is then told that something was published meanwhile, unless that
/// something is its own proof: a waiter for a revision in the future must not make reads spin).
void PrefixCacheState::after_publish(std::int64_t revision, bool proven_by_probe) {
  std::vector<Waiter> ready;
  bool probe = false;
  {
    std::lock_guard lock(wait_mutex_);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->second.revision <= revision) {
        ready.push_back(std::move(it->second));
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
    if (probing_) {
      if (!proven_by_probe) probe_stale_ = true;
    } else if (!waiters_.empty()) {
      probing_ = probe = true;
    }
  }
  for (auto& w : ready) w.callback(CallStatus{}, revision);
  if (probe) probe_for_waiters();
}

/// One linearizable read that proves the contents complete through its revision S when no key
/// under the prefix has a mod revision above ours and the prefix holds as many keys as we do:
/// then nothing was created, changed or deleted since (a key both created and deleted in
/// between leaves the contents at S the same). etcd reads the whole range to filter by mod
/// revision, but sends back at most one key and the count.
void PrefixCacheState::start_probe(std::function<void(std::error_code, std::int64_t, bool)> done) {
  std::int64_t applied = 0;
  std::size_t size = 0;
  {
    std::lock_guard lock(apply_mutex_);
    applied = applied_;
    size = size_;
  }
  GetOptions probe;
  probe.prefix = true;
  probe.limit = 1;
  probe.keys_only = true;
  probe.min_mod_revision = applied + 1;
  std::weak_ptr<PrefixCacheState> weak = weak_from_this();
  client_.async_get(prefix_, probe,
                    [weak, size, done = std::move(done)](std::exception_ptr error, GetResult r) {
                      const std::error_code ec = error_code_of(error);
                      auto self = weak.lock();
                      if (!self) return done(make_error_code(Errc::cancelled), 0, false);
                      if (ec) return done(ec, 0, false);
                      const std::int64_t at = r.header.revision;
                      const bool complete = r.kvs.empty() && r.count == std::int64_t(size);
                      std::int64_t published = 0;
                      if (complete) {
                        std::lock_guard lock(self->apply_mutex_);
                        if (at > self->proven_) {
                          self->proven_ = at;
                          self->publish_locked();
                        }
                        published = std::max(self->applied_, self->proven_);
                      }
                      if (complete) self->after_publish(published, true);
                      done({}, at, complete);
                    });
}

void PrefixCacheState::probe_for_waiters() {
  start_probe([weak = weak_from_this()](std::error_code, std::int64_t, bool) {
    auto self = weak.lock();
    if (!self) return;
    bool again = false;
    {
      std::lock_guard lock(self->wait_mutex_);
      // Not proven: the missing events are on their way, and their arrival probes again. A
      // publish while this read was out may have been the last of them: probe again now.
      again = self->probe_stale_ && !self->waiters_.empty();
      self->probe_stale_ = false;
      self->probing_ = again;
    }
    if (again) self->probe_for_waiters();
  });
}

void PrefixCacheState::add_waiter(std::int64_t revision, Callback<std::int64_t> callback,
                                  const std::shared_ptr<Canceller>& canceller) {
  const std::int64_t now = read([](const CacheVersion& v) { return v.revision; });
  if (now >= revision) return callback(CallStatus{}, now);
  std::uint64_t id = 0;
  {
    std::lock_guard lock(wait_mutex_);
    id = next_waiter_++;
    waiters_.emplace(id, Waiter{revision, std::move(callback)});
  }
  if (canceller) {
    auto action = [weak = weak_from_this(), id] {
      auto self = weak.lock();
      if (!self) return;
      std::optional<Waiter> w;
      {
        std::lock_guard lock(self->wait_mutex_);
        auto it = self->waiters_.find(id);
        if (it == self->waiters_.end()) return;
        w = std::move(it->second);
        self->waiters_.erase(it);
      }
      w->callback(CallStatus{make_error_code(Errc::cancelled), "cancelled"}, 0);
    };
    if (!canceller->set_action(action)) return action();
  }
  // Serves it if published since the check above; else starts a freshness read.
  after_publish(read([](const CacheVersion& v) { return v.revision; }));
}

void PrefixCacheState::sync(Callback<std::int64_t> callback,
                            const std::shared_ptr<Canceller>& canceller) {
  start_probe([weak = weak_from_this(), callback = std::move(callback), canceller](
                  std::error_code ec, std::int64_t at, bool complete) mutable {
    auto self = weak.lock();
    if (!self) {
      return callback(CallStatus{make_error_code(Errc::cancelled), "the PrefixCache was destroyed"},
                      0);
    }
    if (ec) return callback(CallStatus{ec, "sync: the freshness read failed"}, 0);
    if (complete) return callback(CallStatus{}, at);
    self->add_waiter(at, std::move(callback), canceller);
  });
}

// ---- Callbacks -----------------------------------------------------------------------------

void PrefixCacheState::enqueue(CacheNotice notice) {
  if (!has_callbacks()) return;
  std::lock_guard lock(delivery_mutex_);
  if (delivery_stopped_) return;
  if (overflowed_ || pending_changes_ + notice.changes.size() > options_.max_pending_changes) {
    // Too far behind: forget the queued changes; the callbacks get the difference between
    // what they saw last and this version instead.
    overflowed_ = true;
    notices_.clear();
    pending_changes_ = 0;
    overflow_to_ = std::move(notice.after);
    overflow_to_revision_ = notice.after_revision;
  } else {
    pending_changes_ += notice.changes.size();
    notices_.push_back(std::move(notice));
  }
  if (!dispatching_) {
    dispatching_ = true;
    asio::post(callback_executor_, [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->drain();
    });
  }
}

void PrefixCacheState::drain() {
  constexpr int kNoticesPerTurn = 16;
  std::unique_lock lock(delivery_mutex_);
  for (int n = 0;; ++n) {
    if (delivery_stopped_ || (notices_.empty() && !overflowed_)) {
      dispatching_ = false;
      callback_thread_ = {};
      delivery_cv_.notify_all();
      return;
    }
    if (n == kNoticesPerTurn) {
      // Let other work on the executor run; go on in a fresh turn.
      asio::post(callback_executor_, [weak = weak_from_this()] {
        if (auto self = weak.lock()) self->drain();
      });
      return;
    }
    CacheNotice notice;
    callback_thread_ = std::this_thread::get_id();
    if (overflowed_) {
      overflowed_ = false;
      NodePtr from = delivered_;
      NodePtr to = std::move(overflow_to_);
      const std::int64_t from_revision = delivered_revision_;
      const std::int64_t to_revision = overflow_to_revision_;
      lock.unlock();
      notice = diff(from, to, to_revision);
      notice.relist->from_revision = from_revision;
      lock.lock();
    } else {
      notice = std::move(notices_.front());
      notices_.pop_front();
      pending_changes_ -= notice.changes.size();
    }
    if (delivery_stopped_) continue;  // the loop's first check ends it
    lock.unlock();
    deliver(notice);
    lock.lock();
    callback_thread_ = {};
    delivered_ = std::move(notice.after);
    delivered_revision_ = notice.after_revision;
    delivery_cv_.notify_all();
  }
}

void PrefixCacheState::deliver(const CacheNotice& notice) {
  // A callback that throws must not take the executor's thread down, nor skip the others.
  const auto guarded = [](auto&& f) {
    try {
      f();
    } catch (...) {
    }
  };
  if (notice.relist && options_.on_relist) guarded([&] { options_.on_relist(*notice.relist); });
  for (const CacheChange& c : notice.changes) {
    {
      std::lock_guard lock(delivery_mutex_);
      if (delivery_stopped_) return;
    }
    if (c.deleted) {
      if (options_.on_delete) guarded([&] { options_.on_delete(*c.kv, c.revision); });
    } else if (options_.on_put) {
      const std::optional<KeyValue> prev = c.prev ? std::optional<KeyValue>(*c.prev) : std::nullopt;
      guarded([&] { options_.on_put(*c.kv, prev); });
    }
  }
}

/// The changes from one version to another, as a relist of Reason::overflow.
CacheNotice PrefixCacheState::diff(const NodePtr& from, const NodePtr& to,
                                   std::int64_t to_revision) const {
  CacheNotice notice;
  PrefixCacheRelist info{PrefixCacheRelist::Reason::overflow, 0, to_revision, 0, 0};
  Cursor a(from.get());
  Cursor b(to.get());
  while (a.get() != nullptr || b.get() != nullptr) {
    const CacheNode* x = a.get();
    const CacheNode* y = b.get();
    const int c = x == nullptr ? 1 : y == nullptr ? -1 : x->kv->key.compare(y->kv->key);
    if (c < 0) {
      notice.changes.push_back({true, x->kv, nullptr, to_revision});
      ++info.deletes;
      a.next();
    } else if (c > 0) {
      notice.changes.push_back({false, y->kv, nullptr, y->kv->mod_revision});
      ++info.puts;
      b.next();
    } else {
      if (x->kv != y->kv && !(*x->kv == *y->kv)) {
        notice.changes.push_back({false, y->kv, x->kv, y->kv->mod_revision});
        ++info.puts;
      }
      a.next();
      b.next();
    }
  }
  notice.relist = info;
  notice.after = to;
  notice.after_revision = to_revision;
  return notice;
}

}  // namespace detail

// ---- PrefixCache ---------------------------------------------------------------------------

PrefixCache::PrefixCache(Client client, std::string_view prefix, PrefixCacheOptions options)
    : state_(std::make_shared<detail::PrefixCacheState>(std::move(client), std::string(prefix),
                                                        std::move(options))) {
  try {
    state_->start();
  } catch (...) {
    state_->stop();
    throw;
  }
}

PrefixCache::PrefixCache(PrefixCache&&) noexcept = default;

PrefixCache& PrefixCache::operator=(PrefixCache&& other) noexcept {
  if (this != &other) {
    if (state_) state_->stop();
    state_ = std::move(other.state_);
  }
  return *this;
}

PrefixCache::~PrefixCache() {
  if (state_) state_->stop();
}

const std::string& PrefixCache::prefix() const noexcept { return state_->prefix(); }

std::optional<KeyValue> PrefixCache::get(std::string_view key) const {
  return state_->read([&](const detail::CacheVersion& v) -> std::optional<KeyValue> {
    const KeyValue* kv = detail::find_in(v.root.get(), key);
    if (kv == nullptr) return std::nullopt;
    return *kv;
  });
}

std::size_t PrefixCache::size() const noexcept {
  return state_->read([](const detail::CacheVersion& v) { return v.size; });
}
std::int64_t PrefixCache::revision() const noexcept {
  return state_->read([](const detail::CacheVersion& v) { return v.revision; });
}
PrefixCache::Snapshot PrefixCache::snapshot() const { return Snapshot(state_->current()); }
asio::any_io_executor PrefixCache::executor() const { return state_->client_executor(); }

namespace {

std::int64_t wait_blocking(const std::shared_ptr<detail::PrefixCacheState>& state,
                           std::chrono::milliseconds timeout, const std::string& what,
                           const std::function<void(detail::Callback<std::int64_t>,
                                                    std::shared_ptr<detail::Canceller>)>& start) {
  detail::Waiter<std::int64_t> waiter;
  auto canceller = std::make_shared<detail::Canceller>();
  start(waiter.callback(), canceller);
  std::optional<std::int64_t> result;
  detail::CallStatus status = waiter.wait_for(result, timeout);
  if (status.code == Errc::deadline_exceeded && !result) canceller->cancel();
  if (status.code) {
    throw_error(status.code, "PrefixCache \"" + state->prefix() + "\" " + what + ": " +
                                 (status.message.empty() ? status.code.message() : status.message));
  }
  return *result;
}

}  // namespace

std::int64_t PrefixCache::wait_for(std::int64_t revision, std::chrono::milliseconds timeout) const {
  const std::int64_t now = this->revision();
  if (now >= revision) return now;
  return wait_blocking(
      state_, timeout, "wait_for " + std::to_string(revision), [&](auto callback, auto canceller) {
        start_wait_for(state_, revision, std::move(callback), std::move(canceller));
      });
}

std::int64_t PrefixCache::sync(std::chrono::milliseconds timeout) const {
  return wait_blocking(state_, timeout, "sync", [&](auto callback, auto canceller) {
    start_sync(state_, std::move(callback), std::move(canceller));
  });
}

void PrefixCache::start_wait_for(const std::shared_ptr<detail::PrefixCacheState>& state,
                                 std::int64_t revision, detail::Callback<std::int64_t> callback,
                                 std::shared_ptr<detail::Canceller> canceller) {
  state->add_waiter(revision, std::move(callback), canceller);
}

void PrefixCache::start_sync(const std::shared_ptr<detail::PrefixCacheState>& state,
                             detail::Callback<std::int64_t> callback,
                             std::shared_ptr<detail::Canceller> canceller) {
  state->sync(std::move(callback), canceller);
}

// ---- Snapshot ------------------------------------------------------------------------------

const KeyValue* PrefixCache::Snapshot::find(std::string_view key) const {
  return version_ ? detail::find_in(version_->root.get(), key) : nullptr;
}
std::size_t PrefixCache::Snapshot::size() const noexcept { return version_ ? version_->size : 0; }
std::int64_t PrefixCache::Snapshot::revision() const noexcept {
  return version_ ? version_->revision : 0;
}

PrefixCache::Snapshot::iterator PrefixCache::Snapshot::begin() const {
  iterator it;
  if (version_) it.descend_left(version_->root.get());
  return it;
}

void PrefixCache::Snapshot::iterator::descend_left(const detail::CacheNode* node) {
  for (; node != nullptr; node = node->left.get()) path_.push_back(node);
}

const KeyValue& PrefixCache::Snapshot::iterator::operator*() const { return *path_.back()->kv; }

PrefixCache::Snapshot::iterator& PrefixCache::Snapshot::iterator::operator++() {
  const detail::CacheNode* n = path_.back();
  path_.pop_back();
  descend_left(n->right.get());
  return *this;
}

}  // namespace etcdpp
