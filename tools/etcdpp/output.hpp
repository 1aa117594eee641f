// SPDX-License-Identifier: Apache-2.0
// etcdctl's three output formats for etcdpp's results: "simple" (its lines), "json" (the JSON of
// etcd's protobuf messages as Go writes them: omitted zero fields, base64 bytes, 64-bit numbers
// as numbers) and "table" (the boxes of olekukonko/tablewriter).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "etcdpp/client.hpp"

namespace etcdpp::cli {

using Json = nlohmann::ordered_json;

std::string base64(std::string_view bytes);
/// "%016x", as etcdctl writes lease IDs.
std::string lease_hex(LeaseId id);
/// "%x", as etcdctl writes member IDs.
std::string hex(std::uint64_t id);
/// A member ID as etcdctl prints it.
inline std::string hex(MemberId id) { return hex(static_cast<std::uint64_t>(id)); }
/// go-humanize's Bytes: 20480 -> "20 kB".
std::string human_bytes(std::uint64_t bytes);
/// Go's time.Duration String for a duration below a minute: "1.63756ms", "2.5s".
std::string go_duration(std::chrono::nanoseconds d);
/// The box of olekukonko/tablewriter as etcdctl sets it up: centred headers, right-aligned cells.
std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows);

Json to_json(const ResponseHeader& h);
Json to_json(const KeyValue& kv);
Json to_json(const GetResult& r);
Json to_json(const PutResult& r);
Json to_json(const DeleteResult& r);
/// How etcdctl names the one response each txn operation holds: 3.4 by its Go field
/// ({"Response":{"ResponseRange":...}}), 3.5 by its protobuf field ("response_range").
enum class TxnJsonNames { go_fields, proto_fields };
/// The names etcdctl of a server's version writes: proto_fields from 3.5 on, else go_fields
/// (also for a version that cannot be read).
TxnJsonNames txn_json_names(std::string_view server_version);
Json to_json(const TxnResult& r, TxnJsonNames names = TxnJsonNames::go_fields);
Json to_json(const WatchBatch& b);
/// A header's fields at the top level of `out` (Go embeds *ResponseHeader in the lease results).
void add_header_fields(Json& out, const ResponseHeader& h);

/// With etcdctl's --hex, simple output writes keys and values as \x escapes of every byte.
void set_hex_output(bool hex) noexcept;

/// etcdctl's printKV: the key unless `value_only`, then the value, a line each.
void print_kv(std::ostream& out, const KeyValue& kv, bool value_only);
void print_simple(std::ostream& out, const GetResult& r, bool value_only);
void print_simple(std::ostream& out, const PutResult& r, bool value_only);
void print_simple(std::ostream& out, const DeleteResult& r, bool value_only);
void print_simple(std::ostream& out, const TxnResult& r, bool value_only);
void print_simple(std::ostream& out, const WatchBatch& b, bool value_only);

/// One line per member: id, started, name, peer-urls, client-urls, is-learner.
std::vector<std::string> member_header();
std::vector<std::vector<std::string>> member_rows(const std::vector<Member>& members);
Json to_json(const ResponseHeader& h, const std::vector<Member>& members);

struct StatusRow {
  std::string endpoint;
  StatusResult status;
};
std::vector<std::string> status_header();
std::vector<std::vector<std::string>> status_rows(const std::vector<StatusRow>& list);
Json to_json(const std::vector<StatusRow>& list);

/// One line of compact JSON on stdout, as etcdctl prints it.
void print_json(const Json& j);

/// Rows as etcdctl's simple format writes them: the cells joined with ", ".
void print_rows(std::ostream& out, const std::vector<std::vector<std::string>>& rows);

}  // namespace etcdpp::cli
