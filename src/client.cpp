// SPDX-License-Identifier: Apache-2.0
// The Client: options checked, the transport made, and each KV call implemented once on the
// asynchronous core. The blocking face waits for that same core.
#include "etcdpp/client.hpp"

#include <pthread.h>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <array>
#include <cstdio>
#include <thread>

#include "client_core.hpp"
#include "endpoint_syncer.hpp"
#include "watch_hub.hpp"
#include "detail/convert.hpp"
#include "detail/status.hpp"

namespace etcdpp {
namespace detail {

ClientCore::ClientCore(const ClientOptions& options) : options_(options) {
  if (options.endpoints.empty()) {
    throw_error(make_error_code(Errc::invalid_endpoint), "Client: no endpoint given");
  }
  if (options.endpoints.size() > transport::kMaxEndpoints) {
    throw_error(make_error_code(Errc::invalid_option),
                "ClientOptions: " + std::to_string(options.endpoints.size()) +
                    " endpoints given; a Client takes at most " +
                    std::to_string(transport::kMaxEndpoints) +
                    " (give a few members of the cluster and set auto_sync_interval to learn the "
                    "others)");
  }
  std::vector<Endpoint> endpoints;
  for (const auto& text : options.endpoints) endpoints.push_back(Endpoint::parse(text));
  const auto check = [](bool ok, const char* what) {
    if (!ok) {
      throw_error(make_error_code(Errc::invalid_option),
                  std::string("ClientOptions: ") + what);
    }
  };
  check(options.call_timeout.count() > 0, "call_timeout must be positive");
  check(options.connect_timeout.count() > 0, "connect_timeout must be positive");
  check(options.retry_backoff_base.count() > 0 &&
            options.retry_backoff_max >= options.retry_backoff_base,
        "retry_backoff_base must be positive and at most retry_backoff_max");
  check(options.reconnect_backoff_max.count() >= 100, "reconnect_backoff_max must be >= 100ms");
  check(options.max_send_message_size > 0 && options.max_receive_message_size > 0,
        "message size limits must be positive");
  check(options.watch_stall_timeout >= std::chrono::milliseconds(300),
        "watch_stall_timeout must be at least 300ms");
  check(options.auto_sync_interval.count() >= 0, "auto_sync_interval must not be negative");

  // First, while a failure (an unreadable TLS file) can still throw with no thread started.
  transport_ = transport::make_grpc_transport(options, std::move(endpoints));
  if (options.executor) {
    executor_ = options.executor;
  } else {
    // The client's one thread: it runs the completions of asynchronous calls whose handler
    // has no executor of its own, so that no user code runs on a gRPC thread.
    io_ = std::make_shared<asio::io_context>(1);
    work_.emplace(io_->get_executor());
    executor_ = io_->get_executor();
    thread_ = std::thread([io = io_] {
      ::pthread_setname_np(::pthread_self(), "etcdpp-exec");
      io->run();
    });
  }
  if (options.auto_sync_interval.count() > 0) {
    syncer_ = std::make_shared<EndpointSyncer>(*transport_, executor_, options.auto_sync_interval,
                                               options.call_timeout);
    syncer_->start();
  }
}

std::shared_ptr<WatchHub> ClientCore::watch_hub() {
  std::lock_guard lock(hubs_mutex_);
  if (!watch_hub_) {
    watch_hub_ = std::make_shared<WatchHub>(*transport_, executor_, options_);
    watch_hub_->start();
  }
  return watch_hub_;
}

ClientCore::~ClientCore() {
  // The streams go first (a posted tick may still hold the hub for a moment, but after
  // shutdown() it no longer touches the transport). Then the transport: it cancels what is in
  // flight and waits for the callbacks, whose completions may still be posted to the thread
  // below.
  if (syncer_) syncer_->stop();
  if (watch_hub_) watch_hub_->shutdown();
  watch_hub_.reset();
  shutdown_lease_keeper();
  transport_.reset();
  if (!thread_.joinable()) return;
  work_.reset();
  if (thread_.get_id() == std::this_thread::get_id()) {
    // The last copy of the Client died in a handler running on the client's own thread; that
    // thread cannot join itself. It holds the io_context and ends when run() returns.
    thread_.detach();
  } else {
    thread_.join();
  }
}

}  // namespace detail

namespace {

using detail::CallStatus;
using detail::pb::CompactionRequest;
using detail::pb::CompactionResponse;
using detail::pb::DeleteRangeRequest;
using detail::pb::DeleteRangeResponse;
using detail::pb::PutRequest;
using detail::pb::PutResponse;
using detail::pb::RangeRequest;
using detail::pb::RangeResponse;
using detail::pb::TxnRequest;
using detail::pb::TxnResponse;

constexpr transport::Method kRange{"/etcdserverpb.KV/Range", true};
constexpr transport::Method kPut{"/etcdserverpb.KV/Put", false};
constexpr transport::Method kDeleteRange{"/etcdserverpb.KV/DeleteRange", false};
constexpr transport::Method kTxn{"/etcdserverpb.KV/Txn", false};
constexpr transport::Method kCompact{"/etcdserverpb.KV/Compact", true};

/// What a transaction's message names: the first key it touches.
std::string txn_subject(const Txn& txn) {
  if (!txn.compares().empty()) return txn.compares().front().key;
  for (const auto* ops : {&txn.success(), &txn.failure()}) {
    for (const auto& op : *ops) {
      std::string key;
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (!std::is_same_v<T, std::shared_ptr<const Txn>>) key = v.key;
          },
          op.variant());
      if (!key.empty()) return key;
    }
  }
  return {};
}

}  // namespace

Client::Client(ClientOptions options)
    : context_{std::make_shared<detail::ClientCore>(options), options.call_timeout, {}} {}

Client Client::with_timeout(std::chrono::milliseconds timeout) const {
  if (timeout.count() <= 0) {
    throw_error(make_error_code(Errc::invalid_option), "with_timeout: timeout must be positive");
  }
  Client copy = *this;
  copy.context_.timeout = timeout;
  return copy;
}

Client Client::with_namespace(std::string_view prefix) const {
  // Any bytes make a namespace; the empty one changes nothing. A view of a view nests.
  Client copy = *this;
  copy.context_.ns += prefix;
  return copy;
}

std::vector<Endpoint> Client::endpoints() const {
  return context_.core->transport().endpoints();
}

asio::any_io_executor Client::executor() const noexcept { return context_.core->executor(); }

ClusterClient Client::cluster() const { return ClusterClient(context_); }
MaintenanceClient Client::maintenance() const { return MaintenanceClient(context_); }
AuthClient Client::auth() const { return AuthClient(context_); }

std::vector<EndpointInfo> Client::connection_info() const {
  auto& transport = context_.core->transport();
  const auto states = transport.endpoint_states();
  const auto eps = transport.endpoints();
  std::vector<EndpointInfo> out;
  const auto now = transport::Clock::now();
  const auto wall = std::chrono::system_clock::now();
  for (std::size_t i = 0; i < eps.size() && i < states.size(); ++i) {
    EndpointInfo info;
    info.endpoint = eps[i].to_string();
    using C = transport::EndpointState::Connectivity;
    switch (states[i].connectivity) {
      case C::idle:
        info.state = EndpointInfo::State::idle;
        break;
      case C::connecting:
        info.state = EndpointInfo::State::connecting;
        break;
      case C::ready:
        info.state = EndpointInfo::State::connected;
        break;
      case C::failing:
        info.state = EndpointInfo::State::failing;
        break;
    }
    if (info.state == EndpointInfo::State::failing) {
      // gRPC reconnects on its own backoff; calls come back to it once it is no longer avoided.
      const auto left = states[i].avoided_until ? *states[i].avoided_until - now
                                                : transport::Clock::duration::zero();
      info.next_retry = wall + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                   std::max(left, transport::Clock::duration::zero()));
    }
    info.is_leader = states[i].is_leader;
    info.streams = states[i].streams;
    out.push_back(std::move(info));
  }
  return out;
}

std::string_view to_string(EndpointInfo::State state) noexcept {
  switch (state) {
    case EndpointInfo::State::idle:
      return "idle";
    case EndpointInfo::State::connecting:
      return "connecting";
    case EndpointInfo::State::connected:
      return "connected";
    case EndpointInfo::State::failing:
      return "failing";
  }
  return "?";
}

std::string to_string(const std::vector<EndpointInfo>& endpoints) {
  std::vector<std::array<std::string, 4>> rows{{"ENDPOINT", "STATE", "LEADER", "STREAMS"}};
  const auto wall = std::chrono::system_clock::now();
  for (const auto& e : endpoints) {
    std::string state(to_string(e.state));
    if (e.next_retry) {
      const auto ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(*e.next_retry - wall).count();
      char buffer[48];
      std::snprintf(buffer, sizeof buffer, " (retry in %.1f s)",
                    static_cast<double>(std::max<std::int64_t>(ms, 0)) / 1000.0);
      state += buffer;
    }
    rows.push_back({e.endpoint, state,
                    !e.is_leader   ? "?"
                    : *e.is_leader ? "yes"
                                   : "no",
                    std::to_string(e.streams)});
  }
  std::array<std::size_t, 4> width{};
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < 4; ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < 4; ++c) {
      line += row[c];
      if (c + 1 < 4) line += std::string(width[c] - row[c].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

namespace detail {

asio::any_io_executor executor_of(const CallContext& context) noexcept {
  return context.core->executor();
}

std::string endpoints_text(const std::vector<Endpoint>& endpoints) {
  std::string out;
  for (const auto& e : endpoints) out += (out.empty() ? "" : ",") + e.to_string();
  return out;
}

std::string endpoints_text(const CallContext& context) {
  return endpoints_text(context.core->transport().endpoints());
}

namespace calls {

void start(const CallContext& cx, Get call, Callback<GetResult> cb, CancellerPtr canceller) {
  cb = described("get", call.key, std::move(cb));
  call.options.range_end = call.range_end;
  cx.core->call_with<RangeRequest, RangeResponse>(
      kRange, [&](RangeRequest& request) { to_proto(cx.ns, call.key, call.options, &request); },
      cx.timeout, std::move(canceller), false,
      [ns = cx.ns, cb = std::move(cb)](CallStatus status, RangeResponse&& r) {
        cb(std::move(status), from_proto(ns, std::move(r)));
      });
}

void start(const CallContext& cx, GetOne call, Callback<std::optional<KeyValue>> cb,
           CancellerPtr canceller) {
  start(cx, Get(call.key, {}),
        [cb = std::move(cb)](CallStatus status, GetResult r) {
          std::optional<KeyValue> kv;
          if (!r.kvs.empty()) kv = std::move(r.kvs.front());
          cb(std::move(status), std::move(kv));
        },
        std::move(canceller));
}

void start(const CallContext& cx, Put call, Callback<PutResult> cb, CancellerPtr canceller) {
  cb = described("put", call.key, std::move(cb));
  cx.core->call_with<PutRequest, PutResponse>(
      kPut,
      [&](PutRequest& request) {
        // Moved, not copied: the value may be large, and the description's copy is ours.
        to_proto(cx.ns, std::move(call.key), std::move(call.value), call.options, &request);
      },
      cx.timeout, std::move(canceller), false,
      [ns = cx.ns, cb = std::move(cb)](CallStatus status, PutResponse&& r) {
        cb(std::move(status), from_proto(ns, std::move(r)));
      });
}

void start(const CallContext& cx, DeleteRange call, Callback<DeleteResult> cb,
           CancellerPtr canceller) {
  cb = described("delete_range", call.key, std::move(cb));
  call.options.range_end = call.range_end;
  cx.core->call_with<DeleteRangeRequest, DeleteRangeResponse>(
      kDeleteRange,
      [&](DeleteRangeRequest& request) { to_proto(cx.ns, call.key, call.options, &request); },
      cx.timeout, std::move(canceller), false,
      [ns = cx.ns, cb = std::move(cb)](CallStatus status, DeleteRangeResponse&& r) {
        cb(std::move(status), from_proto(ns, std::move(r)));
      });
}

void start(const CallContext& cx, RunTxn call, Callback<TxnResult> cb, CancellerPtr canceller) {
  cb = described("txn", txn_subject(call.txn), std::move(cb));
  // A transaction that writes nothing is as safe to retry as a read.
  const bool read_only = call.txn.read_only();
  cx.core->call_with<TxnRequest, TxnResponse>(
      kTxn, [&](TxnRequest& request) { to_proto(cx.ns, call.txn, &request); }, cx.timeout,
      std::move(canceller), read_only,
      [ns = cx.ns, cb = std::move(cb)](CallStatus status, TxnResponse&& r) {
        cb(std::move(status), from_proto(ns, std::move(r)));
      });
}

void start(const CallContext& cx, Compact call, Callback<CompactResult> cb,
           CancellerPtr canceller) {
  cb = described("compact", "rev " + std::to_string(call.revision), std::move(cb));
  cx.core->call_with<CompactionRequest, CompactionResponse>(
      kCompact,
      [&](CompactionRequest& request) {
        request.set_revision(call.revision);
        request.set_physical(call.options.physical);
      },
      cx.timeout, std::move(canceller), false,
      [cb = std::move(cb)](CallStatus status, CompactionResponse&& r) {
        cb(std::move(status), CompactResult{from_proto(r.header())});
      });
}

}  // namespace calls
}  // namespace detail

}  // namespace etcdpp
