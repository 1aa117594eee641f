// SPDX-License-Identifier: Apache-2.0
// The Cluster API: etcd's protobuf messages to etcdpp's plain structs, and the Client's calls
// that add, remove, update and promote members.
#include "etcdpp/cluster.hpp"

#include <cstdio>

#include "client_core.hpp"
#include "detail/convert.hpp"
#include "detail/status.hpp"
#include "etcdpp/client.hpp"

namespace etcdpp {
namespace detail {

Member from_proto(pb::Member&& m) {
  Member member;
  member.id = MemberId{m.id()};
  member.name = std::move(*m.mutable_name());
  for (auto& u : *m.mutable_peerurls()) member.peer_urls.push_back(std::move(u));
  for (auto& u : *m.mutable_clienturls()) member.client_urls.push_back(std::move(u));
  member.is_learner = m.islearner();
  return member;
}

namespace {

std::vector<Member> members_from_proto(google::protobuf::RepeatedPtrField<pb::Member>* members) {
  std::vector<Member> out;
  out.reserve(static_cast<std::size_t>(members->size()));
  for (auto& m : *members) out.push_back(from_proto(std::move(m)));
  return out;
}

}  // namespace

std::vector<Member> from_proto(pb::MemberListResponse&& r) {
  return members_from_proto(r.mutable_members());
}

std::string member_id_text(MemberId id) { return to_string(id); }

}  // namespace detail

namespace {

using detail::CallStatus;
using detail::calls::CancellerPtr;
namespace pb = detail::pb;

constexpr transport::Method kMemberList{"/etcdserverpb.Cluster/MemberList", true};
constexpr transport::Method kMemberAdd{"/etcdserverpb.Cluster/MemberAdd", false};
constexpr transport::Method kMemberRemove{"/etcdserverpb.Cluster/MemberRemove", false};
constexpr transport::Method kMemberUpdate{"/etcdserverpb.Cluster/MemberUpdate", false};
constexpr transport::Method kMemberPromote{"/etcdserverpb.Cluster/MemberPromote", false};

/// Errors name the member as etcdctl prints it: "member 8e9e05c52164694d".
std::string member_text(MemberId id) { return "member " + detail::member_id_text(id); }

std::string urls_text(const std::vector<std::string>& urls) {
  std::string out;
  for (const auto& u : urls) out += (out.empty() ? "" : ",") + u;
  return out;
}

}  // namespace

namespace detail::calls {

void start(const CallContext& cx, MemberList, Callback<std::vector<Member>> cb,
           CancellerPtr canceller) {
  cb = described("member_list", endpoints_text(cx), std::move(cb));
  cx.core->call_with<pb::MemberListRequest, pb::MemberListResponse>(
      kMemberList, [](pb::MemberListRequest&) {}, cx.timeout, std::move(canceller), true,
      [cb = std::move(cb)](CallStatus status, pb::MemberListResponse&& r) {
        cb(std::move(status), from_proto(std::move(r)));
      });
}

void start(const CallContext& cx, MemberAdd call, Callback<MemberAddResult> cb,
           CancellerPtr canceller) {
  cb = described("member_add", "peer URLs " + urls_text(call.peer_urls), std::move(cb));
  cx.core->call_with<pb::MemberAddRequest, pb::MemberAddResponse>(
      kMemberAdd,
      [&](pb::MemberAddRequest& request) {
        for (const auto& u : call.peer_urls) request.add_peerurls(u);
        request.set_islearner(call.options.learner);
      },
      cx.timeout, std::move(canceller), false,
      [cb = std::move(cb)](CallStatus status, pb::MemberAddResponse&& r) {
        MemberAddResult out;
        out.header = from_proto(r.header());
        out.member = from_proto(std::move(*r.mutable_member()));
        out.members = members_from_proto(r.mutable_members());
        cb(std::move(status), std::move(out));
      });
}

void start(const CallContext& cx, MemberRemove call, Callback<MemberRemoveResult> cb,
           CancellerPtr canceller) {
  cb = described("member_remove", member_text(call.id), std::move(cb));
  cx.core->call_with<pb::MemberRemoveRequest, pb::MemberRemoveResponse>(
      kMemberRemove, [&](pb::MemberRemoveRequest& request) { request.set_id(static_cast<std::uint64_t>(call.id)); },
      cx.timeout, std::move(canceller), false,
      [cb = std::move(cb)](CallStatus status, pb::MemberRemoveResponse&& r) {
        cb(std::move(status),
           MemberRemoveResult{from_proto(r.header()), members_from_proto(r.mutable_members())});
      });
}

void start(const CallContext& cx, MemberUpdate call, Callback<MemberUpdateResult> cb,
           CancellerPtr canceller) {
  cb = described("member_update",
                 member_text(call.id) + " to peer URLs " + urls_text(call.peer_urls),
                 std::move(cb));
  // Setting the same URLs twice is harmless: an update is as safe to retry as a read.
  cx.core->call_with<pb::MemberUpdateRequest, pb::MemberUpdateResponse>(
      kMemberUpdate,
      [&](pb::MemberUpdateRequest& request) {
        request.set_id(static_cast<std::uint64_t>(call.id));
        for (const auto& u : call.peer_urls) request.add_peerurls(u);
      },
      cx.timeout, std::move(canceller), true,
      [cb = std::move(cb)](CallStatus status, pb::MemberUpdateResponse&& r) {
        cb(std::move(status),
           MemberUpdateResult{from_proto(r.header()), members_from_proto(r.mutable_members())});
      });
}

void start(const CallContext& cx, MemberPromote call, Callback<MemberPromoteResult> cb,
           CancellerPtr canceller) {
  cb = described("member_promote", member_text(call.id), std::move(cb));
  cx.core->call_with<pb::MemberPromoteRequest, pb::MemberPromoteResponse>(
      kMemberPromote, [&](pb::MemberPromoteRequest& request) { request.set_id(static_cast<std::uint64_t>(call.id)); },
      cx.timeout, std::move(canceller), false,
      [cb = std::move(cb)](CallStatus status, pb::MemberPromoteResponse&& r) {
        cb(std::move(status),
           MemberPromoteResult{from_proto(r.header()), members_from_proto(r.mutable_members())});
      });
}

}  // namespace detail::calls
}  // namespace etcdpp
