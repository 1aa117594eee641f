// SPDX-License-Identifier: Apache-2.0
// The Auth API and authenticated clients against a real etcd. Each test runs its own node:
// turning auth on would change the shared one under the other tests.
#include <gtest/gtest.h>

#include <algorithm>
#include <asio/use_future.hpp>
#include <atomic>
#include <mutex>
#include <vector>

#include "support/test_env.hpp"

namespace etcdpp {
namespace {

using namespace std::chrono_literals;
using Type = Permission::Type;

/// Runs `f` and returns the code of the Error it throws (and its message in `what`).
template <class F>
std::error_code error_of(F&& f, std::string* what = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (what != nullptr) *what = e.what();
    return e.code();
  }
  return {};
}

Client client_of(const embedded::Node& node, std::string user = {}, std::string password = {}) {
  ClientOptions options{.endpoints = {node.client_endpoint()}, .call_timeout = 5000ms};
  options.username = std::move(user);
  options.password = std::move(password);
  return Client(std::move(options));
}

/// The root user with the root role, and a user "alice" who may read keys under "app/" only.
void add_root_and_reader(const Client& admin) {
  admin.auth().user_add("root", "root-pw");
  admin.auth().role_add("root");
  admin.auth().user_grant_role("root", "root");
  admin.auth().role_add("reader");
  admin.auth().role_grant_permission("reader", Permission::of_prefix(Type::read, "app/"));
  admin.auth().user_add("alice", "alice-pw");
  admin.auth().user_grant_role("alice", "reader");
}

TEST(AuthTest, UserWithReadOnAPrefixReadsItAndIsDeniedWritingItUntilAuthIsOff) {
  embedded::Node node;
  const Client admin = client_of(node);
  admin.put("app/x", "1");
  add_root_and_reader(admin);
  EXPECT_FALSE(admin.auth().auth_status().enabled);

  admin.auth().auth_enable();
  const Client root = client_of(node, "root", "root-pw");
  const Client alice = client_of(node, "alice", "alice-pw");
  EXPECT_TRUE(root.auth().auth_status().enabled);

  ASSERT_TRUE(alice.get("app/x").has_value());
  EXPECT_EQ(alice.get("app/x")->value, "1");
  std::string what;
  EXPECT_EQ(error_of([&] { alice.put("app/x", "2"); }, &what), Errc::auth_permission_denied);
  EXPECT_NE(what.find("app/x"), std::string::npos) << what;
  EXPECT_EQ(error_of([&] { alice.get("other/x"); }), Errc::auth_permission_denied);
  // Watches too: one on her prefix is made, one elsewhere is refused with its reason.
  Watch allowed = alice.watch("app/", {.prefix = true});
  EXPECT_GT(allowed.created_revision(), 0);
  EXPECT_EQ(error_of([&] { alice.watch("other/", {.prefix = true}); }, &what),
            Errc::auth_permission_denied)
      << what;
  root.put("app/y", "1");
  const auto batch = allowed.next(5s);
  ASSERT_TRUE(batch.has_value());
  ASSERT_EQ(batch->events.size(), 1u);
  EXPECT_EQ(batch->events[0].kv.key, "app/y");
  // Without credentials nothing passes any more; the admin client had none.
  EXPECT_EQ(error_of([&] { admin.get("app/x"); }), Errc::user_empty);
  EXPECT_EQ(root.get("app/x")->value, "1");

  EXPECT_EQ(root.auth().user_get("alice").roles, std::vector<std::string>{"reader"});
  const RoleGetResult reader = root.auth().role_get("reader");
  ASSERT_EQ(reader.permissions.size(), 1u);
  EXPECT_EQ(reader.permissions[0], Permission::of_prefix(Type::read, "app/"));
  EXPECT_EQ(reader.permissions[0].range_end, "app0");
  auto users = root.auth().user_list().users;
  std::sort(users.begin(), users.end());
  EXPECT_EQ(users, (std::vector<std::string>{"alice", "root"}));
  auto roles = root.auth().role_list().roles;
  std::sort(roles.begin(), roles.end());
  EXPECT_EQ(roles, (std::vector<std::string>{"reader", "root"}));

  // Alice may not manage auth.
  EXPECT_EQ(error_of([&] { alice.auth().auth_disable(); }), Errc::auth_permission_denied);
  root.auth().auth_disable();
  EXPECT_FALSE(admin.auth().auth_status().enabled);
  admin.put("app/x", "3");
  EXPECT_EQ(alice.get("app/x")->value, "3");  // with credentials, and auth off: no token needed
}

TEST(AuthTest, RevokedPermissionsAndRolesAndChangedPasswordsTakeEffect) {
  embedded::Node node;
  const Client admin = client_of(node);
  add_root_and_reader(admin);
  admin.auth().role_grant_permission("reader", Permission::of_key(Type::readwrite, "one"));
  admin.auth().role_grant_permission("reader", Permission::of_range(Type::write, "a", "c"));
  EXPECT_EQ(admin.auth().role_get("reader").permissions.size(), 3u);
  admin.auth().role_revoke_permission("reader", "one");
  admin.auth().role_revoke_permission("reader", "a", "c");
  EXPECT_EQ(admin.auth().role_get("reader").permissions,
            std::vector<Permission>{Permission::of_prefix(Type::read, "app/")});

  admin.auth().auth_enable();
  const Client root = client_of(node, "root", "root-pw");
  root.auth().user_change_password("alice", "new-pw");
  EXPECT_EQ(error_of([&] { client_of(node, "alice", "alice-pw").get("app/x"); }),
            Errc::auth_failed);
  EXPECT_FALSE(client_of(node, "alice", "new-pw").get("app/x").has_value());
  root.auth().user_revoke_role("alice", "reader");
  EXPECT_EQ(error_of([&] { client_of(node, "alice", "new-pw").get("app/x"); }),
            Errc::auth_permission_denied);
  root.auth().user_delete("alice");
  root.auth().role_delete("reader");
  EXPECT_EQ(root.auth().user_list().users, std::vector<std::string>{"root"});
  root.auth().auth_disable();
}

TEST(AuthTest, AuthErrorsNameWhatWasWrong) {
  embedded::Node node;
  const Client admin = client_of(node);
  std::string what;
  EXPECT_EQ(error_of([&] { admin.auth().auth_enable(); }, &what), Errc::root_user_not_exist) << what;
  admin.auth().user_add("root", "root-pw");
  EXPECT_EQ(error_of([&] { admin.auth().auth_enable(); }), Errc::root_role_not_exist);
  EXPECT_EQ(error_of([&] { admin.auth().user_add("root", "x"); }), Errc::user_already_exists);
  EXPECT_EQ(error_of([&] { admin.auth().user_get("nobody"); }, &what), Errc::user_not_found);
  EXPECT_NE(what.find("nobody"), std::string::npos) << what;
  EXPECT_EQ(error_of([&] { admin.auth().user_delete("nobody"); }), Errc::user_not_found);
  EXPECT_EQ(error_of([&] { admin.auth().role_get("norole"); }, &what), Errc::role_not_found);
  EXPECT_NE(what.find("norole"), std::string::npos) << what;
  EXPECT_EQ(error_of([&] { admin.auth().user_grant_role("root", "norole"); }), Errc::role_not_found);
  admin.auth().role_add("r");
  EXPECT_EQ(error_of([&] { admin.auth().role_add("r"); }), Errc::role_already_exists);
  EXPECT_EQ(error_of([&] { admin.auth().user_revoke_role("root", "r"); }), Errc::role_not_granted);
  EXPECT_EQ(error_of([&] { admin.auth().role_revoke_permission("r", "k"); }, &what),
            Errc::permission_not_granted);
  EXPECT_NE(what.find("\"k\""), std::string::npos) << what;
  EXPECT_EQ(error_of([&] { admin.auth().user_add("", "x"); }), Errc::user_empty);
  // Nothing was half-written: root still has no role, and auth is off.
  EXPECT_TRUE(admin.auth().user_get("root").roles.empty());
  EXPECT_FALSE(admin.auth().auth_status().enabled);
}

TEST(AuthTest, AsyncFacesGiveTheSameResults) {
  embedded::Node node;
  const Client admin = client_of(node);
  admin.auth().async_user_add("u", "pw", asio::use_future).get();
  admin.auth().async_user_add("nopw", "", {.no_password = true}, asio::use_future).get();
  admin.auth().async_role_add("r", asio::use_future).get();
  admin.auth().async_role_grant_permission("r", Permission::of_prefix(Type::write, "w/"), asio::use_future)
      .get();
  admin.auth().async_user_grant_role("u", "r", asio::use_future).get();
  EXPECT_EQ(admin.auth().async_user_get("u", asio::use_future).get().roles, std::vector<std::string>{"r"});
  EXPECT_EQ(admin.auth().async_role_get("r", asio::use_future).get().permissions,
            std::vector<Permission>{Permission::of_prefix(Type::write, "w/")});
  EXPECT_EQ(admin.auth().async_user_list(asio::use_future).get().users.size(), 2u);
  EXPECT_EQ(admin.auth().async_role_list(asio::use_future).get().roles, std::vector<std::string>{"r"});
  EXPECT_FALSE(admin.auth().async_auth_status(asio::use_future).get().enabled);
  admin.auth().async_role_revoke_permission("r", "w/", "w0", asio::use_future).get();
  admin.auth().async_user_revoke_role("u", "r", asio::use_future).get();
  admin.auth().async_user_change_password("u", "pw2", asio::use_future).get();
  admin.auth().async_role_delete("r", asio::use_future).get();
  admin.auth().async_user_delete("u", asio::use_future).get();
  auto failed = admin.auth().async_user_get("u", asio::use_future);
  try {
    failed.get();
    FAIL() << "user_get of a deleted user succeeded";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), Errc::user_not_found);
  }
}

TEST(AuthTest, WrongCredentialsFailAtOnceWithAuthFailedForCallsAndWatches) {
  embedded::Node node;
  const Client admin = client_of(node);
  add_root_and_reader(admin);
  admin.auth().auth_enable();
  const Client wrong = client_of(node, "root", "not-the-password");
  const auto start = std::chrono::steady_clock::now();
  std::string what;
  EXPECT_EQ(error_of([&] { wrong.put("k", "v"); }, &what), Errc::auth_failed) << what;
  EXPECT_NE(what.find("authentication failed"), std::string::npos) << what;
  EXPECT_EQ(error_of([&] { wrong.get("k"); }), Errc::auth_failed);
  EXPECT_EQ(error_of([&] { wrong.watch("app/"); }), Errc::auth_failed);
  // No retry loop: each call asked once and gave up well within its deadline.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
  EXPECT_EQ(error_of([&] { client_of(node, "nobody", "x").get("k"); }), Errc::auth_failed);
  client_of(node, "root", "root-pw").auth().auth_disable();
}

TEST(AuthTest, AuthStatusTellsWhetherAuthIsOnAndTheAuthRevisionWhereTheServerHasIt) {
  embedded::Node node;
  const Client admin = client_of(node);
  // etcd 3.5 has the AuthStatus call and reports the auth store's revision; etcd 3.4 has neither,
  // and the client tells whether auth is on all the same, with revision 0.
  const bool reports_revision = !node.version().starts_with("3.4.");
  const AuthStatusResult fresh = admin.auth().auth_status();
  EXPECT_FALSE(fresh.enabled);
  add_root_and_reader(admin);
  const AuthStatusResult changed = admin.auth().auth_status();
  EXPECT_FALSE(changed.enabled);
  if (reports_revision) {
    EXPECT_GT(fresh.revision, 0u);
    EXPECT_GT(changed.revision, fresh.revision);  // users and roles were added
    EXPECT_EQ(changed.header.member_id, node.member_id());
    EXPECT_GT(changed.header.revision, 0);
  } else {
    EXPECT_EQ(fresh.revision, 0u);
    EXPECT_EQ(changed.revision, 0u);
  }

  admin.auth().auth_enable();
  const Client root = client_of(node, "root", "root-pw");
  const AuthStatusResult on = root.auth().auth_status();
  EXPECT_TRUE(on.enabled);
  if (reports_revision) {
    EXPECT_GE(on.revision, changed.revision);  // the revision the root client is told
  } else {
    EXPECT_EQ(on.revision, 0u);
  }
  // Without credentials the answer is still that auth is on, though etcd 3.5 then tells no
  // revision; nobody is authenticated and nothing is written.
  const AuthStatusResult anonymous = admin.auth().auth_status();
  EXPECT_TRUE(anonymous.enabled);
  EXPECT_EQ(anonymous.revision, 0u);
  EXPECT_TRUE(admin.auth().async_auth_status(asio::use_future).get().enabled);

  root.auth().auth_disable();
  // With auth off again, a client without credentials is told the revision again.
  const AuthStatusResult off = admin.auth().auth_status();
  EXPECT_FALSE(off.enabled);
  if (reports_revision) {
    EXPECT_GE(off.revision, on.revision);
  } else {
    EXPECT_EQ(off.revision, 0u);
  }
}

/// Lines of etcd's log that say a simple token of `user` expired, as they come.
class TokenExpiryLog {
 public:
  explicit TokenExpiryLog(std::string user) : user_(std::move(user)) {}
  void line(std::string_view text) {
    // etcd 3.4 with capnslog: "deleting token <token> for user <user>"; with zap (3.4 and 3.5),
    // "deleted a simple token" and the user as "user-name":"<user>".
    if (text.ends_with("for user " + user_) ||
        (text.find("deleted a simple token") != std::string_view::npos &&
         text.find("\"user-name\":\"" + user_ + "\"") != std::string_view::npos)) {
      ++count_;
    }
  }
  int count() const { return count_.load(); }

 private:
  const std::string user_;
  std::atomic<int> count_{0};
};

TEST(AuthTest, WatchAndKeptAliveLeaseOutliveExpiredTokensWithNoLostEvent) {
  auto expiry = std::make_shared<TokenExpiryLog>("bob");
  embedded::NodeOptions options;
  // zap, not capnslog: etcd 3.4 says when it deletes an expired simple token only with zap,
  // and etcd 3.5 says it only at debug level.
  options.extra_flags = {"--auth-token=simple", "--auth-token-ttl=2", "--logger=zap",
                         "--log-level=debug"};
  options.log_sink = [expiry](std::string_view line) { expiry->line(line); };
  embedded::Node node(std::move(options));
  const Client admin = client_of(node);
  add_root_and_reader(admin);
  admin.auth().role_add("writer");
  admin.auth().role_grant_permission("writer", Permission::of_prefix(Type::readwrite, "t/"));
  admin.auth().user_add("bob", "bob-pw");
  admin.auth().user_grant_role("bob", "writer");
  admin.auth().auth_enable();

  const Client bob = client_of(node, "bob", "bob-pw");
  std::mutex mutex;
  std::vector<std::int64_t> seen;  // revisions of the events the watch delivered
  std::atomic<bool> watch_failed{false};
  Watch watch = bob.watch("t/", {.prefix = true}, [&](std::error_code ec, WatchBatch batch) {
    if (ec) watch_failed = true;
    std::lock_guard lock(mutex);
    for (const auto& e : batch.events) seen.push_back(e.kv.mod_revision);
  });
  const LeaseId lease = bob.lease_grant(3s).id;
  std::atomic<bool> lease_lost{false};
  KeepAlive keep_alive =
      bob.keep_alive(lease, {.on_lost = [&](LeaseId, LeaseLoss) { lease_lost = true; }});
  bob.put("t/leased", "v", {.lease = lease});

  // Ten seconds of bob's writes, with idle gaps in which his token expires (TTL 2 s): each gap
  // lasts until etcd says it deleted the token, so the next write carries an expired one.
  std::vector<std::int64_t> written;
  written.push_back(bob.get("t/leased")->mod_revision);
  const auto start = std::chrono::steady_clock::now();
  int expiries = 0;
  for (int i = 0; i < 1000 && std::chrono::steady_clock::now() - start < 10s; ++i) {
    written.push_back(bob.put("t/k" + std::to_string(i), std::to_string(i)).header.revision);
    if (i % 20 == 19) {
      const int before = expiry->count();
      ASSERT_TRUE(test::wait_until([&] { return expiry->count() > before; }, 8s))
          << "etcd never expired bob's token";
      ++expiries;
      if (expiries == 2) {
        // A new watch on the stream opened with the expired token: etcd refuses it for the
        // token, and the stream opens again with a fresh one; the first watch resumes there.
        Watch second = bob.watch("t/second");
        EXPECT_GT(second.created_revision(), 0);
      }
    }
  }
  ASSERT_GE(expiries, 2);

  // Every write was seen once, in order: nothing lost or repeated across the re-opened stream.
  ASSERT_TRUE(test::wait_until(
      [&] {
        std::lock_guard lock(mutex);
        return seen.size() >= written.size();
      },
      10s));
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(seen, written);
  }
  EXPECT_FALSE(watch_failed);
  EXPECT_FALSE(lease_lost);
  EXPECT_GT(bob.lease_time_to_live(lease).ttl, std::chrono::seconds(0));
  client_of(node, "root", "root-pw").auth().auth_disable();
}

}  // namespace
}  // namespace etcdpp
