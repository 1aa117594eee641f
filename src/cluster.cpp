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
  member.id = m.id();
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

std::string member_id_text(std::uint64_t id) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%llx", static_cast<unsigned long long>(id));
  return buffer;
}

}  // namespace detail

namespace {

using detail::CallStatus;
namespace pb = detail::pb;

constexpr transport::Method kMemberAdd{"/etcdserverpb.Cluster/MemberAdd", false};
constexpr transport::Method kMemberRemove{"/etcdserverpb.Cluster/MemberRemove", false};
constexpr transport::Method kMemberUpdate{"/etcdserverpb.Cluster/MemberUpdate", false};
constexpr transport::Method kMemberPromote{"/etcdserverpb.Cluster/MemberPromote", false};

/// Errors name the member as etcdctl prints it: "member 8e9e05c52164694d".
std::string member_text(std::uint64_t id) { return "member " + detail::member_id_text(id); }

std::string urls_text(const std::vector<std::string>& urls) {
  std::string out;
  for (const auto& u : urls) out += (out.empty() ? "" : ",") + u;
  return out;
}

}  // namespace

void Client::start_member_add(const std::vector<std::string>& peer_urls, bool learner,
                              detail::Callback<MemberAddResult> cb, CancellerPtr canceller) const {
  cb = detail::described("member_add", "peer URLs " + urls_text(peer_urls), std::move(cb));
  auto request = std::make_unique<pb::MemberAddRequest>();
  for (const auto& u : peer_urls) request->add_peerurls(u);
  request->set_islearner(learner);
  core_->call<pb::MemberAddResponse>(
      kMemberAdd, std::move(request), timeout_, std::move(canceller), false,
      [cb = std::move(cb)](CallStatus status, pb::MemberAddResponse&& r) {
        MemberAddResult out;
        out.header = detail::from_proto(r.header());
        out.member = detail::from_proto(std::move(*r.mutable_member()));
        out.members = detail::members_from_proto(r.mutable_members());
        cb(std::move(status), std::move(out));
      });
}

void Client::start_member_remove(std::uint64_t id, detail::Callback<MemberRemoveResult> cb,
                                 CancellerPtr canceller) const {
  cb = detail::described("member_remove", member_text(id), std::move(cb));
  auto request = std::make_unique<pb::MemberRemoveRequest>();
  request->set_id(id);
  core_->call<pb::MemberRemoveResponse>(
      kMemberRemove, std::move(request), timeout_, std::move(canceller), false,
      [cb = std::move(cb)](CallStatus status, pb::MemberRemoveResponse&& r) {
        cb(std::move(status), MemberRemoveResult{detail::from_proto(r.header()),
                                                 detail::members_from_proto(r.mutable_members())});
      });
}

void Client::start_member_update(std::uint64_t id, const std::vector<std::string>& peer_urls,
                                 detail::Callback<MemberUpdateResult> cb,
                                 CancellerPtr canceller) const {
  cb = detail::described("member_update", member_text(id) + " to peer URLs " + urls_text(peer_urls),
                         std::move(cb));
  auto request = std::make_unique<pb::MemberUpdateRequest>();
  request->set_id(id);
  for (const auto& u : peer_urls) request->add_peerurls(u);
  // Setting the same URLs twice is harmless: an update is as safe to retry as a read.
  core_->call<pb::MemberUpdateResponse>(
      kMemberUpdate, std::move(request), timeout_, std::move(canceller), true,
      [cb = std::move(cb)](CallStatus status, pb::MemberUpdateResponse&& r) {
        cb(std::move(status), MemberUpdateResult{detail::from_proto(r.header()),
                                                 detail::members_from_proto(r.mutable_members())});
      });
}

void Client::start_member_promote(std::uint64_t id, detail::Callback<MemberPromoteResult> cb,
                                  CancellerPtr canceller) const {
  cb = detail::described("member_promote", member_text(id), std::move(cb));
  auto request = std::make_unique<pb::MemberPromoteRequest>();
  request->set_id(id);
  core_->call<pb::MemberPromoteResponse>(
      kMemberPromote, std::move(request), timeout_, std::move(canceller), false,
      [cb = std::move(cb)](CallStatus status, pb::MemberPromoteResponse&& r) {
        cb(std::move(status), MemberPromoteResult{detail::from_proto(r.header()),
                                                  detail::members_from_proto(r.mutable_members())});
      });
}

MemberAddResult Client::member_add(const std::vector<std::string>& peer_urls, bool learner) const {
  return detail::run_blocking<MemberAddResult>(
      "member_add", "peer URLs " + urls_text(peer_urls),
      [&](auto cb) { start_member_add(peer_urls, learner, std::move(cb), nullptr); });
}

MemberRemoveResult Client::member_remove(std::uint64_t id) const {
  return detail::run_blocking<MemberRemoveResult>("member_remove", member_text(id), [&](auto cb) {
    start_member_remove(id, std::move(cb), nullptr);
  });
}

MemberUpdateResult Client::member_update(std::uint64_t id,
                                         const std::vector<std::string>& peer_urls) const {
  return detail::run_blocking<MemberUpdateResult>(
      "member_update", member_text(id) + " to peer URLs " + urls_text(peer_urls),
      [&](auto cb) { start_member_update(id, peer_urls, std::move(cb), nullptr); });
}

MemberPromoteResult Client::member_promote(std::uint64_t id) const {
  return detail::run_blocking<MemberPromoteResult>("member_promote", member_text(id), [&](auto cb) {
    start_member_promote(id, std::move(cb), nullptr);
  });
}

}  // namespace etcdpp
