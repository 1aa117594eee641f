// SPDX-License-Identifier: Apache-2.0
// The plain data of etcd's Maintenance API: what a member says about itself (status). Client
// (client.hpp) makes the calls; the embedded node (embedded/node.hpp) uses status to tell its
// role.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "etcdpp/kv.hpp"

namespace etcdpp {

/// A member's own view of itself and of the cluster (etcd's StatusResponse). It describes the
/// member that answered, whose id is `header.member_id`: a Client with several endpoints asks
/// whichever it is connected to, so ask a Client with one endpoint to know about one member.
struct StatusResult {
  ResponseHeader header;
  std::string version;           ///< The member's etcd version, e.g. "3.4.23".
  std::int64_t db_size = 0;      ///< Backend database size on disk, in bytes.
  std::uint64_t leader = 0;      ///< The member id this member takes as leader; 0 if none.
  std::uint64_t raft_index = 0;  ///< Raft committed index.
  std::uint64_t raft_term = 0;   ///< Raft term.
  std::uint64_t raft_applied_index = 0;
  std::vector<std::string> errors;  ///< Alarms and health problems, e.g. "etcdserver: no leader".
  std::int64_t db_size_in_use = 0;  ///< Backend database size logically in use, in bytes.
  bool is_learner = false;

  bool operator==(const StatusResult&) const = default;
};

}  // namespace etcdpp
