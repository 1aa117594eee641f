// SPDX-License-Identifier: Apache-2.0
// The glue between the asynchronous core and Asio's completion tokens, with a fake core that
// completes on a thread of its own, as a transport thread would.
#include <gtest/gtest.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <thread>

#include "detail/status.hpp"
#include "etcdpp/detail/async.hpp"
#include "etcdpp/error.hpp"

namespace etcdpp::detail {
namespace {

/// Completes with `value` from a new thread, unless cancelled first.
template <class Token>
auto async_fake(asio::any_io_executor fallback, int value, std::thread& worker, Token&& token) {
  return initiate<int>(fallback, std::forward<Token>(token),
                       [value, &worker](Callback<int> cb, std::shared_ptr<Canceller> canceller) {
                         worker = std::thread([cb = std::move(cb), canceller, value] {
                           cb(CallStatus{}, value);
                         });
                       });
}

TEST(AsyncTest, HandlerRunsOnItsAssociatedExecutorNotOnTheCompletingThread) {
  asio::io_context user;
  asio::io_context fallback;
  std::thread worker;
  std::thread::id ran_on;
  int got = 0;
  async_fake(fallback.get_executor(), 7, worker,
             asio::bind_executor(user, [&](std::exception_ptr error, int v) {
               EXPECT_FALSE(error);
               got = v;
               ran_on = std::this_thread::get_id();
             }));
  // The outstanding work keeps run() going until the handler has run.
  user.run();
  worker.join();
  EXPECT_EQ(got, 7);
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  EXPECT_EQ(fallback.poll(), 0u);
}

TEST(AsyncTest, HandlerWithoutExecutorRunsOnTheFallback) {
  asio::io_context fallback;
  std::thread worker;
  int got = 0;
  async_fake(fallback.get_executor(), 3, worker, [&](std::exception_ptr, int v) { got = v; });
  fallback.run();
  worker.join();
  EXPECT_EQ(got, 3);
}

TEST(AsyncTest, UseFutureDeliversTheValue) {
  asio::io_context fallback;
  auto guard = asio::make_work_guard(fallback);
  std::thread runner([&] { fallback.run(); });
  std::thread worker;
  auto future = async_fake(fallback.get_executor(), 11, worker, asio::use_future);
  EXPECT_EQ(future.get(), 11);
  worker.join();
  guard.reset();
  runner.join();
}

TEST(AsyncTest, CoroutineAwaitsTheValue) {
  asio::io_context io;
  std::thread worker;
  int got = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        got = co_await async_fake(io.get_executor(), 5, worker, asio::use_awaitable);
      },
      asio::detached);
  io.run();
  worker.join();
  EXPECT_EQ(got, 5);
}

/// Fails with `status` from a new thread.
template <class Token>
auto async_failing(asio::any_io_executor fallback, CallStatus status, std::thread& worker,
                   Token&& token) {
  return initiate<int>(fallback, std::forward<Token>(token),
                       [status, &worker](Callback<int> cb, std::shared_ptr<Canceller>) {
                         worker = std::thread([cb = std::move(cb), status] { cb(status, 0); });
                       });
}

TEST(AsyncTest, AFailureReachesEveryFaceAsTheExceptionTheBlockingFaceThrows) {
  const CallStatus refused{make_error_code(Errc::unavailable), "connection refused",
                           make_exception("get", "app/x", CallStatus{make_error_code(Errc::unavailable),
                                                                     "connection refused", {}})};
  std::string blocking;
  try {
    throw_if_failed("get", "app/x", refused);
  } catch (const Error& e) {
    blocking = e.what();
  }
  EXPECT_NE(blocking.find("get \"app/x\": connection refused"), std::string::npos) << blocking;

  // A coroutine catches etcdpp::Error with the same words.
  asio::io_context io;
  std::thread worker;
  std::string awaited;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        try {
          co_await async_failing(io.get_executor(), refused, worker, asio::use_awaitable);
        } catch (const Error& e) {
          EXPECT_EQ(e.code(), Errc::unavailable);
          awaited = e.what();
        }
      },
      asio::detached);
  io.run();
  worker.join();
  EXPECT_EQ(awaited, blocking);

  // A callback gets it first, error_code_of gives its code.
  asio::io_context io2;
  std::exception_ptr got;
  async_failing(io2.get_executor(), refused, worker, [&](std::exception_ptr e, int) { got = e; });
  io2.run();
  worker.join();
  ASSERT_TRUE(got);
  EXPECT_EQ(error_code_of(got), Errc::unavailable);
  EXPECT_EQ(error_code_of(nullptr), std::error_code());
}

TEST(AsyncTest, ACompactionIsACompactedErrorOnTheFutureFace) {
  asio::io_context fallback;
  auto guard = asio::make_work_guard(fallback);
  std::thread runner([&] { fallback.run(); });
  std::thread worker;
  auto future = async_failing(fallback.get_executor(),
                              CallStatus{make_error_code(Errc::compacted), "compacted", {}},
                              worker, asio::use_future);
  EXPECT_THROW(future.get(), CompactedError);
  worker.join();
  guard.reset();
  runner.join();
}

TEST(AsyncTest, HandlerWithoutCancellationSlotGetsNoCanceller) {
  asio::io_context io;
  bool had_canceller = true;
  initiate<int>(io.get_executor(), [](std::exception_ptr, int) {},
                [&](Callback<int> cb, std::shared_ptr<Canceller> canceller) {
                  had_canceller = canceller != nullptr;
                  cb(CallStatus{}, 1);
                });
  io.run();
  EXPECT_FALSE(had_canceller);
}

TEST(AsyncTest, CancellationSlotReachesTheCanceller) {
  asio::io_context io;
  asio::cancellation_signal signal;
  std::shared_ptr<Canceller> seen;
  std::error_code result;
  initiate<int>(io.get_executor(),
                asio::bind_cancellation_slot(signal.slot(),
                                             [&](std::exception_ptr e, int) {
                                               result = error_code_of(e);
                                             }),
                [&](Callback<int> cb, std::shared_ptr<Canceller> canceller) {
                  seen = canceller;
                  // The fake core cancels "its RPC" by completing with cancelled.
                  canceller->set_action([cb] {
                    cb(CallStatus{std::make_error_code(std::errc::operation_canceled), ""}, 0);
                  });
                });
  ASSERT_TRUE(seen);
  EXPECT_FALSE(seen->cancelled());
  signal.emit(asio::cancellation_type::terminal);
  EXPECT_TRUE(seen->cancelled());
  io.run();
  EXPECT_EQ(result, std::errc::operation_canceled);
}

TEST(AsyncTest, CancelBeforeTheCoreInstallsItsActionIsNotLost) {
  Canceller canceller;
  canceller.cancel();
  bool ran = false;
  EXPECT_FALSE(canceller.set_action([&] { ran = true; }));
  EXPECT_FALSE(ran);
  EXPECT_TRUE(canceller.cancelled());
}

}  // namespace
}  // namespace etcdpp::detail
