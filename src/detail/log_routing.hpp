// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string_view>

#include "etcdpp/log.hpp"

namespace etcdpp::detail {

/// Makes gRPC log through etcdpp's routing (set_log_sink), at the verbosity it chooses. Called
/// by set_log_sink and by every transport once gRPC is initialised (which reads GRPC_VERBOSITY
/// and would otherwise undo the verbosity chosen before).
void route_transport_logs();

/// One of etcdpp's own log lines: to the sink set by set_log_sink when its severity is at least
/// the sink's minimum; dropped without a sink.
void log_line(LogSeverity severity, std::string_view message);

}  // namespace etcdpp::detail
