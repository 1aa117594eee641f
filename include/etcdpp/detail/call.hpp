// SPDX-License-Identifier: Apache-2.0
// Internal: etcdpp's one operation core. Every call is described once, by a small struct that
// owns its arguments and names its result (the descriptions are next to the handles that make
// them: client.hpp, cluster.hpp, maintenance.hpp, auth.hpp), and started by one `start`
// overload in the library. Both faces of every call are thin over the pair below: run() waits
// for it, async_run() hands it to an Asio completion token. Not part of the public API.
#pragma once

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/cancellation_type.hpp>

#include "etcdpp/detail/async.hpp"

namespace etcdpp::detail {

class ClientCore;

/// What a call needs of the handle that makes it: the connection every copy shares, the
/// deadline of each call (ClientOptions::call_timeout, or Client::with_timeout), and the
/// namespace of a view (Client::with_namespace; empty for a plain client). The facets of a
/// Client (cluster(), maintenance(), auth()) carry its context.
struct CallContext {
  std::shared_ptr<ClientCore> core;
  std::chrono::milliseconds timeout{};
  std::string ns;
};

/// The executor of completions whose handler has none (ClientOptions::executor, or the
/// client's own thread).
asio::any_io_executor executor_of(const CallContext& context) noexcept;

/// What each kind of call honours of an Asio cancellation. A read has no effect: it honours
/// every type, "total" (no effect at all) included. A write may already be on its way to
/// etcd, where it may or may not be applied: it cannot promise total, so it honours terminal
/// and partial only (the call then ends with Errc::cancelled, its effect unknown).
inline constexpr asio::cancellation_type kReadCancellation = asio::cancellation_type::all;
inline constexpr asio::cancellation_type kWriteCancellation =
    asio::cancellation_type::terminal | asio::cancellation_type::partial;

/// The blocking face of `call`: starts it on the core and waits for its answer, or throws the
/// exception the call ended with (Error, CompactedError), already worded by its start.
template <class Call>
typename Call::Result run(const CallContext& context, Call call) {
  using R = typename Call::Result;
  Waiter<R> waiter;
  start(context, std::move(call), waiter.callback(), nullptr);
  std::optional<R> result;
  const CallStatus status = waiter.wait(result);
  if (status.exception) std::rethrow_exception(status.exception);
  if (status.code) std::rethrow_exception(make_exception({}, {}, status));
  return std::move(*result);
}

/// The asynchronous face of `call`, with the completion signature
/// void(std::exception_ptr, Call::Result) and the cancellation types Call::cancellation.
/// The description is moved into the operation: nothing of the caller's is read after this
/// returns, so arguments may be temporaries even with a deferred token.
template <class Call, class Token>
auto async_run(const CallContext& context, Call call, Token&& token) {
  return initiate<typename Call::Result>(
      executor_of(context), std::forward<Token>(token),
      [context, call = std::move(call)](auto callback, auto canceller) mutable {
        start(context, std::move(call), std::move(callback), std::move(canceller));
      },
      Call::cancellation);
}

}  // namespace etcdpp::detail
