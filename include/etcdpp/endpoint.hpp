// SPDX-License-Identifier: Apache-2.0
// An etcd endpoint (Endpoint, parsed from the text ClientOptions::endpoints holds) and what a
// Client knows of one (EndpointInfo, Client::connection_info).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace etcdpp {

/// An etcd endpoint, parsed. Accepted forms: `host:port`, `http://host:port`,
/// `https://host:port` (TLS, see TlsOptions), `[v6addr]:port`, `unix:///path`, `unix:path`.
struct Endpoint {
  /// How the endpoint is reached: http (TCP; `host:port` or `http://`, with TLS all the same
  /// once a TlsOptions field is set), https (TCP with TLS) or unix_socket (no TLS).
  enum class Scheme { http, https, unix_socket };
  Scheme scheme = Scheme::http;  ///< From the text's scheme; http when it names none.
  std::string host;      ///< Host name or address (IPv6 without brackets); empty for unix.
  std::uint16_t port = 0;  ///< TCP port, 1 to 65535; 0 for unix.
  std::string path;      ///< Socket path, for unix.

  /// Parses `text`, less the blanks around it; throws Error (Errc::invalid_endpoint) naming the
  /// endpoint and the fault, among them a blank inside a host:port form and nothing but blanks.
  static Endpoint parse(std::string_view text);
  /// Back to text: `host:port`, `[v6]:port` or `unix:///path` (without http:// or https://).
  std::string to_string() const;

  bool operator==(const Endpoint&) const = default;  ///< Member-wise comparison.
};

/// What a Client knows of one of its endpoints now (Client::connection_info).
struct EndpointInfo {
  /// How the client's connection to the endpoint stands.
  enum class State {
    idle,        ///< No connection, none being made (nothing was sent there lately).
    connecting,  ///< A connection is being made.
    connected,   ///< Connected.
    failing,     ///< The connection or a call there failed; it is tried again at next_retry.
  };
  std::string endpoint;  ///< As Endpoint::to_string writes it.
  State state = State::idle;  ///< The connection's state when connection_info() was called.
  /// For a failing endpoint: until when calls prefer the other endpoints (then it is tried
  /// again). Empty when it is not avoided.
  std::optional<std::chrono::system_clock::time_point> next_retry;
  /// Whether its member was the leader at the last status the client saw of it
  /// (status(endpoint), status_all, move_leader); empty when it has seen none.
  std::optional<bool> is_leader;
  /// Streams open on it: the watch stream, the lease keep-alive stream, snapshots.
  std::size_t streams = 0;

  bool operator==(const EndpointInfo&) const = default;  ///< Member-wise comparison.
};

/// "idle", "connecting", "connected" or "failing".
std::string_view to_string(EndpointInfo::State state) noexcept;
/// An aligned table, one line per endpoint after a header line: endpoint, state (with the
/// seconds until the next retry when failing), leader (yes, no, ?), streams.
std::string to_string(const std::vector<EndpointInfo>& endpoints);

}  // namespace etcdpp
