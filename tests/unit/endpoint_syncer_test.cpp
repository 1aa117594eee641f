// SPDX-License-Identifier: Apache-2.0
// Endpoint auto-sync against a scripted transport: every interval, the member list's client
// URLs go to the transport's endpoints; a failed member list adds nothing and the sync goes on;
// stop() ends it. The test drives the executor on its own thread. Last, the real transport's
// bound: an endpoint learnt beyond the 64th is left out, and said so.
#include <gtest/gtest.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include <mutex>
#include <string>
#include <vector>

#include "endpoint_syncer.hpp"
#include "etcdpp/client.hpp"
#include "etcdpp/log.hpp"
#include "support/fake_transport.hpp"
#include "transport/grpc_transport.hpp"

namespace etcdpp {
namespace {

namespace pb = etcdserverpb;
using namespace std::chrono_literals;

pb::MemberListResponse members(const std::vector<std::vector<std::string>>& client_urls) {
  pb::MemberListResponse r;
  std::uint64_t id = 1;
  for (const auto& urls : client_urls) {
    auto* m = r.add_members();
    m->set_id(id++);
    for (const auto& url : urls) m->add_clienturls(url);
  }
  return r;
}

class EndpointSyncerTest : public ::testing::Test {
 protected:
  void TearDown() override {
    syncer_->stop();
    syncer_.reset();
    io_.poll();
  }

  void start(std::chrono::milliseconds interval) {
    syncer_ = std::make_shared<detail::EndpointSyncer>(fake_, io_.get_executor(), interval, 1s);
    syncer_->start();
  }

  std::shared_ptr<test::FakeCall> next_call() {
    if (!test::drive_until(io_, [&] { return fake_.pending_calls() > 0; }, 2s)) return nullptr;
    return fake_.take_call();
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  test::FakeTransport fake_{1};
  std::shared_ptr<detail::EndpointSyncer> syncer_;
};

TEST_F(EndpointSyncerTest, AddsTheClientUrlsOfEveryMember) {
  start(10ms);
  const auto call = next_call();
  ASSERT_TRUE(call);
  EXPECT_EQ(call->method(), "/etcdserverpb.Cluster/MemberList");
  // Any member may answer: not pinned to one endpoint, and safe to retry.
  EXPECT_FALSE(call->options().endpoint);
  EXPECT_TRUE(call->options().idempotent);
  call->reply(members({{"http://127.0.0.1:2379"},
                       {"http://10.0.0.2:2379", "unix:///run/etcd.sock"},
                       {"ftp://10.0.0.3:2379"}}));
  const auto added = fake_.added_endpoints();
  ASSERT_EQ(added.size(), 1u);
  // A URL the client cannot use (ftp) is no endpoint; the others are, in the list's order.
  EXPECT_EQ(added[0], (std::vector<Endpoint>{Endpoint::parse("http://127.0.0.1:2379"),
                                             Endpoint::parse("http://10.0.0.2:2379"),
                                             Endpoint::parse("unix:///run/etcd.sock")}));
}

TEST_F(EndpointSyncerTest, AFailedMemberListAddsNothingAndTheSyncGoesOn) {
  start(10ms);
  auto call = next_call();
  ASSERT_TRUE(call);
  call->fail(transport::Status{14, "connection refused"});
  EXPECT_TRUE(fake_.added_endpoints().empty());
  call = next_call();
  ASSERT_TRUE(call) << "no member list asked for after a failed one";
  call->reply(members({{"http://10.0.0.2:2379"}}));
  ASSERT_EQ(fake_.added_endpoints().size(), 1u);
  EXPECT_EQ(fake_.endpoints().back(), Endpoint::parse("http://10.0.0.2:2379"));
}

TEST_F(EndpointSyncerTest, OneCallAtATimeAndNoneAfterStop) {
  start(10ms);
  auto call = next_call();
  ASSERT_TRUE(call);
  // While the member list is unanswered, no other is asked for, however many intervals pass.
  EXPECT_FALSE(test::drive_until(io_, [&] { return fake_.pending_calls() > 0; }, 50ms));
  EXPECT_EQ(fake_.calls_made(), 1u);
  syncer_->stop();
  // An answer that comes after stop() changes nothing, and no call follows.
  call->reply(members({{"http://10.0.0.2:2379"}}));
  EXPECT_TRUE(fake_.added_endpoints().empty());
  EXPECT_FALSE(test::drive_until(io_, [&] { return fake_.calls_made() > 1; }, 50ms));
}

// The real transport: its channels connect only when used, so no server is needed.
TEST(GrpcTransportEndpointsTest, AnEndpointLearntBeyondSixtyFourIsNotAddedAndTheSinkIsTold) {
  std::vector<Endpoint> endpoints;
  for (int port = 1; port <= 64; ++port) {
    endpoints.push_back(Endpoint::parse("127.0.0.1:" + std::to_string(port)));
  }
  transport::GrpcTransport transport(ClientOptions{}, endpoints);
  std::mutex mutex;
  std::vector<std::string> lines;
  set_log_sink([&](LogSeverity, std::string_view message) {
    std::lock_guard lock(mutex);
    if (message.find("auto-sync") != std::string_view::npos) lines.emplace_back(message);
  });
  transport.add_endpoints({Endpoint::parse("127.0.0.1:1"), Endpoint::parse("127.0.0.1:65"),
                           Endpoint::parse("127.0.0.1:66")});
  set_log_sink({});
  EXPECT_EQ(transport.endpoints(), endpoints);
  EXPECT_EQ(transport.endpoint_states().size(), 64u);
  std::lock_guard lock(mutex);
  ASSERT_EQ(lines.size(), 1u) << "one line per client, however many are left out";
  EXPECT_NE(lines[0].find("127.0.0.1:65"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("64 endpoints"), std::string::npos) << lines[0];
}

}  // namespace
}  // namespace etcdpp
