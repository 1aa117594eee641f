// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "detail/status.hpp"
#include "etcdpp/error.hpp"
#include "transport/transport.hpp"

namespace etcdpp {
namespace {

TEST(ErrorTest, CategoryNamesEtcdErrorsAndTransientOnes) {
  EXPECT_STREQ(error_category().name(), "etcdpp");
  EXPECT_EQ(make_error_code(Errc::compacted).message(),
            "etcdserver: mvcc: required revision has been compacted");
  EXPECT_EQ(make_error_code(Errc::unavailable).message(), "unavailable");
  EXPECT_TRUE(is_transient(Errc::unavailable));
  EXPECT_TRUE(is_transient(Errc::no_leader));
  EXPECT_FALSE(is_transient(Errc::empty_key));
  EXPECT_FALSE(is_transient(std::make_error_code(std::errc::timed_out)));
}

TEST(ErrorTest, ConditionsGroupTheCodesAProgramReactsToAlike) {
  const auto code = [](Errc e) { return make_error_code(e); };
  // The standard's meanings.
  EXPECT_EQ(code(Errc::deadline_exceeded), std::errc::timed_out);
  EXPECT_EQ(code(Errc::cancelled), std::errc::operation_canceled);
  EXPECT_NE(code(Errc::unavailable), std::errc::timed_out);
  // Each group, with a code in it and one outside it.
  EXPECT_EQ(code(Errc::deadline_exceeded), Condition::retryable);
  EXPECT_EQ(code(Errc::no_leader), Condition::retryable);
  EXPECT_NE(code(Errc::key_not_found), Condition::retryable);
  EXPECT_EQ(code(Errc::unavailable), Condition::unavailable);
  EXPECT_EQ(code(Errc::leader_changed), Condition::unavailable);
  EXPECT_NE(code(Errc::deadline_exceeded), Condition::unavailable);
  EXPECT_EQ(code(Errc::auth_failed), Condition::auth);
  EXPECT_EQ(code(Errc::invalid_auth_token), Condition::auth);
  EXPECT_EQ(code(Errc::permission_denied), Condition::auth);
  EXPECT_NE(code(Errc::user_not_found), Condition::auth);
  EXPECT_EQ(code(Errc::lease_not_found), Condition::lease_lost);
  EXPECT_EQ(code(Errc::session_lost), Condition::lease_lost);
  EXPECT_NE(code(Errc::lease_exists), Condition::lease_lost);
  EXPECT_EQ(code(Errc::compacted), Condition::compacted);
  EXPECT_NE(code(Errc::future_revision), Condition::compacted);
  // A code of another category is in none, and the empty code in none either.
  EXPECT_NE(std::make_error_code(std::errc::timed_out), Condition::retryable);
  EXPECT_NE(std::error_code(), Condition::retryable);
  EXPECT_STREQ(make_error_condition(Condition::auth).category().name(), "etcdpp.condition");
  // As an Error's code, in a catch.
  try {
    throw_error(code(Errc::lease_not_found), "lease_revoke 1");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Condition::lease_lost);
  }
}

TEST(ErrorTest, ThrowErrorGivesCompactedErrorForCompaction) {
  EXPECT_THROW(throw_error(Errc::compacted, "get \"k\""), CompactedError);
  try {
    throw_error(Errc::empty_key, "put \"\": etcdserver: key is not provided");
  } catch (const CompactedError&) {
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::empty_key);
  }
}

TEST(ErrorTest, EtcdMessagesMapToTheirOwnCodesAndOthersKeepTheGrpcCode) {
  using detail::error_from_status;
  EXPECT_FALSE(error_from_status(0, ""));
  EXPECT_EQ(error_from_status(3, "etcdserver: key is not provided"), Errc::empty_key);
  EXPECT_EQ(error_from_status(3, "etcdserver: too many operations in txn request"),
            Errc::too_many_txn_ops);
  EXPECT_EQ(error_from_status(11, "etcdserver: mvcc: required revision has been compacted"),
            Errc::compacted);
  EXPECT_EQ(error_from_status(14, "etcdserver: no leader"), Errc::no_leader);
  EXPECT_EQ(error_from_status(16, "etcdserver: invalid auth token"), Errc::invalid_auth_token);
  EXPECT_EQ(error_from_status(14, "failed to connect to all addresses"), Errc::unavailable);
  EXPECT_EQ(error_from_status(3, "etcdserver: something new"), Errc::invalid_argument);
  EXPECT_EQ(error_from_status(99, "odd"), Errc::unknown);
}

TEST(ErrorTest, TlsHandshakeFailuresAreTheirOwnCode) {
  using detail::error_from_status;
  EXPECT_EQ(error_from_status(14,
                              "failed to connect to all addresses; last error: UNKNOWN: "
                              "ipv4:127.0.0.1:1: Ssl handshake failed: SSL_ERROR_SSL: "
                              "error:0A000086:SSL routines::certificate verify failed"),
            Errc::tls_handshake_failed);
  EXPECT_EQ(error_from_status(14,
                              "TLS handshake refused by the server (does it require a "
                              "client certificate?): Endpoint read failed"),
            Errc::tls_handshake_failed);
  EXPECT_NE(make_error_code(Errc::tls_handshake_failed).message().find("TLS"), std::string::npos);
}

TEST(ErrorTest, TokenErrorsAreTheOnesANewTokenMayCure) {
  EXPECT_TRUE(transport::is_token_error("etcdserver: invalid auth token"));
  EXPECT_TRUE(transport::is_token_error("etcdserver: user name is empty"));
  EXPECT_TRUE(transport::is_token_error("etcdserver: revision of auth store is old"));
  EXPECT_FALSE(transport::is_token_error("etcdserver: permission denied"));
  EXPECT_FALSE(
      transport::is_token_error("etcdserver: authentication failed, invalid user ID or password"));
}

TEST(ErrorTest, MessageNamesTheCallAndTheKeyEscapingBinaryBytes) {
  const detail::CallStatus status{make_error_code(Errc::unavailable), "Socket closed"};
  EXPECT_EQ(detail::describe("get", std::string("a\0b\n", 4), status),
            "get \"a\\x00b\\x0a\": Socket closed");
  try {
    detail::throw_if_failed("put", "k",
                            {make_error_code(Errc::empty_key), "etcdserver: key is not provided"});
    ADD_FAILURE();
  } catch (const Error& e) {
    // The code's text is not repeated.
    EXPECT_STREQ(e.what(), "put \"k\": etcdserver: key is not provided");
  }
}

}  // namespace
}  // namespace etcdpp
