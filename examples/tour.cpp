// SPDX-License-Identifier: Apache-2.0
// A tour of etcdpp: start an embedded etcd node, then key-value calls and transactions on it,
// in the blocking face and in a coroutine.
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <etcdpp/etcdpp.hpp>
#include <iostream>

namespace {

void say(const std::string& what) { std::cout << "tour: " << what << std::endl; }

asio::awaitable<void> count_services(etcdpp::Client client) {
  // The same calls, asynchronous: no thread blocks while etcd answers.
  // Options as a named object: GCC 12 mis-copies aggregate temporaries holding a std::string
  // when they appear inside a co_await expression.
  const etcdpp::GetOptions count{.prefix = true, .count_only = true};
  auto result = co_await client.async_get("tour/services/", count, asio::use_awaitable);
  say("coroutine: " + std::to_string(result.count) + " services registered");
}

}  // namespace

int main() try {
  say("starting an embedded etcd node (a child process, stopped when main returns)");
  etcdpp::embedded::Node node;
  say("etcd serves on " + node.client_endpoint() + " (pid " + std::to_string(node.pid()) + ")");

  etcdpp::Client client({.endpoints = {node.client_endpoint()}});

  // KV: put, get, prefix reads.
  const auto put = client.put("tour/config/mode", "blue");
  say("put tour/config/mode = blue at revision " + std::to_string(put.header.revision));
  for (const char* name : {"api", "db", "web"}) {
    client.put(std::string("tour/services/") + name, std::string(name) + ".local:8080");
  }
  const auto services = client.get("tour/services/", {.prefix = true});
  for (const auto& kv : services.kvs) say("  " + kv.key + " -> " + kv.value);
  if (!client.get("tour/missing")) say("get tour/missing: no such key (std::nullopt, not an error)");

  // Txn: compare-and-swap, written as etcd's documentation writes it.
  using etcdpp::Compare;
  using etcdpp::Op;
  const auto cas = client.txn(etcdpp::Txn{}
                                  .if_(Compare::value("tour/config/mode") == "blue")
                                  .then(Op::put("tour/config/mode", "green"))
                                  .else_(Op::get("tour/config/mode")));
  say(std::string("txn if mode == blue then mode = green: ") +
      (cas.succeeded ? "swapped" : "not swapped"));
  const auto again = client.txn(etcdpp::Txn{}
                                    .if_(Compare::value("tour/config/mode") == "blue")
                                    .then(Op::put("tour/config/mode", "red"))
                                    .else_(Op::get("tour/config/mode")));
  say("the same txn again: " + std::string(again.succeeded ? "swapped" : "not swapped") +
      ", mode is " + again.responses.at(0).get().kvs.at(0).value);

  // Create-if-absent: a key's create revision is 0 while it does not exist.
  const auto create = client.txn(etcdpp::Txn{}
                                     .if_(Compare::create_revision("tour/leader") == 0)
                                     .then(Op::put("tour/leader", "me")));
  say(std::string("create tour/leader if absent: ") + (create.succeeded ? "created" : "taken"));

  // Bad input gets a clear error naming the call and the key.
  try {
    client.put("", "no key");
  } catch (const etcdpp::Error& e) {
    say(std::string("put with an empty key: ") + e.what());
  }

  // A large range, page by page, at one revision.
  for (int i = 0; i < 250; ++i) client.put("tour/items/" + std::to_string(1000 + i), "x");
  int pages = 0;
  auto pager = client.paginate("tour/items/", {.prefix = true}, 100);
  while (!pager.done()) {
    if (!pager.next_page().empty()) ++pages;
  }
  say("read 250 items in " + std::to_string(pages) + " pages at revision " +
      std::to_string(pager.revision()));

  asio::io_context io;
  asio::co_spawn(io, count_services(client), [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();

  const auto removed = client.delete_range("tour/", {.prefix = true});
  say("deleted " + std::to_string(removed.deleted) + " keys under tour/");
  say("done; the node stops as main returns");
  return 0;
} catch (const std::exception& e) {
  std::cerr << "tour failed: " << e.what() << std::endl;
  return 1;
}
