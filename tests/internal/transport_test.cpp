// SPDX-License-Identifier: Apache-2.0
// The transport seam against a real etcd: unary calls and a bidirectional stream (etcd's Watch)
// with protobuf messages in and out, and a transport destroyed with calls in flight.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>

#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"
#include "support/test_env.hpp"
#include "transport/transport.hpp"

namespace etcdpp::transport {
namespace {

using namespace std::chrono_literals;
namespace pb = etcdserverpb;

constexpr Method kPut{"/etcdserverpb.KV/Put", false};
constexpr Method kRange{"/etcdserverpb.KV/Range", true};
constexpr Method kWatch{"/etcdserverpb.Watch/Watch", false};

std::unique_ptr<Transport> make(const std::string& endpoint) {
  ClientOptions options{.endpoints = {endpoint}};
  return make_grpc_transport(options, {Endpoint::parse(endpoint)});
}

Status call(Transport& t, const Method& m, const Message& request, Message* response,
            std::chrono::milliseconds timeout = 5s) {
  std::promise<Status> done;
  t.unary(m, request, response, {.deadline = Clock::now() + timeout},
          [&](Status s) { done.set_value(std::move(s)); });
  return done.get_future().get();
}

/// Collects what a stream delivers.
class Collector final : public StreamObserver {
 public:
  void on_message(const Message& message) override {
    std::lock_guard lock(mutex_);
    responses_.push_back(static_cast<const pb::WatchResponse&>(message));
    cv_.notify_all();
  }
  void on_done(const Status& status) override {
    std::lock_guard lock(mutex_);
    done_ = status;
    cv_.notify_all();
  }
  template <class Predicate>
  bool wait(Predicate p, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return p(responses_, done_); });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<pb::WatchResponse> responses_;
  std::optional<Status> done_;
};

TEST(TransportTest, UnaryCallsCarryProtobufMessagesBothWays) {
  auto t = make(test::node().client_endpoint());
  test::TestPrefix p(test::client());
  pb::PutRequest put;
  put.set_key(p("k"));
  put.set_value("v");
  pb::PutResponse put_response;
  ASSERT_TRUE(call(*t, kPut, put, &put_response).ok());
  EXPECT_GT(put_response.header().revision(), 0);

  pb::RangeRequest range;
  range.set_key(p("k"));
  pb::RangeResponse range_response;
  ASSERT_TRUE(call(*t, kRange, range, &range_response).ok());
  ASSERT_EQ(range_response.kvs_size(), 1);
  EXPECT_EQ(range_response.kvs(0).value(), "v");

  pb::PutRequest empty;
  pb::PutResponse ignored;
  const Status refused = call(*t, kPut, empty, &ignored);
  EXPECT_EQ(refused.code, 3);
  EXPECT_EQ(refused.message, "etcdserver: key is not provided");
}

TEST(TransportTest, BidiStreamWritesRequestsAndDeliversResponsesInOrder) {
  auto t = make(test::node().client_endpoint());
  Client client = test::client();
  test::TestPrefix p(client);
  Collector collector;
  auto stream = t->open_stream(
      kWatch, [] { return std::make_unique<pb::WatchResponse>(); }, &collector);

  auto create = std::make_unique<pb::WatchRequest>();
  create->mutable_create_request()->set_key(p.str());
  create->mutable_create_request()->set_range_end(prefix_range_end(p.str()));
  stream->write(std::move(create));
  ASSERT_TRUE(collector.wait([](auto& r, auto&) { return !r.empty() && r[0].created(); }));

  for (int i = 0; i < 50; ++i) client.put(p(std::to_string(i)), std::to_string(i));
  std::vector<std::string> values;
  ASSERT_TRUE(collector.wait([&](auto& responses, auto&) {
    values.clear();
    for (const auto& r : responses) {
      for (const auto& e : r.events()) values.push_back(e.kv().value());
    }
    return values.size() == 50;
  })) << values.size();
  for (int i = 0; i < 50; ++i) EXPECT_EQ(values[static_cast<std::size_t>(i)], std::to_string(i));

  stream->cancel();
  ASSERT_TRUE(collector.wait([](auto&, auto& done) { return done.has_value(); }));
  stream.reset();  // returns at once: the stream is over
}

TEST(TransportTest, DestroyingAStreamInFlightEndsItAndReportsDone) {
  auto t = make(test::node().client_endpoint());
  Collector collector;
  auto stream = t->open_stream(
      kWatch, [] { return std::make_unique<pb::WatchResponse>(); }, &collector);
  auto create = std::make_unique<pb::WatchRequest>();
  create->mutable_create_request()->set_key("anything");
  stream->write(std::move(create));
  ASSERT_TRUE(collector.wait([](auto& r, auto&) { return !r.empty(); }));
  stream.reset();
  EXPECT_TRUE(collector.wait([](auto&, auto& done) { return done.has_value(); }, 0ms));
}

TEST(TransportTest, StreamToAStoppedServerEndsUnavailable) {
  embedded::Node node;
  const auto endpoint = node.client_endpoint();
  node.stop();
  auto t = make(endpoint);
  Collector collector;
  auto stream = t->open_stream(
      kWatch, [] { return std::make_unique<pb::WatchResponse>(); }, &collector);
  std::optional<int> code;
  ASSERT_TRUE(collector.wait([&](auto&, auto& done) {
    if (done) code = done->code;
    return done.has_value();
  }));
  EXPECT_EQ(code, 14);
}

TEST(TransportTest, DestroyingTheTransportCancelsCallsInFlight) {
  embedded::Node node;
  auto t = make(node.client_endpoint());
  pb::PutRequest put;
  put.set_key("k");
  pb::PutResponse response;
  ASSERT_TRUE(call(*t, kPut, put, &response).ok());

  test::pause_process(node.pid());
  std::promise<Status> done;
  t->unary(kPut, put, &response, {.deadline = Clock::now() + 60s},
           [&](Status s) { done.set_value(std::move(s)); });
  const auto start = Clock::now();
  t.reset();
  test::resume_process(node.pid());
  auto future = done.get_future();
  ASSERT_EQ(future.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(future.get().code, 1);  // cancelled
  EXPECT_LT(Clock::now() - start, 5s);
}

}  // namespace
}  // namespace etcdpp::transport
