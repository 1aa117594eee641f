// SPDX-License-Identifier: Apache-2.0
#include "transport/words.hpp"

#include <cctype>
#include <string_view>

namespace etcdpp::transport {
namespace {

constexpr int kDeadlineExceeded = 4;
constexpr int kUnavailable = 14;

bool has(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

bool same_words(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

/// Drops `prefix` from the front of `s` when it is there.
bool skip(std::string_view& s, std::string_view prefix) {
  if (!s.starts_with(prefix)) return false;
  s.remove_prefix(prefix.size());
  return true;
}

/// What gRPC says went wrong with a connection, without its wrapping: from
/// "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: Failed to
/// connect to remote host: Connection refused", "Connection refused". Empty when `message` is
/// not such a text.
std::string_view connect_cause(std::string_view message) {
  if (!skip(message, "failed to connect to all addresses")) return {};
  if (!skip(message, "; last error: ")) return {};
  // The code's name ("UNKNOWN: ", "UNAVAILABLE: "), then the address ("ipv4:127.0.0.1:1: ").
  if (const auto colon = message.find(": "); colon != std::string_view::npos) {
    message.remove_prefix(colon + 2);
  }
  for (const std::string_view scheme : {"ipv4:", "ipv6:", "unix:", "unix-abstract:"}) {
    if (message.starts_with(scheme)) {
      const auto colon = message.find(": ");
      if (colon != std::string_view::npos) message.remove_prefix(colon + 2);
      break;
    }
  }
  skip(message, "Failed to connect to remote host: ");
  return message;
}

/// OpenSSL's reason from gRPC's "Ssl handshake failed: SSL_ERROR_SSL: error:0A000086:SSL
/// routines::certificate verify failed": "certificate verify failed".
std::string_view ssl_reason(std::string_view cause) {
  if (const auto at = cause.rfind("::"); at != std::string_view::npos) return cause.substr(at + 2);
  skip(cause, "Ssl handshake failed: ");
  return cause;
}

std::string lower_first(std::string_view s) {
  std::string out(s);
  if (!out.empty() && std::isupper(static_cast<unsigned char>(out[0])) &&
      (out.size() < 2 || !std::isupper(static_cast<unsigned char>(out[1])))) {
    out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  }
  return out;
}

std::string tls_words(std::string_view cause, const CallFacts& facts) {
  const std::string_view reason = ssl_reason(cause);
  std::string out = "TLS handshake with " + facts.endpoint + " failed: ";
  if (has(reason, "certificate verify failed")) {
    return out + "the server's certificate is not trusted (" + std::string(reason) +
           "): set ClientOptions::tls.ca_file (or ca_pem) to the CA that signed it";
  }
  if (has(reason, "wrong version number") || has(reason, "packet length too long") ||
      has(reason, "record layer failure")) {
    return out + "the server does not answer in TLS (" + std::string(reason) +
           "): for a server without TLS, use http:// or no scheme, and leave ClientOptions::tls "
           "empty";
  }
  return out + std::string(reason);
}

}  // namespace

Status plain_words(Status status, const CallFacts& facts) {
  const std::string_view message = status.message;
  if (message.starts_with("etcdserver:")) return status;
  if (status.code == kDeadlineExceeded && facts.timeout.count() > 0 &&
      same_words(message, "deadline exceeded")) {
    status.message = "no answer from " + facts.endpoint + " within " +
                     std::to_string(facts.timeout.count()) +
                     " ms, the call's deadline (ClientOptions::call_timeout, or "
                     "Client::with_timeout)";
    if (facts.write) status.message += ": the write may or may not have been applied";
    return status;
  }
  if (status.code != kUnavailable) return status;
  if (message.starts_with("TLS handshake refused")) {
    status.message = "TLS handshake with " + facts.endpoint + " refused by the server";
    status.message += facts.has_certificate
                          ? ": does it trust the client certificate's CA?"
                          : ": it likely requires a client certificate (set "
                            "ClientOptions::tls.cert_file and key_file, or cert_pem and key_pem)";
    return status;
  }
  const std::string_view cause = connect_cause(message);
  if (cause.empty()) return status;
  const std::string not_sent = facts.write ? "; the write was not sent" : "";
  if (cause.starts_with("Ssl handshake failed")) {
    status.message = tls_words(cause, facts);
  } else if (same_words(cause, "connection refused")) {
    status.message = "cannot connect to " + facts.endpoint +
                     ": connection refused (nothing listens there: is etcd running, and is this "
                     "its client URL?)" +
                     not_sent;
  } else if (facts.tls && (same_words(cause, "Socket closed") || has(cause, "Connection reset"))) {
    // What a server without TLS does with a TLS handshake: it closes the connection.
    status.message = "cannot connect to " + facts.endpoint + ": " + lower_first(cause) +
                     " during the TLS handshake (is it a server without TLS? then use http:// "
                     "or no scheme, and leave ClientOptions::tls empty)" +
                     not_sent;
  } else if (!facts.tls && same_words(cause, "Socket closed")) {
    // What a TLS server does with a connection that does not start with a TLS handshake.
    status.message = "cannot connect to " + facts.endpoint +
                     ": socket closed (if the server uses TLS on this port, use https:// or set "
                     "ClientOptions::tls)" +
                     not_sent;
  } else {
    status.message = "cannot connect to " + facts.endpoint + ": " + lower_first(cause) + not_sent;
  }
  return status;
}

}  // namespace etcdpp::transport
