// SPDX-License-Identifier: Apache-2.0
// Internal: the asynchronous face of the recipes (concurrency/, v2.hpp). Not part of the public
// API. A recipe's operation is one coroutine in the library; this turns an Asio completion token
// into the type-erased callback that coroutine completes, with the exact exception it ended on.
#pragma once

#include <exception>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/dispatch.hpp>
#include <asio/executor_work_guard.hpp>

namespace etcdpp::detail {

/// How a recipe's coroutine completes: the exception it ended on (null on success), then its
/// result. Called once, on the executor the operation was started on.
template <class... R>
using RecipeCallback = std::function<void(std::exception_ptr, R...)>;

/// Starts `start(executor, callback)` for an Asio completion token with the completion signature
/// void(std::exception_ptr, R...). The operation runs on the handler's associated executor when
/// that is an I/O executor, else on `fallback`; the handler is invoked on its associated executor
/// (`fallback` when it has none), which has outstanding work until then.
template <class... R, class Token, class Start>
auto initiate_recipe(const asio::any_io_executor& fallback, Token&& token, Start&& start) {
  return asio::async_initiate<Token, void(std::exception_ptr, R...)>(
      [](auto handler, asio::any_io_executor fallback_ex, auto start_op) {
        using Handler = decltype(handler);
        auto handler_ex = asio::get_associated_executor(handler, fallback_ex);
        using HandlerExecutor = decltype(handler_ex);
        asio::any_io_executor run_ex = fallback_ex;
        if constexpr (std::is_convertible_v<HandlerExecutor, asio::any_io_executor>) {
          run_ex = handler_ex;
        }
        struct State {
          Handler handler;
          asio::executor_work_guard<HandlerExecutor> work;
        };
        // std::function needs a copyable target; the handler may be move-only.
        auto state =
            std::make_shared<State>(State{std::move(handler), asio::make_work_guard(handler_ex)});
        start_op(run_ex, RecipeCallback<R...>([state](std::exception_ptr e, R... result) {
                   auto ex = state->work.get_executor();
                   asio::dispatch(ex, [state, e, ... result = std::move(result)]() mutable {
                     auto work = std::move(state->work);
                     std::move(state->handler)(e, std::move(result)...);
                   });
                 }));
      },
      token, fallback, std::forward<Start>(start));
}

}  // namespace etcdpp::detail
