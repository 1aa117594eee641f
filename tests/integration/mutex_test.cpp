// SPDX-License-Identifier: Apache-2.0
// Mutex and RWMutex against a real etcd: the Go client's key layout, waiting in order, the
// fixes (a waiter whose session ends never gets the lock, a fenced unlock, the holder told of a
// lost session), and exclusion beside `etcdctl lock` both ways.
#include <gtest/gtest.h>
#include <signal.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/use_future.hpp>
#include <atomic>
#include <future>
#include <mutex>
#include <shared_mutex>

#include "support/subprocess.hpp"
#include "support/test_env.hpp"

namespace etcdpp {
namespace {

using namespace std::chrono_literals;
using concurrency::Mutex;
using concurrency::RWMutex;
using concurrency::Session;
using test::TestPrefix;

std::string hex(LeaseId id) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%llx", static_cast<unsigned long long>(id));
  return buffer;
}

/// Keys under `prefix`, oldest first.
std::vector<std::string> queue_of(const Client& client, const std::string& prefix) {
  std::vector<std::string> keys;
  for (const auto& kv : client.get(prefix, {.prefix = true,
                                            .sort_order = SortOrder::ascend,
                                            .sort_target = SortTarget::create_revision})
                            .kvs) {
    keys.push_back(kv.key);
  }
  return keys;
}

template <class Future>
bool ready_within(Future& f, std::chrono::milliseconds d) {
  return f.wait_for(d) == std::future_status::ready;
}

template <class Future>
std::error_code error_of(Future& f) {
  try {
    f.get();
  } catch (const std::system_error& e) {
    return e.code();
  }
  return {};
}

TEST(MutexTest, TheKeyIsTheNameSlashTheLeaseInLowercaseHexWithAnEmptyValue) {
  Client client = test::client();
  TestPrefix p(client);
  Session session(client, {.ttl = 10s});
  Mutex mutex(session, p("lock"));
  EXPECT_EQ(mutex.key(), p("lock/") + hex(session.lease()));
  mutex.lock();
  EXPECT_TRUE(mutex.held());
  const auto kv = client.get(mutex.key());
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->value, "");
  EXPECT_EQ(kv->lease, session.lease());
  EXPECT_EQ(mutex.revision(), kv->create_revision);
  mutex.unlock();
  EXPECT_FALSE(mutex.held());
  EXPECT_EQ(mutex.revision(), 0);
  EXPECT_FALSE(client.get(mutex.key()));
}

TEST(MutexTest, SecondLockerWaitsUntilFirstUnlocksAndWaitersGoInOrder) {
  Client client = test::client();
  TestPrefix p(client);
  Session s1(client, {.ttl = 10s}), s2(client, {.ttl = 10s}), s3(client, {.ttl = 10s});
  Mutex m1(s1, p("lock")), m2(s2, p("lock")), m3(s3, p("lock"));
  m1.lock();
  auto second = m2.async_lock(asio::use_future);
  ASSERT_TRUE(test::wait_until([&] { return queue_of(client, p("lock/")).size() == 2; }, 5s));
  auto third = m3.async_lock(asio::use_future);
  ASSERT_TRUE(test::wait_until([&] { return queue_of(client, p("lock/")).size() == 3; }, 5s));
  EXPECT_FALSE(ready_within(second, 300ms));
  m1.unlock();
  ASSERT_TRUE(ready_within(second, 5s));
  second.get();
  EXPECT_TRUE(m2.held());
  EXPECT_FALSE(ready_within(third, 300ms));  // the third waits for the second, not the first
  const auto r2 = m2.revision();
  m2.unlock();
  ASSERT_TRUE(ready_within(third, 5s));
  third.get();
  EXPECT_GT(m3.revision(), r2);  // fencing tokens grow with each holder
}

TEST(MutexTest, MeetsLockableForLockGuardAndUniqueLock) {
  Client client = test::client();
  TestPrefix p(client);
  Session s1(client, {.ttl = 10s}), s2(client, {.ttl = 10s});
  Mutex m1(s1, p("lock")), m2(s2, p("lock"));
  {
    std::lock_guard guard(m1);
    EXPECT_TRUE(m1.held());
    std::unique_lock other(m2, std::try_to_lock);
    EXPECT_FALSE(other.owns_lock());
    EXPECT_EQ(queue_of(client, p("lock/")).size(), 1u);  // a failed try_lock leaves no key
  }
  EXPECT_FALSE(m1.held());
  std::unique_lock other(m2, std::try_to_lock);
  EXPECT_TRUE(other.owns_lock());
}

TEST(MutexTest, ARepeatedUnlockCannotReleaseALaterHolderOfTheSameSession) {
  Client client = test::client();
  TestPrefix p(client);
  Session session(client, {.ttl = 10s});
  Mutex first(session, p("lock"));
  first.lock();
  first.unlock();
  Mutex again(session, p("lock"));  // same session, same key, a new creation
  again.lock();
  first.unlock();
  bool deleted = true;
  std::promise<void> done;
  first.async_unlock([&](std::exception_ptr e, bool d) {
    EXPECT_FALSE(e);
    deleted = d;
    done.set_value();
  });
  done.get_future().wait();
  EXPECT_FALSE(deleted);
  const auto kv = client.get(again.key());
  ASSERT_TRUE(kv);
  EXPECT_EQ(kv->create_revision, again.revision());
}

TEST(MutexTest, AWaiterWhoseLeaseIsRevokedGetsSessionLostAndLeavesNoKey) {
  Client client = test::client();
  TestPrefix p(client);
  Session holder(client, {.ttl = 10s}), waiter(client, {.ttl = 10s});
  Mutex held(holder, p("lock")), waiting(waiter, p("lock"));
  held.lock();
  auto future = waiting.async_lock(asio::use_future);
  ASSERT_TRUE(test::wait_until([&] { return queue_of(client, p("lock/")).size() == 2; }, 5s));
  client.lease_revoke(waiter.lease());
  ASSERT_TRUE(ready_within(future, 5s));  // at once, not when the holder lets go
  EXPECT_EQ(error_of(future), Errc::session_lost);
  EXPECT_FALSE(waiting.held());
  EXPECT_EQ(queue_of(client, p("lock/")), std::vector<std::string>{held.key()});
  EXPECT_TRUE(held.held());
  try {
    waiting.lock();
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::session_lost);
    EXPECT_NE(std::string(e.what()).find(p("lock")), std::string::npos) << e.what();
  }
}

TEST(MutexTest, ACancelledWaitLeavesNoKey) {
  Client client = test::client();
  TestPrefix p(client);
  Session holder(client, {.ttl = 10s}), waiter(client, {.ttl = 10s});
  Mutex held(holder, p("lock")), waiting(waiter, p("lock"));
  held.lock();
  asio::cancellation_signal cancel;
  auto future = waiting.async_lock(asio::bind_cancellation_slot(cancel.slot(), asio::use_future));
  ASSERT_TRUE(test::wait_until([&] { return queue_of(client, p("lock/")).size() == 2; }, 5s));
  cancel.emit(asio::cancellation_type::terminal);
  ASSERT_TRUE(ready_within(future, 5s));
  EXPECT_EQ(error_of(future), Errc::cancelled);
  ASSERT_TRUE(test::wait_until([&] { return queue_of(client, p("lock/")).size() == 1; }, 5s));
}

TEST(MutexTest, TheHolderIsToldWhenItsSessionIsLostAndItsCompareStopsHolding) {
  Client client = test::client();
  TestPrefix p(client);
  Session session(client, {.ttl = 10s});
  std::promise<std::error_code> lost;
  Mutex mutex(session, p("lock"), {.on_lost = [&](std::error_code ec) { lost.set_value(ec); }});
  mutex.lock();
  const Compare guard = mutex.owner_compare();
  EXPECT_TRUE(client.txn(Txn{}.if_(guard).then(Op::put(p("data"), "1"))).succeeded);
  client.lease_revoke(session.lease());
  auto f = lost.get_future();
  ASSERT_EQ(f.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(f.get(), Errc::session_lost);
  EXPECT_FALSE(mutex.held());
  EXPECT_FALSE(client.txn(Txn{}.if_(guard).then(Op::put(p("data"), "2"))).succeeded);
  EXPECT_EQ(client.get(p("data"))->value, "1");
  // The compare is refused with what happened: the lock went with its session.
  const auto code_of = [](const Mutex& m) {
    try {
      (void)m.owner_compare();
    } catch (const Error& e) {
      return e.code();
    }
    return std::error_code{};
  };
  EXPECT_EQ(code_of(mutex), Errc::session_lost);
  Session other(client, {.ttl = 10s});
  EXPECT_EQ(code_of(Mutex(other, p("lock"))), Errc::invalid_option);  // never locked
}

TEST(MutexTest, AnEmptyNameOrSessionIsRefused) {
  Client client = test::client();
  Session session(client, {.ttl = 10s});
  EXPECT_THROW(Mutex(session, ""), Error);
  Session empty;
  EXPECT_THROW(Mutex(empty, "x"), Error);
}

// ---- Beside etcdctl ------------------------------------------------------------------------

std::vector<std::string> etcdctl(std::vector<std::string> args) {
  std::vector<std::string> argv{test::etcdctl_path(),
                                "--endpoints=" + test::node().client_endpoint()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

TEST(MutexInteropTest, EtcdctlHoldsAndEtcdppWaitsThenTheReverse) {
  Client client = test::client();
  TestPrefix p(client);
  const std::string name = p("lock");
  auto holder = std::make_unique<test::Subprocess>(etcdctl({"lock", name}));
  const auto key = holder->read_line(10s);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->rfind(name + "/", 0), 0u) << *key;
  Session session(client, {.ttl = 10s});
  Mutex mutex(session, name);
  EXPECT_FALSE(mutex.try_lock());
  auto future = mutex.async_lock(asio::use_future);
  EXPECT_FALSE(ready_within(future, 500ms));
  ::kill(holder->pid(), SIGINT);  // etcdctl unlocks on SIGINT
  ASSERT_TRUE(ready_within(future, 10s));
  future.get();
  EXPECT_TRUE(holder->wait(5s));
  holder.reset();

  // Now etcdpp holds and etcdctl waits.
  auto waiter = std::make_unique<test::Subprocess>(etcdctl({"lock", name}));
  ASSERT_TRUE(test::wait_until([&] { return queue_of(client, name + "/").size() == 2; }, 10s));
  EXPECT_FALSE(waiter->read_line(500ms));
  mutex.unlock();
  const auto got = waiter->read_line(10s);
  ASSERT_TRUE(got);
  EXPECT_EQ(queue_of(client, name + "/"), std::vector<std::string>{*got});
  ::kill(waiter->pid(), SIGINT);
  EXPECT_TRUE(waiter->wait(5s));
}

TEST(MutexInteropTest, WaitersOfBothClientsGoInArrivalOrder) {
  Client client = test::client();
  TestPrefix p(client);
  const std::string name = p("lock");
  Session s1(client, {.ttl = 10s}), s3(client, {.ttl = 10s});
  Mutex first(s1, name), third(s3, name);
  first.lock();
  test::Subprocess second(etcdctl({"lock", name}));
  ASSERT_TRUE(test::wait_until([&] { return queue_of(client, name + "/").size() == 2; }, 10s));
  auto last = third.async_lock(asio::use_future);
  ASSERT_TRUE(test::wait_until([&] { return queue_of(client, name + "/").size() == 3; }, 10s));
  first.unlock();
  ASSERT_TRUE(second.read_line(10s));       // etcdctl came second: it has the lock
  EXPECT_FALSE(ready_within(last, 500ms));  // and the etcdpp waiter behind it still waits
  ::kill(second.pid(), SIGINT);
  ASSERT_TRUE(ready_within(last, 10s));
  last.get();
  EXPECT_TRUE(third.held());
}

// ---- RWMutex -------------------------------------------------------------------------------

TEST(RWMutexTest, ReadersShareAWriterWaitsForThemAndReadersAfterItWaitForIt) {
  Client client = test::client();
  TestPrefix p(client);
  Session s1(client, {.ttl = 10s}), s2(client, {.ttl = 10s}), s3(client, {.ttl = 10s}),
      s4(client, {.ttl = 10s});
  RWMutex r1(s1, p("rw")), r2(s2, p("rw")), w(s3, p("rw")), r3(s4, p("rw"));
  r1.lock_shared();
  r2.lock_shared();  // readers share
  EXPECT_TRUE(r1.held() && r2.held());
  EXPECT_EQ(r1.key().rfind(p("rw/read/"), 0), 0u) << r1.key();
  auto writer = w.async_lock(asio::use_future);
  ASSERT_TRUE(test::wait_until([&] { return queue_of(client, p("rw/")).size() == 3; }, 5s));
  auto reader = r3.async_lock_shared(asio::use_future);
  ASSERT_TRUE(test::wait_until([&] { return queue_of(client, p("rw/")).size() == 4; }, 5s));
  r1.unlock_shared();
  EXPECT_FALSE(ready_within(writer, 300ms));
  r2.unlock_shared();
  ASSERT_TRUE(ready_within(writer, 5s));
  writer.get();
  EXPECT_EQ(w.key().rfind(p("rw/write/"), 0), 0u) << w.key();
  EXPECT_FALSE(ready_within(reader, 300ms));  // a reader after a writer waits for it
  w.unlock();
  ASSERT_TRUE(ready_within(reader, 5s));
  reader.get();
  std::shared_lock again(r1);  // SharedLockable
  EXPECT_TRUE(r1.held());
}

TEST(RWMutexTest, AnExpiredWaiterGetsSessionLostInsteadOfTheLock) {
  Client client = test::client();
  TestPrefix p(client);
  Session s1(client, {.ttl = 10s}), s2(client, {.ttl = 10s});
  RWMutex writer(s1, p("rw")), reader(s2, p("rw"));
  writer.lock();
  auto future = reader.async_lock_shared(asio::use_future);
  ASSERT_TRUE(test::wait_until([&] { return queue_of(client, p("rw/")).size() == 2; }, 5s));
  client.lease_revoke(s2.lease());
  ASSERT_TRUE(ready_within(future, 5s));
  EXPECT_EQ(error_of(future), Errc::session_lost);
  EXPECT_EQ(queue_of(client, p("rw/")).size(), 1u);
}

}  // namespace
}  // namespace etcdpp
