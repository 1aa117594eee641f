// SPDX-License-Identifier: Apache-2.0
// Maintenance answers, from etcd's protobuf messages to etcdpp's plain structs.
#include "etcdpp/maintenance.hpp"

#include "detail/convert.hpp"

namespace etcdpp::detail {

StatusResult from_proto(pb::StatusResponse&& r) {
  StatusResult out;
  out.header = from_proto(r.header());
  out.version = std::move(*r.mutable_version());
  out.db_size = r.dbsize();
  out.leader = r.leader();
  out.raft_index = r.raftindex();
  out.raft_term = r.raftterm();
  out.raft_applied_index = r.raftappliedindex();
  out.errors.reserve(static_cast<std::size_t>(r.errors_size()));
  for (auto& e : *r.mutable_errors()) out.errors.push_back(std::move(e));
  out.db_size_in_use = r.dbsizeinuse();
  out.is_learner = r.islearner();
  return out;
}

}  // namespace etcdpp::detail
