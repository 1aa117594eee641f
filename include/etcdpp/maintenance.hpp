// SPDX-License-Identifier: Apache-2.0
// The plain data of etcd's Maintenance API: what a member says about itself (status), alarms,
// defragmentation, hashes, leader transfer and snapshots. Client (client.hpp) makes the calls;
// the embedded node (embedded/node.hpp) uses status to tell its role.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "etcdpp/kv.hpp"

namespace etcdpp {

/// A member's own view of itself and of the cluster (etcd's StatusResponse). It describes the
/// member that answered, whose id is `header.member_id`: a Client with several endpoints asks
/// whichever it is connected to, so ask a Client with one endpoint to know about one member.
struct StatusResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term);
  /// `header.member_id` is the member described.
  ResponseHeader header;
  std::string version;           ///< The member's etcd version, e.g. "3.4.23".
  std::int64_t db_size = 0;      ///< Backend database size on disk, in bytes.
  std::uint64_t leader = 0;      ///< The member id this member takes as leader; 0 if none.
  std::uint64_t raft_index = 0;  ///< Raft committed index.
  std::uint64_t raft_term = 0;   ///< Raft term.
  std::uint64_t raft_applied_index = 0;  ///< Raft applied index (at most raft_index).
  std::vector<std::string> errors;  ///< Alarms and health problems, e.g. "etcdserver: no leader".
  std::int64_t db_size_in_use = 0;  ///< Backend database size logically in use, in bytes.
  bool is_learner = false;  ///< Whether the member is a learner (a non-voting member).

  bool operator==(const StatusResult&) const = default;  ///< Member-wise comparison.
};

/// The status of one endpoint, as Client::status_all gives it: either its StatusResult or why
/// it could not be had (one unreachable endpoint does not fail the others).
struct EndpointStatus {
  std::string endpoint;                ///< The endpoint, as Endpoint::to_string writes it.
  std::optional<StatusResult> status;  ///< Set when the endpoint answered.
  std::error_code error;               ///< Set when it did not.
  std::string message;                 ///< The error's full text, naming the endpoint.

  /// Whether the endpoint answered (`status` is set).
  bool ok() const noexcept { return status.has_value(); }
  bool operator==(const EndpointStatus&) const = default;  ///< Member-wise comparison.
};

/// etcd's AlarmType.
enum class AlarmType {
  none = 0,      ///< In a disarm request: every type.
  no_space = 1,  ///< The backend exceeded its quota (--quota-backend-bytes); writes are refused.
  corrupt = 2,   ///< The member's data differs from the others'.
};

/// One raised alarm: which member, and what.
struct Alarm {
  std::uint64_t member_id = 0;       ///< The member the alarm is raised for.
  AlarmType type = AlarmType::none;  ///< What the alarm is.

  bool operator==(const Alarm&) const = default;  ///< Member-wise comparison.
};

/// What Client::defragment answers (etcd 3.4 sends an empty header).
struct DefragmentResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;

  bool operator==(const DefragmentResult&) const = default;  ///< Member-wise comparison.
};

/// What Client::hash answers: a hash of the member's whole backend.
struct HashResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;
  std::uint32_t hash = 0;  ///< A CRC-32 over the contents of the member's backend database.

  bool operator==(const HashResult&) const = default;  ///< Member-wise comparison.
};

/// What Client::hash_kv answers: a hash of the key-value store up to a revision, equal on
/// every member that has applied it.
struct HashKvResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;
  /// The hash of the store's keys and values from the compaction up to the revision asked.
  std::uint32_t hash = 0;
  std::int64_t compact_revision = 0;  ///< The revision the store was compacted at.

  bool operator==(const HashKvResult&) const = default;  ///< Member-wise comparison.
};

/// What Client::move_leader answers.
struct MoveLeaderResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;
  std::uint64_t previous_leader = 0;  ///< The member that was leader (and was asked).

  bool operator==(const MoveLeaderResult&) const = default;  ///< Member-wise comparison.
};

/// What Client::snapshot answers, once the file is in place.
struct SnapshotResult {
  std::string path;        ///< Where the snapshot is.
  std::uint64_t size = 0;  ///< Its size, in bytes.

  bool operator==(const SnapshotResult&) const = default;  ///< Member-wise comparison.
};

}  // namespace etcdpp
