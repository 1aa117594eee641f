// SPDX-License-Identifier: Apache-2.0
// The embedded node's bits of networking: picking free ports, and asking etcd's /health.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "embedded/fd.hpp"

namespace etcdpp::embedded::detail {

/// Binds a socket to host:0 and returns it open, with the port it got in `port`, so that the
/// caller can pick several distinct ports before closing them all. The port is free now; etcd
/// binds it a little later, and the race in between is handled by retrying with new ports.
/// Throws Error: Errc::invalid_option for a host that is no address, else Errc::node_failed.
FdGuard bind_ephemeral(const std::string& host, std::uint16_t& port);

/// IPv6 literals need brackets inside URLs and endpoints.
std::string host_for_url(const std::string& host);

/// One HTTP/1.1 GET /health on a fresh connection; true when etcd says {"health":"true"}.
bool probe_health(const std::string& host, std::uint16_t port,
                  std::chrono::steady_clock::time_point deadline);

}  // namespace etcdpp::embedded::detail
