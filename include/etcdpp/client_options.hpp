// SPDX-License-Identifier: Apache-2.0
// How a Client connects: ClientOptions (endpoints, deadlines, retries, keep-alive, auth, the
// executor of completions) and its TlsOptions.
#pragma once

#include <asio/any_io_executor.hpp>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace etcdpp {

/// TLS for https:// endpoints (and for every `host:port` endpoint once any field is set). The
/// CA, the client certificate and its key may each be given as a file or as PEM text, not both.
struct TlsOptions {
  /// A PEM file of the CA certificates that sign the servers' certificates. Neither this nor
  /// ca_pem: the system's CAs.
  std::string ca_file{};
  std::string ca_pem{};  ///< The same CA certificates as PEM text, instead of ca_file.
  /// A PEM file of the client's certificate, for servers that require one (mutual TLS, etcd's
  /// --client-cert-auth). The certificate and its key come both or neither: one without the
  /// other, or a file and PEM text for the same item, throws Error (Errc::invalid_option).
  std::string cert_file{};
  std::string cert_pem{};   ///< The client's certificate as PEM text, instead of cert_file.
  std::string key_file{};   ///< A PEM file of the private key of the client's certificate.
  std::string key_pem{};    ///< That private key as PEM text, instead of key_file.
  /// The name the server's certificate must carry, instead of the endpoint's host.
  std::string server_name{};

  /// Whether any field is set.
  bool any() const noexcept {
    return !ca_file.empty() || !ca_pem.empty() || !cert_file.empty() || !cert_pem.empty() ||
           !key_file.empty() || !key_pem.empty() || !server_name.empty();
  }
};

/// How a Client connects. Fill it with designated initializers:
/// `Client client({.endpoints = {"127.0.0.1:2379"}, .call_timeout = 2s});`
struct ClientOptions {
  /// Endpoints of the cluster's members, at most 64 (more throw Error, Errc::invalid_option:
  /// give a few members and let auto_sync_interval learn the others). Calls go to one of them
  /// and fail over to the next when it is unreachable.
  std::vector<std::string> endpoints;
  /// How long a connection attempt to one endpoint may take before the next one is tried.
  std::chrono::milliseconds connect_timeout{2000};
  /// Deadline of each call that has none of its own (see Client::with_timeout). Retries happen
  /// within it. With several endpoints, a member that stops answering (hung, or cut off with
  /// its socket open) is left early: a read whose member has answered nothing, to any call or
  /// stream, for a quarter of the deadline (250ms at least) tries the next endpoint within the
  /// rest; a call that runs out its deadline without a word from its member sends the next
  /// calls elsewhere. (A write is never sent twice: it fails with deadline_exceeded.)
  std::chrono::milliseconds call_timeout{5000};
  /// Interval of HTTP/2 keep-alive pings on a connection that carries a call or a stream (one
  /// that carries none is not pinged); a dead peer is noticed within keepalive_time +
  /// keepalive_timeout. Zero disables the pings. etcd refuses pings more often than every 5 s
  /// by default (its --grpc-keepalive-min-time).
  std::chrono::milliseconds keepalive_time{10000};
  /// How long a keep-alive ping waits for its answer before the connection is dropped as dead.
  std::chrono::milliseconds keepalive_timeout{5000};
  /// Largest message sent, in bytes; a larger request fails with Errc::resource_exhausted.
  /// etcd's own limit on requests is 1.5 MiB by default (--max-request-bytes).
  int max_send_message_size = 2 * 1024 * 1024;
  /// Largest message received, in bytes; a larger answer (a get of a big range) fails the call
  /// with Errc::resource_exhausted.
  int max_receive_message_size = 256 * 1024 * 1024;
  /// Backoff between retries of a call: exponential from `retry_backoff_base`, capped at
  /// `retry_backoff_max`, with full jitter. Reads are retried; writes only when the request
  /// never left this process.
  std::chrono::milliseconds retry_backoff_base{25};
  /// The longest wait between two retries; at least retry_backoff_base (else Error,
  /// Errc::invalid_option).
  std::chrono::milliseconds retry_backoff_max{1000};
  /// How fast a lost connection is retried: gRPC's reconnect backoff, capped at this.
  std::chrono::milliseconds reconnect_backoff_max{1000};
  /// A watch stream that receives nothing, not even answers to the progress requests etcdpp
  /// sends when it has been idle for a third of this, for this long is abandoned and its
  /// watches resumed on another endpoint, from the revision after the last one delivered (a
  /// member that hangs with its socket open is left within this bound).
  std::chrono::milliseconds watch_stall_timeout{3000};
  /// How often the client asks the cluster for its members and adds their client URLs that it
  /// does not know to its endpoints (so that a client given one member learns the others).
  /// Endpoints are only added, never removed. Zero: never.
  std::chrono::milliseconds auto_sync_interval{0};
  /// The most unary calls one Client (all its copies) may have in flight at once; a call
  /// beyond it fails at once with Errc::resource_exhausted, sending nothing. Each call in flight
  /// holds its request, its response and gRPC's state for it (about 15 KiB): 100,000 calls
  /// issued at once hold 1.5 GB and mostly run out their deadline waiting. Zero: no bound.
  std::size_t max_calls_in_flight = 0;
  /// Fail fast when no endpoint can be reached. Off (the default), a call whose endpoints all
  /// refuse connections retries within its deadline, which rides out a restart of the cluster,
  /// and then fails with the last refusal. On, it fails at once with Errc::unavailable, naming
  /// the endpoint and the cause, as soon as every endpoint has refused a connection within
  /// the last reconnect_backoff_max (nothing was sent, so a write had no effect). For
  /// programs that must not wait for a cluster that is not there: health checks, CLIs.
  bool fail_fast = false;
  /// Executor on which asynchronous completions run when their handler has no associated
  /// executor. When empty, the client runs one thread of its own for them.
  asio::any_io_executor executor;
  /// Credentials for etcd's authentication. With a username, the client authenticates
  /// (Auth.Authenticate) before its first call, sends the token with every call, watch and
  /// keep-alive stream, and when etcd says the token is invalid or expired, authenticates again
  /// once and repeats the call once. Wrong credentials fail the call with Errc::auth_failed.
  /// Against a server with auth off the calls go without a token. Empty: no authentication.
  std::string username{};
  std::string password{};  ///< The password of `username`; unused without a username.
  /// TLS for https:// endpoints. Files are read when the Client is made: one that cannot be
  /// read throws Error (Errc::invalid_option) naming it. A server whose certificate is not
  /// trusted, or that refuses the client's, fails calls with Errc::tls_handshake_failed.
  TlsOptions tls{};
};

}  // namespace etcdpp
