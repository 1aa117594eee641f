// SPDX-License-Identifier: Apache-2.0
// The embedded node's bits of networking: picking free ports, and asking etcd's /health.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "embedded/fd.hpp"

namespace etcdpp::embedded::detail {

/// Binds a socket to host:0 and returns it open, with the port it got in `port`, so that the
/// caller can pick several distinct ports before closing them all. The port is free now; etcd
/// binds it a little later, and the race in between is handled by retrying with new ports.
/// Throws Error: Errc::invalid_option for a host that is no address, else Errc::node_failed.
FdGuard bind_ephemeral(const std::string& host, std::uint16_t& port);

/// Throws Error (Errc::node_failed) "host:port is already in use ..." when a socket listens
/// on host:port now, so that a node asked for a taken port fails at once and says so, instead
/// of being answered by whoever holds it. `what` names the option that chose the port.
void ensure_port_free(const std::string& host, std::uint16_t port, std::string_view what);

/// Whether the TCP socket listening on `port` (any address) belongs to process `pid` or one
/// of its descendants, read from /proc/net/tcp{,6} and /proc/<pid>/fd. False when another
/// process holds it or nobody listens; nullopt when /proc cannot tell (no /proc).
std::optional<bool> listener_belongs_to(pid_t pid, std::uint16_t port);

/// IPv6 literals need brackets inside URLs and endpoints.
std::string host_for_url(const std::string& host);

/// One HTTP/1.1 GET /health on a fresh connection; true when etcd says {"health":"true"}.
bool probe_health(const std::string& host, std::uint16_t port,
                  std::chrono::steady_clock::time_point deadline);

}  // namespace etcdpp::embedded::detail
