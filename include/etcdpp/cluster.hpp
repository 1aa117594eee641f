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
  std::uint64_t id = 0;
  std::string name;                      ///< Empty for a member added but not started yet.
  std::vector<std::string> peer_urls;    ///< URLs the other members reach it on.
  std::vector<std::string> client_urls;  ///< URLs clients reach it on; empty if not started.
  bool is_learner = false;

  bool operator==(const Member&) const = default;
};

/// What Client::member_add answers: the new member (no name nor client URLs until it starts)
/// and the members of the cluster, the new one included.
struct MemberAddResult {
  ResponseHeader header;
  Member member;
  std::vector<Member> members;

  bool operator==(const MemberAddResult&) const = default;
};

/// What Client::member_remove answers: the members left.
struct MemberRemoveResult {
  ResponseHeader header;
  std::vector<Member> members;

  bool operator==(const MemberRemoveResult&) const = default;
};

/// What Client::member_update answers: the members, the updated one with its new peer URLs.
struct MemberUpdateResult {
  ResponseHeader header;
  std::vector<Member> members;

  bool operator==(const MemberUpdateResult&) const = default;
};

/// What Client::member_promote answers: the members, the promoted one a voter now.
struct MemberPromoteResult {
  ResponseHeader header;
  std::vector<Member> members;

  bool operator==(const MemberPromoteResult&) const = default;
};

}  // namespace etcdpp
