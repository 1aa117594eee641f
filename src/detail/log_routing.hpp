// SPDX-License-Identifier: Apache-2.0
#pragma once

namespace etcdpp::detail {

/// Makes gRPC log through etcdpp's routing (set_log_sink), at the verbosity it chooses. Called
/// by set_log_sink and by every transport once gRPC is initialised (which reads GRPC_VERBOSITY
/// and would otherwise undo the verbosity chosen before).
void route_transport_logs();

}  // namespace etcdpp::detail
