// SPDX-License-Identifier: Apache-2.0
// The key-value structs to and from etcd's messages.
#include "etcdpp/kv.hpp"

#include <cstdio>

#include "detail/convert.hpp"
#include "detail/status.hpp"
#include "etcdpp/error.hpp"

namespace etcdpp {

std::string to_string(MemberId id) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%llx", static_cast<unsigned long long>(id));
  return buffer;
}

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

KeyRange key_range(std::string_view ns, std::string_view key, std::string_view range_end,
                   bool prefix, bool from_key) {
  if (int(!range_end.empty()) + int(prefix) + int(from_key) > 1) {
    // Which one was meant cannot be guessed; a read or a delete of the wrong range is worse
    // than no call at all.
    std::string set;
    if (!range_end.empty()) set = "range_end";
    if (prefix) set += set.empty() ? "prefix" : " and prefix";
    if (from_key) set += set.empty() ? "from_key" : " and from_key";
    throw_if_failed("the range of key", key,
                    CallStatus{make_error_code(Errc::invalid_argument),
                               "given twice (" + set + " are set together); set at most one of "
                                                       "range_end, prefix and from_key"});
  }
  // The end in the caller's terms: a prefix is its own prefix's end, from-key runs to the end.
  std::string end = prefix     ? prefix_range_end(key)
                    : from_key ? std::string(1, '\0')
                               : std::string(range_end);
  if (ns.empty()) {
    // etcd refuses an empty key; as the start of a prefix or from-key range ("every key") it is
    // spelt "\0".
    if (key.empty() && (prefix || from_key)) return {std::string(1, '\0'), std::move(end)};
    return {std::string(key), std::move(end)};
  }
  KeyRange out{std::string(ns) + std::string(key), {}};
  if (end.empty()) return out;  // one key
  // "\0" is the end of the caller's keyspace, which is the end of the namespace. (The prefix of
  // a key of only 0xff bytes, or of the empty key, ends there too: prefix_range_end(ns + key)
  // is then prefix_range_end(ns).)
  out.range_end = end == std::string_view("\0", 1) ? prefix_range_end(ns) : std::string(ns) + end;
  return out;
}

void cut_namespace(std::string_view ns, std::string& key) {
  // Every key of an answer lies in the range asked for, and every such range lies inside the
  // namespace; a key that does not start with it is left whole rather than mangled.
  if (!ns.empty() && std::string_view(key).starts_with(ns)) key.erase(0, ns.size());
}

void to_proto(std::string_view ns, std::string_view key, const GetOptions& o,
              pb::RangeRequest* out) {
  KeyRange range = key_range(ns, key, o.range_end, o.prefix, o.from_key);
  out->set_key(std::move(range.key));
  out->set_range_end(std::move(range.range_end));
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

void to_proto(std::string_view ns, std::string key, std::string value, const PutOptions& o,
              pb::PutRequest* out) {
  if (!ns.empty()) key.insert(0, ns);
  out->set_key(std::move(key));
  out->set_value(std::move(value));
  out->set_lease(static_cast<std::int64_t>(o.lease));
  out->set_prev_kv(o.prev_kv);
  out->set_ignore_value(o.ignore_value);
  out->set_ignore_lease(o.ignore_lease);
}

void to_proto(std::string_view ns, std::string_view key, const DeleteOptions& o,
              pb::DeleteRangeRequest* out) {
  KeyRange range = key_range(ns, key, o.range_end, o.prefix, o.from_key);
  out->set_key(std::move(range.key));
  out->set_range_end(std::move(range.range_end));
  out->set_prev_kv(o.prev_kv);
}

ResponseHeader from_proto(const pb::ResponseHeader& h) {
  return ResponseHeader{h.cluster_id(), MemberId{h.member_id()}, h.revision(), h.raft_term()};
}

KeyValue from_proto(const mvccpb::KeyValue& kv, std::string_view ns) {
  KeyValue out{kv.key(),     kv.value(),   kv.create_revision(),
               kv.mod_revision(), kv.version(), static_cast<LeaseId>(kv.lease())};
  cut_namespace(ns, out.key);
  return out;
}

namespace {
std::vector<KeyValue> from_proto(std::string_view ns,
                                 google::protobuf::RepeatedPtrField<mvccpb::KeyValue>* kvs) {
  std::vector<KeyValue> out;
  out.reserve(static_cast<std::size_t>(kvs->size()));
  for (auto& kv : *kvs) {
    // Move the strings out: a large range should not be copied twice.
    out.push_back(KeyValue{std::move(*kv.mutable_key()), std::move(*kv.mutable_value()),
                           kv.create_revision(), kv.mod_revision(), kv.version(),
                           static_cast<LeaseId>(kv.lease())});
    cut_namespace(ns, out.back().key);
  }
  return out;
}
}  // namespace

GetResult from_proto(std::string_view ns, pb::RangeResponse&& r) {
  return GetResult{from_proto(r.header()), from_proto(ns, r.mutable_kvs()), r.more(), r.count()};
}

PutResult from_proto(std::string_view ns, pb::PutResponse&& r) {
  PutResult out{from_proto(r.header()), std::nullopt};
  if (r.has_prev_kv()) out.prev_kv = from_proto(r.prev_kv(), ns);
  return out;
}

DeleteResult from_proto(std::string_view ns, pb::DeleteRangeResponse&& r) {
  return DeleteResult{from_proto(r.header()), r.deleted(), from_proto(ns, r.mutable_prev_kvs())};
}

}  // namespace detail
}  // namespace etcdpp
