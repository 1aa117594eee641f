// SPDX-License-Identifier: Apache-2.0
// member list and endpoint status / health, per endpoint, in etcdctl's three formats.
#include <iostream>

#include "commands.hpp"
#include "output.hpp"

namespace etcdpp::cli {

std::vector<std::string> endpoints_of(Context& ctx, bool cluster) {
  if (!cluster) return ctx.flags().endpoints;
  std::vector<std::string> out;
  for (const Member& m : call([&] { return ctx.client().cluster().member_list(); })) {
    out.insert(out.end(), m.client_urls.begin(), m.client_urls.end());
  }
  return out;
}

int run_member_list(Context& ctx) {
  const std::vector<Member> members = call([&] { return ctx.client().cluster().member_list(); });
  switch (ctx.format()) {
    case Format::simple:
      print_rows(std::cout, member_rows(members));
      break;
    case Format::table:
      std::cout << table(member_header(), member_rows(members));
      break;
    case Format::json: {
      // etcd's MemberListResponse header carries no revision; the member list comes without a
      // header here, so the answering member's status gives its ids and term.
      ResponseHeader header = call([&] { return ctx.client().maintenance().status(); }).header;
      header.revision = 0;
      print_json(to_json(header, members));
      break;
    }
  }
  return exit_success;
}

int run_endpoint_status(Context& ctx, bool cluster) {
  std::vector<StatusRow> list;
  bool failed = false;
  for (const std::string& endpoint : endpoints_of(ctx, cluster)) {
    try {
      list.push_back({endpoint, ctx.client_of(endpoint).maintenance().status()});
    } catch (const std::system_error& e) {
      std::cerr << "Failed to get the status of endpoint " << endpoint << " ("
                << call_error(e).message << ")\n";
      failed = true;
    }
  }
  switch (ctx.format()) {
    case Format::simple:
      print_rows(std::cout, status_rows(list));
      break;
    case Format::table:
      std::cout << table(status_header(), status_rows(list));
      break;
    case Format::json:
      print_json(to_json(list));
      break;
  }
  return failed ? exit_error : exit_success;
}

int run_endpoint_health(Context& ctx, bool cluster) {
  struct Health {
    std::string endpoint;
    bool healthy = false;
    std::chrono::nanoseconds took{};
    std::string error;
  };
  std::vector<Health> list;
  for (const std::string& endpoint : endpoints_of(ctx, cluster)) {
    Health h;
    h.endpoint = endpoint;
    const auto start = std::chrono::steady_clock::now();
    try {
      // As etcdctl: a linearizable read commits through raft, so it needs a working leader.
      ctx.client_of(endpoint).get("health", GetOptions{});
      h.healthy = true;
    } catch (const std::system_error& e) {
      // Permission denied still proves that the cluster answers (etcdctl reads it so too).
      h.healthy = e.code() == make_error_code(Errc::auth_permission_denied);
      if (!h.healthy) h.error = call_error(e).message;
    }
    h.took = std::chrono::steady_clock::now() - start;
    list.push_back(std::move(h));
  }
  bool all_healthy = true;
  for (const auto& h : list) all_healthy = all_healthy && h.healthy;
  switch (ctx.format()) {
    case Format::simple:
      for (const auto& h : list) {
        if (h.healthy) {
          std::cerr << h.endpoint << " is healthy: successfully committed proposal: took = "
                    << go_duration(h.took) << '\n';
        } else {
          std::cerr << h.endpoint << " is unhealthy: failed to commit proposal: " << h.error
                    << '\n';
        }
      }
      break;
    case Format::table: {
      std::vector<std::vector<std::string>> rows;
      for (const auto& h : list) {
        rows.push_back({h.endpoint, h.healthy ? "true" : "false", go_duration(h.took), h.error});
      }
      std::cout << table({"ENDPOINT", "HEALTH", "TOOK", "ERROR"}, rows);
      break;
    }
    case Format::json: {
      Json out = Json::array();
      for (const auto& h : list) {
        Json item = {
            {"endpoint", h.endpoint}, {"health", h.healthy}, {"took", go_duration(h.took)}};
        if (!h.error.empty()) item["error"] = h.error;
        out.push_back(std::move(item));
      }
      print_json(out);
      break;
    }
  }
  if (!all_healthy) throw ExitError{exit_error, "unhealthy cluster"};
  return exit_success;
}

}  // namespace etcdpp::cli
