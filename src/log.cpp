// SPDX-License-Identifier: Apache-2.0
// gRPC's log lines, routed through one function: to the user's sink, or nowhere.
#include "etcdpp/log.hpp"

#include <grpc/support/log.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>

#include "detail/log_routing.hpp"

namespace etcdpp {
namespace {

struct Routing {
  std::mutex mutex;
  std::shared_ptr<const LogSink> sink;
  LogSeverity min_severity = LogSeverity::error;
  /// The environment asked for gRPC's own output (GRPC_VERBOSITY or GRPC_TRACE).
  bool environment_asks = false;
};

Routing& routing() {
  static Routing* r = new Routing;  // never destroyed: gRPC may log during static destruction
  return *r;
}

gpr_log_severity to_gpr(LogSeverity s) {
  switch (s) {
    case LogSeverity::debug:
      return GPR_LOG_SEVERITY_DEBUG;
    case LogSeverity::info:
      return GPR_LOG_SEVERITY_INFO;
    case LogSeverity::error:
      break;
  }
  return GPR_LOG_SEVERITY_ERROR;
}

LogSeverity from_gpr(gpr_log_severity s) {
  switch (s) {
    case GPR_LOG_SEVERITY_DEBUG:
      return LogSeverity::debug;
    case GPR_LOG_SEVERITY_INFO:
      return LogSeverity::info;
    case GPR_LOG_SEVERITY_ERROR:
      break;
  }
  return LogSeverity::error;
}

void route(gpr_log_func_args* args) {
  Routing& r = routing();
  std::shared_ptr<const LogSink> sink;
  bool environment_asks = false;
  {
    std::lock_guard lock(r.mutex);
    sink = r.sink;
    environment_asks = r.environment_asks;
  }
  std::string_view message = args->message != nullptr ? args->message : "";
  while (!message.empty() && message.back() == '\n') message.remove_suffix(1);
  if (sink) {
    (*sink)(from_gpr(args->severity), message);
    return;
  }
  const bool assertion = message.rfind("assertion failed", 0) == 0;
  if (assertion || environment_asks) {
    std::fprintf(stderr, "%s %s:%d] %.*s\n", gpr_log_severity_string(args->severity),
                 args->file != nullptr ? args->file : "?", args->line,
                 static_cast<int>(message.size()), message.data());
  }
}

/// What gRPC is told to format: the sink's level, the environment's, or errors only (assertion
/// failures are errors).
void apply_locked(Routing& r) {
  if (r.sink) {
    gpr_set_log_verbosity(to_gpr(r.min_severity));
  } else if (!r.environment_asks) {
    gpr_set_log_verbosity(GPR_LOG_SEVERITY_ERROR);
  }
  // With the environment's request and no sink, gRPC keeps the verbosity it read from it.
}

}  // namespace

std::string_view to_string(LogSeverity severity) noexcept {
  switch (severity) {
    case LogSeverity::debug:
      return "debug";
    case LogSeverity::info:
      return "info";
    case LogSeverity::error:
      break;
  }
  return "error";
}

void set_log_sink(LogSink sink, LogSeverity min_severity) {
  detail::route_transport_logs();
  Routing& r = routing();
  std::lock_guard lock(r.mutex);
  r.sink = sink ? std::make_shared<const LogSink>(std::move(sink)) : nullptr;
  r.min_severity = min_severity;
  apply_locked(r);
}

namespace detail {

void route_transport_logs() {
  Routing& r = routing();
  std::lock_guard lock(r.mutex);
  static const bool environment_asks = [] {
    const char* verbosity = std::getenv("GRPC_VERBOSITY");
    const char* trace = std::getenv("GRPC_TRACE");
    return (verbosity != nullptr && *verbosity != '\0') || (trace != nullptr && *trace != '\0');
  }();
  r.environment_asks = environment_asks;
  // gRPC reads GRPC_VERBOSITY when it initialises, possibly after this: set again each time.
  gpr_set_log_function(&route);
  apply_locked(r);
}

void log_line(LogSeverity severity, std::string_view message) {
  Routing& r = routing();
  std::shared_ptr<const LogSink> sink;
  {
    std::lock_guard lock(r.mutex);
    if (static_cast<int>(severity) < static_cast<int>(r.min_severity)) return;
    sink = r.sink;
  }
  if (sink) (*sink)(severity, message);
}

}  // namespace detail
}  // namespace etcdpp
