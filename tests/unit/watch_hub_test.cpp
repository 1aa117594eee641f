// SPDX-License-Identifier: Apache-2.0
// The watch hub against a scripted transport: resumes after a broken or stalled stream with no
// event lost or repeated, joins fragmented responses, and pauses a slow consumer's watch on the
// server without holding up the others. The test drives the executor itself, on its own thread.
#include <gtest/gtest.h>

#include <asio/executor_work_guard.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <future>
#include <map>
#include <string>

#include "support/fake_transport.hpp"
#include "watch_hub.hpp"

namespace etcdpp {
namespace {

namespace pb = etcdserverpb;
using namespace std::chrono_literals;

/// What a watch's callback received.
struct Recorder {
  std::vector<WatchBatch> batches;
  std::error_code error;

  std::vector<std::int64_t> revisions() const {
    std::vector<std::int64_t> out;
    for (const auto& b : batches) {
      for (const auto& e : b.events) out.push_back(e.kv.mod_revision);
    }
    return out;
  }
};

pb::WatchResponse created(std::int64_t id, std::int64_t revision) {
  pb::WatchResponse r;
  r.set_watch_id(id);
  r.set_created(true);
  r.mutable_header()->set_revision(revision);
  return r;
}

/// A response of watch `id` holding puts of (key, mod_revision).
pb::WatchResponse events(std::int64_t id, std::int64_t revision,
                         const std::vector<std::pair<std::string, std::int64_t>>& puts,
                         bool fragment = false) {
  pb::WatchResponse r;
  r.set_watch_id(id);
  r.mutable_header()->set_revision(revision);
  r.set_fragment(fragment);
  for (const auto& [key, mod] : puts) {
    auto* e = r.add_events();
    e->set_type(mvccpb::Event::PUT);
    e->mutable_kv()->set_key(key);
    e->mutable_kv()->set_value("v" + std::to_string(mod));
    e->mutable_kv()->set_mod_revision(mod);
  }
  return r;
}

std::vector<pb::WatchCreateRequest> creates(const test::FakeStream& s) {
  std::vector<pb::WatchCreateRequest> out;
  for (const auto& r : s.all_written_as<pb::WatchRequest>()) {
    if (r.has_create_request()) out.push_back(r.create_request());
  }
  return out;
}

std::vector<std::int64_t> cancels(const test::FakeStream& s) {
  std::vector<std::int64_t> out;
  for (const auto& r : s.all_written_as<pb::WatchRequest>()) {
    if (r.has_cancel_request()) out.push_back(r.cancel_request().watch_id());
  }
  return out;
}

/// The last create sent on `s` for `key`.
pb::WatchCreateRequest create_for(const test::FakeStream& s, const std::string& key) {
  pb::WatchCreateRequest found;
  for (const auto& c : creates(s)) {
    if (c.key() == key) found = c;
  }
  return found;
}

class WatchHubTest : public ::testing::Test {
 protected:
  void SetUp() override { start_hub(ClientOptions{}); }

  void TearDown() override {
    hub_->shutdown();
    hub_.reset();
    io_.poll();
  }

  void start_hub(const ClientOptions& options) {
    if (hub_) hub_->shutdown();
    hub_ = std::make_shared<detail::WatchHub>(fake_, io_.get_executor(), options);
    hub_->start();
  }

  std::shared_ptr<detail::WatchState> watch(const std::string& key, const WatchOptions& options,
                                            Recorder& into) {
    auto state = std::make_shared<detail::WatchState>(
        "", key, options,
        [&into](std::error_code ec, WatchBatch batch) {
          if (ec) {
            into.error = ec;
          } else {
            into.batches.push_back(std::move(batch));
          }
        },
        io_.get_executor());
    hub_->add(state);
    return state;
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  test::FakeTransport fake_{3};
  std::shared_ptr<detail::WatchHub> hub_;
};

TEST_F(WatchHubTest, ResumesEveryWatchFromItsNextRevisionAfterTheStreamBreaks) {
  Recorder a, b;
  const auto wa = watch("a", {}, a);
  const auto wb = watch("b", {}, b);
  ASSERT_EQ(fake_.streams_opened(), 1u);
  const auto s0 = fake_.stream(0);
  // etcd ends a watch stream whose member lost its leader only if asked to.
  EXPECT_EQ(s0->metadata(), (std::vector<std::pair<std::string, std::string>>{{"hasleader", "true"}}));
  const auto id_a = create_for(*s0, "a").watch_id();
  const auto id_b = create_for(*s0, "b").watch_id();
  ASSERT_NE(id_a, id_b);

  s0->push(created(id_a, 10));
  s0->push(created(id_b, 10));
  s0->push(events(id_a, 12, {{"a", 11}, {"a", 12}}));
  s0->push(events(id_b, 13, {{"b", 13}}));
  io_.poll();
  EXPECT_EQ(a.revisions(), (std::vector<std::int64_t>{11, 12}));
  EXPECT_EQ(b.revisions(), (std::vector<std::int64_t>{13}));

  s0->end(transport::Status{14, "connection reset"});
  io_.poll();
  // The endpoint is blamed, and the watches go on on another one, each from the revision after
  // the last it received.
  EXPECT_EQ(fake_.failed_endpoints(), std::vector<std::size_t>{0});
  ASSERT_EQ(fake_.streams_opened(), 2u);
  const auto s1 = fake_.stream(1);
  EXPECT_EQ(s1->endpoint(), 1u);
  ASSERT_EQ(creates(*s1).size(), 2u);
  const auto ra = create_for(*s1, "a");
  const auto rb = create_for(*s1, "b");
  EXPECT_EQ(ra.start_revision(), 13);
  EXPECT_EQ(rb.start_revision(), 14);

  // A member that replays a little too much (12 was delivered already) repeats nothing.
  s1->push(created(ra.watch_id(), 15));
  s1->push(created(rb.watch_id(), 15));
  s1->push(events(ra.watch_id(), 15, {{"a", 12}, {"a", 13}, {"a", 15}}));
  s1->push(events(rb.watch_id(), 15, {{"b", 14}}));
  io_.poll();
  EXPECT_EQ(a.revisions(), (std::vector<std::int64_t>{11, 12, 13, 15}));
  EXPECT_EQ(b.revisions(), (std::vector<std::int64_t>{13, 14}));
  EXPECT_FALSE(a.error);
  EXPECT_FALSE(b.error);
  // The news of the old stream is stale: nothing it says reaches the watches any more.
  s0->push(events(id_a, 16, {{"a", 16}}));
  io_.poll();
  EXPECT_EQ(a.revisions(), (std::vector<std::int64_t>{11, 12, 13, 15}));
}

TEST_F(WatchHubTest, AStartRevisionIsKeptUntilTheFirstEventThenResumesAfterIt) {
  Recorder r;
  const auto w = watch("k", {.start_revision = 5}, r);
  const auto s0 = fake_.stream(0);
  const auto c0 = create_for(*s0, "k");
  EXPECT_EQ(c0.start_revision(), 5);
  s0->push(created(c0.watch_id(), 20));
  // Broken before any event: the resume asks again from 5, not from the created revision.
  s0->end(transport::Status{14, "connection reset"});
  io_.poll();
  ASSERT_EQ(fake_.streams_opened(), 2u);
  EXPECT_EQ(create_for(*fake_.stream(1), "k").start_revision(), 5);
}

TEST_F(WatchHubTest, JoinsAFragmentedResponseIntoOneBatch) {
  Recorder r;
  const auto w = watch("k", {.prefix = true}, r);
  const auto s0 = fake_.stream(0);
  const auto id = create_for(*s0, "k").watch_id();
  EXPECT_TRUE(create_for(*s0, "k").fragment());
  s0->push(created(id, 10));
  s0->push(events(id, 11, {{"k1", 11}, {"k2", 11}}, /*fragment=*/true));
  s0->push(events(id, 11, {{"k3", 11}}, /*fragment=*/true));
  io_.poll();
  EXPECT_TRUE(r.batches.empty()) << "a part of a revision was delivered before the rest";

  s0->push(events(id, 11, {{"k4", 11}}));
  io_.poll();
  ASSERT_EQ(r.batches.size(), 1u);
  std::vector<std::string> keys;
  for (const auto& e : r.batches[0].events) keys.push_back(e.kv.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"k1", "k2", "k3", "k4"}));
  EXPECT_EQ(r.batches[0].header.revision, 11);
}

TEST_F(WatchHubTest, AnIncompleteFragmentedResponseIsDroppedAndReceivedWholeAfterTheResume) {
  Recorder r;
  const auto w = watch("k", {.prefix = true}, r);
  const auto s0 = fake_.stream(0);
  const auto id = create_for(*s0, "k").watch_id();
  s0->push(created(id, 10));
  s0->push(events(id, 11, {{"k1", 11}}, /*fragment=*/true));
  s0->end(transport::Status{14, "connection reset"});
  io_.poll();
  ASSERT_EQ(fake_.streams_opened(), 2u);
  const auto s1 = fake_.stream(1);
  const auto c1 = create_for(*s1, "k");
  // Revision 11 was never received whole: it is asked for again.
  EXPECT_EQ(c1.start_revision(), 11);
  s1->push(created(c1.watch_id(), 11));
  s1->push(events(c1.watch_id(), 11, {{"k1", 11}, {"k2", 11}}));
  io_.poll();
  ASSERT_EQ(r.batches.size(), 1u);
  ASSERT_EQ(r.batches[0].events.size(), 2u);
  EXPECT_EQ(r.batches[0].events[0].kv.key, "k1");
  EXPECT_EQ(r.batches[0].events[1].kv.key, "k2");
}

TEST_F(WatchHubTest, ASlowConsumerIsStoppedOnTheServerAndResumedFromItsNextRevision) {
  Recorder slow, other;
  const auto ws = watch("slow", {.max_pending_events = 4}, slow);
  const auto wo = watch("other", {}, other);
  const auto s0 = fake_.stream(0);
  const auto id_slow = create_for(*s0, "slow").watch_id();
  const auto id_other = create_for(*s0, "other").watch_id();
  s0->push(created(id_slow, 10));
  s0->push(created(id_other, 10));

  // The executor does not run meanwhile: the consumer is behind.
  s0->push(events(id_slow, 13, {{"slow", 11}, {"slow", 12}, {"slow", 13}}));
  EXPECT_TRUE(cancels(*s0).empty()) << "stopped while within max_pending_events";
  s0->push(events(id_slow, 15, {{"slow", 14}, {"slow", 15}}));
  // Beyond the bound: that watch is stopped on the server, the stream stays.
  EXPECT_EQ(cancels(*s0), std::vector<std::int64_t>{id_slow});
  // What the server sent before it saw the cancel is not buffered: memory stays bounded.
  s0->push(events(id_slow, 16, {{"slow", 16}}));
  // The other watch on the same stream goes on.
  s0->push(events(id_other, 16, {{"other", 16}}));

  io_.poll();
  EXPECT_EQ(other.revisions(), std::vector<std::int64_t>{16});
  EXPECT_EQ(slow.revisions(), (std::vector<std::int64_t>{11, 12, 13, 14, 15}));
  // Caught up: created again from the first revision it has not received, on the same stream.
  ASSERT_EQ(creates(*s0).size(), 3u);
  const auto again = create_for(*s0, "slow");
  EXPECT_NE(again.watch_id(), id_slow);
  EXPECT_EQ(again.start_revision(), 16);
  s0->push(created(again.watch_id(), 17));
  s0->push(events(again.watch_id(), 17, {{"slow", 16}, {"slow", 17}}));
  io_.poll();
  EXPECT_EQ(slow.revisions(), (std::vector<std::int64_t>{11, 12, 13, 14, 15, 16, 17}));
  EXPECT_FALSE(slow.error);
  EXPECT_EQ(fake_.streams_opened(), 1u);
  EXPECT_TRUE(fake_.failed_endpoints().empty());
}

TEST_F(WatchHubTest, AStalledStreamIsProbedThenLeftForAnotherEndpoint) {
  ClientOptions options;
  options.watch_stall_timeout = 300ms;
  start_hub(options);
  Recorder r;
  const auto w = watch("k", {}, r);
  const auto s0 = fake_.stream(0);
  const auto id = create_for(*s0, "k").watch_id();
  s0->push(created(id, 10));
  s0->push(events(id, 11, {{"k", 11}}));
  const auto quiet_since = transport::Clock::now();

  // Nothing more arrives on s0, not even an answer to the progress request.
  ASSERT_TRUE(test::drive_until(io_, [&] { return fake_.streams_opened() == 2; }, 5s));
  EXPECT_GE(transport::Clock::now() - quiet_since, options.watch_stall_timeout);
  bool probed = false;
  for (const auto& req : s0->all_written_as<pb::WatchRequest>()) {
    probed = probed || req.has_progress_request();
  }
  EXPECT_TRUE(probed) << "left without asking for progress first";
  EXPECT_TRUE(s0->cancelled());
  EXPECT_EQ(fake_.failed_endpoints(), std::vector<std::size_t>{0});
  const auto s1 = fake_.stream(1);
  EXPECT_EQ(s1->endpoint(), 1u);
  EXPECT_EQ(create_for(*s1, "k").start_revision(), 12);
  EXPECT_EQ(r.revisions(), std::vector<std::int64_t>{11});
}

/// etcd's answer to a progress request: no watch, the store's revision.
pb::WatchResponse progress(std::int64_t revision) {
  pb::WatchResponse r;
  r.set_watch_id(-1);
  r.mutable_header()->set_revision(revision);
  return r;
}

TEST_F(WatchHubTest, AProgressRequestIsAnsweredOnceAndOneMadeWhileTheStreamIsDownIsDropped) {
  Recorder r;
  const auto w = watch("k", {}, r);
  const auto s0 = fake_.stream(0);
  s0->push(created(create_for(*s0, "k").watch_id(), 10));
  io_.poll();
  hub_->request_progress();
  s0->push(progress(10));
  s0->push(progress(10));  // an answer nobody asked for (the hub's own probe) is not delivered
  io_.poll();
  ASSERT_EQ(r.batches.size(), 1u);
  EXPECT_TRUE(r.batches[0].progress_notify());
  EXPECT_EQ(r.batches[0].header.revision, 10);

  s0->end(transport::Status{14, "connection reset"});
  hub_->request_progress();  // the stream is down: nobody to ask
  io_.poll();
  ASSERT_EQ(fake_.streams_opened(), 2u);
  const auto s1 = fake_.stream(1);
  for (const auto& req : s1->all_written_as<pb::WatchRequest>()) {
    EXPECT_FALSE(req.has_progress_request()) << "the dropped request was sent after all";
  }
  s1->push(created(create_for(*s1, "k").watch_id(), 12));
  s1->push(progress(12));  // the answer to a stall probe
  io_.poll();
  EXPECT_EQ(r.batches.size(), 1u) << "a probe's answer reached the watch as progress";
}

// An empty Watch (made by default, moved from, cancelled) answers async_next at once with
// cancelled, on either kind of handler, instead of reaching for an executor it does not have.
TEST(EmptyWatchTest, AsyncNextCompletesWithCancelled) {
  Watch empty;
  std::promise<std::error_code> got;
  empty.async_next([&](std::exception_ptr e, WatchBatch) { got.set_value(error_code_of(e)); });
  auto future = got.get_future();
  ASSERT_EQ(future.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_EQ(future.get(), Errc::cancelled);

  asio::io_context io;
  std::string what;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        try {
          co_await empty.async_next(asio::use_awaitable);
        } catch (const Error& e) {
          if (e.code() == Errc::cancelled) what = e.what();
        }
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  EXPECT_NE(what.find("empty"), std::string::npos) << what;
}

}  // namespace
}  // namespace etcdpp
