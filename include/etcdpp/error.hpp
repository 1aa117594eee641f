// SPDX-License-Identifier: Apache-2.0
// Errors of etcdpp: one std::error_code category for gRPC's status codes and etcd's own errors,
// and the exception every call reports: the blocking calls throw it, and the asynchronous ones
// complete with it (a std::exception_ptr first in the handler's signature; a coroutine or a
// future throws it).
#pragma once

#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <system_error>

namespace etcdpp {

/// The error codes of etcdpp's category.
///
/// Values 1 to 16 are gRPC's status codes, for errors that carry no more precise meaning.
/// Values from 100 are etcd's own errors (the `etcdserver: ...` messages of the v3 API), which
/// etcdpp recognises in the server's answer. Values from 200 are raised by etcdpp itself.
enum class Errc : int {
  // gRPC status codes.
  cancelled = 1,
  unknown = 2,
  invalid_argument = 3,
  deadline_exceeded = 4,
  not_found = 5,
  already_exists = 6,
  permission_denied = 7,
  resource_exhausted = 8,
  failed_precondition = 9,
  aborted = 10,
  out_of_range = 11,
  unimplemented = 12,
  internal = 13,
  unavailable = 14,
  data_loss = 15,
  unauthenticated = 16,

  // etcd's errors.
  empty_key = 100,
  key_not_found,
  value_provided,
  lease_provided,
  too_many_txn_ops,
  duplicate_key_in_txn,
  compacted,
  future_revision,
  no_space,
  lease_not_found,
  lease_exists,
  lease_ttl_too_large,
  watch_canceled,
  member_exists,
  peer_url_exists,
  member_not_enough_started,
  member_bad_urls,
  member_not_found,
  member_not_learner,
  learner_not_ready,
  too_many_learners,
  request_too_large,
  too_many_requests,
  root_user_not_exist,
  root_role_not_exist,
  user_already_exists,
  user_empty,
  user_not_found,
  role_already_exists,
  role_not_found,
  role_empty,
  auth_failed,
  auth_permission_denied,
  role_not_granted,
  permission_not_granted,
  auth_not_enabled,
  invalid_auth_token,
  invalid_auth_management,
  auth_old_revision,
  no_leader,
  not_leader,
  leader_changed,
  not_capable,
  server_stopped,
  server_timeout,
  timeout_due_to_leader_fail,
  timeout_due_to_connection_lost,
  timeout_wait_applied_index,
  unhealthy_cluster,
  corrupt_cluster,
  bad_leader_transferee,

  // Raised by etcdpp itself.
  invalid_endpoint = 200,  ///< An endpoint string that etcdpp cannot parse or does not support.
  invalid_option,          ///< An option value that cannot be used (named in the message).
  etcd_not_found,          ///< The etcd binary for an embedded node was not found.
  node_failed,             ///< An embedded node did not start, or died.
  file_error,              ///< A file could not be written (the message names it and why).
  tls_handshake_failed,    ///< TLS failed: the server's certificate is not trusted, or the
                           ///< server refused the client's (or its lack of one).
  session_lost,            ///< A concurrency::Session's lease expired, was revoked, or the
                           ///< session was closed: its locks and leadership are gone.
  not_elected,             ///< An election call that needs leadership, made by a non-leader.
};

/// The category of etcdpp's error codes; its name is "etcdpp".
const std::error_category& error_category() noexcept;

/// `e` as a std::error_code of etcdpp's category, which lets an Errc be compared with a code:
/// `ec == Errc::compacted`.
inline std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), error_category()};
}

/// Whether a call that failed with `ec` may succeed if made again (the server or the network
/// was unavailable, or a deadline passed), as opposed to a request the server rejected.
bool is_transient(std::error_code ec) noexcept;

/// Groups of error codes that a program reacts to alike. Compare any code with one:
/// `if (e.code() == etcdpp::Condition::retryable) ...`. A code may be in several groups
/// (Errc::unavailable is retryable and unavailable). Besides these, etcdpp's codes compare
/// equal to the std::errc they mean: Errc::deadline_exceeded to std::errc::timed_out,
/// Errc::cancelled to std::errc::operation_canceled.
enum class Condition : int {
  /// The call may succeed if made again: the codes is_transient() accepts.
  retryable = 1,
  /// No member could serve it now: the network or the server was unavailable, or the cluster
  /// had no leader (unavailable, no_leader, leader_changed, server_stopped, not_capable,
  /// unhealthy_cluster, and etcd's timeouts waiting for a leader or a connection).
  unavailable,
  /// The client's credentials or rights: unauthenticated, permission_denied, auth_failed,
  /// invalid_auth_token, auth_old_revision, auth_permission_denied, permission_not_granted,
  /// role_not_granted.
  auth,
  /// A lease, or a Session over one, is gone: lease_not_found, session_lost. Keys attached to
  /// it were deleted; grant a new one and write them again.
  lease_lost,
  /// The revision asked for was compacted: compacted. Relist from a newer revision.
  compacted,
};

/// The category of etcdpp's conditions; its name is "etcdpp.condition".
const std::error_category& condition_category() noexcept;

/// `c` as a std::error_condition, to compare codes with: `ec == Condition::auth`.
inline std::error_condition make_error_condition(Condition c) noexcept {
  return {static_cast<int>(c), condition_category()};
}

/// The code of the exception an asynchronous call completed with: its code for a
/// std::system_error (Error and CompactedError are ones), Errc::unknown for another exception,
/// the empty code for a null pointer (success). For handlers that branch on the code:
/// `if (error_code_of(e) == Errc::key_not_found) ...`.
std::error_code error_code_of(const std::exception_ptr& e) noexcept;

/// What every call reports when it fails: blocking calls throw it, asynchronous ones complete
/// with it. `code()` is in etcdpp's category; `what()` names the call and the
/// key (for example `get "app/x": etcdserver: mvcc: required revision has been compacted`).
///
/// The tree is flat on purpose: a subclass exists only where the caller recovers differently and
/// needs more data (CompactedError). Ask questions such as "may I retry?" of the code, with
/// `is_transient()` or by comparing with an `Errc`.
class Error : public std::system_error {
 public:
  /// An error with code `ec`; what() is `what`, ": " and the code's message.
  Error(std::error_code ec, const std::string& what) : std::system_error(ec, what) {}
};

/// A read or watch asked for a revision that compaction has removed: relist from a newer revision.
class CompactedError : public Error {
 public:
  /// An Errc::compacted error; `compact_revision` is the revision the store was compacted at,
  /// 0 when it is not known.
  CompactedError(const std::string& what, std::int64_t compact_revision)
      : Error(make_error_code(Errc::compacted), what), compact_revision_(compact_revision) {}

  /// The revision the store was compacted at, when the server said so (watch), else 0 (a Range
  /// answer does not carry it).
  std::int64_t compact_revision() const noexcept { return compact_revision_; }

 private:
  std::int64_t compact_revision_;
};

/// Throws the exception that matches `ec`: CompactedError for Errc::compacted, else Error.
/// `what` is the message, which should name the call and the key.
[[noreturn]] void throw_error(std::error_code ec, const std::string& what);

}  // namespace etcdpp

/// @cond
template <>
struct std::is_error_code_enum<etcdpp::Errc> : std::true_type {};
template <>
struct std::is_error_condition_enum<etcdpp::Condition> : std::true_type {};
/// @endcond
