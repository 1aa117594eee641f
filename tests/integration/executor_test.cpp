// SPDX-License-Identifier: Apache-2.0
// A Client given the user's executor holds no work on it once its watches and keep-alives are
// gone: io_context::run returns when the user's own work is done.
#include <gtest/gtest.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <future>

#include "support/test_env.hpp"

namespace etcdpp {
namespace {

using namespace std::chrono_literals;

TEST(ExecutorTest, RunReturnsOnceTheWatchesAndKeepAlivesMadeOnItAreGone) {
  test::TestPrefix prefix(test::client());
  asio::io_context io;
  auto guard = asio::make_work_guard(io);
  auto ran = std::async(std::launch::async, [&] { io.run(); });
  {
    Client client({.endpoints = {test::node().client_endpoint()}, .executor = io.get_executor()});
    std::atomic<int> events{0};
    Watch watch = client.watch(prefix("w"), {}, [&](std::error_code, WatchBatch b) {
      events += static_cast<int>(b.events.size());
    });
    const LeaseId lease = client.lease_grant(10s).id;
    KeepAlive keep_alive = client.keep_alive(lease);
    client.lease_keep_alive_once(lease);
    client.put(prefix("w"), "v");
    ASSERT_TRUE(test::wait_until([&] { return events.load() == 1; }, 5s));
    watch.cancel();
    keep_alive = KeepAlive{};
    {
      Watch cancelled = client.watch(prefix("x"));
    }
    guard.reset();
    // The client lives on, idle: the io_context has nothing left to do.
    EXPECT_EQ(ran.wait_for(3s), std::future_status::ready)
        << "io.run() did not return while an idle client lives";
  }
  if (ran.wait_for(5s) != std::future_status::ready) {
    io.stop();
    ran.wait();
  }
}

}  // namespace
}  // namespace etcdpp
