// SPDX-License-Identifier: Apache-2.0
#include "output.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <variant>

namespace etcdpp::cli {

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto n = (std::uint32_t(std::uint8_t(bytes[i])) << 16) |
                   (std::uint32_t(std::uint8_t(bytes[i + 1])) << 8) | std::uint8_t(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    auto n = std::uint32_t(std::uint8_t(bytes[i])) << 16;
    if (rest == 2) n |= std::uint32_t(std::uint8_t(bytes[i + 1])) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string lease_hex(LeaseId id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%016llx",
                static_cast<unsigned long long>(static_cast<std::int64_t>(id)));
  return buf;
}

std::string hex(std::uint64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(id));
  return buf;
}

std::string human_bytes(std::uint64_t bytes) {
  static constexpr const char* kSizes[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  if (bytes < 10) return std::to_string(bytes) + " B";
  const double s = static_cast<double>(bytes);
  const double e = std::floor(std::log(s) / std::log(1000.0));
  const double val = std::floor(s / std::pow(1000.0, e) * 10 + 0.5) / 10;
  char buf[64];
  std::snprintf(buf, sizeof buf, val < 10 ? "%.1f %s" : "%.0f %s", val,
                kSizes[static_cast<std::size_t>(e)]);
  return buf;
}

namespace {

// A decimal fraction with its trailing zeros (and a bare point) removed, as Go prints durations.
std::string trimmed_fraction(std::int64_t whole, std::int64_t frac, int digits) {
  std::string out = std::to_string(whole);
  if (frac == 0) return out;
  std::string f = std::to_string(frac);
  f.insert(0, static_cast<std::size_t>(digits) - f.size(), '0');
  while (!f.empty() && f.back() == '0') f.pop_back();
  return out + "." + f;
}

}  // namespace

std::string go_duration(std::chrono::nanoseconds d) {
  const std::int64_t ns = d.count();
  if (ns < 1000) return std::to_string(ns) + "ns";
  if (ns < 1000000) return trimmed_fraction(ns / 1000, ns % 1000, 3) + "\u00b5s";
  if (ns < 1000000000) return trimmed_fraction(ns / 1000000, ns % 1000000, 6) + "ms";
  const std::int64_t minutes = ns / 60000000000;
  const std::int64_t rest = ns % 60000000000;
  std::string out = minutes > 0 ? std::to_string(minutes) + "m" : "";
  return out + trimmed_fraction(rest / 1000000000, rest % 1000000000, 9) + "s";
}

std::string table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) {
    width[c] = header[c].size();
    for (const auto& row : rows) {
      if (c < row.size()) width[c] = std::max(width[c], row[c].size());
    }
  }
  std::string border = "+";
  for (auto w : width) border += std::string(w + 2, '-') + "+";
  border += "\n";

  std::string out = border + "|";
  for (std::size_t c = 0; c < header.size(); ++c) {
    const std::size_t gap = width[c] - header[c].size();
    out += " " + std::string(gap / 2, ' ') + header[c] + std::string(gap - gap / 2, ' ') + " |";
  }
  out += "\n" + border;
  for (const auto& row : rows) {
    out += "|";
    for (std::size_t c = 0; c < header.size(); ++c) {
      const std::string cell = c < row.size() ? row[c] : "";
      out += " " + std::string(width[c] - cell.size(), ' ') + cell + " |";
    }
    out += "\n";
  }
  return out + border;
}

void add_header_fields(Json& out, const ResponseHeader& h) {
  // Go's encoding/json leaves out the zero values of protobuf's omitempty fields.
  if (h.cluster_id != 0) out["cluster_id"] = h.cluster_id;
  if (h.member_id != MemberId{}) out["member_id"] = static_cast<std::uint64_t>(h.member_id);
  if (h.revision != 0) out["revision"] = h.revision;
  if (h.raft_term != 0) out["raft_term"] = h.raft_term;
}

Json to_json(const ResponseHeader& h) {
  Json out = Json::object();
  add_header_fields(out, h);
  return out;
}

Json to_json(const KeyValue& kv) {
  Json out = Json::object();
  if (!kv.key.empty()) out["key"] = base64(kv.key);
  if (kv.create_revision != 0) out["create_revision"] = kv.create_revision;
  if (kv.mod_revision != 0) out["mod_revision"] = kv.mod_revision;
  if (kv.version != 0) out["version"] = kv.version;
  if (!kv.value.empty()) out["value"] = base64(kv.value);
  if (kv.lease != LeaseId{0}) out["lease"] = static_cast<std::int64_t>(kv.lease);
  return out;
}

namespace {

Json kvs_json(const std::vector<KeyValue>& kvs) {
  Json out = Json::array();
  for (const auto& kv : kvs) out.push_back(to_json(kv));
  return out;
}

}  // namespace

Json to_json(const GetResult& r) {
  Json out = {{"header", to_json(r.header)}};
  if (!r.kvs.empty()) out["kvs"] = kvs_json(r.kvs);
  if (r.more) out["more"] = true;
  if (r.count != 0) out["count"] = r.count;
  return out;
}

Json to_json(const PutResult& r) {
  Json out = {{"header", to_json(r.header)}};
  if (r.prev_kv) out["prev_kv"] = to_json(*r.prev_kv);
  return out;
}

Json to_json(const DeleteResult& r) {
  Json out = {{"header", to_json(r.header)}};
  if (r.deleted != 0) out["deleted"] = r.deleted;
  if (!r.prev_kvs.empty()) out["prev_kvs"] = kvs_json(r.prev_kvs);
  return out;
}

TxnJsonNames txn_json_names(std::string_view server_version) {
  // "3.5.16" -> major 3, minor 5; anything else is taken as 3.4.
  unsigned major = 0;
  unsigned minor = 0;
  const char* const end = server_version.data() + server_version.size();
  auto [dot, ec] = std::from_chars(server_version.data(), end, major);
  if (ec != std::errc{} || dot == end || *dot != '.') return TxnJsonNames::go_fields;
  if (std::from_chars(dot + 1, end, minor).ec != std::errc{}) return TxnJsonNames::go_fields;
  return major > 3 || (major == 3 && minor >= 5) ? TxnJsonNames::proto_fields
                                                 : TxnJsonNames::go_fields;
}

Json to_json(const TxnResult& r, TxnJsonNames names) {
  Json out = {{"header", to_json(r.header)}};
  if (r.succeeded) out["succeeded"] = true;
  if (!r.responses.empty()) {
    const bool go = names == TxnJsonNames::go_fields;
    Json responses = Json::array();
    for (const auto& op : r.responses) {
      // A oneof as {"Response":{"<field>":{...}}}, the field named as the version names it.
      Json inner = std::visit(
          [&](const auto& v) -> Json {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, GetResult>) {
              return {{go ? "ResponseRange" : "response_range", to_json(v)}};
            }
            if constexpr (std::is_same_v<T, PutResult>) {
              return {{go ? "ResponsePut" : "response_put", to_json(v)}};
            }
            if constexpr (std::is_same_v<T, DeleteResult>) {
              return {{go ? "ResponseDeleteRange" : "response_delete_range", to_json(v)}};
            }
            if constexpr (std::is_same_v<T, TxnResult>) {
              return {{go ? "ResponseTxn" : "response_txn", to_json(v, names)}};
            }
          },
          op.value);
      responses.push_back({{"Response", std::move(inner)}});
    }
    out["responses"] = std::move(responses);
  }
  return out;
}

Json to_json(const WatchBatch& b) {
  Json events = nullptr;
  for (const auto& e : b.events) {
    Json event = Json::object();
    if (e.type == Event::Type::delete_range) event["type"] = 1;
    event["kv"] = to_json(e.kv);
    if (e.prev_kv) event["prev_kv"] = to_json(*e.prev_kv);
    events.push_back(std::move(event));
  }
  return {{"Header", to_json(b.header)},
          {"Events", std::move(events)},
          {"CompactRevision", 0},
          {"Canceled", false},
          {"Created", false}};
}

namespace {

bool hex_output = false;

std::string maybe_hex(const std::string& bytes) {
  if (!hex_output) return bytes;
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += "\\x";
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

}  // namespace

void set_hex_output(bool hex) noexcept { hex_output = hex; }

void print_kv(std::ostream& out, const KeyValue& kv, bool value_only) {
  if (!value_only) out << maybe_hex(kv.key) << '\n';
  out << maybe_hex(kv.value) << '\n';
}

void print_simple(std::ostream& out, const GetResult& r, bool value_only) {
  for (const auto& kv : r.kvs) print_kv(out, kv, value_only);
}

void print_simple(std::ostream& out, const PutResult& r, bool value_only) {
  out << "OK\n";
  if (r.prev_kv) print_kv(out, *r.prev_kv, value_only);
}

void print_simple(std::ostream& out, const DeleteResult& r, bool value_only) {
  out << r.deleted << '\n';
  for (const auto& kv : r.prev_kvs) print_kv(out, kv, value_only);
}

void print_simple(std::ostream& out, const TxnResult& r, bool value_only) {
  out << (r.succeeded ? "SUCCESS" : "FAILURE") << '\n';
  for (const auto& op : r.responses) {
    out << '\n';
    std::visit([&](const auto& v) { print_simple(out, v, value_only); }, op.value);
  }
}

void print_simple(std::ostream& out, const WatchBatch& b, bool value_only) {
  for (const auto& e : b.events) {
    out << (e.type == Event::Type::put ? "PUT" : "DELETE") << '\n';
    if (e.prev_kv) print_kv(out, *e.prev_kv, value_only);
    print_kv(out, e.kv, value_only);
  }
}

namespace {

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

Json strings_json(const std::vector<std::string>& items) {
  Json out = Json::array();
  for (const auto& s : items) out.push_back(s);
  return out;
}

}  // namespace

std::vector<std::string> member_header() {
  return {"ID", "STATUS", "NAME", "PEER ADDRS", "CLIENT ADDRS", "IS LEARNER"};
}

std::vector<std::vector<std::string>> member_rows(const std::vector<Member>& members) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& m : members) {
    rows.push_back({hex(m.id), m.name.empty() ? "unstarted" : "started", m.name,
                    join(m.peer_urls, ","), join(m.client_urls, ","),
                    m.is_learner ? "true" : "false"});
  }
  return rows;
}

Json to_json(const ResponseHeader& h, const std::vector<Member>& members) {
  Json list = Json::array();
  for (const auto& m : members) {
    Json member = Json::object();
    if (m.id != MemberId{}) member["ID"] = static_cast<std::uint64_t>(m.id);
    if (!m.name.empty()) member["name"] = m.name;
    if (!m.peer_urls.empty()) member["peerURLs"] = strings_json(m.peer_urls);
    if (!m.client_urls.empty()) member["clientURLs"] = strings_json(m.client_urls);
    if (m.is_learner) member["isLearner"] = true;
    list.push_back(std::move(member));
  }
  return {{"header", to_json(h)}, {"members", std::move(list)}};
}

std::vector<std::string> status_header() {
  return {"ENDPOINT",           "ID",         "VERSION",   "DB SIZE",
          "IS LEADER",          "IS LEARNER", "RAFT TERM", "RAFT INDEX",
          "RAFT APPLIED INDEX", "ERRORS"};
}

std::vector<std::vector<std::string>> status_rows(const std::vector<StatusRow>& list) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& [endpoint, s] : list) {
    rows.push_back({endpoint, hex(s.header.member_id), s.version,
                    human_bytes(static_cast<std::uint64_t>(s.db_size)),
                    s.leader == s.header.member_id ? "true" : "false",
                    s.is_learner ? "true" : "false", std::to_string(s.raft_term),
                    std::to_string(s.raft_index), std::to_string(s.raft_applied_index),
                    join(s.errors, ", ")});
  }
  return rows;
}

Json to_json(const std::vector<StatusRow>& list) {
  Json out = Json::array();
  for (const auto& [endpoint, s] : list) {
    Json status = {{"header", to_json(s.header)}};
    if (!s.version.empty()) status["version"] = s.version;
    if (s.db_size != 0) status["dbSize"] = s.db_size;
    if (s.leader != MemberId{}) status["leader"] = static_cast<std::uint64_t>(s.leader);
    if (s.raft_index != 0) status["raftIndex"] = s.raft_index;
    if (s.raft_term != 0) status["raftTerm"] = s.raft_term;
    if (s.raft_applied_index != 0) status["raftAppliedIndex"] = s.raft_applied_index;
    if (!s.errors.empty()) status["errors"] = strings_json(s.errors);
    if (s.db_size_in_use != 0) status["dbSizeInUse"] = s.db_size_in_use;
    if (s.is_learner) status["isLearner"] = true;
    out.push_back({{"Endpoint", endpoint}, {"Status", std::move(status)}});
  }
  return out;
}

void print_json(const Json& j) {
  std::cout << j.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
}

void print_rows(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  for (const auto& row : rows) out << join(row, ", ") << '\n';
}

}  // namespace etcdpp::cli
