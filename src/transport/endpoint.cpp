// SPDX-License-Identifier: Apache-2.0
// Parsing of endpoint strings. Checked here because no server sees them: a typo must fail at
// construction with a message naming the endpoint, not as a call that never connects.
#include <algorithm>
#include <charconv>

#include "etcdpp/client.hpp"

namespace etcdpp {
namespace {

[[noreturn]] void bad(std::string_view text, std::string_view why) {
  throw_error(make_error_code(Errc::invalid_endpoint),
              "invalid endpoint \"" + std::string(text) + "\": " + std::string(why));
}

std::uint16_t parse_port(std::string_view text, std::string_view port) {
  unsigned value = 0;
  const auto* end = port.data() + port.size();
  auto [ptr, ec] = std::from_chars(port.data(), end, value);
  if (port.empty() || ec != std::errc() || ptr != end || value == 0 || value > 65535) {
    bad(text, "the port must be a number from 1 to 65535");
  }
  return static_cast<std::uint16_t>(value);
}

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

}  // namespace

Endpoint Endpoint::parse(std::string_view text) {
  Endpoint e;
  // Blanks around an endpoint come from lists written "a, b" or read from a file: no host or
  // port has them, and gRPC would resolve " a" as a host name and fail each call much later.
  std::string_view rest = text;
  while (!rest.empty() && is_blank(rest.front())) rest.remove_prefix(1);
  while (!rest.empty() && is_blank(rest.back())) rest.remove_suffix(1);
  if (rest.empty()) bad(text, text.empty() ? "empty" : "empty (only blanks)");
  if (rest.starts_with("unix://") || rest.starts_with("unix:")) {
    rest.remove_prefix(rest.starts_with("unix://") ? 7 : 5);
    if (rest.empty()) bad(text, "no socket path after unix:");
    e.scheme = Scheme::unix_socket;
    e.path = std::string(rest);
    return e;
  }
  // A socket path may hold a comma; a host or a port never does.
  if (rest.find(',') != std::string_view::npos) {
    bad(text,
        "several endpoints in one string: give each its own element of ClientOptions::endpoints "
        "(split the string at its commas)");
  }
  if (rest.starts_with("https://")) {
    e.scheme = Scheme::https;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  }
  // A socket path may hold a blank; a host or a port never does.
  if (std::find_if(rest.begin(), rest.end(), is_blank) != rest.end()) {
    bad(text, "a blank inside the endpoint (separate endpoints with commas)");
  }
  if (rest.find("://") != std::string_view::npos) {
    bad(text,
        "unknown scheme (use host:port, http://host:port, https://host:port or unix:///path)");
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) bad(text, "a path is not allowed");
  std::string_view host, port;
  if (rest.starts_with("[")) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) bad(text, "unterminated [ in an IPv6 address");
    host = rest.substr(1, close - 1);
    const auto after = rest.substr(close + 1);
    if (!after.starts_with(":")) bad(text, "missing :port after the IPv6 address");
    port = after.substr(1);
  } else {
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) bad(text, "missing :port");
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) bad(text, "put an IPv6 address in brackets");
  }
  if (host.empty()) bad(text, "missing host");
  e.host = std::string(host);
  e.port = parse_port(text, port);
  return e;
}

std::string Endpoint::to_string() const {
  if (scheme == Scheme::unix_socket) return "unix://" + path;
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace etcdpp
