// SPDX-License-Identifier: Apache-2.0
// Error handling: a failed blocking call throws etcdpp::Error (CompactedError for a compacted
// revision); its code() compares with an Errc, is_transient() says whether trying again may help,
// and the code says what to do. Absence is not an error. Each case below is checked.
#include <asio/use_future.hpp>
#include <etcdpp/etcdpp.hpp>
#include <future>
#include <iostream>
#include <string>

namespace {

int failures = 0;
void expect(bool ok, const std::string& what) {
  std::cout << (ok ? "ok: " : "FAILED: ") << what << std::endl;
  if (!ok) ++failures;
}

//! [what to do]
// What a program does about a failed call, by its code (docs/guide/errors.md lists them all).
std::string what_to_do(std::error_code ec) {
  using etcdpp::Condition;
  if (ec == Condition::retryable) return "retry it (a write only if repeating it is harmless)";
  if (ec == Condition::compacted) return "read the current state, watch on from there";
  if (ec == Condition::lease_lost) return "grant a new lease, write its keys again";
  if (ec == Condition::auth) return "check the credentials and the role's permissions";
  return "fix the request: sending it again gets the same answer";
}
//! [what to do]

}  // namespace

int main() try {
  using etcdpp::Errc;
  etcdpp::embedded::Node node;  // a private etcd on free loopback ports
  etcdpp::Client client({.endpoints = {node.client_endpoint()}});

  try {  // A request etcd refuses. what() names the call and the key.
    client.put("", "no key");
    expect(false, "an empty key was accepted");
  } catch (const etcdpp::Error& e) {
    std::cout << e.what() << ": " << what_to_do(e.code()) << "\n";
    expect(e.code() == Errc::empty_key && !etcdpp::is_transient(e.code()), "empty key refused");
  }

  const auto old = client.put("k", "1");
  const auto now = client.put("k", "2");
  client.compact(now.header.revision);
  try {  // A revision compaction removed: the subclass carries the compact revision (watches).
    etcdpp::Watch watch = client.watch("k", {.start_revision = old.header.revision});
    expect(false, "a compacted revision was watched");
  } catch (const etcdpp::CompactedError& e) {
    std::cout << e.what() << ": " << what_to_do(e.code()) << "\n";
    expect(e.code() == Errc::compacted && e.compact_revision() == now.header.revision,
           "compacted at revision " + std::to_string(e.compact_revision()));
  }

  try {  // A lease that expired or was revoked.
    client.lease_revoke(etcdpp::LeaseId{0x1234});
    expect(false, "a missing lease was revoked");
  } catch (const etcdpp::Error& e) {
    expect(e.code() == Errc::lease_not_found, std::string(e.what()) + ": " + what_to_do(e.code()));
  }

  node.pause();  // A server that hangs: the call's deadline passes. Transient: try again later.
  try {
    client.with_timeout(std::chrono::milliseconds(300)).get("k");
    expect(false, "a paused server answered");
  } catch (const etcdpp::Error& e) {
    std::cout << e.what() << ": " << what_to_do(e.code()) << "\n";
    expect(e.code() == Errc::deadline_exceeded && e.code() == std::errc::timed_out &&
               etcdpp::is_transient(e.code()),
           "timed out");
  }
  node.resume();
  expect(client.get("k")->value == "2", "the same read, made again, succeeds");

  // The asynchronous faces report the very same exception: a future (or a coroutine's
  // co_await) throws it, a callback gets it as its first argument.
  std::string blocking_words;
  try {
    client.put("", "no key");
  } catch (const etcdpp::Error& e) {
    blocking_words = e.what();
  }
  try {
    client.async_put("", "no key", asio::use_future).get();
    expect(false, "an empty key was accepted (async)");
  } catch (const etcdpp::Error& e) {
    expect(e.code() == Errc::empty_key && e.what() == blocking_words,
           std::string("async: ") + e.what());
  }
  std::promise<std::error_code> code;
  client.async_put("", "no key", [&code](std::exception_ptr error, etcdpp::PutResult) {
    code.set_value(etcdpp::error_code_of(error));  // the code, for a handler that branches on it
  });
  expect(code.get_future().get() == Errc::empty_key, "callback: empty key refused");

  // Absence and "no" are values, not errors.
  expect(!client.get("missing"), "a missing key is std::nullopt");
  return failures == 0 ? 0 : 1;
} catch (const std::exception& e) {  // anything else is unexpected here
  std::cerr << "errors: unexpected " << e.what() << "\n";
  return 1;
}
