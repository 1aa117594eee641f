// SPDX-License-Identifier: Apache-2.0
// What a PrefixCache's callbacks said, in order, for tests to compare with the truth.
#pragma once

#include <mutex>
#include <optional>
#include <vector>

#include "etcdpp/prefix_cache.hpp"

namespace etcdpp::test {

/// One callback: a put (kv, prev), a delete (prev as kv, revision) or a relist.
struct CacheRecord {
  enum class Kind { put, deleted, relist };
  Kind kind = Kind::put;
  KeyValue kv;
  std::optional<KeyValue> prev;
  std::int64_t revision = 0;
  PrefixCacheRelist relist;
};

/// Records every callback of the caches it makes options for; any thread may read it.
class CacheHistory {
 public:
  /// Options whose callbacks record here, with the rest of `base`.
  PrefixCacheOptions options(PrefixCacheOptions base = {}) {
    base.on_put = [this](const KeyValue& kv, const std::optional<KeyValue>& prev) {
      add({CacheRecord::Kind::put, kv, prev, kv.mod_revision, {}});
    };
    base.on_delete = [this](const KeyValue& prev, std::int64_t revision) {
      add({CacheRecord::Kind::deleted, prev, std::nullopt, revision, {}});
    };
    base.on_relist = [this](const PrefixCacheRelist& r) {
      add({CacheRecord::Kind::relist, {}, std::nullopt, r.revision, r});
    };
    return base;
  }
  std::vector<CacheRecord> records() const {
    std::lock_guard lock(mutex_);
    return records_;
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return records_.size();
  }
  std::size_t relists() const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (const auto& r : records_) n += r.kind == CacheRecord::Kind::relist;
    return n;
  }
  /// The revision of the last change recorded, 0 before any.
  std::int64_t last_revision() const {
    std::lock_guard lock(mutex_);
    return records_.empty() ? 0 : records_.back().revision;
  }

 private:
  void add(CacheRecord r) {
    std::lock_guard lock(mutex_);
    records_.push_back(std::move(r));
  }
  mutable std::mutex mutex_;
  std::vector<CacheRecord> records_;
};

}  // namespace etcdpp::test
