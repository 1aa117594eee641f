// SPDX-License-Identifier: Apache-2.0
// Leader election: two candidates, each on its own session; an observer prints every leader; the
// role callbacks tell each candidate when it leads; the leader resigns and the other takes over.
// The keys are those of the Go client and `etcdctl elect`.
#include <asio/use_future.hpp>
#include <etcdpp/etcdpp.hpp>
#include <future>
#include <iostream>
#include <mutex>

namespace {
std::mutex say_mutex;
void say(const std::string& what) {
  std::lock_guard lock(say_mutex);
  std::cout << "election: " << what << std::endl;
}
}  // namespace

int main() {
  using etcdpp::concurrency::Election;
  using etcdpp::concurrency::LeaderEvent;
  etcdpp::embedded::Node node;
  etcdpp::Client client({.endpoints = {node.client_endpoint()}});

  std::promise<void> second_leads;
  auto observer = Election::observe(client, "example/election",
                                    [](std::error_code ec, const LeaderEvent& e) {
                                      if (ec) return say("observer ended: " + ec.message());
                                      say(e.leader ? "leader is " + e.leader->value : "no leader");
                                    });

  //! [election]
  etcdpp::concurrency::Session first_session(client, {.ttl = std::chrono::seconds(10)});
  etcdpp::concurrency::Session second_session(client, {.ttl = std::chrono::seconds(10)});
  Election first(first_session, "example/election");
  Election second(second_session, "example/election",
                  {.on_leader = [&](const LeaderEvent&) {
                     say("second: I lead");
                     second_leads.set_value();
                   },
                   .on_follower = [](const LeaderEvent&) { say("second: I follow"); }});
  first.campaign("first");  // no one leads: elected at once
  first.proclaim("first, again");
  auto waiting = second.async_campaign("second", asio::use_future);  // waits for first
  first.resign();
  waiting.get();  // now second leads
  //! [election]

  second_leads.get_future().wait();
  const auto leader = Election::leader(client, "example/election");
  const bool ok = leader && leader->value == "second" && second.is_leader();
  second.resign();
  return ok ? 0 : 1;
}
