// SPDX-License-Identifier: Apache-2.0
// Election against a real etcd: campaign, proclaim, resign and leader with the Go client's key
// layout, observe (every leader and value, and vacancies), the role callbacks, and taking part
// beside `etcdctl elect` both ways.
#include <gtest/gtest.h>
#include <signal.h>

#include <asio/use_future.hpp>
#include <future>
#include <mutex>

#include "support/subprocess.hpp"
#include "support/test_env.hpp"

namespace etcdpp {
namespace {

using namespace std::chrono_literals;
using concurrency::Election;
using concurrency::LeaderEvent;
using concurrency::Role;
using concurrency::Session;
using test::TestPrefix;

/// What an observer saw, as "key=value" or "vacant", in order.
class Seen {
 public:
  concurrency::Observer::Callback callback() {
    return [this](std::error_code ec, LeaderEvent e) {
      std::lock_guard lock(mutex_);
      if (ec) {
        items_.push_back("error " + ec.message());
      } else {
        items_.push_back(e.leader ? e.leader->key + "=" + e.leader->value : "vacant");
      }
    };
  }
  std::vector<std::string> items() const {
    std::lock_guard lock(mutex_);
    return items_;
  }
  bool wait_for(std::size_t n) const {
    return test::wait_until([&] { return items().size() >= n; }, 10s);
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> items_;
};

template <class Future>
bool ready_within(Future& f, std::chrono::milliseconds d) {
  return f.wait_for(d) == std::future_status::ready;
}

TEST(ElectionTest, CampaignProclaimResignAndTheNextCandidateTakesOver) {
  Client client = test::client();
  TestPrefix p(client);
  Session s1(client, {.ttl = 10s}), s2(client, {.ttl = 10s});
  Election e1(s1, p("election")), e2(s2, p("election"));
  EXPECT_FALSE(e1.leader());
  e1.campaign("one");
  EXPECT_TRUE(e1.is_leader());
  auto leader = e1.leader();
  ASSERT_TRUE(leader);
  EXPECT_EQ(leader->key, e1.key());
  EXPECT_EQ(leader->value, "one");
  EXPECT_EQ(leader->lease, s1.lease());
  e1.proclaim("uno");
  EXPECT_EQ(Election::leader(client, p("election"))->value, "uno");

  auto second = e2.async_campaign("two", asio::use_future);
  EXPECT_FALSE(ready_within(second, 300ms));
  try {
    e2.proclaim("not yet");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::not_elected);
  }
  e1.resign();
  EXPECT_FALSE(e1.is_leader());
  ASSERT_TRUE(ready_within(second, 5s));
  second.get();
  EXPECT_TRUE(e2.is_leader());
  EXPECT_EQ(e2.leader()->value, "two");
}

TEST(ElectionTest, ObserveReportsEveryLeaderEveryValueAndEachVacancyInOrder) {
  Client client = test::client();
  TestPrefix p(client);
  Seen seen;
  auto observer = Election::observe(client, p("election"), seen.callback());
  ASSERT_TRUE(seen.wait_for(1));
  Session s1(client, {.ttl = 10s}), s2(client, {.ttl = 10s});
  Election e1(s1, p("election")), e2(s2, p("election"));
  e1.campaign("a");
  e1.proclaim("a2");
  auto second = e2.async_campaign("b", asio::use_future);
  ASSERT_TRUE(test::wait_until(
      [&] { return client.get(p("election/"), {.prefix = true, .count_only = true}).count == 2; },
      5s));
  e1.resign();
  ASSERT_TRUE(ready_within(second, 5s));
  second.get();
  e2.resign();
  const std::vector<std::string> expected{"vacant", e1.key() + "=a", e1.key() + "=a2",
                                          e2.key() + "=b", "vacant"};
  ASSERT_TRUE(seen.wait_for(expected.size()));
  EXPECT_EQ(seen.items(), expected);
}

TEST(ElectionTest, RoleCallbacksSayWhenThisProcessLeadsAndWhenItFollows) {
  Client client = test::client();
  TestPrefix p(client);
  Session s1(client, {.ttl = 10s}), s2(client, {.ttl = 10s});
  Election e1(s1, p("election"));
  e1.campaign("first");
  std::mutex mutex;
  std::vector<std::string> roles;
  auto record = [&](std::string what) {
    std::lock_guard lock(mutex);
    roles.push_back(std::move(what));
  };
  Election e2(s2, p("election"),
              {.on_leader = [&](const LeaderEvent& e) { record("leader " + e.leader->value); },
               .on_follower =
                   [&](const LeaderEvent& e) {
                     record("follower " + (e.leader ? e.leader->value : std::string("-")));
                   },
               .on_role_change = [&](Role r, const LeaderEvent&) {
                 record(std::string("role ") + concurrency::to_string(r));
               }});
  auto count = [&] {
    std::lock_guard lock(mutex);
    return roles.size();
  };
  ASSERT_TRUE(test::wait_until([&] { return count() == 2; }, 10s));
  auto campaign = e2.async_campaign("second", asio::use_future);
  e1.resign();
  ASSERT_TRUE(ready_within(campaign, 5s));
  ASSERT_TRUE(test::wait_until([&] { return count() == 4; }, 10s));
  e2.resign();
  ASSERT_TRUE(test::wait_until([&] { return count() == 6; }, 10s));
  std::lock_guard lock(mutex);
  EXPECT_EQ(roles, (std::vector<std::string>{"follower first", "role follower", "leader second",
                                             "role leader", "follower -", "role follower"}));
}

TEST(ElectionTest, ACandidateWhoseLeaseIsRevokedGetsSessionLostAndLeavesNoKey) {
  Client client = test::client();
  TestPrefix p(client);
  Session s1(client, {.ttl = 10s}), s2(client, {.ttl = 10s});
  Election e1(s1, p("election")), e2(s2, p("election"));
  e1.campaign("leader");
  auto waiting = e2.async_campaign("waiter", asio::use_future);
  ASSERT_TRUE(test::wait_until([&] { return client.get(e2.key()).has_value(); }, 5s));
  client.lease_revoke(s2.lease());
  ASSERT_TRUE(ready_within(waiting, 5s));
  try {
    waiting.get();
    ADD_FAILURE();
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), Errc::session_lost);
  }
  EXPECT_FALSE(client.get(e2.key()));
  EXPECT_EQ(e1.leader()->key, e1.key());
}

TEST(ElectionTest, TheLeadersCompareGuardsWritesOnlyWhileItLeads) {
  Client client = test::client();
  TestPrefix p(client);
  Session s1(client, {.ttl = 10s});
  Election e1(s1, p("election"));
  EXPECT_THROW(e1.leader_compare(), Error);
  e1.campaign("x");
  const Compare guard = e1.leader_compare();
  EXPECT_TRUE(client.txn(Txn{}.if_(guard).then(Op::put(p("data"), "1"))).succeeded);
  e1.resign();
  EXPECT_FALSE(client.txn(Txn{}.if_(guard).then(Op::put(p("data"), "2"))).succeeded);
}

// ---- Beside etcdctl ------------------------------------------------------------------------

std::vector<std::string> etcdctl(std::vector<std::string> args) {
  std::vector<std::string> argv{test::etcdctl_path(),
                                "--endpoints=" + test::node().client_endpoint()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

TEST(ElectionInteropTest, EtcdctlLeadsAndEtcdppObservesAndWaits) {
  Client client = test::client();
  TestPrefix p(client);
  const std::string name = p("election");
  auto leader = std::make_unique<test::Subprocess>(etcdctl({"elect", name, "from-etcdctl"}));
  const auto key = leader->read_line(10s);
  ASSERT_TRUE(key);
  EXPECT_EQ(leader->read_line(5s), "from-etcdctl");
  Seen seen;
  auto observer = Election::observe(client, name, seen.callback());
  ASSERT_TRUE(seen.wait_for(1));
  EXPECT_EQ(seen.items().front(), *key + "=from-etcdctl");

  Session session(client, {.ttl = 10s});
  Election mine(session, name);
  auto campaign = mine.async_campaign("from-etcdpp", asio::use_future);
  EXPECT_FALSE(ready_within(campaign, 500ms));
  ::kill(leader->pid(), SIGINT);  // etcdctl resigns on SIGINT
  ASSERT_TRUE(ready_within(campaign, 10s));
  campaign.get();
  ASSERT_TRUE(seen.wait_for(2));
  EXPECT_EQ(seen.items().at(1), mine.key() + "=from-etcdpp");
}

TEST(ElectionInteropTest, EtcdppLeadsAndEtcdctlObservesEveryValue) {
  Client client = test::client();
  TestPrefix p(client);
  const std::string name = p("election");
  Session session(client, {.ttl = 10s});
  Election mine(session, name);
  mine.campaign("v1");
  test::Subprocess observer(etcdctl({"elect", "-l", name}));
  EXPECT_EQ(observer.read_line(10s), mine.key());
  EXPECT_EQ(observer.read_line(5s), "v1");
  mine.proclaim("v2");
  EXPECT_EQ(observer.read_line(10s), mine.key());
  EXPECT_EQ(observer.read_line(5s), "v2");

  // And etcdctl elect waits behind the etcdpp leader.
  test::Subprocess candidate(etcdctl({"elect", name, "next"}));
  EXPECT_FALSE(candidate.read_line(500ms));
  mine.resign();
  const auto next_key = candidate.read_line(10s);
  ASSERT_TRUE(next_key);
  EXPECT_EQ(candidate.read_line(5s), "next");
  EXPECT_EQ(Election::leader(client, name)->key, *next_key);
  ::kill(candidate.pid(), SIGINT);
  EXPECT_TRUE(candidate.wait(5s));
}

}  // namespace
}  // namespace etcdpp
