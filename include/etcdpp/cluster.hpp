// SPDX-License-Identifier: Apache-2.0
// etcd's Cluster API: the members of a cluster, and what adding, removing, updating and
// promoting one answers; ClusterClient, the facet of a Client (client.cluster()) that makes
// those calls.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "etcdpp/detail/call.hpp"
#include "etcdpp/kv.hpp"

namespace etcdpp {

/// One member of the cluster (etcd's Member).
struct Member {
  /// The member's id, which ClusterClient::member_remove, member_update and member_promote take.
  MemberId id{};
  std::string name;                      ///< Empty for a member added but not started yet.
  std::vector<std::string> peer_urls;    ///< URLs the other members reach it on.
  std::vector<std::string> client_urls;  ///< URLs clients reach it on; empty if not started.
  /// Whether it is a learner: it receives the log but does not vote until promoted.
  bool is_learner = false;

  bool operator==(const Member&) const = default;  ///< Member-wise comparison.
};

/// What ClusterClient::member_add answers: the new member (no name nor client URLs until it starts)
/// and the members of the cluster, the new one included.
struct MemberAddResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;
  Member member;                ///< The member added, with the id etcd gave it.
  std::vector<Member> members;  ///< Every member of the cluster, the new one included.

  bool operator==(const MemberAddResult&) const = default;  ///< Member-wise comparison.
};

/// What ClusterClient::member_remove answers: the members left.
struct MemberRemoveResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;
  std::vector<Member> members;  ///< The members left in the cluster.

  bool operator==(const MemberRemoveResult&) const = default;  ///< Member-wise comparison.
};

/// What ClusterClient::member_update answers: the members, the updated one with its new peer URLs.
struct MemberUpdateResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;
  std::vector<Member> members;  ///< Every member of the cluster, after the update.

  bool operator==(const MemberUpdateResult&) const = default;  ///< Member-wise comparison.
};

/// What ClusterClient::member_promote answers: the members, the promoted one a voter now.
struct MemberPromoteResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;
  std::vector<Member> members;  ///< Every member of the cluster, after the promotion.

  bool operator==(const MemberPromoteResult&) const = default;  ///< Member-wise comparison.
};

/// How ClusterClient::member_add adds a member.
struct MemberAddOptions {
  /// Add it as a learner: it receives the log but does not vote until member_promote.
  bool learner = false;
};

namespace detail::calls {

struct MemberList {
  using Result = std::vector<Member>;
  static constexpr auto cancellation = kReadCancellation;
};
struct MemberAdd {
  using Result = MemberAddResult;
  static constexpr auto cancellation = kWriteCancellation;
  std::vector<std::string> peer_urls;
  MemberAddOptions options;
};
struct MemberRemove {
  using Result = MemberRemoveResult;
  static constexpr auto cancellation = kWriteCancellation;
  MemberId id;
};
struct MemberUpdate {
  using Result = MemberUpdateResult;
  static constexpr auto cancellation = kWriteCancellation;
  MemberId id;
  std::vector<std::string> peer_urls;
};
struct MemberPromote {
  using Result = MemberPromoteResult;
  static constexpr auto cancellation = kWriteCancellation;
  MemberId id;
};

void start(const CallContext&, MemberList, Callback<std::vector<Member>>,
           std::shared_ptr<Canceller>);
void start(const CallContext&, MemberAdd, Callback<MemberAddResult>, std::shared_ptr<Canceller>);
void start(const CallContext&, MemberRemove, Callback<MemberRemoveResult>,
           std::shared_ptr<Canceller>);
void start(const CallContext&, MemberUpdate, Callback<MemberUpdateResult>,
           std::shared_ptr<Canceller>);
void start(const CallContext&, MemberPromote, Callback<MemberPromoteResult>,
           std::shared_ptr<Canceller>);

}  // namespace detail::calls

/// etcd's Cluster API on a Client's connection: `client.cluster()`. As cheap to copy as a
/// Client, it shares the client's connection and its call deadline (make it from
/// `client.with_timeout(...)` for another), and may be used from any number of threads. Each
/// call has a blocking face that throws Error and an asynchronous one that takes an Asio
/// completion token, as Client's do. Members are named by their MemberId (Member::id,
/// ResponseHeader::member_id), which etcdctl prints in hexadecimal (to_string(MemberId)).
class ClusterClient {
 public:
  /// The members of the cluster.
  std::vector<Member> member_list() const {
    return detail::run(context_, detail::calls::MemberList{});
  }
  /// Adds a member that peers reach on `peer_urls` (`{.learner = true}`: one that receives the
  /// log but does not vote until member_promote). Start its etcd afterwards with
  /// --initial-cluster-state=existing and the returned members as --initial-cluster. Throws
  /// Error: Errc::peer_url_exists, Errc::member_bad_urls, Errc::too_many_learners,
  /// Errc::member_not_enough_started.
  MemberAddResult member_add(const std::vector<std::string>& peer_urls,
                             const MemberAddOptions& options = {}) const {
    return detail::run(context_, detail::calls::MemberAdd{peer_urls, options});
  }
  /// Removes member `id` (its etcd stops once it learns). Errc::member_not_found when there is
  /// no such member.
  MemberRemoveResult member_remove(MemberId id) const {
    return detail::run(context_, detail::calls::MemberRemove{id});
  }
  /// Changes the peer URLs of member `id`. Errc::member_not_found, Errc::peer_url_exists.
  MemberUpdateResult member_update(MemberId id,
                                   const std::vector<std::string>& peer_urls) const {
    return detail::run(context_, detail::calls::MemberUpdate{id, peer_urls});
  }
  /// Makes learner `id` a voting member. Errc::member_not_learner when it is a voter already,
  /// Errc::learner_not_ready while it has not caught up with the leader.
  MemberPromoteResult member_promote(MemberId id) const {
    return detail::run(context_, detail::calls::MemberPromote{id});
  }

  /// @copydoc member_list
  /// Handler signature: `void(std::exception_ptr, std::vector<Member>)`.
  template <class Token>
  auto async_member_list(Token&& token) const {
    return detail::async_run(context_, detail::calls::MemberList{}, std::forward<Token>(token));
  }
  /// @copydoc member_add
  /// Handler signature: `void(std::exception_ptr, MemberAddResult)`.
  template <class Token>
  auto async_member_add(const std::vector<std::string>& peer_urls,
                        const MemberAddOptions& options, Token&& token) const {
    return detail::async_run(context_, detail::calls::MemberAdd{peer_urls, options},
                             std::forward<Token>(token));
  }
  /// As async_member_add(peer_urls, options, token) with default options: a voting member.
  template <class Token>
  auto async_member_add(const std::vector<std::string>& peer_urls, Token&& token) const {
    return async_member_add(peer_urls, MemberAddOptions{}, std::forward<Token>(token));
  }
  /// @copydoc member_remove
  /// Handler signature: `void(std::exception_ptr, MemberRemoveResult)`.
  template <class Token>
  auto async_member_remove(MemberId id, Token&& token) const {
    return detail::async_run(context_, detail::calls::MemberRemove{id},
                             std::forward<Token>(token));
  }
  /// @copydoc member_update
  /// Handler signature: `void(std::exception_ptr, MemberUpdateResult)`.
  template <class Token>
  auto async_member_update(MemberId id, const std::vector<std::string>& peer_urls,
                           Token&& token) const {
    return detail::async_run(context_, detail::calls::MemberUpdate{id, peer_urls},
                             std::forward<Token>(token));
  }
  /// @copydoc member_promote
  /// Handler signature: `void(std::exception_ptr, MemberPromoteResult)`.
  template <class Token>
  auto async_member_promote(MemberId id, Token&& token) const {
    return detail::async_run(context_, detail::calls::MemberPromote{id},
                             std::forward<Token>(token));
  }

 private:
  friend class Client;
  explicit ClusterClient(detail::CallContext context) : context_(std::move(context)) {}
  detail::CallContext context_;
};

}  // namespace etcdpp
