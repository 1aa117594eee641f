// SPDX-License-Identifier: Apache-2.0
// The plain data of etcd's Cluster API: the members of a cluster, and what adding, removing,
// updating and promoting one answers. Client (client.hpp) makes the calls.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "etcdpp/kv.hpp"

namespace etcdpp {

/// One member of the cluster (etcd's Member).
struct Member {
  /// The member's id, which Client::member_remove, member_update and member_promote take.
  std::uint64_t id = 0;
  std::string name;                      ///< Empty for a member added but not started yet.
  std::vector<std::string> peer_urls;    ///< URLs the other members reach it on.
  std::vector<std::string> client_urls;  ///< URLs clients reach it on; empty if not started.
  /// Whether it is a learner: it receives the log but does not vote until promoted.
  bool is_learner = false;

  bool operator==(const Member&) const = default;  ///< Member-wise comparison.
};

/// What Client::member_add answers: the new member (no name nor client URLs until it starts)
/// and the members of the cluster, the new one included.
struct MemberAddResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;
  Member member;                ///< The member added, with the id etcd gave it.
  std::vector<Member> members;  ///< Every member of the cluster, the new one included.

  bool operator==(const MemberAddResult&) const = default;  ///< Member-wise comparison.
};

/// What Client::member_remove answers: the members left.
struct MemberRemoveResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;
  std::vector<Member> members;  ///< The members left in the cluster.

  bool operator==(const MemberRemoveResult&) const = default;  ///< Member-wise comparison.
};

/// What Client::member_update answers: the members, the updated one with its new peer URLs.
struct MemberUpdateResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;
  std::vector<Member> members;  ///< Every member of the cluster, after the update.

  bool operator==(const MemberUpdateResult&) const = default;  ///< Member-wise comparison.
};

/// What Client::member_promote answers: the members, the promoted one a voter now.
struct MemberPromoteResult {
  /// The header of etcd's response (cluster id, member id, revision, raft term).
  ResponseHeader header;
  std::vector<Member> members;  ///< Every member of the cluster, after the promotion.

  bool operator==(const MemberPromoteResult&) const = default;  ///< Member-wise comparison.
};

}  // namespace etcdpp
