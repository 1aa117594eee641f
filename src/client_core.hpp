// SPDX-License-Identifier: Apache-2.0
// What a Client's copies share: the transport and the executor for completions.
#pragma once

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "detail/status.hpp"
#include "etcdpp/client.hpp"
#include "transport/transport.hpp"

namespace etcdpp::detail {

class WatchHub;
class LeaseKeeper;
class EndpointSyncer;

class ClientCore {
 public:
  explicit ClientCore(const ClientOptions& options);
  ~ClientCore();
  ClientCore(const ClientCore&) = delete;
  ClientCore& operator=(const ClientCore&) = delete;

  transport::Transport& transport() noexcept { return *transport_; }
  /// The hub of this client's watches, made on first use.
  std::shared_ptr<WatchHub> watch_hub();
  /// The keeper of this client's kept-alive leases, made on first use.
  std::shared_ptr<LeaseKeeper> lease_keeper();
  void shutdown_lease_keeper();
  const asio::any_io_executor& executor() const noexcept { return executor_; }

  /// One unary call, with the request built in place: `fill(request)` fills a default Request,
  /// which is sent within `timeout`; the response (or the failure) goes to `done`, on a
  /// transport thread. Request, response and `done` share one allocation until then.
  template <class Request, class Response, class Fill, class Done>
  void call_with(const transport::Method& method, Fill&& fill, std::chrono::milliseconds timeout,
                 std::shared_ptr<Canceller> canceller, bool idempotent, Done done) {
    struct State {
      explicit State(Done d) : done(std::move(d)) {}
      Request request;
      Response response;
      Done done;
    };
    auto state = std::make_shared<State>(std::move(done));
    std::forward<Fill>(fill)(state->request);
    transport::UnaryOptions options{transport::Clock::now() + timeout, idempotent,
                                    std::move(canceller), std::nullopt};
    transport_->unary(method, state->request, &state->response, options,
                      [state](transport::Status status) {
                        state->done(call_status(status.code, std::move(status.message)),
                                    std::move(state->response));
                      });
  }

  /// One unary call: sends `request` within `timeout` and hands the response (or the failure) to
  /// `done`, on a transport thread. The request and response live on the heap until then.
  template <class Response, class Request, class Done>
  void call(const transport::Method& method, std::unique_ptr<Request> request,
            std::chrono::milliseconds timeout, std::shared_ptr<Canceller> canceller,
            bool idempotent, Done done) {
    call_on<Response>(std::nullopt, method, std::move(request), timeout, std::move(canceller),
                      idempotent, std::move(done));
  }

  /// As call(), pinned to endpoints()[*endpoint] when it is set: one attempt there, no failover.
  template <class Response, class Request, class Done>
  void call_on(std::optional<std::size_t> endpoint, const transport::Method& method,
               std::unique_ptr<Request> request, std::chrono::milliseconds timeout,
               std::shared_ptr<Canceller> canceller, bool idempotent, Done done) {
    call_via<Response>(*transport_, endpoint, method, std::move(request), timeout,
                       std::move(canceller), idempotent, std::move(done));
  }

  /// As call_on(), through `transport`: for a call made from another call's callback, which
  /// must hold no Client (the transport outlives its callbacks, and refuses calls once it is
  /// closing).
  template <class Response, class Request, class Done>
  static void call_via(transport::Transport& transport, std::optional<std::size_t> endpoint,
                       const transport::Method& method, std::unique_ptr<Request> request,
                       std::chrono::milliseconds timeout, std::shared_ptr<Canceller> canceller,
                       bool idempotent, Done done) {
    struct State {
      std::unique_ptr<Request> request;
      Response response;
      Done done;
    };
    auto state = std::make_shared<State>(State{std::move(request), Response{}, std::move(done)});
    transport::UnaryOptions options{transport::Clock::now() + timeout, idempotent,
                                    std::move(canceller), endpoint};
    transport.unary(method, *state->request, &state->response, options,
                    [state](transport::Status status) {
                      state->done(call_status(status.code, std::move(status.message)),
                                  std::move(state->response));
                    });
  }

 private:
  std::shared_ptr<asio::io_context> io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  asio::any_io_executor executor_;
  std::thread thread_;
  std::unique_ptr<transport::Transport> transport_;
  ClientOptions options_;
  std::mutex hubs_mutex_;
  std::shared_ptr<WatchHub> watch_hub_;
  std::shared_ptr<LeaseKeeper> lease_keeper_;
  std::shared_ptr<EndpointSyncer> syncer_;
};

/// Makes the handles of long-lived objects (their constructors are private to the library).
struct HandleAccess {
  static Watch watch(std::shared_ptr<WatchState> state, std::shared_ptr<ClientCore> core) {
    Watch watch(std::move(state));
    watch.client_ = std::move(core);
    return watch;
  }
  static KeepAlive keep_alive(std::shared_ptr<KeepAliveState> state,
                              std::shared_ptr<ClientCore> core) {
    KeepAlive handle;
    handle.client_ = std::move(core);
    handle.state_ = std::move(state);
    return handle;
  }
};

/// Calls about the cluster rather than a key name the endpoints they went to instead: "a,b,c".
std::string endpoints_text(const std::vector<Endpoint>& endpoints);
std::string endpoints_text(const CallContext& context);

}  // namespace etcdpp::detail
