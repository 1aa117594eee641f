// SPDX-License-Identifier: Apache-2.0
// The gRPC transport's unary calls: each attempt on the transport's completion queue, failover
// between endpoints, retries with capped exponential backoff and jitter (retry.hpp) timed by
// grpc::Alarm, and the watchdog that abandons a read whose member has gone silent.
#include <grpcpp/impl/codegen/proto_utils.h>

#include <random>

#include "transport/grpc_transport.hpp"
#include "transport/retry.hpp"
#include "transport/words.hpp"

namespace etcdpp::transport {
namespace {

double random01() {
  thread_local std::minstd_rand engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

/// A read attempt is never abandoned for silence sooner than this.
constexpr std::chrono::milliseconds kMinSilenceLimit{250};

/// Whether a failed call's status came from the server (its member is alive), rather than from
/// the client's side: a deadline, a cancellation, a connection that failed.
bool answered_by_server(const grpc::Status& status) {
  switch (status.error_code()) {
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
      return false;
    case grpc::StatusCode::UNAVAILABLE:
      return status.error_message().rfind("etcdserver:", 0) == 0;
    default:
      return true;
  }
}

}  // namespace

void GrpcTransport::start_unary(const Method& method, const Message& request, Message* response,
                                const UnaryOptions& options, std::function<void(Status)> done,
                                bool authenticating) {
  auto call = std::make_shared<UnaryCall>(*this);
  call->authenticating = authenticating;
  call->method = method.path;
  call->request = &request;
  call->response = response;
  call->options = options;
  call->options.idempotent = options.idempotent || method.idempotent;
  call->started = Clock::now();
  call->done = std::move(done);
  {
    std::lock_guard lock(mutex_);
    if (closing_) {
      call->done(Status{1, "client is shutting down"});
      return;
    }
    if (options_.max_calls_in_flight != 0 && in_flight_ >= options_.max_calls_in_flight) {
      call->done(Status{8, std::to_string(in_flight_) +
                               " calls are in flight, the most ClientOptions::max_calls_in_flight "
                               "allows: nothing was sent; wait for some to complete, or raise "
                               "the bound"});
      return;
    }
    ++in_flight_;
    call->next = calls_;
    if (calls_ != nullptr) calls_->prev = call.get();
    calls_ = call.get();
  }
  if (call->options.canceller) {
    std::weak_ptr<UnaryCall> weak = call;
    const bool live = call->options.canceller->set_action([weak] {
      if (auto c = weak.lock()) cancel(*c);
    });
    if (!live) {
      finish(call, Status{1, "cancelled"});
      return;
    }
  }
  if (call->options.endpoint && *call->options.endpoint >= count()) {
    finish(call, Status{3, "no endpoint " + std::to_string(*call->options.endpoint)});
    return;
  }
  call->endpoint = call->options.endpoint ? *call->options.endpoint : choose_endpoint();
  if (call->options.idempotent && !call->options.endpoint && count() > 1) {
    // A read need not wait out its whole deadline on a member that has stopped answering (a
    // frozen process, a partition that leaves the socket open): after a quarter of it, the
    // next endpoint may serve within the rest.
    call->silence_limit = std::max<std::chrono::nanoseconds>(
        kMinSilenceLimit, (call->options.deadline - Clock::now()) / 4);
  }
  if (auth_ && !call->authenticating) {
    with_token(call);
    return;
  }
  attempt(call);
}

bool GrpcTransport::tls_refused(Status& status) const {
  if (status.message.find("Ssl handshake failed") != std::string::npos) return true;
  const bool has_certificate = !options_.tls.cert_file.empty() || !options_.tls.cert_pem.empty();
  if (!has_certificate &&
      status.message.find("failed to connect to all addresses") != std::string::npos &&
      status.message.find("Endpoint read failed") != std::string::npos) {
    status.message = "TLS handshake refused by the server";  // worded by plain_words
    return true;
  }
  return false;
}

void GrpcTransport::cancel(UnaryCall& call) {
  std::lock_guard lock(call.mutex);
  call.cancelled = true;
  if (call.context) call.context->TryCancel();
  if (call.alarm) call.alarm->Cancel();
}

void GrpcTransport::attempt(const std::shared_ptr<UnaryCall>& call) {
  ++call->attempt;
  call->response->Clear();
  grpc::ClientContext* context;
  {
    std::lock_guard lock(call->mutex);
    if (call->cancelled) {
      // Cancelled between attempts: finish outside the lock.
      context = nullptr;
    } else {
      call->reader.reset();  // lives in the previous attempt's arena
      call->abandoned = false;
      call->attempt_running = true;
      call->attempt_started = to_ns(Clock::now());
      call->context.emplace();
      call->context->set_deadline(to_system(call->options.deadline));
      // Fail fast on an endpoint that is down rather than wait for it: the next one may serve.
      call->context->set_wait_for_ready(false);
      if (!call->token.empty()) call->context->AddMetadata("token", call->token);
      context = &*call->context;
    }
  }
  if (context == nullptr) {
    finish(call, Status{1, "cancelled"});
    return;
  }
  auto& channel = *channels_[call->endpoint];
  // What a generated stub's async unary call does, with the channel's registered method, on
  // the transport's own completion queue (see Poller).
  call->in_flight = call;
  call->reader.reset(grpc::internal::ClientAsyncResponseReaderHelper::Create<Message>(
      channel.channel.get(), &poller_->cq, channel.method(call->method), context,
      *call->request));
  call->reader->StartCall();
  call->reader->Finish(call->response, &call->status, call.get());
  if (call->silence_limit.count() > 0) arm_watchdog(call, Clock::now() + call->silence_limit);
}

void GrpcTransport::arm_watchdog(const std::shared_ptr<UnaryCall>& call, Clock::time_point when) {
  std::lock_guard lock(call->mutex);
  if (call->cancelled || !call->context) return;
  if (when >= call->options.deadline) return;  // the deadline comes first anyway
  const int attempt = call->attempt;
  const std::size_t endpoint = call->endpoint;
  call->spent_watchdog = std::move(call->watchdog);
  call->watchdog = std::make_unique<grpc::Alarm>();
  std::weak_ptr<UnaryCall> weak = call;
  call->watchdog->Set(to_system(when), [this, weak, attempt, endpoint](bool fired) {
    auto c = weak.lock();
    if (!fired || !c) return;
    const auto heard = channels_[endpoint]->last_answer.load(std::memory_order_relaxed);
    Clock::time_point silent_since;
    {
      std::lock_guard watchdog_lock(c->mutex);
      if (c->attempt != attempt || c->cancelled || !c->attempt_running) return;
      silent_since = Clock::time_point(std::chrono::nanoseconds(std::max(heard, c->attempt_started)));
      if (Clock::now() - silent_since >= c->silence_limit) {
        c->abandoned = true;
        c->context->TryCancel();
        return;
      }
    }
    arm_watchdog(c, silent_since + c->silence_limit);  // it spoke lately: look again then
  });
}

void GrpcTransport::attempt_done(const std::shared_ptr<UnaryCall>& call,
                                 const grpc::Status& status) {
  auto& channel = *channels_[call->endpoint];
  bool abandoned = false;
  {
    std::lock_guard lock(call->mutex);
    if (call->watchdog) call->watchdog->Cancel();
    call->attempt_running = false;
    abandoned = call->abandoned && !call->cancelled;
  }
  if (status.ok()) {
    heard_from(call->endpoint);
    channel.failing_until.store(0, std::memory_order_relaxed);
    finish(call, Status{});
    return;
  }
  if (answered_by_server(status)) heard_from(call->endpoint);
  if (abandoned) {
    // Its member said nothing for silence_limit: it is hung, or cut off with its socket still
    // open. Later calls go elsewhere too; this read tries the next endpoint at once.
    call->last = Status{4, "no answer from " + channel.endpoint.to_string() + " within " +
                               std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                  call->silence_limit)
                                                  .count()) +
                               "ms (is its member hung?), nor from the endpoints tried after it"};
    avoid(call->endpoint);
    call->endpoint = choose_endpoint();
    attempt(call);
    return;
  }
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && !call->options.endpoint &&
      count() > 1) {
    // A call (a write) that waited out its deadline while its member said nothing for the
    // last third of it (or more): the next calls should not go there.
    const auto now = to_ns(Clock::now());
    const auto quiet = now - std::max(channel.last_answer.load(std::memory_order_relaxed),
                                      call->attempt_started);
    if (quiet >= (now - call->attempt_started) / 3) avoid(call->endpoint);
  }
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && call->last.code != 0) {
    // The deadline ran out during a retry: the earlier attempt's failure (a refused
    // connection, say) tells the caller more than "deadline exceeded" does, and which one a
    // caller sees must not depend on how the time fell between attempts.
    finish(call, call->last);
    return;
  }
  call->last = Status{static_cast<int>(status.error_code()), status.error_message()};
  call->last_endpoint = call->endpoint;
  {
    std::lock_guard lock(call->mutex);
    if (call->cancelled) {
      call->last = Status{1, "cancelled"};
    }
  }
  if (channel.tls && call->last.code == 14 && tls_refused(call->last)) {
    // A certificate the client does not trust, or a server that refuses the client: no
    // retry cures it, so say so now rather than retry until the deadline.
    finish(call, call->last);
    return;
  }
  if (auth_ && !call->authenticating && !call->reauthenticated &&
      is_token_error(call->last.message)) {
    // The token expired or auth came on: authenticate again, once, and repeat the call once.
    // etcd refused the call before doing anything, so repeating a write is safe.
    call->reauthenticated = true;
    refresh_token(call->token,
                  [this, call](Status outcome) { after_token(call, std::move(outcome)); });
    return;
  }
  if (call->last.code == 1 || call->options.endpoint) {
    // Cancelled, or pinned to its endpoint: no other attempt. An endpoint found down is
    // avoided by the calls that may go elsewhere, as after any failure there.
    if (call->options.endpoint && call->last.code == 14) {
      channel.failing_until.store(to_ns(Clock::now() + options_.reconnect_backoff_max),
                                  std::memory_order_relaxed);
    }
    finish(call, call->last);
    return;
  }
  const Verdict verdict = classify(call->last.code, call->last.message, call->options.idempotent);
  if (verdict == Verdict::fail) {
    finish(call, call->last);
    return;
  }
  const std::size_t n = count();
  bool immediately = false;
  if (verdict == Verdict::retry_next_endpoint) {
    const auto until = Clock::now() + options_.reconnect_backoff_max;
    channel.failing_until.store(to_ns(until), std::memory_order_relaxed);
    std::size_t expected = call->endpoint;
    current_.compare_exchange_strong(expected, (call->endpoint + 1) % n);
    const std::size_t next = choose_endpoint();
    // Another endpoint that has not failed lately is worth trying at once.
    immediately = next != call->endpoint && channels_[next]->failing_until.load(
                                                std::memory_order_relaxed) <= to_ns(Clock::now());
    call->endpoint = next;
  } else if (n > 1) {
    call->endpoint = (call->endpoint + 1) % n;
  }
  if (immediately) {
    attempt(call);
    return;
  }
  if (options_.fail_fast && verdict == Verdict::retry_next_endpoint) {
    // Every endpoint has refused a connection within reconnect_backoff_max: the caller asked
    // not to wait for a cluster that is not there.
    finish(call, call->last, " (every endpoint refuses connections; fail_fast is set)");
    return;
  }
  const auto wait =
      backoff(call->attempt, options_.retry_backoff_base, options_.retry_backoff_max, random01());
  if (Clock::now() + wait >= call->options.deadline) {
    // No time left for another try: report the real failure, not a deadline.
    finish(call, call->last);
    return;
  }
  {
    std::lock_guard lock(call->mutex);
    if (!call->cancelled) {
      call->alarm = std::make_unique<grpc::Alarm>();
      // The alarm keeps its callback: a strong reference there would be a cycle. `retained`
      // holds the call until the alarm fires or is cancelled.
      call->retained = call;
      std::weak_ptr<UnaryCall> weak = call;
      call->alarm->Set(std::chrono::system_clock::now() + wait, [this, weak](bool fired) {
        auto c = weak.lock();
        if (!c) return;
        {
          std::lock_guard retained_lock(c->mutex);
          c->retained.reset();  // `c` holds it now
        }
        if (fired) {
          attempt(c);
        } else {
          finish(c, Status{1, "cancelled"});
        }
      });
      return;
    }
  }
  finish(call, Status{1, "cancelled"});
}

CallFacts GrpcTransport::facts_of(std::size_t endpoint) const {
  const Channel& channel = *channels_[endpoint];
  return CallFacts{channel.endpoint.to_string(), channel.tls,
                   !options_.tls.cert_file.empty() || !options_.tls.cert_pem.empty(), false, {}};
}

void GrpcTransport::finish(const std::shared_ptr<UnaryCall>& call, Status status,
                           std::string_view note) {
  if (status.code != 0) {
    // The one place where a call's failure gets etcdpp's words (transport/words.hpp).
    CallFacts facts = facts_of(std::min(call->last_endpoint, count() - 1));
    facts.write = !call->options.idempotent;
    facts.timeout =
        std::chrono::ceil<std::chrono::milliseconds>(call->options.deadline - call->started);
    status = plain_words(std::move(status), facts);
    status.message += note;
  }
  if (call->options.canceller) call->options.canceller->clear_action();
  auto done = std::move(call->done);
  done(std::move(status));
  std::lock_guard lock(mutex_);
  --in_flight_;
  if (call->prev != nullptr) {
    call->prev->next = call->next;
  } else {
    calls_ = call->next;
  }
  if (call->next != nullptr) call->next->prev = call->prev;
  call->prev = call->next = nullptr;
}

void UnaryCall::complete(bool) {
  std::shared_ptr<UnaryCall> held = std::move(in_flight);
  live.transport.on_attempt_done(held, held->status);
}

}  // namespace etcdpp::transport
