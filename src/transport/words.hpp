// SPDX-License-Identifier: Apache-2.0
// The words of a failed call: gRPC's texts ("failed to connect to all addresses; last error:
// UNKNOWN: ipv4:...", "Deadline Exceeded") made into what a user can act on, naming the
// endpoint, the deadline and the option that sets it, and what became of a write. Pure logic,
// unit-tested; applied once, to the status a call ends with (the retry logic reads gRPC's own
// texts before that).
#pragma once

#include <chrono>
#include <string>

#include "transport/transport.hpp"

namespace etcdpp::transport {

/// What the words of a call's failure depend on.
struct CallFacts {
  /// The endpoint of the call's last attempt, as Endpoint::to_string writes it.
  std::string endpoint;
  /// Whether that endpoint is reached over TLS (https://, or ClientOptions::tls set).
  bool tls = false;
  /// Whether the client has a certificate of its own (ClientOptions::tls.cert_*).
  bool has_certificate = false;
  /// Whether the call may change something (a put, a delete, a txn that writes, a lease
  /// grant...): one cut off in flight may or may not have been applied.
  bool write = false;
  /// The call's deadline, from its start; zero for a stream, which has none.
  std::chrono::milliseconds timeout{0};
};

/// `status` with etcdpp's words where gRPC's would be; codes never change. etcd's own messages
/// ("etcdserver: ...") and etcdpp's are kept as they are.
Status plain_words(Status status, const CallFacts& facts);

}  // namespace etcdpp::transport
