// SPDX-License-Identifier: Apache-2.0
// Cluster answers, from etcd's protobuf messages to etcdpp's plain structs.
#include "etcdpp/cluster.hpp"

#include "detail/convert.hpp"

namespace etcdpp::detail {

std::vector<Member> from_proto(pb::MemberListResponse&& r) {
  std::vector<Member> out;
  out.reserve(static_cast<std::size_t>(r.members_size()));
  for (auto& m : *r.mutable_members()) {
    Member member;
    member.id = m.id();
    member.name = std::move(*m.mutable_name());
    for (auto& u : *m.mutable_peerurls()) member.peer_urls.push_back(std::move(u));
    for (auto& u : *m.mutable_clienturls()) member.client_urls.push_back(std::move(u));
    member.is_learner = m.islearner();
    out.push_back(std::move(member));
  }
  return out;
}

}  // namespace etcdpp::detail
