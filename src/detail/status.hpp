// SPDX-License-Identifier: Apache-2.0
// From a transport status to etcdpp's error_code and message.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "etcdpp/detail/async.hpp"

namespace etcdpp::detail {

/// The error code for a gRPC status: etcd's own error when the message is one of etcd's
/// ("etcdserver: ..."), else the gRPC code as it is. 0 gives the empty error_code.
std::error_code error_from_status(int code, std::string_view message) noexcept;

/// A CallStatus for a transport status.
CallStatus call_status(int code, std::string message);

/// The message of an Error: `<call> "<key>": <what went wrong>`; the key is printed with
/// non-printable bytes escaped.
std::string describe(std::string_view call, std::string_view key, const CallStatus& status);

/// Throws Error (or CompactedError) for a failed status; returns when it succeeded.
void throw_if_failed(std::string_view call, std::string_view key, const CallStatus& status);

/// `cb`, with the failure it reports made into the exception both faces give (Error or
/// CompactedError, worded by describe(call, what, status)): the one place where a call's error
/// gets its words, whichever face waits for it.
template <class R>
Callback<R> described(std::string call, std::string what, Callback<R> cb) {
  return [call = std::move(call), what = std::move(what), cb = std::move(cb)](CallStatus status,
                                                                              R result) {
    if (status.code && !status.exception) status.exception = make_exception(call, what, status);
    cb(std::move(status), std::move(result));
  };
}

}  // namespace etcdpp::detail
