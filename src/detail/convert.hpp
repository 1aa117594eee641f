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

// A Client's namespace (`ns`, Client::with_namespace) is the prefix its keys live under in
// etcd's keyspace; empty for a plain client. Requests and answers are mapped here and nowhere
// else: every key request of a Client is built by these functions, every answer read by them.

/// A key range as etcd takes it: `range_end` empty for one key, "\0" for every key from `key`.
struct KeyRange {
  std::string key;
  std::string range_end;
};
/// The range etcd is asked for when the caller names `key` with an explicit `range_end`, a
/// prefix or from-key, inside namespace `ns`. Without a namespace, an empty key with a prefix or
/// from-key is etcd's "\0" (every key). In one, the range is worked out in the caller's terms and
/// then mapped as clientv3/namespace does: the key becomes ns + key; an end of "\0" (to the end
/// of the caller's keyspace) becomes the end of the namespace, prefix_range_end(ns); any other
/// end becomes ns + end. The caller's empty key is the key equal to `ns`.
KeyRange key_range(std::string_view ns, std::string_view key, std::string_view range_end,
                   bool prefix, bool from_key);
/// Removes the namespace from a key etcd returned (every key it returns lies inside it).
void cut_namespace(std::string_view ns, std::string& key);

void to_proto(std::string_view ns, std::string_view key, const GetOptions& options,
              pb::RangeRequest* out);
void to_proto(std::string_view ns, std::string key, std::string value, const PutOptions& options,
              pb::PutRequest* out);
void to_proto(std::string_view ns, std::string_view key, const DeleteOptions& options,
              pb::DeleteRangeRequest* out);
void to_proto(std::string_view ns, const Txn& txn, pb::TxnRequest* out);

ResponseHeader from_proto(const pb::ResponseHeader& header);
KeyValue from_proto(const mvccpb::KeyValue& kv, std::string_view ns = {});
GetResult from_proto(std::string_view ns, pb::RangeResponse&& response);
PutResult from_proto(std::string_view ns, pb::PutResponse&& response);
DeleteResult from_proto(std::string_view ns, pb::DeleteRangeResponse&& response);
TxnResult from_proto(std::string_view ns, pb::TxnResponse&& response);
StatusResult from_proto(pb::StatusResponse&& response);
Member from_proto(pb::Member&& member);
std::vector<Member> from_proto(pb::MemberListResponse&& response);
/// ttl -1 for a lease that has expired, whether etcd has revoked it yet or not.
LeaseTimeToLiveResult from_proto(pb::LeaseTimeToLiveResponse&& response);
/// A member id as etcdctl prints it: lower-case hex.
std::string member_id_text(MemberId id);

}  // namespace etcdpp::detail
