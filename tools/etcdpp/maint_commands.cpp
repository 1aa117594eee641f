// SPDX-License-Identifier: Apache-2.0
// member add/remove/update/promote, alarm, defrag, snapshot save, move-leader and endpoint
// hashkv, with etcdctl's messages and output.
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "commands.hpp"
#include "output.hpp"

namespace etcdpp::cli {
namespace {

// "%16x": Go pads the member and cluster IDs of these messages with spaces, not zeros.
std::string padded_hex(std::uint64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%16llx", static_cast<unsigned long long>(id));
  return buf;
}

std::string padded_hex(MemberId id) { return padded_hex(static_cast<std::uint64_t>(id)); }

MemberId parse_member_id(const std::string& text) {
  std::uint64_t value = 0;
  const char* last = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), last, value, 16);
  if (text.empty() || ec == std::errc::invalid_argument || ptr != last) {
    throw ExitError{exit_bad_args, "bad member ID arg (strconv.ParseUint: parsing \"" + text +
                                       "\": invalid syntax), expecting ID in Hex"};
  }
  if (ec == std::errc::result_out_of_range) {
    throw ExitError{exit_bad_args, "bad member ID arg (strconv.ParseUint: parsing \"" + text +
                                       "\": value out of range), expecting ID in Hex"};
  }
  return MemberId{value};
}

std::vector<std::string> split_urls(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    std::string url = text.substr(start, comma == std::string::npos ? comma : comma - start);
    if (!url.empty()) out.push_back(std::move(url));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Json members_json(const ResponseHeader& header, const std::vector<Member>& members) {
  return to_json(header, members);
}

void no_table(const Context& ctx) {
  if (ctx.format() == Format::table) throw unsupported_format(Format::table);
}

std::string join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : separator) + s;
  return out;
}

// Go's %q of a plain string.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

int run_member_add(Context& ctx, const std::vector<std::string>& args, const std::string& peer_urls,
                   bool learner) {
  no_table(ctx);
  if (args.size() != 1) throw ExitError{exit_bad_args, "member name not provided"};
  const std::string& name = args[0];
  const std::vector<std::string> urls = split_urls(peer_urls);
  if (urls.empty()) throw ExitError{exit_bad_args, "member peer urls not provided"};
  const MemberAddResult r = call([&] { return ctx.client().cluster().member_add(urls, {.learner = learner}); });
  if (ctx.format() == Format::json) {
    Json out = to_json(r.header, r.members);
    Json member = to_json(r.header, {r.member})["members"][0];
    Json ordered = {{"header", out["header"]}, {"member", member}, {"members", out["members"]}};
    print_json(ordered);
    return exit_success;
  }
  std::cout << "Member " << padded_hex(r.member.id) << " added to cluster "
            << padded_hex(r.header.cluster_id) << "\n\n";
  // The environment of the new member's etcd, as etcdctl prints it.
  std::vector<std::string> initial;
  for (const Member& m : r.members) {
    for (const auto& url : m.peer_urls) {
      initial.push_back((m.id == r.member.id ? name : m.name) + "=" + url);
    }
  }
  std::cout << "ETCD_NAME=" << quoted(name) << '\n'
            << "ETCD_INITIAL_CLUSTER=" << quoted(join(initial, ",")) << '\n'
            << "ETCD_INITIAL_ADVERTISE_PEER_URLS=" << quoted(join(urls, ",")) << '\n'
            << "ETCD_INITIAL_CLUSTER_STATE=\"existing\"\n";
  return exit_success;
}

int run_member_remove(Context& ctx, const std::vector<std::string>& args) {
  no_table(ctx);
  if (args.size() != 1) throw ExitError{exit_bad_args, "member ID is not provided"};
  const MemberId id = parse_member_id(args[0]);
  const MemberRemoveResult r = call([&] { return ctx.client().cluster().member_remove(id); });
  if (ctx.format() == Format::json) {
    print_json(members_json(r.header, r.members));
  } else {
    std::cout << "Member " << padded_hex(id) << " removed from cluster "
              << padded_hex(r.header.cluster_id) << '\n';
  }
  return exit_success;
}

int run_member_update(Context& ctx, const std::vector<std::string>& args,
                      const std::string& peer_urls) {
  no_table(ctx);
  if (args.size() != 1) throw ExitError{exit_bad_args, "member ID is not provided"};
  const MemberId id = parse_member_id(args[0]);
  const std::vector<std::string> urls = split_urls(peer_urls);
  if (urls.empty()) throw ExitError{exit_bad_args, "member peer urls not provided"};
  const MemberUpdateResult r = call([&] { return ctx.client().cluster().member_update(id, urls); });
  if (ctx.format() == Format::json) {
    print_json(members_json(r.header, r.members));
  } else {
    std::cout << "Member " << padded_hex(id) << " updated in cluster "
              << padded_hex(r.header.cluster_id) << '\n';
  }
  return exit_success;
}

int run_member_promote(Context& ctx, const std::vector<std::string>& args) {
  no_table(ctx);
  if (args.size() != 1) throw ExitError{exit_bad_args, "member ID is not provided"};
  const MemberId id = parse_member_id(args[0]);
  const MemberPromoteResult r = call([&] { return ctx.client().cluster().member_promote(id); });
  if (ctx.format() == Format::json) {
    print_json(members_json(r.header, r.members));
  } else {
    std::cout << "Member " << padded_hex(id) << " promoted in cluster "
              << padded_hex(r.header.cluster_id) << '\n';
  }
  return exit_success;
}

namespace {

const char* alarm_name(AlarmType t) {
  switch (t) {
    case AlarmType::none:
      return "NONE";
    case AlarmType::no_space:
      return "NOSPACE";
    case AlarmType::corrupt:
      return "CORRUPT";
  }
  return "NONE";
}

void print_alarms(const Context& ctx, const std::vector<Alarm>& alarms) {
  if (ctx.format() == Format::json) {
    Json out = Json::object();
    if (!alarms.empty()) {
      Json list = Json::array();
      for (const Alarm& a : alarms) {
        Json item = Json::object();
        if (a.member_id != MemberId{}) item["memberID"] = static_cast<std::uint64_t>(a.member_id);
        if (a.type != AlarmType::none) item["alarm"] = static_cast<int>(a.type);
        list.push_back(std::move(item));
      }
      out["alarms"] = std::move(list);
    }
    print_json(out);
    return;
  }
  // Go's %+v of etcd's AlarmMember (protobuf's compact text).
  for (const Alarm& a : alarms) {
    std::cout << "memberID:" << static_cast<std::uint64_t>(a.member_id) << " alarm:" << alarm_name(a.type) << " \n";
  }
}

}  // namespace

int run_alarm_list(Context& ctx) {
  no_table(ctx);
  print_alarms(ctx, call([&] { return ctx.client().maintenance().alarm_list(); }));
  return exit_success;
}

int run_alarm_disarm(Context& ctx) {
  no_table(ctx);
  print_alarms(ctx, call([&] { return ctx.client().maintenance().alarm_disarm(MemberId{}, AlarmType::none); }));
  return exit_success;
}

int run_defrag(Context& ctx, bool cluster) {
  int failures = 0;
  for (const std::string& endpoint : endpoints_of(ctx, cluster)) {
    try {
      ctx.client_of(endpoint).maintenance().defragment(endpoint);
      std::cout << "Finished defragmenting etcd member[" << endpoint << "]\n" << std::flush;
    } catch (const std::system_error& e) {
      std::cerr << "Failed to defragment etcd member[" << endpoint << "] (" << call_error(e).message
                << ")\n";
      ++failures;
    }
  }
  return failures == 0 ? exit_success : exit_error;
}

int run_snapshot_save(Context& ctx, const std::vector<std::string>& args) {
  if (args.size() != 1) throw ExitError{exit_bad_args, "snapshot save expects one argument"};
  if (ctx.flags().endpoints.size() != 1) {
    throw ExitError{exit_bad_args, "snapshot must be requested to one selected node, not multiple"};
  }
  const std::string& path = args[0];
  // etcdctl writes into <path>.part and, when it cannot create it, says so in these words before
  // it asks for anything. The library writes a file of its own name beside the destination
  // (never <path>.part, which an etcdctl may be writing): one is made here first, to find out.
  {
    std::string probe = path + ".XXXXXX.part";
    const int fd = ::mkstemps(probe.data(), 5);
    if (fd < 0) {
      const int error = errno;
      std::string text = std::strerror(error);
      if (!text.empty())
        text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
      const std::string part = path + ".part";
      throw ExitError{exit_interrupted,
                      "could not open " + part + " (open " + part + ": " + text + ")"};
    }
    ::close(fd);
    ::unlink(probe.c_str());
  }
  // A snapshot of a large database takes longer than a short command: no deadline but the
  // user's Ctrl-C, as etcdctl. Whatever fails, etcdctl's exit code is 5.
  const Client client = ctx.client().with_timeout(std::chrono::hours(24));
  try {
    client.maintenance().snapshot(path);
  } catch (const std::system_error& e) {
    ExitError error = call_error(e);
    error.code = exit_interrupted;
    throw error;
  }
  std::cout << "Snapshot saved at " << path << '\n';
  return exit_success;
}

int run_move_leader(Context& ctx, const std::vector<std::string>& args) {
  if (args.size() != 1) {
    throw ExitError{exit_bad_args, "move-leader command needs 1 argument"};
  }
  std::uint64_t target = 0;
  const std::string& text = args[0];
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), target, 16);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size()) {
    throw ExitError{exit_bad_args, "strconv.ParseUint: parsing \"" + text + "\": invalid syntax"};
  }
  const MoveLeaderResult r = call([&] { return ctx.client().maintenance().move_leader(MemberId{target}); });
  std::cout << "Leader switched from " << hex(r.previous_leader) << " to " << hex(target) << '\n';
  return exit_success;
}

int run_endpoint_hashkv(Context& ctx, bool cluster, std::int64_t revision) {
  struct Row {
    std::string endpoint;
    HashKvResult hash;
  };
  std::vector<Row> rows;
  bool failed = false;
  for (const std::string& endpoint : endpoints_of(ctx, cluster)) {
    try {
      rows.push_back({endpoint, ctx.client_of(endpoint).maintenance().hash_kv(endpoint, revision)});
    } catch (const std::system_error& e) {
      std::cerr << "Failed to get the hash of endpoint " << endpoint << " ("
                << call_error(e).message << ")\n";
      failed = true;
    }
  }
  switch (ctx.format()) {
    case Format::simple:
      for (const auto& r : rows) std::cout << r.endpoint << ", " << r.hash.hash << '\n';
      break;
    case Format::table: {
      std::vector<std::vector<std::string>> cells;
      for (const auto& r : rows) cells.push_back({r.endpoint, std::to_string(r.hash.hash)});
      std::cout << table({"ENDPOINT", "HASH"}, cells);
      break;
    }
    case Format::json: {
      Json out = Json::array();
      for (const auto& r : rows) {
        Json h = {{"header", to_json(r.hash.header)}};
        if (r.hash.hash != 0) h["hash"] = r.hash.hash;
        if (r.hash.compact_revision != 0) h["compact_revision"] = r.hash.compact_revision;
        out.push_back({{"Endpoint", r.endpoint}, {"HashKV", std::move(h)}});
      }
      print_json(out);
      break;
    }
  }
  return failed ? exit_error : exit_success;
}

}  // namespace etcdpp::cli
