// SPDX-License-Identifier: Apache-2.0
// The key-value structs to and from etcd's messages.
#include "etcdpp/kv.hpp"

#include "detail/convert.hpp"

namespace etcdpp {

std::string prefix_range_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  // Only 0xff bytes, or nothing: every key from the prefix on.
  return std::string(1, '\0');
}

namespace detail {
namespace {

// The range end etcd expects for the three ways to name a range.
std::string range_end(std::string_view key, const std::string& explicit_end, bool prefix,
                      bool from_key) {
  if (prefix) return prefix_range_end(key);
  if (from_key) return std::string(1, '\0');
  return explicit_end;
}

// An empty key is a valid start for a prefix or from-key range ("every key"); etcd spells that
// start as "\0".
std::string range_key(std::string_view key, bool prefix, bool from_key) {
  if (key.empty() && (prefix || from_key)) return std::string(1, '\0');
  return std::string(key);
}

}  // namespace

void to_proto(std::string_view key, const GetOptions& o, pb::RangeRequest* out) {
  out->set_key(range_key(key, o.prefix, o.from_key));
  out->set_range_end(range_end(key, o.range_end, o.prefix, o.from_key));
  out->set_limit(o.limit);
  out->set_revision(o.revision);
  out->set_sort_order(static_cast<pb::RangeRequest::SortOrder>(o.sort_order));
  out->set_sort_target(static_cast<pb::RangeRequest::SortTarget>(o.sort_target));
  out->set_serializable(o.serializable);
  out->set_keys_only(o.keys_only);
  out->set_count_only(o.count_only);
  out->set_min_mod_revision(o.min_mod_revision);
  out->set_max_mod_revision(o.max_mod_revision);
  out->set_min_create_revision(o.min_create_revision);
  out->set_max_create_revision(o.max_create_revision);
}

void to_proto(std::string key, std::string value, const PutOptions& o, pb::PutRequest* out) {
  out->set_key(std::move(key));
  out->set_value(std::move(value));
  out->set_lease(static_cast<std::int64_t>(o.lease));
  out->set_prev_kv(o.prev_kv);
  out->set_ignore_value(o.ignore_value);
  out->set_ignore_lease(o.ignore_lease);
}

void to_proto(std::string_view key, const DeleteOptions& o, pb::DeleteRangeRequest* out) {
  out->set_key(range_key(key, o.prefix, o.from_key));
  out->set_range_end(range_end(key, o.range_end, o.prefix, o.from_key));
  out->set_prev_kv(o.prev_kv);
}

ResponseHeader from_proto(const pb::ResponseHeader& h) {
  return ResponseHeader{h.cluster_id(), h.member_id(), h.revision(), h.raft_term()};
}

KeyValue from_proto(const mvccpb::KeyValue& kv) {
  return KeyValue{kv.key(),     kv.value(),   kv.create_revision(),
                  kv.mod_revision(), kv.version(), static_cast<LeaseId>(kv.lease())};
}

namespace {
std::vector<KeyValue> from_proto(google::protobuf::RepeatedPtrField<mvccpb::KeyValue>* kvs) {
  std::vector<KeyValue> out;
  out.reserve(static_cast<std::size_t>(kvs->size()));
  for (auto& kv : *kvs) {
    // Move the strings out: a large range should not be copied twice.
    out.push_back(KeyValue{std::move(*kv.mutable_key()), std::move(*kv.mutable_value()),
                           kv.create_revision(), kv.mod_revision(), kv.version(),
                           static_cast<LeaseId>(kv.lease())});
  }
  return out;
}
}  // namespace

GetResult from_proto(pb::RangeResponse&& r) {
  return GetResult{from_proto(r.header()), from_proto(r.mutable_kvs()), r.more(), r.count()};
}

PutResult from_proto(pb::PutResponse&& r) {
  PutResult out{from_proto(r.header()), std::nullopt};
  if (r.has_prev_kv()) out.prev_kv = from_proto(r.prev_kv());
  return out;
}

DeleteResult from_proto(pb::DeleteRangeResponse&& r) {
  return DeleteResult{from_proto(r.header()), r.deleted(), from_proto(r.mutable_prev_kvs())};
}

}  // namespace detail
}  // namespace etcdpp
