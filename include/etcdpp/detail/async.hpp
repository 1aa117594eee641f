// SPDX-License-Identifier: Apache-2.0
// Internal: the glue between etcdpp's one asynchronous core and its two faces. Not part of the
// public API; client.hpp's templates need it.
#pragma once

#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/associated_cancellation_slot.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

namespace etcdpp {
const std::error_category& error_category() noexcept;
}

namespace etcdpp::detail {

/// How a call of the core ended: a code and, for the message, the server's text; or the very
/// exception to report (a recipe's coroutine ended on it), which both faces then give as it is.
struct CallStatus {
  CallStatus() = default;
  CallStatus(std::error_code c, std::string text = {}, std::exception_ptr e = nullptr)
      : code(c), message(std::move(text)), exception(std::move(e)) {}

  std::error_code code;
  std::string message;
  std::exception_ptr exception;
};

/// The exception a failed call reports on every face: `status.exception` when set, else Error
/// (CompactedError for Errc::compacted) worded `<call> "<what>": <the server's text>`, or the
/// message alone when `call` is empty. Null when the call succeeded.
std::exception_ptr make_exception(std::string_view call, std::string_view what,
                                  const CallStatus& status);

/// The core's completion: called once, on a transport thread. It must not block.
template <class R>
using Callback = std::function<void(CallStatus, R)>;

/// Lets a caller cancel a call in flight. The core installs what cancels its current attempt;
/// `cancel()` may come before, during or after that, from any thread.
class Canceller {
 public:
  void cancel() {
    std::function<void()> action;
    {
      std::lock_guard lock(mutex_);
      cancelled_ = true;
      action = action_;
    }
    if (action) action();
  }
  /// Installs `action`; runs it at once, and returns false, when cancel() came first.
  bool set_action(std::function<void()> action) {
    std::unique_lock lock(mutex_);
    if (cancelled_) {
      lock.unlock();
      return false;
    }
    action_ = std::move(action);
    return true;
  }
  void clear_action() {
    std::lock_guard lock(mutex_);
    action_ = nullptr;
  }
  bool cancelled() const {
    std::lock_guard lock(mutex_);
    return cancelled_;
  }

 private:
  mutable std::mutex mutex_;
  bool cancelled_ = false;
  std::function<void()> action_;
};

/// Starts the core operation `start(callback, canceller)` for an Asio completion token, with the
/// completion signature void(std::exception_ptr, R): a failure is the exception the blocking face
/// throws (the core words it: make_exception), so a coroutine, a future and a callback get the
/// same type and message. `canceller` is null when the handler has no cancellation slot. The
/// handler runs on its associated executor (`fallback` when it has none), never on the transport
/// thread that completed the call; the executor has outstanding work until then. A connected
/// cancellation slot cancels the call when it emits one of the types in `honoured` (a call that
/// honours none is not cancellable: it gets no Canceller).
template <class R, class Token, class Start>
auto initiate(const asio::any_io_executor& fallback, Token&& token, Start&& start,
              asio::cancellation_type honoured = asio::cancellation_type::all) {
  return asio::async_initiate<Token, void(std::exception_ptr, R)>(
      [honoured](auto handler, asio::any_io_executor fallback_ex, auto start_op) {
        using Handler = decltype(handler);
        auto executor = asio::get_associated_executor(handler, fallback_ex);
        auto slot = asio::get_associated_cancellation_slot(handler);
        struct State {
          Handler handler;
          asio::executor_work_guard<decltype(executor)> work;
          decltype(slot) cancellation_slot;
        };
        auto state = std::make_shared<State>(
            State{std::move(handler), asio::make_work_guard(executor), slot});
        // Only a handler with a connected cancellation slot can cancel: the others get no
        // Canceller, which spares each call an allocation and two locks.
        std::shared_ptr<Canceller> canceller;
        if (slot.is_connected() && honoured != asio::cancellation_type::none) {
          canceller = std::make_shared<Canceller>();
          slot.assign([canceller, honoured](asio::cancellation_type type) {
            if ((type & honoured) != asio::cancellation_type::none) canceller->cancel();
          });
        }
        Callback<R> complete([state](CallStatus status, R result) mutable {
          std::exception_ptr error;
          if (status.code || status.exception) error = make_exception({}, {}, status);
          auto ex = state->work.get_executor();
          asio::post(ex, [state = std::move(state), error = std::move(error),
                          result = std::move(result)]() mutable {
            if (state->cancellation_slot.is_connected()) state->cancellation_slot.clear();
            auto work = std::move(state->work);
            std::move(state->handler)(std::move(error), std::move(result));
          });
        });
        // An argument refused before anything is sent (a start that throws) reaches the
        // handler as every other error does: a callback hears of it too.
        try {
          start_op(complete, std::move(canceller));
        } catch (...) {
          complete(CallStatus{{}, {}, std::current_exception()}, R{});
        }
      },
      token, fallback, std::forward<Start>(start));
}

/// The blocking face: waits for the core's callback.
template <class R>
class Waiter {
 public:
  Callback<R> callback() {
    return [shared = shared_](CallStatus status, R result) {
      std::lock_guard lock(shared->mutex);
      shared->status = std::move(status);
      shared->result.emplace(std::move(result));
      shared->cv.notify_one();
    };
  }
  /// Waits at most `timeout`; no answer by then gives deadline_exceeded.
  template <class Duration>
  CallStatus wait_for(std::optional<R>& out, Duration timeout) {
    std::unique_lock lock(shared_->mutex);
    if (!shared_->cv.wait_for(lock, timeout, [&] { return shared_->result.has_value(); })) {
      return CallStatus{std::error_code(4, error_category()), "no answer within the deadline"};
    }
    out = std::move(shared_->result);
    return std::move(shared_->status);
  }
  /// Waits for the answer; returns its status and moves the result into `out`.
  CallStatus wait(std::optional<R>& out) {
    std::unique_lock lock(shared_->mutex);
    shared_->cv.wait(lock, [&] { return shared_->result.has_value(); });
    out = std::move(shared_->result);
    return std::move(shared_->status);
  }

 private:
  struct Shared {
    std::mutex mutex;
    std::condition_variable cv;
    CallStatus status;
    std::optional<R> result;
  };
  std::shared_ptr<Shared> shared_ = std::make_shared<Shared>();
};

}  // namespace etcdpp::detail
