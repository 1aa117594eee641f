// SPDX-License-Identifier: Apache-2.0
// etcd v2's vocabulary on etcd v3: set with a TTL, compare-and-swap, compare-and-delete, in-order
// keys, directories, version, machines and stats, as free functions over a Client. The v2 path
// is the v3 key, and a directory is the prefix `<dir>/` (with the marker key `<dir>/` for an
// empty directory made by create_dir). docs/guide/v2-vocabulary.md maps each v2 call to its
// function here.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "etcdpp/client.hpp"

namespace etcdpp::v2 {

/// The conditions and TTL of a set: v2's `ttl`, `prevValue`, `prevIndex` and `prevExist`.
/// Conditions combine with AND; none makes a plain set.
struct SetOptions {
  /// The key lives this long unless set again. Each set with a TTL grants a lease of its own
  /// for this key alone (no two keys share one); a later set, with or without a TTL, moves the
  /// key off it, and the old lease then expires with nothing on it. etcd raises a TTL below its
  /// minimum (about 2 s by default).
  std::optional<std::chrono::seconds> ttl{};
  /// The key must hold this value (v2 101 "Compare failed" otherwise).
  std::optional<std::string> prev_value{};
  /// The key's mod revision must be this one (v2's prevIndex, in v3 revisions).
  std::optional<std::int64_t> prev_index{};
  /// true: the key must exist (v2 100 "Key not found"); false: it must not (v2 105 "Key already
  /// exists").
  std::optional<bool> prev_exist{};
};

/// What a set, create_in_order or delete answers.
struct Result {
  /// The key written or deleted: the new key for create_in_order, the marker `<dir>/` for
  /// create_dir and delete_dir.
  std::string key;
  std::int64_t revision = 0;       ///< The revision of the write (v2's modifiedIndex).
  std::optional<KeyValue> prev;    ///< The key before the write, when it existed (v2's prevNode).
  LeaseId lease{};                 ///< The lease granted for a TTL, else LeaseId{0}.

  bool operator==(const Result&) const = default;  ///< Member-wise comparison.
};

/// Sets `key` to `value` if the conditions hold, atomically.
///
/// **Errors** Throws Error naming the key and the condition that failed, nothing written (a
/// lease granted for the TTL is revoked): Errc::key_not_found when the key must exist and does
/// not (v2 100), Errc::already_exists when it must not and does (v2 105), Errc::failed_precondition
/// when its value or revision differs (v2 101; the message gives both) or the key is a
/// directory (v2 102; told only when a condition fails: a set without conditions, or with
/// prev_exist false, writes a directory's name as a key). Errc::empty_key for an empty key.
Result set(const Client& client, std::string_view key, std::string_view value,
           const SetOptions& options = {});

/// Renews the TTL of `key` (v2's `refresh=true`): keeps its lease alive once. Errc::key_not_found
/// when the key does not exist, Errc::failed_precondition when it has no TTL.
LeaseKeepAliveResult refresh(const Client& client, std::string_view key);

/// The conditions of a compare-and-delete.
struct DeleteOptions {
  /// The key must hold this value (v2's prevValue; v2 101 "Compare failed" otherwise).
  std::optional<std::string> prev_value{};
  /// The key's mod revision must be this one (v2's prevIndex, in v3 revisions).
  std::optional<std::int64_t> prev_index{};
};

/// Deletes `key` (v2's DELETE; compare-and-delete with conditions). `Result::prev` is the
/// deleted key; with no condition, a missing key gives an empty `prev` (cl-etcd's
/// `:error-on-missing nil`), with conditions it throws Errc::key_not_found (v2 100).
/// Errc::failed_precondition when a condition fails (v2 101) or the key is a directory (v2 102:
/// use delete_dir).
Result remove(const Client& client, std::string_view key, const DeleteOptions& options = {});

/// Creates `<dir>/<16-digit number>` = `value`, numbered after every key made so in `dir`
/// (v2's POST, etcd-clojure's create-in-order); concurrency::create_sequential_key underneath.
Result create_in_order(const Client& client, std::string_view dir, std::string_view value);

/// One entry of a listed directory.
struct Node {
  std::string key;     ///< The full key; a directory's ends in "/".
  std::string value;   ///< Empty for a directory.
  /// Whether the entry is a directory: a marker key, or (listing not recursively) a child
  /// directory that stands for the keys below it.
  bool dir = false;
  std::int64_t create_revision = 0;  ///< v2's createdIndex (0 for a directory made implicitly).
  /// v2's modifiedIndex; for a child directory standing for keys, the newest of theirs.
  std::int64_t mod_revision = 0;

  bool operator==(const Node&) const = default;  ///< Member-wise comparison.
};

/// How list reads a directory.
struct ListOptions {
  /// Every key under the directory, at any depth; else its direct children, deeper keys folded
  /// into one entry per child directory.
  bool recursive = false;
};

/// The entries of directory `dir` (`dir` or `dir/`), by key, read at one revision.
/// Errc::key_not_found when nothing is under it and it has no marker (v2 100).
std::vector<Node> list(const Client& client, std::string_view dir, const ListOptions& options = {});

/// Every key under `dir`, recursively, sorted by key (v2's `recursive=true&sorted=true`): keys
/// made by create_in_order come in the order they were made.
std::vector<Node> list_in_order(const Client& client, std::string_view dir);

/// Creates the empty directory `dir` (its marker key `dir/`). Errc::already_exists when it
/// exists (v2 105), Errc::failed_precondition when `dir` is a key (v2 104 "Not a directory").
Result create_dir(const Client& client, std::string_view dir);

/// How delete_dir deletes a directory.
struct DeleteDirOptions {
  /// Delete everything under the directory; else it must be empty (v2 108).
  bool recursive = false;
};

/// Deletes directory `dir`: its marker and, when recursive, every key under it, in one call.
/// Returns the revision and (in `prev`) nothing. Errc::key_not_found when there was nothing to
/// delete (v2 100), Errc::failed_precondition when not recursive and not empty (v2 108).
Result delete_dir(const Client& client, std::string_view dir, const DeleteDirOptions& options = {});

/// The etcd version of the member the client reaches (v2's /version; Maintenance.Status).
std::string version(const Client& client);

/// The client URLs of every member (v2's /v2/machines; Cluster.MemberList).
std::vector<std::string> machines(const Client& client);

/// The leader's view (v2's /v2/stats/leader): every endpoint's status (Client::status_all),
/// whose `leader` field names the leader.
std::vector<EndpointStatus> stats(const Client& client);

/// The member the client reaches (v2's /v2/stats/self; Maintenance.Status).
StatusResult self_stats(const Client& client);

/// The store (v2's /v2/stats/store): its revision and key count, and its database size.
struct StoreStats {
  std::int64_t revision = 0;  ///< The store's revision when the keys were counted.
  std::int64_t keys = 0;      ///< The number of keys (of its namespace, for a namespaced client).
  /// The backend database size on disk, in bytes, of the member the client reaches.
  std::int64_t db_size = 0;

  bool operator==(const StoreStats&) const = default;  ///< Member-wise comparison.
};
/// The store's stats, from one count-only read of every key and the Maintenance.Status of
/// the member the client reaches.
StoreStats store_stats(const Client& client);

}  // namespace etcdpp::v2
