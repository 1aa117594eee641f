// SPDX-License-Identifier: Apache-2.0
// The plain data of etcd's key-value API: KeyValue, the response header, and the options and
// results of get, put, delete_range and compact. Client (client.hpp) runs the operations; Txn
// (txn.hpp) composes them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace etcdpp {

/// A lease's ID. Its own type, so that it cannot be mixed up with a revision; `LeaseId{0}` is
/// "no lease".
enum class LeaseId : std::int64_t {};

/// A cluster member's ID. Its own type, so that it cannot be mixed up with a revision, a raft
/// index or a lease; `MemberId{0}` is "no member" (no leader known, say). etcd writes IDs in
/// hexadecimal: to_string(MemberId), and `MemberId{0x8e9e05c52164694d}` for a literal.
enum class MemberId : std::uint64_t {};

/// The ID as etcdctl prints it: lowercase hexadecimal without leading zeros, "8e9e05c52164694d".
std::string to_string(MemberId id);

/// The header of every answer: which cluster and member answered, at which store revision.
struct ResponseHeader {
  std::uint64_t cluster_id = 0;  ///< The ID of the cluster that answered.
  MemberId member_id{};          ///< The ID of the member that answered.
  std::int64_t revision = 0;  ///< The store's revision when the request was applied.
  std::uint64_t raft_term = 0;   ///< The raft term of that member when it answered.

  bool operator==(const ResponseHeader&) const = default;  ///< Member-wise comparison.
};

/// A key and its value, with the revisions etcd keeps for it. Keys and values are binary-safe.
struct KeyValue {
  std::string key;    ///< The key, as stored (bytes); a namespace view cuts its prefix off.
  std::string value;  ///< The value (bytes); empty when the read asked for keys_only.
  std::int64_t create_revision = 0;  ///< Revision of the last creation of this key.
  std::int64_t mod_revision = 0;     ///< Revision of the last modification of this key.
  std::int64_t version = 0;          ///< Number of modifications since its creation.
  LeaseId lease{};                   ///< The lease the key is attached to, or LeaseId{0}.

  bool operator==(const KeyValue&) const = default;  ///< Member-wise comparison.
};

/// The order of a range read's keys (etcd's RangeRequest.SortOrder): none (by key, ascending;
/// by the target, ascending, when that is not the key), ascend (smallest first) or descend.
enum class SortOrder { none, ascend, descend };
/// What a range read's keys are sorted by (etcd's RangeRequest.SortTarget): the key or the
/// value (bytewise), or KeyValue's version, create_revision or mod_revision.
enum class SortTarget { key, version, create_revision, mod_revision, value };

/// Options of a range read (etcd's RangeRequest). By default one key is read.
///
/// The range is chosen by at most one of `range_end`, `prefix` and `from_key`:
/// `range_end` reads [key, range_end); `prefix` reads every key starting with `key`;
/// `from_key` reads every key >= `key`. Setting two of them is refused before anything is sent:
/// the call throws Error (Errc::invalid_argument) naming them, on either face.
///
/// Every member is trivially destructible (`range_end` is a view, copied when the call
/// starts), so that the natural line `co_await client.async_get(k, {.prefix = true},
/// asio::use_awaitable)` is safe on GCC 12, which mis-copies aggregate temporaries with a
/// destructor inside a co_await expression.
struct GetOptions {
  /// Read [key, range_end); empty: only `key`; `"\0"`: every key >= it. A view: the bytes must
  /// outlive the call's start (a temporary std::string in the call's own expression does); the
  /// call copies them before it returns, whatever its face or completion token.
  std::string_view range_end;
  bool prefix = false;    ///< Read every key that starts with `key` (an empty key: all keys).
  bool from_key = false;  ///< Read every key >= `key` (an empty key: all keys).
  std::int64_t limit = 0;     ///< At most this many keys; 0 is no limit.
  std::int64_t revision = 0;  ///< Read at this revision; 0 is the newest.
  SortOrder sort_order = SortOrder::none;    ///< The order of the keys returned.
  SortTarget sort_target = SortTarget::key;  ///< What the keys are sorted by.
  bool serializable = false;  ///< Answer from the member's local state, without a quorum read.
  bool keys_only = false;     ///< Return the keys without their values (KeyValue::value empty).
  bool count_only = false;    ///< Return only GetResult::count, no key-value pairs.
  /// Only keys whose mod_revision is at least this; 0: no bound. This filter and the three
  /// below apply to the keys returned, not to GetResult::count.
  std::int64_t min_mod_revision = 0;
  std::int64_t max_mod_revision = 0;     ///< Only keys modified at or before this; 0: no bound.
  std::int64_t min_create_revision = 0;  ///< Only keys created at or after this; 0: no bound.
  std::int64_t max_create_revision = 0;  ///< Only keys created at or before this; 0: no bound.
};

/// What Client::get (with options) answers, and a get in a transaction (OpResult::get).
struct GetResult {
  ResponseHeader header;  ///< The header of etcd's response (cluster, member, revision, term).
  std::vector<KeyValue> kvs;  ///< The pairs read, in the order asked for; empty with count_only.
  bool more = false;       ///< More keys lie in the range than `kvs` holds (limit).
  std::int64_t count = 0;  ///< Number of keys in the range, whatever the limit.

  bool operator==(const GetResult&) const = default;  ///< Member-wise comparison.
};

/// Options of a put (etcd's PutRequest).
struct PutOptions {
  LeaseId lease{};            ///< Attach the key to this lease.
  bool prev_kv = false;       ///< Return the key-value pair as it was before.
  bool ignore_value = false;  ///< Keep the current value (the key must exist).
  bool ignore_lease = false;  ///< Keep the current lease (the key must exist).
};

/// What Client::put answers, and a put in a transaction (OpResult::put).
struct PutResult {
  ResponseHeader header;  ///< The header of etcd's response (cluster, member, revision, term).
  std::optional<KeyValue> prev_kv;  ///< Set when asked for and the key existed.

  bool operator==(const PutResult&) const = default;  ///< Member-wise comparison.
};

/// Options of a delete (etcd's DeleteRangeRequest); the range is chosen as in GetOptions, and
/// every member is trivially destructible, as there.
struct DeleteOptions {
  /// Delete [key, range_end); empty: only `key`; `"\0"`: every key >= `key`. A view, as
  /// GetOptions::range_end: copied when the call starts.
  std::string_view range_end;
  bool prefix = false;    ///< Delete every key that starts with `key` (an empty key: all keys).
  bool from_key = false;  ///< Delete every key >= `key` (an empty key: all keys).
  bool prev_kv = false;  ///< Return the deleted key-value pairs.
};

/// What Client::delete_range answers, and a delete in a transaction (OpResult::delete_range).
struct DeleteResult {
  ResponseHeader header;  ///< The header of etcd's response (cluster, member, revision, term).
  std::int64_t deleted = 0;  ///< How many keys were deleted; 0 when none existed.
  std::vector<KeyValue> prev_kvs;  ///< The deleted pairs, when DeleteOptions::prev_kv asked.

  bool operator==(const DeleteResult&) const = default;  ///< Member-wise comparison.
};

/// Options of Client::compact (etcd's CompactionRequest).
struct CompactOptions {
  /// Wait until the compaction is physically applied to the backend before answering.
  bool physical = false;
};

/// What Client::compact answers.
struct CompactResult {
  ResponseHeader header;  ///< The header of etcd's response (cluster, member, revision, term).

  bool operator==(const CompactResult&) const = default;  ///< Member-wise comparison.
};

/// The range end that covers every key starting with `prefix` (etcd's GetPrefixRangeEnd): the
/// prefix with its last byte below 0xff incremented and what follows dropped. A prefix of only
/// 0xff bytes, or an empty one, covers all keys from it on: the result is "\0".
std::string prefix_range_end(std::string_view prefix);

}  // namespace etcdpp
