// SPDX-License-Identifier: Apache-2.0
// Where the log lines of the libraries under etcdpp go. gRPC, which carries etcdpp's calls, logs
// on its own ("Handshake failed with fatal error SSL_ERROR_SSL", connection warnings); etcdpp
// reports every failure through its errors, so by default those lines reach nobody.
#pragma once

#include <functional>
#include <string_view>

namespace etcdpp {

/// The severity of a log line, from the most verbose: debug, info, error.
enum class LogSeverity { debug, info, error };

/// Receives one log line: its severity, and the text without a trailing newline.
using LogSink = std::function<void(LogSeverity severity, std::string_view message)>;

/// Sends the transport's log lines, and etcdpp's own (such as an endpoint that auto-sync learnt
/// but could not add), at `min_severity` and above to `sink`, from now on, for the whole
/// process. The sink runs on whatever thread logs (gRPC's own among them): it must be
/// thread-safe, must not block for long and must not call etcdpp. An empty sink drops the lines
/// again.
///
/// Without a sink, the lines are dropped, except two kinds that still go to stderr: a failed
/// internal assertion of gRPC (the line before it aborts the process), and, when the
/// environment sets GRPC_VERBOSITY (DEBUG, INFO or ERROR) or GRPC_TRACE, the lines gRPC would
/// then print, as it would print them.
void set_log_sink(LogSink sink, LogSeverity min_severity = LogSeverity::error);

/// "debug", "info" or "error".
std::string_view to_string(LogSeverity severity) noexcept;

}  // namespace etcdpp
