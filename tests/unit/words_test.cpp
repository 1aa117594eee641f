// SPDX-License-Identifier: Apache-2.0
// A failed call's words: gRPC 1.51's texts (as Debian 12's gRPC gives them) made into what a
// user can act on.
#include <gtest/gtest.h>

#include "transport/words.hpp"

namespace etcdpp::transport {
namespace {

using std::chrono::milliseconds;
constexpr int kDeadlineExceeded = 4;
constexpr int kUnavailable = 14;

CallFacts read_of(std::string endpoint = "127.0.0.1:1") {
  return CallFacts{std::move(endpoint), false, false, false, milliseconds(5000)};
}

CallFacts write_of(std::string endpoint = "127.0.0.1:1") {
  CallFacts facts = read_of(std::move(endpoint));
  facts.write = true;
  return facts;
}

std::string words(int code, std::string message, const CallFacts& facts) {
  const Status out = plain_words(Status{code, std::move(message)}, facts);
  EXPECT_EQ(out.code, code) << "the code never changes";
  return out.message;
}

TEST(WordsTest, ARefusedConnectionNamesTheEndpointAndWhatToCheck) {
  const std::string refused =
      "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: Failed to "
      "connect to remote host: Connection refused";
  EXPECT_EQ(words(kUnavailable, refused, read_of()),
            "cannot connect to 127.0.0.1:1: connection refused (nothing listens there: is etcd "
            "running, and is this its client URL?)");
  EXPECT_EQ(words(kUnavailable, refused, write_of()),
            "cannot connect to 127.0.0.1:1: connection refused (nothing listens there: is etcd "
            "running, and is this its client URL?); the write was not sent");
  // No gRPC wrapping is left in any connection failure.
  const std::string other = words(
      kUnavailable,
      "failed to connect to all addresses; last error: UNAVAILABLE: ipv6:[::1]:2379: Failed to "
      "connect to remote host: No route to host",
      read_of("[::1]:2379"));
  EXPECT_EQ(other, "cannot connect to [::1]:2379: no route to host");
}

TEST(WordsTest, ADeadlineSaysItsValueItsOptionAndWhatBecameOfAWrite) {
  EXPECT_EQ(words(kDeadlineExceeded, "Deadline Exceeded", read_of("10.0.0.1:2379")),
            "no answer from 10.0.0.1:2379 within 5000 ms, the call's deadline "
            "(ClientOptions::call_timeout, or Client::with_timeout)");
  EXPECT_EQ(words(kDeadlineExceeded, "deadline exceeded", write_of()),
            "no answer from 127.0.0.1:1 within 5000 ms, the call's deadline "
            "(ClientOptions::call_timeout, or Client::with_timeout): the write may or may not "
            "have been applied");
}

TEST(WordsTest, TlsFailuresSayWhichSideToFix) {
  CallFacts tls = read_of("127.0.0.1:2379");
  tls.tls = true;
  const std::string untrusted = words(
      kUnavailable,
      "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:2379: Ssl "
      "handshake failed: SSL_ERROR_SSL: error:0A000086:SSL routines::certificate verify failed",
      tls);
  EXPECT_EQ(untrusted,
            "TLS handshake with 127.0.0.1:2379 failed: the server's certificate is not trusted "
            "(certificate verify failed): set ClientOptions::tls.ca_file (or ca_pem) to the CA "
            "that signed it");
  const std::string plain = words(
      kUnavailable,
      "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:2379: Ssl "
      "handshake failed: SSL_ERROR_SSL: error:0A00010B:SSL routines::wrong version number",
      tls);
  EXPECT_NE(plain.find("does not answer in TLS"), std::string::npos) << plain;
  EXPECT_NE(plain.find("use http://"), std::string::npos) << plain;
  // A server without TLS closes a connection that starts a handshake; a TLS server closes
  // one that does not.
  const std::string closed =
      "failed to connect to all addresses; last error: UNAVAILABLE: ipv4:127.0.0.1:2379: Socket "
      "closed";
  EXPECT_NE(words(kUnavailable, closed, tls).find("is it a server without TLS? then use http://"),
            std::string::npos);
  EXPECT_NE(words(kUnavailable, closed, read_of("127.0.0.1:2379"))
                .find("socket closed (if the server uses TLS on this port, use https://"),
            std::string::npos);
  EXPECT_EQ(words(kUnavailable, "TLS handshake refused by the server", tls),
            "TLS handshake with 127.0.0.1:2379 refused by the server: it likely requires a "
            "client certificate (set ClientOptions::tls.cert_file and key_file, or cert_pem and "
            "key_pem)");
}

TEST(WordsTest, EtcdsOwnAndOtherMessagesAreKept) {
  EXPECT_EQ(words(kUnavailable, "etcdserver: request timed out", write_of()),
            "etcdserver: request timed out");
  EXPECT_EQ(words(kUnavailable, "Socket closed", read_of()), "Socket closed");
  EXPECT_EQ(words(3, "etcdserver: key is not provided", read_of()),
            "etcdserver: key is not provided");
  EXPECT_EQ(words(kDeadlineExceeded, "no answer from 127.0.0.1:1 within 700ms (is its member hung?)",
                  read_of()),
            "no answer from 127.0.0.1:1 within 700ms (is its member hung?)");
}

}  // namespace
}  // namespace etcdpp::transport
