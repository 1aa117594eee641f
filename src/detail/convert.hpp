// SPDX-License-Identifier: Apache-2.0
// Between etcdpp's plain structs and etcd's protobuf messages.
#pragma once

#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"
#include "etcdpp/cluster.hpp"
#include "etcdpp/kv.hpp"
#include "etcdpp/lease.hpp"
#include "etcdpp/maintenance.hpp"
#include "etcdpp/txn.hpp"

namespace etcdpp::detail {

namespace pb = etcdserverpb;

void to_proto(std::string_view key, const GetOptions& options, pb::RangeRequest* out);
void to_proto(std::string key, std::string value, const PutOptions& options,
              pb::PutRequest* out);
void to_proto(std::string_view key, const DeleteOptions& options, pb::DeleteRangeRequest* out);
void to_proto(const Txn& txn, pb::TxnRequest* out);

ResponseHeader from_proto(const pb::ResponseHeader& header);
KeyValue from_proto(const mvccpb::KeyValue& kv);
GetResult from_proto(pb::RangeResponse&& response);
PutResult from_proto(pb::PutResponse&& response);
DeleteResult from_proto(pb::DeleteRangeResponse&& response);
TxnResult from_proto(pb::TxnResponse&& response);
StatusResult from_proto(pb::StatusResponse&& response);
Member from_proto(pb::Member&& member);
std::vector<Member> from_proto(pb::MemberListResponse&& response);
/// ttl -1 for a lease that has expired, whether etcd has revoked it yet or not.
LeaseTimeToLiveResult from_proto(pb::LeaseTimeToLiveResponse&& response);
/// A member id as etcdctl prints it: lower-case hex.
std::string member_id_text(std::uint64_t id);

}  // namespace etcdpp::detail
