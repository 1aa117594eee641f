// SPDX-License-Identifier: Apache-2.0
// Watches against a real etcd: what is delivered, in which order, with which options, through
// both faces; resume after the server restarts; the bounded queue of a slow consumer; one stream
// for a thousand watches.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#include <atomic>
#include <future>
#include <mutex>
#include <regex>

#include "support/test_env.hpp"

namespace etcdpp {
namespace {

using namespace std::chrono_literals;
using test::TestPrefix;

/// Collects what a callback watch delivers.
struct Collector {
  std::mutex mutex;
  std::vector<Event> events;
  std::vector<WatchBatch> progress;
  std::optional<std::error_code> ended;

  Watch::Callback callback() {
    return [this](std::error_code ec, WatchBatch batch) {
      std::lock_guard lock(mutex);
      if (ec) {
        ended = ec;
        return;
      }
      if (batch.events.empty()) progress.push_back(batch);
      for (auto& e : batch.events) events.push_back(std::move(e));
    };
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    return events.size();
  }
  std::vector<Event> snapshot() {
    std::lock_guard lock(mutex);
    return events;
  }
};

/// Checks that `events` are exactly the puts of `keys` in order, revisions strictly increasing.
void expect_in_order_once(const std::vector<Event>& events, std::size_t count) {
  ASSERT_EQ(events.size(), count);
  for (std::size_t i = 1; i < events.size(); ++i) {
    EXPECT_LT(events[i - 1].kv.mod_revision, events[i].kv.mod_revision) << "at " << i;
  }
}

TEST(WatchTest, DeliversPutsAndDeletesInOrderWithPrevKv) {
  Client client = test::client();
  TestPrefix p(client);
  Collector c;
  Watch w = client.watch(p.str(), {.prefix = true, .prev_kv = true}, c.callback());
  EXPECT_GT(w.created_revision(), 0);
  client.put(p("a"), "1");
  client.put(p("a"), "2");
  client.delete_range(p("a"));
  ASSERT_TRUE(test::wait_until([&] { return c.size() == 3; }, 10s)) << c.size();
  const auto events = c.snapshot();
  EXPECT_EQ(events[0].type, Event::Type::put);
  EXPECT_EQ(events[0].kv.value, "1");
  EXPECT_FALSE(events[0].prev_kv);
  EXPECT_EQ(events[1].kv.value, "2");
  ASSERT_TRUE(events[1].prev_kv);
  EXPECT_EQ(events[1].prev_kv->value, "1");
  EXPECT_EQ(events[2].type, Event::Type::delete_range);
  EXPECT_EQ(events[2].kv.key, p("a"));
  ASSERT_TRUE(events[2].prev_kv);
  EXPECT_EQ(events[2].prev_kv->value, "2");
  expect_in_order_once(events, 3);
  EXPECT_EQ(w.next_revision(), events[2].kv.mod_revision + 1);
}

TEST(WatchTest, KeyRangeAndFromKeySelectWhatIsWatched) {
  Client client = test::client();
  TestPrefix p(client);
  Collector one, range;
  Watch w1 = client.watch(p("b"), {}, one.callback());
  Watch w2 = client.watch(p("b"), {.range_end = p("d")}, range.callback());
  for (const char* k : {"a", "b", "c", "d"}) client.put(p(k), k);
  ASSERT_TRUE(test::wait_until([&] { return range.size() == 2; }, 10s));
  ASSERT_TRUE(test::wait_until([&] { return one.size() == 1; }, 10s));
  EXPECT_EQ(one.snapshot()[0].kv.key, p("b"));
  EXPECT_EQ(range.snapshot()[1].kv.key, p("c"));
}

TEST(WatchTest, StartRevisionReplaysHistoryAndFiltersApply) {
  Client client = test::client();
  TestPrefix p(client);
  const auto first = client.put(p("x"), "1").header.revision;
  client.put(p("y"), "2");
  client.delete_range(p("x"));
  Collector all, puts, deletes;
  Watch a = client.watch(p.str(), {.prefix = true, .start_revision = first}, all.callback());
  Watch b = client.watch(p.str(), {.prefix = true, .start_revision = first, .no_delete = true},
                         puts.callback());
  Watch d = client.watch(p.str(), {.prefix = true, .start_revision = first, .no_put = true},
                         deletes.callback());
  ASSERT_TRUE(test::wait_until([&] { return all.size() == 3; }, 10s));
  ASSERT_TRUE(test::wait_until([&] { return puts.size() == 2 && deletes.size() == 1; }, 10s));
  EXPECT_EQ(all.snapshot()[0].kv.mod_revision, first);
  EXPECT_EQ(deletes.snapshot()[0].type, Event::Type::delete_range);
}

TEST(WatchTest, PullFaceNextAndCoroutine) {
  Client client = test::client();
  TestPrefix p(client);
  Watch w = client.watch(p.str(), {.prefix = true});
  EXPECT_EQ(w.next(50ms), std::nullopt);  // nothing yet
  client.put(p("k"), "v");
  auto batch = w.next(10s);
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->events.size(), 1u);
  EXPECT_EQ(batch->events[0].kv.value, "v");

  asio::io_context io;
  std::string seen;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto b = co_await w.async_next(asio::use_awaitable);
        seen = b.events.at(0).kv.value;
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  client.put(p("k"), "from coroutine");
  io.run();
  EXPECT_EQ(seen, "from coroutine");
}

TEST(WatchTest, CompactedStartRevisionIsACompactedErrorWithTheRevision) {
  Client client = test::client();
  TestPrefix p(client);
  const auto old = client.put(p("k"), "1").header.revision;
  const auto now = client.put(p("k"), "2").header.revision;
  client.compact(now);
  // etcd creates the watch, then cancels it as compacted: watch() itself throws, with the
  // revision to relist from, on the blocking face as on a prefix watch of a namespace view.
  try {
    Watch w = client.watch(p("k"), {.start_revision = old});
    ADD_FAILURE() << "watch() returned for a compacted start revision";
  } catch (const CompactedError& e) {
    EXPECT_EQ(e.code(), Errc::compacted);
    EXPECT_EQ(e.compact_revision(), now);
    EXPECT_NE(std::string(e.what()).find("start revision " + std::to_string(old) + " is compacted"),
              std::string::npos)
        << e.what();
  }
  const Client view = client.with_namespace(p(""));
  EXPECT_THROW(view.watch("", {.prefix = true, .start_revision = old}), CompactedError);
  // The compacted revision itself is still there to watch from.
  Watch from_now = client.watch(p("k"), {.start_revision = now});
  const auto batch = from_now.next(10s);
  ASSERT_TRUE(batch.has_value());
  ASSERT_EQ(batch->events.size(), 1u);
  EXPECT_EQ(batch->events.front().kv.value, "2");
}

TEST(WatchTest, ARevisionLargerThanAMessageArrivesWholeFromFragments) {
  Client client = test::client();
  TestPrefix p(client);
  // Six 200 KB values, overwritten in one transaction and watched with prev_kv: the revision's
  // events are about 2.4 MB, beyond etcd's 1.5 MB message limit, so etcd sends fragments.
  const std::string big(200 * 1024, 'a'), bigger(200 * 1024, 'b');
  Txn first, second;
  for (int i = 0; i < 6; ++i) {
    first.then(Op::put(p(std::to_string(i)), big));
    second.then(Op::put(p(std::to_string(i)), bigger));
  }
  client.txn(first);
  const auto rev = client.txn(second).header.revision;
  Watch w = client.watch(p.str(), {.prefix = true, .start_revision = rev, .prev_kv = true});
  const auto batch = w.next(20s);
  ASSERT_TRUE(batch);
  ASSERT_EQ(batch->events.size(), 6u);
  for (const auto& e : batch->events) {
    EXPECT_EQ(e.kv.mod_revision, rev);
    EXPECT_EQ(e.kv.value, bigger);
    ASSERT_TRUE(e.prev_kv);
    EXPECT_EQ(e.prev_kv->value, big);
  }
}

TEST(WatchTest, ProgressRequestIsAnsweredWithAnEmptyBatch) {
  Client client = test::client();
  TestPrefix p(client);
  Collector c;
  Watch w = client.watch(p.str(), {.prefix = true}, c.callback());
  const auto rev = client.put("elsewhere-" + p.str(), "x").header.revision;
  w.request_progress();
  ASSERT_TRUE(test::wait_until(
      [&] {
        std::lock_guard lock(c.mutex);
        return !c.progress.empty();
      },
      10s));
  std::lock_guard lock(c.mutex);
  EXPECT_GE(c.progress[0].header.revision, rev);
  EXPECT_TRUE(c.events.empty());
  client.delete_range("elsewhere-" + p.str());
}

TEST(WatchTest, CancelStopsTheCallbacks) {
  Client client = test::client();
  TestPrefix p(client);
  Collector c;
  Watch w = client.watch(p.str(), {.prefix = true}, c.callback());
  const auto first = client.put(p("1"), "v").header.revision;
  ASSERT_TRUE(test::wait_until([&] { return c.size() == 1; }, 10s));
  w.cancel();
  client.put(p("2"), "v");
  // A second watch sees the put, so the first had every chance to.
  Collector witness;
  Watch w2 = client.watch(p.str(), {.prefix = true, .start_revision = first}, witness.callback());
  ASSERT_TRUE(test::wait_until([&] { return witness.size() == 2; }, 10s));
  EXPECT_EQ(c.size(), 1u);
}

TEST(WatchTest, ResumesAfterTheServerRestartsWithNoEventLostOrRepeated) {
  embedded::Node node;
  Client client({.endpoints = {node.client_endpoint()}, .call_timeout = 5s});
  Collector c;
  Watch w = client.watch("r/", {.prefix = true}, c.callback());
  for (int i = 0; i < 100; ++i) client.put("r/" + std::to_string(i), "before");
  ASSERT_TRUE(test::wait_until([&] { return c.size() == 100; }, 10s));
  node.stop();
  node.start();
  // Writes after the restart; the watch resumes on its own.
  Client writer({.endpoints = {node.client_endpoint()}, .call_timeout = 5s});
  ASSERT_TRUE(test::wait_until(
      [&] {
        try {
          writer.put("r/probe", "x");
          return true;
        } catch (const Error&) {
          return false;
        }
      },
      10s));
  for (int i = 0; i < 100; ++i) writer.put("r/" + std::to_string(i), "after");
  ASSERT_TRUE(test::wait_until([&] { return c.size() == 201; }, 20s)) << c.size();
  const auto events = c.snapshot();
  expect_in_order_once(events, 201);
  const auto all = writer.get("r/", {.prefix = true, .revision = 0, .count_only = true});
  EXPECT_EQ(events.back().kv.mod_revision, all.header.revision);
}

TEST(WatchTest, SlowConsumerIsBoundedAndStallsNothingElseAndLosesNothing) {
  Client client = test::client();
  TestPrefix p(client);
  // The slow consumer blocks its own executor's thread until released (bounded by a timeout,
  // so that a failing test cannot hang).
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  asio::io_context slow_io;
  auto slow_work = asio::make_work_guard(slow_io);
  std::thread slow_thread([&] { slow_io.run(); });
  Collector slow_events;
  auto slow_cb = slow_events.callback();
  Watch slow = client.watch(
      p("slow/"), {.prefix = true, .max_pending_events = 50, .executor = slow_io.get_executor()},
      [&](std::error_code ec, WatchBatch b) {
        released.wait_for(30s);
        slow_cb(ec, std::move(b));
      });
  Collector fast;
  Watch quick = client.watch(p("fast/"), {.prefix = true}, fast.callback());
  // Writes for both; the fast watch and unary calls go on while the slow one is stuck.
  for (int i = 0; i < 300; ++i) {
    Txn t;
    t.then({Op::put(p("slow/" + std::to_string(i)), "s"),
            Op::put(p("fast/" + std::to_string(i)), "f")});
    client.txn(t);
  }
  ASSERT_TRUE(test::wait_until([&] { return fast.size() == 300; }, 20s)) << fast.size();
  EXPECT_EQ(client.get(p("fast/299"))->value, "f");
  release.set_value();
  const bool all = test::wait_until([&] { return slow_events.size() == 300; }, 30s);
  slow.cancel();
  slow_work.reset();
  slow_thread.join();
  ASSERT_TRUE(all) << slow_events.size();
  const auto events = slow_events.snapshot();
  expect_in_order_once(events, 300);
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(events[static_cast<std::size_t>(i)].kv.key, p("slow/" + std::to_string(i)));
  }
}

TEST(WatchTest, SlowConsumerWhoseResumeRevisionIsCompactedGetsCompactedError) {
  Client client = test::client();
  TestPrefix p(client);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Collector c;
  auto cb = c.callback();
  Watch w = client.watch(p.str(), {.prefix = true, .max_pending_events = 10},
                         [&](std::error_code ec, WatchBatch b) {
                           released.wait_for(30s);
                           cb(ec, std::move(b));
                         });
  std::int64_t last = 0;
  for (int i = 0; i < 100; ++i) last = client.put(p(std::to_string(i)), "v").header.revision;
  // The watch is paused on the server by now (far past its bound): compact what it still needs.
  client.compact(last);
  release.set_value();
  ASSERT_TRUE(test::wait_until(
      [&] {
        std::lock_guard lock(c.mutex);
        return c.ended.has_value();
      },
      20s));
  std::lock_guard lock(c.mutex);
  EXPECT_EQ(*c.ended, Errc::compacted);
  EXPECT_EQ(w.compacted_revision(), last);
  // What was delivered before the end is in order and is a prefix of the writes.
  for (std::size_t i = 0; i < c.events.size(); ++i) {
    EXPECT_EQ(c.events[i].kv.key, p(std::to_string(i)));
  }
  EXPECT_LT(c.events.size(), 100u);
}

/// etcd's own count of Watch streams started (its /metrics on the client URL).
double watch_streams_started(const std::string& endpoint) {
  const auto colon = endpoint.rfind(':');
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(std::stoi(endpoint.substr(colon + 1))));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  const std::string request = "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  (void)!::write(fd, request.data(), request.size());
  std::string body;
  char buf[65536];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;)
    body.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  const std::regex line(
      R"re(grpc_server_started_total\{grpc_method="Watch",grpc_service="etcdserverpb.Watch",grpc_type="bidi_stream"\} ([0-9.e+]+))re");
  std::smatch m;
  return std::regex_search(body, m, line) ? std::stod(m[1]) : 0;
}

TEST(WatchTest, AThousandWatchesShareOneStreamAndAddNoThread) {
  embedded::Node node;
  Client client({.endpoints = {node.client_endpoint()}});
  client.put("warm", "up");
  const double streams_before = watch_streams_started(node.client_endpoint());
  ASSERT_GE(streams_before, 0);
  Collector first;
  std::vector<Watch> watches;
  watches.push_back(client.watch("w/0", {}, first.callback()));
  const auto before = test::thread_names();
  const int threads = test::thread_count();
  for (int i = 1; i < 1000; ++i) watches.push_back(client.watch("w/" + std::to_string(i)));
  client.put("w/0", "x");
  ASSERT_TRUE(test::wait_until([&] { return first.size() == 1; }, 10s));
  auto batch = watches[999].next(0ms);
  EXPECT_FALSE(batch);
  client.put("w/999", "y");
  batch = watches[999].next(10s);
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->events.at(0).kv.value, "y");
  const auto after = test::thread_names();
  EXPECT_EQ(test::etcdpp_threads(after), test::etcdpp_threads(before)) << test::to_string(after);
  EXPECT_LE(test::thread_count(), threads + test::kGrpcPoolSlack)
      << "before: " << test::to_string(before) << "\nafter: " << test::to_string(after);
  EXPECT_EQ(watch_streams_started(node.client_endpoint()) - streams_before, 1.0);
}

TEST(WatchTest, AsyncWatchCreatesWithoutBlockingAndReportsACompactedStartAsCompactedError) {
  Client client = test::client();
  TestPrefix p(client);
  const auto old = client.put(p("k"), "1").header.revision;
  const auto now = client.put(p("k"), "2").header.revision;
  client.compact(now);
  asio::io_context io;  // one thread: a blocking wait inside would stall the writer below
  std::string seen, compacted_words;
  std::int64_t compacted_at = 0;
  bool writer_ran_while_creating = false, other_work_ran_during_creation = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        const WatchOptions from_old{.start_revision = old};
        const Watch::Callback pulled;
        try {
          co_await client.async_watch(p("k"), from_old, pulled, asio::use_awaitable);
        } catch (const CompactedError& e) {
          compacted_words = e.what();
          compacted_at = e.compact_revision();
        }
        // The io thread ran other work while etcd was creating the watch.
        other_work_ran_during_creation = writer_ran_while_creating;
        const WatchOptions from_now{.start_revision = now + 1};
        Watch watch = co_await client.async_watch(p("k"), from_now, pulled, asio::use_awaitable);
        co_await client.async_put(p("k"), "3", asio::use_awaitable);
        const WatchBatch batch = co_await watch.async_next(asio::use_awaitable);
        if (!batch.events.empty()) seen = batch.events.front().kv.value;
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  asio::post(io, [&] { writer_ran_while_creating = true; });
  io.run();  // returns: nothing of the watches is left pinning the io_context
  EXPECT_TRUE(other_work_ran_during_creation);
  EXPECT_EQ(compacted_at, now);
  EXPECT_NE(compacted_words.find("start revision " + std::to_string(old) + " is compacted"),
            std::string::npos)
      << compacted_words;
  EXPECT_EQ(seen, "3");
}

TEST(WatchTest, AsyncWatchPushesToItsCallbackAndACancelledCreationHearsCancelled) {
  Client client = test::client();
  TestPrefix p(client);
  std::promise<std::string> first;
  std::atomic<bool> once{false};
  const Watch::Callback on_batch = [&](std::error_code, WatchBatch batch) {
    if (!batch.events.empty() && !once.exchange(true)) first.set_value(batch.events.front().kv.value);
  };
  auto watch = client.async_watch(p("k"), {}, on_batch, asio::use_future).get();
  client.put(p("k"), "pushed");
  auto got = first.get_future();
  ASSERT_EQ(got.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(got.get(), "pushed");

  // Cancelled before etcd could answer: the handler hears Errc::cancelled.
  asio::cancellation_signal signal;
  std::promise<std::error_code> cancelled;
  client.async_watch(p("other"), {}, {},
                     asio::bind_cancellation_slot(signal.slot(), [&](std::exception_ptr e, Watch) {
                       cancelled.set_value(error_code_of(e));
                     }));
  signal.emit(asio::cancellation_type::terminal);
  auto code = cancelled.get_future();
  ASSERT_EQ(code.wait_for(10s), std::future_status::ready);
  const auto ec = code.get();
  // The creation may have completed first; then it is a watch, and no error.
  EXPECT_TRUE(!ec || ec == Errc::cancelled) << ec.message();
}

}  // namespace
}  // namespace etcdpp
