// SPDX-License-Identifier: Apache-2.0
// etcd's Maintenance API: what a member says about itself (status), alarms, defragmentation,
// hashes, leader transfer and snapshots; MaintenanceClient, the facet of a Client
// (client.maintenance()) that makes those calls. The embedded node (embedded/node.hpp) uses
// status to tell its role.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "etcdpp/detail/call.hpp"
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
  MemberId leader{};             ///< The member this member takes as leader; MemberId{0}: none.
  std::uint64_t raft_index = 0;  ///< Raft committed index.
  std::uint64_t raft_term = 0;   ///< Raft term.
  std::uint64_t raft_applied_index = 0;  ///< Raft applied index (at most raft_index).
  std::vector<std::string> errors;  ///< Alarms and health problems, e.g. "etcdserver: no leader".
  std::int64_t db_size_in_use = 0;  ///< Backend database size logically in use, in bytes.
  bool is_learner = false;  ///< Whether the member is a learner (a non-voting member).

  bool operator==(const StatusResult&) const = default;  ///< Member-wise comparison.
};

/// The status of one endpoint, as MaintenanceClient::status_all gives it: either its StatusResult or why
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
  MemberId member_id{};              ///< The member the alarm is raised for.
  AlarmType type = AlarmType::none;  ///< What the alarm is.

  bool operator==(const Alarm&) const = default;  ///< Member-wise comparison.
};

/// What MaintenanceClient::defragment answers (etcd 3.4 sends an empty header).
struct DefragmentResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;

  bool operator==(const DefragmentResult&) const = default;  ///< Member-wise comparison.
};

/// What MaintenanceClient::hash answers: a hash of the member's whole backend.
struct HashResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;
  std::uint32_t hash = 0;  ///< A CRC-32 over the contents of the member's backend database.

  bool operator==(const HashResult&) const = default;  ///< Member-wise comparison.
};

/// What MaintenanceClient::hash_kv answers: a hash of the key-value store up to a revision, equal on
/// every member that has applied it.
struct HashKvResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;
  /// The hash of the store's keys and values from the compaction up to the revision asked.
  std::uint32_t hash = 0;
  std::int64_t compact_revision = 0;  ///< The revision the store was compacted at.

  bool operator==(const HashKvResult&) const = default;  ///< Member-wise comparison.
};

/// What MaintenanceClient::move_leader answers.
struct MoveLeaderResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;
  MemberId previous_leader{};  ///< The member that was leader (and was asked).

  bool operator==(const MoveLeaderResult&) const = default;  ///< Member-wise comparison.
};

/// What MaintenanceClient::snapshot answers, once the file is in place.
struct SnapshotResult {
  std::string path;        ///< Where the snapshot is.
  std::uint64_t size = 0;  ///< Its size, in bytes.

  bool operator==(const SnapshotResult&) const = default;  ///< Member-wise comparison.
};

namespace detail::calls {

/// status(): whichever member the client reaches.
struct Status {
  using Result = StatusResult;
  static constexpr auto cancellation = kReadCancellation;
};
/// status(endpoint), and the calls pinned to one endpoint.
struct StatusOf {
  using Result = StatusResult;
  static constexpr auto cancellation = kReadCancellation;
  std::string endpoint;
};
struct StatusAll {
  using Result = std::vector<EndpointStatus>;
  static constexpr auto cancellation = kReadCancellation;
};
struct AlarmList {
  using Result = std::vector<Alarm>;
  static constexpr auto cancellation = kReadCancellation;
};
struct AlarmDisarm {
  using Result = std::vector<Alarm>;
  static constexpr auto cancellation = kWriteCancellation;
  MemberId member_id;
  AlarmType type;
};
struct Defragment {
  using Result = DefragmentResult;
  static constexpr auto cancellation = kWriteCancellation;
  std::string endpoint;
};
struct Hash {
  using Result = HashResult;
  static constexpr auto cancellation = kReadCancellation;
  std::string endpoint;
};
struct HashKv {
  using Result = HashKvResult;
  static constexpr auto cancellation = kReadCancellation;
  std::string endpoint;
  std::int64_t revision;
};
struct MoveLeader {
  using Result = MoveLeaderResult;
  static constexpr auto cancellation = kWriteCancellation;
  MemberId target;
};
/// Cancellable in every way: a cancelled snapshot leaves no file behind.
struct Snapshot {
  using Result = SnapshotResult;
  static constexpr auto cancellation = kReadCancellation;
  std::string path;
};

void start(const CallContext&, Status, Callback<StatusResult>, std::shared_ptr<Canceller>);
void start(const CallContext&, StatusOf, Callback<StatusResult>, std::shared_ptr<Canceller>);
void start(const CallContext&, StatusAll, Callback<std::vector<EndpointStatus>>,
           std::shared_ptr<Canceller>);
void start(const CallContext&, AlarmList, Callback<std::vector<Alarm>>,
           std::shared_ptr<Canceller>);
void start(const CallContext&, AlarmDisarm, Callback<std::vector<Alarm>>,
           std::shared_ptr<Canceller>);
void start(const CallContext&, Defragment, Callback<DefragmentResult>,
           std::shared_ptr<Canceller>);
void start(const CallContext&, Hash, Callback<HashResult>, std::shared_ptr<Canceller>);
void start(const CallContext&, HashKv, Callback<HashKvResult>, std::shared_ptr<Canceller>);
void start(const CallContext&, MoveLeader, Callback<MoveLeaderResult>,
           std::shared_ptr<Canceller>);
void start(const CallContext&, Snapshot, Callback<SnapshotResult>, std::shared_ptr<Canceller>);

}  // namespace detail::calls

/// etcd's Maintenance API on a Client's connection: `client.maintenance()`. As cheap to copy
/// as a Client, it shares the client's connection and its call deadline (make it from
/// `client.with_timeout(...)` for a long snapshot or defragmentation), and may be used from
/// any number of threads. Each call has a blocking face that throws Error and an asynchronous
/// one that takes an Asio completion token, as Client's do. The calls that name an `endpoint`
/// take one of Client::endpoints(), in any form Endpoint::parse takes, and go there and nowhere
/// else (Errc::invalid_endpoint for an endpoint the client does not have).
class MaintenanceClient {
 public:
  /// The status of the member this call reaches (with one endpoint, that endpoint's member):
  /// its id, the leader it knows, raft index and term, database size, version.
  StatusResult status() const { return detail::run(context_, detail::calls::Status{}); }
  /// The status of the member at `endpoint`.
  StatusResult status(std::string_view endpoint) const {
    return detail::run(context_, detail::calls::StatusOf{std::string(endpoint)});
  }
  /// The status of every endpoint, in Client::endpoints() order, asked at once. One that does
  /// not answer has its error in its EndpointStatus; the call itself does not fail.
  std::vector<EndpointStatus> status_all() const {
    return detail::run(context_, detail::calls::StatusAll{});
  }
  /// The alarms raised in the cluster (none when all is well).
  std::vector<Alarm> alarm_list() const {
    return detail::run(context_, detail::calls::AlarmList{});
  }
  /// Disarms alarm `type` of member `member_id` (AlarmType::none and MemberId{0}: every alarm
  /// of every member); returns the alarms disarmed.
  std::vector<Alarm> alarm_disarm(MemberId member_id, AlarmType type) const {
    return detail::run(context_, detail::calls::AlarmDisarm{member_id, type});
  }
  /// Defragments the backend of the member at `endpoint`, which blocks it meanwhile.
  DefragmentResult defragment(std::string_view endpoint) const {
    return detail::run(context_, detail::calls::Defragment{std::string(endpoint)});
  }
  /// A hash of the whole backend of the member at `endpoint` (for testing; see hash_kv).
  HashResult hash(std::string_view endpoint) const {
    return detail::run(context_, detail::calls::Hash{std::string(endpoint)});
  }
  /// A hash of the key-value store of the member at `endpoint` up to `revision` (0: the
  /// latest). Members that applied the same history give the same hash.
  HashKvResult hash_kv(std::string_view endpoint, std::int64_t revision = 0) const {
    return detail::run(context_, detail::calls::HashKv{std::string(endpoint), revision});
  }
  /// Makes member `target_member_id` the leader. The request must reach the current leader:
  /// the client asks every endpoint's status to find it, and sends it there. Errc::not_leader
  /// when the leader is not among Client::endpoints(), Errc::bad_leader_transferee for a target
  /// that cannot lead (a learner, an unknown member).
  MoveLeaderResult move_leader(MemberId target_member_id) const {
    return detail::run(context_, detail::calls::MoveLeader{target_member_id});
  }
  /// Saves a snapshot of the backend of a member to `path`. It is written to a temporary file
  /// next to `path`, synced, and renamed to `path` once the member has sent it all; on any
  /// failure (the member, the deadline, a cancellation, the disk) the partial file is removed
  /// and `path` is left as it was. Give the call time for a large database (with_timeout).
  SnapshotResult snapshot(std::string_view path) const {
    return detail::run(context_, detail::calls::Snapshot{std::string(path)});
  }

  /// @copydoc status() const
  /// Handler signature: `void(std::exception_ptr, StatusResult)`.
  template <class Token>
  auto async_status(Token&& token) const {
    return detail::async_run(context_, detail::calls::Status{}, std::forward<Token>(token));
  }
  /// @copydoc status(std::string_view) const
  /// Handler signature: `void(std::exception_ptr, StatusResult)`.
  template <class Token>
  auto async_status(std::string_view endpoint, Token&& token) const {
    return detail::async_run(context_, detail::calls::StatusOf{std::string(endpoint)},
                             std::forward<Token>(token));
  }
  /// @copydoc status_all
  /// Handler signature: `void(std::exception_ptr, std::vector<EndpointStatus>)`.
  template <class Token>
  auto async_status_all(Token&& token) const {
    return detail::async_run(context_, detail::calls::StatusAll{}, std::forward<Token>(token));
  }
  /// @copydoc alarm_list
  /// Handler signature: `void(std::exception_ptr, std::vector<Alarm>)`.
  template <class Token>
  auto async_alarm_list(Token&& token) const {
    return detail::async_run(context_, detail::calls::AlarmList{}, std::forward<Token>(token));
  }
  /// @copydoc alarm_disarm
  /// Handler signature: `void(std::exception_ptr, std::vector<Alarm>)`.
  template <class Token>
  auto async_alarm_disarm(MemberId member_id, AlarmType type, Token&& token) const {
    return detail::async_run(context_, detail::calls::AlarmDisarm{member_id, type},
                             std::forward<Token>(token));
  }
  /// @copydoc defragment
  /// Handler signature: `void(std::exception_ptr, DefragmentResult)`.
  template <class Token>
  auto async_defragment(std::string_view endpoint, Token&& token) const {
    return detail::async_run(context_, detail::calls::Defragment{std::string(endpoint)},
                             std::forward<Token>(token));
  }
  /// @copydoc hash
  /// Handler signature: `void(std::exception_ptr, HashResult)`.
  template <class Token>
  auto async_hash(std::string_view endpoint, Token&& token) const {
    return detail::async_run(context_, detail::calls::Hash{std::string(endpoint)},
                             std::forward<Token>(token));
  }
  /// @copydoc hash_kv
  /// Handler signature: `void(std::exception_ptr, HashKvResult)`.
  template <class Token>
  auto async_hash_kv(std::string_view endpoint, std::int64_t revision, Token&& token) const {
    return detail::async_run(context_, detail::calls::HashKv{std::string(endpoint), revision},
                             std::forward<Token>(token));
  }
  /// As async_hash_kv(endpoint, revision, token) at the latest revision.
  template <class Token>
  auto async_hash_kv(std::string_view endpoint, Token&& token) const {
    return async_hash_kv(endpoint, 0, std::forward<Token>(token));
  }
  /// @copydoc move_leader
  /// Handler signature: `void(std::exception_ptr, MoveLeaderResult)`.
  template <class Token>
  auto async_move_leader(MemberId target_member_id, Token&& token) const {
    return detail::async_run(context_, detail::calls::MoveLeader{target_member_id},
                             std::forward<Token>(token));
  }
  /// @copydoc snapshot
  /// Handler signature: `void(std::exception_ptr, SnapshotResult)`.
  template <class Token>
  auto async_snapshot(std::string_view path, Token&& token) const {
    return detail::async_run(context_, detail::calls::Snapshot{std::string(path)},
                             std::forward<Token>(token));
  }

 private:
  friend class Client;
  explicit MaintenanceClient(detail::CallContext context) : context_(std::move(context)) {}
  detail::CallContext context_;
};

}  // namespace etcdpp
