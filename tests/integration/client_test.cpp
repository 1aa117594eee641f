// SPDX-License-Identifier: Apache-2.0
// The client's transport against a real etcd: failover, deadlines, recovery after the server
// comes back, cancellation, the asynchronous faces, and a fixed thread count.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <atomic>
#include <future>
#include <memory>
#include <mutex>

#include "support/test_env.hpp"

namespace etcdpp {
namespace {

using namespace std::chrono_literals;
using test::TestPrefix;

/// A loopback port that nothing listens on.
std::string closed_endpoint() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

TEST(ClientTest, FailsOverFromAClosedPortToALiveNode) {
  Client client(
      {.endpoints = {closed_endpoint(), test::node().client_endpoint()}, .call_timeout = 5s});
  TestPrefix p(client);
  // Writes too: a request that found no connection never left, so it is safe to send again.
  for (int i = 0; i < 20; ++i) client.put(p(std::to_string(i)), "v");
  EXPECT_EQ(client.get(p.str(), {.prefix = true, .count_only = true}).count, 20);
}

TEST(ClientTest, StoppedServerGivesUnavailableWithinTheDeadlineThenRecoversQuickly) {
  embedded::Node node;
  Client client({.endpoints = {node.client_endpoint()}, .call_timeout = 3s});
  client.put("recover", "1");
  node.stop();

  const auto start = std::chrono::steady_clock::now();
  try {
    client.get("recover");
    ADD_FAILURE() << "a read from a stopped server succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::unavailable) << e.what();
    EXPECT_NE(std::string(e.what()).find("get \"recover\""), std::string::npos);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s + 200ms);

  node.start();
  const auto back = std::chrono::steady_clock::now();
  // The first call after the restart may wait out gRPC's reconnect backoff, which etcdpp caps.
  std::optional<KeyValue> kv;
  ASSERT_TRUE(test::wait_until(
      [&] {
        try {
          kv = client.with_timeout(500ms).get("recover");
          return true;
        } catch (const Error& e) {
          return is_transient(e.code());
        }
      },
      5s));
  EXPECT_LT(std::chrono::steady_clock::now() - back, 2s);
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->value, "1");
}

TEST(ClientTest, FailFastGivesUpAtOnceWhenEveryEndpointRefuses) {
  const std::vector<std::string> closed = {closed_endpoint(), closed_endpoint()};
  // Without fail_fast the same calls retry until their 4 s deadline (the test above).
  Client client({.endpoints = closed, .call_timeout = 4s, .fail_fast = true});
  const auto start = std::chrono::steady_clock::now();
  try {
    client.put("fast", "1");
    ADD_FAILURE() << "a put to closed ports succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::unavailable) << e.what();
    const std::string what = e.what();
    EXPECT_NE(what.find("put \"fast\": cannot connect to 127.0.0.1:"), std::string::npos) << what;
    EXPECT_NE(what.find(": connection refused (nothing listens there"), std::string::npos) << what;
    EXPECT_NE(what.find("the write was not sent"), std::string::npos) << what;
    EXPECT_NE(what.find("fail_fast"), std::string::npos) << what;
    EXPECT_EQ(what.find("failed to connect to all addresses"), std::string::npos) << what;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);

  // The asynchronous face gives up as fast, with the same exception.
  const auto async_start = std::chrono::steady_clock::now();
  auto future = client.async_get("fast", asio::use_future);
  EXPECT_THROW(future.get(), Error);
  EXPECT_LT(std::chrono::steady_clock::now() - async_start, 2s);

  // With one live endpoint among them, fail_fast changes nothing: the call fails over.
  Client mixed({.endpoints = {closed[0], test::node().client_endpoint()},
                .call_timeout = 4s,
                .fail_fast = true});
  TestPrefix p(mixed);
  EXPECT_GT(mixed.put(p("k"), "v").header.revision, 0);
}

TEST(ClientTest, MoreThanSixtyFourEndpointsAreRefusedByName) {
  std::vector<std::string> many;
  for (int i = 0; i < 65; ++i) many.push_back("127.0.0.1:" + std::to_string(20000 + i));
  try {
    Client client({.endpoints = many});
    ADD_FAILURE() << "a Client took 65 endpoints";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_option) << e.what();
    EXPECT_NE(std::string(e.what()).find("65 endpoints"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("at most 64"), std::string::npos) << e.what();
  }
  many.pop_back();
  Client ok({.endpoints = many, .call_timeout = 200ms});  // 64 is allowed
  EXPECT_EQ(ok.endpoints().size(), 64u);
}

TEST(ClientTest, ConflictingRangeOptionsAreRefusedAndNothingIsDeleted) {
  Client client = test::client();
  TestPrefix p(client);
  client.put(p("a"), "1");
  client.put(p("b"), "2");
  const auto expect_refused = [](const auto& call, const std::string& named) {
    try {
      call();
      ADD_FAILURE() << "conflicting range options were taken (" << named << ")";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::invalid_argument) << e.what();
      EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("at most one"), std::string::npos) << e.what();
    }
  };
  expect_refused([&] { client.delete_range(p("a"), {.prefix = true, .from_key = true}); },
                 "prefix and from_key");
  expect_refused([&] { client.delete_range(p("a"), {.range_end = p("z"), .prefix = true}); },
                 "range_end and prefix");
  expect_refused([&] { client.get(p("a"), {.range_end = p("z"), .from_key = true}); },
                 "range_end and from_key");
  expect_refused([&] { client.watch(p(""), {.prefix = true, .from_key = true}); },
                 "prefix and from_key");
  const GetOptions both{.prefix = true, .from_key = true};
  expect_refused([&] { client.async_get(p(""), both, asio::use_future).get(); },
                 "prefix and from_key");
  expect_refused(
      [&] { client.txn(Txn().then(Op::delete_range(p(""), {.prefix = true, .from_key = true}))); },
      "prefix and from_key");
  // With a callback, the refusal reaches the handler, as every other error does: the async call
  // itself does not throw.
  std::promise<std::exception_ptr> heard;
  client.async_delete_range(p("a"), {.prefix = true, .from_key = true},
                            [&](std::exception_ptr e, DeleteResult) { heard.set_value(e); });
  auto refusal = heard.get_future();
  ASSERT_EQ(refusal.wait_for(10s), std::future_status::ready) << "the handler never ran";
  expect_refused(
      [&] {
        if (auto e = refusal.get()) std::rethrow_exception(e);
      },
      "prefix and from_key");
  EXPECT_EQ(client.get(p.str(), {.prefix = true, .count_only = true}).count, 2);
}

TEST(ClientTest, DeadlinePassesOnAPausedServer) {
  embedded::Node node;
  Client client({.endpoints = {node.client_endpoint()}});
  client.put("k", "v");
  test::pause_process(node.pid());
  const auto start = std::chrono::steady_clock::now();
  try {
    client.with_timeout(300ms).get("k");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::deadline_exceeded) << e.what();
    // Which deadline ran out, its value and the options that set it.
    const std::string what = e.what();
    EXPECT_NE(what.find("get \"k\": no answer from " + node.client_endpoint() + " within 300 ms, the call's deadline (ClientOptions::call_timeout, or "
                        "Client::with_timeout)"),
              std::string::npos)
        << what;
    EXPECT_EQ(what.find("may or may not"), std::string::npos) << "a read: " << what;
  }
  const auto took = std::chrono::steady_clock::now() - start;
  try {
    client.with_timeout(300ms).put("k", "w");
    ADD_FAILURE() << "a put to a paused server succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::deadline_exceeded) << e.what();
    EXPECT_NE(std::string(e.what()).find("the write may or may not have been applied"),
              std::string::npos)
        << e.what();
  }
  test::resume_process(node.pid());
  EXPECT_GE(took, 290ms);
  EXPECT_LT(took, 2s);
  // The put was in etcd's socket when its deadline ran out: applied once etcd runs again, or
  // not, as its error says.
  const std::string value = client.get("k")->value;
  EXPECT_TRUE(value == "v" || value == "w") << value;
}

TEST(ClientTest, CancellationSlotCancelsACallInFlight) {
  embedded::Node node;
  Client client({.endpoints = {node.client_endpoint()}, .call_timeout = 30s});
  client.put("k", "v");
  test::pause_process(node.pid());
  asio::cancellation_signal signal;
  std::optional<std::error_code> result;
  client.async_get(
      "k", asio::bind_cancellation_slot(
               signal.slot(),
               [&](std::exception_ptr e, std::optional<KeyValue>) { result = error_code_of(e); }));
  const auto start = std::chrono::steady_clock::now();
  signal.emit(asio::cancellation_type::terminal);
  // The handler runs on the client's own thread: wait for it.
  EXPECT_TRUE(test::wait_until([&] { return result.has_value(); }, 5s));
  test::resume_process(node.pid());
  ASSERT_TRUE(result);
  EXPECT_EQ(*result, Errc::cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

// A read has no effect to undo: it honours every cancellation type. A write may already be in
// etcd's socket: it honours terminal (the call ends, its effect unknown) but not total, which
// would promise that nothing happened.
TEST(ClientTest, AWriteIgnoresTotalCancellationAndHonoursTerminalAReadHonoursBoth) {
  embedded::Node node;
  Client client({.endpoints = {node.client_endpoint()}, .call_timeout = 30s});
  client.put("k", "v");
  test::pause_process(node.pid());
  struct Outcome {
    std::mutex mutex;
    std::optional<std::error_code> code;
    void set(std::exception_ptr e) {
      std::lock_guard lock(mutex);
      code = error_code_of(e);
    }
    std::optional<std::error_code> get() {
      std::lock_guard lock(mutex);
      return code;
    }
  };
  Outcome kept_put, cut_put, read;
  asio::cancellation_signal total_for_put, terminal_for_put, total_for_read;
  client.async_put("w", "kept", asio::bind_cancellation_slot(total_for_put.slot(),
                                                             [&](std::exception_ptr e, PutResult) {
                                                               kept_put.set(e);
                                                             }));
  client.async_put("x", "cut", asio::bind_cancellation_slot(terminal_for_put.slot(),
                                                            [&](std::exception_ptr e, PutResult) {
                                                              cut_put.set(e);
                                                            }));
  client.async_get("k", asio::bind_cancellation_slot(
                            total_for_read.slot(),
                            [&](std::exception_ptr e, std::optional<KeyValue>) { read.set(e); }));
  total_for_put.emit(asio::cancellation_type::total);
  terminal_for_put.emit(asio::cancellation_type::terminal);
  total_for_read.emit(asio::cancellation_type::total);
  EXPECT_TRUE(test::wait_until([&] { return read.get() && cut_put.get(); }, 5s));
  EXPECT_EQ(read.get(), std::optional<std::error_code>(Errc::cancelled));
  EXPECT_EQ(cut_put.get(), std::optional<std::error_code>(Errc::cancelled));
  // The put that ignored the total cancellation is still waiting for the paused server, and
  // succeeds once it runs again.
  EXPECT_FALSE(kept_put.get());
  test::resume_process(node.pid());
  EXPECT_TRUE(test::wait_until([&] { return kept_put.get().has_value(); }, 10s));
  EXPECT_EQ(kept_put.get(), std::optional<std::error_code>(std::error_code{}));
  EXPECT_EQ(client.get("w")->value, "kept");
}

TEST(ClientTest, AsyncHandlerRunsOnItsExecutorWithTheBlockingFacesException) {
  Client client = test::client();
  TestPrefix p(client);
  asio::io_context io;
  const auto io_thread = std::this_thread::get_id();
  std::error_code put_error, empty_key_error;
  std::string empty_key_words;
  std::optional<KeyValue> got;
  bool on_io_thread = false;
  client.async_put(p("a"), "1", asio::bind_executor(io, [&](std::exception_ptr e, PutResult) {
                     put_error = error_code_of(e);
                     client.async_get(
                         p("a"),
                         asio::bind_executor(io, [&](std::exception_ptr, std::optional<KeyValue> kv) {
                           got = kv;
                           on_io_thread = std::this_thread::get_id() == io_thread;
                         }));
                   }));
  client.async_put("", "v", asio::bind_executor(io, [&](std::exception_ptr e, PutResult) {
                     empty_key_error = error_code_of(e);
                     try {
                       if (e) std::rethrow_exception(e);
                     } catch (const Error& error) {
                       empty_key_words = error.what();
                     }
                   }));
  io.run();  // returns once both handlers (and the nested one) have run
  EXPECT_FALSE(put_error);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->value, "1");
  EXPECT_TRUE(on_io_thread);
  EXPECT_EQ(empty_key_error, Errc::empty_key);
  // The same words as the blocking call's.
  try {
    client.put("", "v");
    ADD_FAILURE() << "an empty key was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(empty_key_words, e.what());
  }
}

TEST(ClientTest, CoroutinesCatchTheBlockingFacesExceptionTypesAndWords) {
  Client client = test::client();
  TestPrefix p(client);
  const auto old = client.put(p("k"), "1").header.revision;
  const auto now = client.put(p("k"), "2").header.revision;
  client.compact(now);
  std::string blocking;
  try {
    client.get(p("k"), {.revision = old});
  } catch (const CompactedError& e) {
    blocking = e.what();
  }
  ASSERT_FALSE(blocking.empty());
  asio::io_context io;
  std::string awaited;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        const GetOptions at_old{.revision = old};
        try {
          co_await client.async_get(p("k"), at_old, asio::use_awaitable);
        } catch (const CompactedError& e) {  // the subclass, not only std::system_error
          awaited = e.what();
        }
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  EXPECT_EQ(awaited, blocking);

  // A refused connection: the future names the endpoint, as the blocking call does.
  const std::string closed = closed_endpoint();
  Client nowhere({.endpoints = {closed}, .call_timeout = 500ms});
  auto future = nowhere.async_get("k", asio::use_future);
  try {
    future.get();
    ADD_FAILURE() << "a call to a closed port succeeded";
  } catch (const Error& e) {
    EXPECT_TRUE(is_transient(e.code())) << e.what();
    EXPECT_NE(std::string(e.what()).find("get \"k\""), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(closed), std::string::npos) << e.what();
  }
}

TEST(ClientTest, UseFutureAndCoroutinesWork) {
  Client client = test::client();
  TestPrefix p(client);
  std::future<PutResult> put = client.async_put(p("f"), "future", asio::use_future);
  EXPECT_GT(put.get().header.revision, 0);

  asio::io_context io;
  std::string seen;
  std::int64_t count = -1;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await client.async_put(p("c"), "coroutine", asio::use_awaitable);
        auto kv = co_await client.async_get(p("c"), asio::use_awaitable);
        seen = kv ? kv->value : "";
        // A named options object: GCC 12 mis-copies aggregate temporaries that hold a
        // std::string inside a co_await expression (a compiler bug, not etcdpp's).
        const GetOptions count_only{.prefix = true, .count_only = true};
        auto r = co_await client.async_get(p.str(), count_only, asio::use_awaitable);
        count = r.count;
        auto t = co_await client.async_txn(Txn{}.if_(Compare::value(p("c")) == "coroutine"),
                                           asio::use_awaitable);
        if (!t.succeeded) seen = "txn failed";
        co_await client.async_delete_range(p("f"), asio::use_awaitable);
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  EXPECT_EQ(seen, "coroutine");
  EXPECT_EQ(count, 2);
  EXPECT_FALSE(client.get(p("f")));
}

// The lines a user writes first, options inline in the co_await expression. GCC 12 mis-copies
// an aggregate temporary with a destructor there (a freed bad pointer at resumption); GetOptions,
// DeleteOptions and WatchOptions hold nothing that frees memory when left at their defaults, and
// their range_end is a view, so these are safe. Under ASan a mis-copy is an error at once.
TEST(ClientTest, OptionsInlineInACoAwaitExpressionAreSafe) {
  Client client = test::client();
  TestPrefix p(client);
  for (const char* k : {"a", "b", "c", "d"}) client.put(p(k), k);
  asio::io_context io;
  std::vector<std::string> prefix_keys;
  std::int64_t deleted = -1, counted = -1;
  std::int64_t watch_created = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto all = co_await client.async_get(p.str(), {.prefix = true}, asio::use_awaitable);
        for (const auto& kv : all.kvs) prefix_keys.push_back(kv.key);
        // A temporary std::string as the range end, inside the co_await expression too.
        auto gone = co_await client.async_delete_range(
            p("a"), {.range_end = p("c"), .prev_kv = true}, asio::use_awaitable);
        deleted = gone.deleted;
        auto left = co_await client.async_get(p.str(), {.prefix = true, .count_only = true},
                                              asio::use_awaitable);
        counted = left.count;
        Watch w = co_await client.async_watch(p.str(), {.prefix = true}, {}, asio::use_awaitable);
        watch_created = w.created_revision();
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  EXPECT_EQ(prefix_keys, (std::vector<std::string>{p("a"), p("b"), p("c"), p("d")}));
  EXPECT_EQ(deleted, 2);  // [a, c): a and b
  EXPECT_EQ(counted, 2);
  EXPECT_GT(watch_created, 0);
}

// A range end is a view of the caller's bytes; every holder that outlives the call's start
// copies it: a deferred operation started later, a transaction's Op, a Paginator, a Watch.
TEST(ClientTest, ARangeEndIsCopiedWhenTheCallStartsWhateverHoldsIt) {
  Client client = test::client();
  TestPrefix p(client);
  for (const char* k : {"a", "b", "c", "d", "e"}) client.put(p(k), k);
  const auto end = [&](const char* k) { return std::make_unique<std::string>(p(k)); };
  const auto keys = [](const std::vector<KeyValue>& kvs) {
    std::vector<std::string> out;
    for (const auto& kv : kvs) out.push_back(kv.key);
    return out;
  };

  // The string is gone (freed, so that ASan sees any read of it) before each call runs.
  auto bytes = end("c");
  auto deferred = client.async_get(p("a"), {.range_end = *bytes}, asio::experimental::deferred);
  Txn txn;
  txn.then(Op::get(p("b"), {.range_end = *bytes}));
  Paginator pages = client.paginate(p("a"), {.range_end = *bytes}, 1);
  bytes.reset();

  std::promise<GetResult> got;
  std::move(deferred)([&](std::exception_ptr e, GetResult r) {
    if (e) got.set_exception(e);
    else got.set_value(std::move(r));
  });
  EXPECT_EQ(keys(got.get_future().get().kvs), (std::vector<std::string>{p("a"), p("b")}));
  EXPECT_EQ(keys(client.txn(txn).responses.at(0).get().kvs), (std::vector<std::string>{p("b")}));
  std::vector<std::string> paged;
  for (const KeyValue& kv : pages) paged.push_back(kv.key);
  EXPECT_EQ(paged, (std::vector<std::string>{p("a"), p("b")}));

  // A watch keeps its range after the string is gone: resumed streams use the copy too.
  auto watch_end = end("c");
  std::mutex mutex;
  std::vector<std::string> events;
  Watch w = client.watch(p("a"), {.range_end = *watch_end}, [&](std::error_code, WatchBatch b) {
    std::lock_guard lock(mutex);
    for (const auto& e : b.events) events.push_back(e.kv.key);
  });
  watch_end.reset();
  for (const char* k : {"a", "c", "b"}) client.put(p(k), "again");
  EXPECT_TRUE(test::wait_until(
      [&] {
        std::lock_guard lock(mutex);
        return events.size() >= 2;
      },
      10s));
  std::lock_guard lock(mutex);
  EXPECT_EQ(events, (std::vector<std::string>{p("a"), p("b")}));
}

/// Runs `total` async puts with `in_flight` outstanding at a time; returns the failures.
int run_async_puts(const Client& client, const TestPrefix& p, int total, int in_flight) {
  std::atomic<int> issued{0}, done{0}, failed{0};
  std::function<void()> issue_one = [&] {
    const int i = issued++;
    if (i >= total) return;
    client.async_put(p(std::to_string(i % 100)), "v", [&](std::exception_ptr e, PutResult) {
      if (e) ++failed;
      issue_one();
      ++done;
    });
  };
  for (int i = 0; i < in_flight; ++i) issue_one();
  EXPECT_TRUE(test::wait_until([&] { return done == total; }, 120s)) << done;
  return failed;
}

TEST(ClientTest, ThreadCountAfterTenThousandAsyncCallsEqualsTheCountAfterTheFirst) {
  Client client = test::client();
  TestPrefix p(client);
  client.put(p("first"), "v");
  // The shared node's own client (its role poller) is made as the node starts serving: once
  // the node has a role, its threads are there, and only the test's client's can change.
  ASSERT_TRUE(test::wait_until([] { return test::node().role() != embedded::Role::none; }, 10s));
  const auto before = test::thread_names();
  const int after_first = test::thread_count();
  ASSERT_EQ(run_async_puts(client, p, 10000, 256), 0);
  const auto after = test::thread_names();
  // etcdpp's own threads (the client's poller and executor) are the same ones; gRPC's pool may
  // have started one more under load (see kGrpcPoolSlack), not one per call.
  EXPECT_EQ(test::etcdpp_threads(after), test::etcdpp_threads(before)) << test::to_string(after);
  EXPECT_GE(test::etcdpp_threads(after), 2) << test::to_string(after);
  EXPECT_LE(test::thread_count(), after_first + test::kGrpcPoolSlack)
      << "before: " << test::to_string(before) << "\nafter: " << test::to_string(after);
}

TEST(ClientTest, CopiesShareTheConnectionAndOutliveTheOriginal) {
  std::optional<Client> original = test::client();
  Client copy = *original;
  original.reset();
  TestPrefix p(copy);
  copy.put(p("k"), "v");
  EXPECT_EQ(copy.get(p("k"))->value, "v");
}

}  // namespace
}  // namespace etcdpp
