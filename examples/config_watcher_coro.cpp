// SPDX-License-Identifier: Apache-2.0
// The configuration watcher of config_watcher.cpp, written as C++20 coroutines: read the prefix
// with co_await, then pull the watch's batches with co_await, while another coroutine on the
// same thread changes the configuration. No thread blocks while etcd answers.
//
// The options are written inline, as `{.prefix = true}`: etcdpp's GetOptions and WatchOptions are
// safe there even on GCC 12 (Debian 12's compiler), which miscompiles aggregate temporaries that
// own memory inside a co_await expression. Lambdas that capture by value are another matter on
// GCC 12: name them before the co_await (Getting started, "A first coroutine").
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <etcdpp/etcdpp.hpp>

#include <iostream>
#include <map>
#include <string>

namespace {

using Config = std::map<std::string, std::string>;

void rethrow(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

// An operator changes the configuration; the last put marks the end.
asio::awaitable<void> change_config(etcdpp::Client client) {
  co_await client.async_put("config/log_level", "debug", asio::use_awaitable);
  co_await client.async_delete_range("config/workers", asio::use_awaitable);
  co_await client.async_put("config/version", "2", asio::use_awaitable);
}

//! [config watcher coroutine]
asio::awaitable<void> watch_config(etcdpp::Client client, Config& config) {
  const etcdpp::GetResult initial =
      co_await client.async_get("config/", {.prefix = true}, asio::use_awaitable);
  for (const etcdpp::KeyValue& kv : initial.kvs) config[kv.key] = kv.value;

  // From the revision after the read: no change falls between the two. Created with co_await:
  // no thread waits while etcd creates it.
  // No callback ({}): batches are pulled with async_next.
  etcdpp::Watch watch = co_await client.async_watch(
      "config/", {.prefix = true, .start_revision = initial.header.revision + 1}, {},
      asio::use_awaitable);
  const auto executor = co_await asio::this_coro::executor;
  asio::co_spawn(executor, change_config(client), rethrow);

  while (config.count("config/version") == 0) {
    const etcdpp::WatchBatch batch = co_await watch.async_next(asio::use_awaitable);
    for (const etcdpp::Event& e : batch.events) {
      if (e.type == etcdpp::Event::Type::put) {
        std::cout << e.kv.key << " = " << e.kv.value << std::endl;
        config[e.kv.key] = e.kv.value;
      } else {
        std::cout << e.kv.key << " deleted" << std::endl;
        config.erase(e.kv.key);
      }
    }
  }
}
//! [config watcher coroutine]

}  // namespace

int main() try {
  etcdpp::embedded::Node node;  // a private etcd on free loopback ports
  etcdpp::Client client({.endpoints = {node.client_endpoint()}});
  client.put("config/log_level", "info");
  client.put("config/workers", "4");

  Config config;
  asio::io_context io;  // both coroutines run on this thread, in io.run()
  asio::co_spawn(io, watch_config(client, config), rethrow);
  io.run();  // returns when both are done; a failed call's exception comes out of it

  const Config expected{{"config/log_level", "debug"}, {"config/version", "2"}};
  if (config != expected) {
    std::cerr << "config_watcher_coro: the local copy differs from etcd's\n";
    return 1;
  }
  std::cout << "config_watcher_coro: the local copy matches etcd (" << config.size() << " keys)\n";
  return 0;
} catch (const std::exception& e) {  // std::system_error from a co_await, etcdpp::Error otherwise
  std::cerr << "config_watcher_coro: " << e.what() << "\n";
  return 1;
}
