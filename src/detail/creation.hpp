// SPDX-License-Identifier: Apache-2.0
// The asynchronous creation of a long-lived object (a watch, a keep-alive): it is made at once,
// and its creation completes when the server has answered for it, when the deadline passes, or
// when the caller cancels. No thread waits: whatever may have changed pokes the creation, which
// looks again on a strand of its own.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include "etcdpp/detail/async.hpp"

namespace etcdpp::detail {

template <class R>
class Creation : public std::enable_shared_from_this<Creation<R>> {
 public:
  /// What the creation has come to: nothing yet (nullopt), or the status and result to complete
  /// with. Called on the strand, each time something may have changed; it is told whether the
  /// deadline has passed and whether the caller cancelled.
  using Decide = std::function<std::optional<std::pair<CallStatus, R>>(bool timed_out,
                                                                      bool cancelled)>;

  Creation(const asio::any_io_executor& executor, Decide decide, Callback<R> done)
      : strand_(asio::make_strand(executor)),
        timer_(strand_),
        decide_(std::move(decide)),
        done_(std::move(done)) {}

  /// Starts the deadline, and lets `canceller` (may be null) cancel the creation.
  void start(std::chrono::milliseconds timeout, const std::shared_ptr<Canceller>& canceller) {
    std::weak_ptr<Creation> weak = this->shared_from_this();
    if (canceller && !canceller->set_action([weak] {
          if (auto self = weak.lock()) self->post([self] { self->cancelled_ = true; });
        })) {
      post([self = this->shared_from_this()] { self->cancelled_ = true; });
    }
    asio::post(strand_, [self = this->shared_from_this(), timeout] {
      self->timer_.expires_after(timeout);
      // The pending wait keeps the creation (and the executor's work) only until it completes.
      self->timer_.async_wait([self](std::error_code ec) {
        if (!ec) self->timed_out_ = true;
        self->evaluate();
      });
      self->evaluate();
    });
  }

  /// Something may have changed: look again, on the strand. Any thread; never blocks.
  void poke() {
    post([] {});
  }

 private:
  template <class F>
  void post(F change) {
    asio::post(strand_, [self = this->shared_from_this(), change = std::move(change)]() mutable {
      change();
      self->evaluate();
    });
  }

  void evaluate() {
    if (!done_) return;
    auto outcome = decide_(timed_out_, cancelled_);
    if (!outcome) return;
    auto done = std::move(done_);
    done_ = nullptr;
    decide_ = nullptr;
    timer_.cancel();
    done(std::move(outcome->first), std::move(outcome->second));
  }

  asio::strand<asio::any_io_executor> strand_;
  asio::steady_timer timer_;
  Decide decide_;
  Callback<R> done_;
  bool timed_out_ = false;
  bool cancelled_ = false;
};

}  // namespace etcdpp::detail
