// SPDX-License-Identifier: Apache-2.0
// The gRPC transport's auth token (ClientOptions::username and password): one Authenticate
// call at a time, on first need and again when etcd refuses the token; calls that need a token
// meanwhile wait for its outcome.
#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"
#include "transport/grpc_transport.hpp"

namespace etcdpp::transport {

std::string GrpcTransport::token() const {
  if (!auth_) return {};
  std::lock_guard lock(auth_->mutex);
  return auth_->token;
}

void GrpcTransport::refresh_token(const std::string& stale, std::function<void(Status)> done) {
  if (!auth_) {
    done(Status{});
    return;
  }
  std::unique_lock lock(auth_->mutex);
  if (auth_->phase != AuthState::Phase::none && auth_->token != stale) {
    // Renewed since the caller's token was taken: use the new one.
    lock.unlock();
    done(Status{});
    return;
  }
  auth_->phase = AuthState::Phase::none;
  auth_->token.clear();
  auth_->waiters.push_back(std::move(done));
  if (auth_->busy) return;
  auth_->busy = true;
  lock.unlock();
  authenticate();
}

void GrpcTransport::with_token(const std::shared_ptr<UnaryCall>& call) {
  std::unique_lock lock(auth_->mutex);
  if (auth_->phase != AuthState::Phase::none) {
    call->token = auth_->token;
    lock.unlock();
    attempt(call);
    return;
  }
  auth_->waiters.push_back([this, call](Status status) { after_token(call, std::move(status)); });
  if (auth_->busy) return;
  auth_->busy = true;
  lock.unlock();
  authenticate();
}

void GrpcTransport::after_token(const std::shared_ptr<UnaryCall>& call, Status status) {
  if (!status.ok()) {
    // The call fails with the reason authentication did (wrong credentials, no server).
    finish(call, std::move(status));
    return;
  }
  call->token = token();
  attempt(call);
}

void GrpcTransport::authenticate() {
  struct Exchange {
    etcdserverpb::AuthenticateRequest request;
    etcdserverpb::AuthenticateResponse response;
  };
  auto exchange = std::make_shared<Exchange>();
  exchange->request.set_name(auth_->username);
  exchange->request.set_password(auth_->password);
  const UnaryOptions options{Clock::now() + options_.call_timeout, true, nullptr, std::nullopt};
  start_unary(
      kAuthenticate, exchange->request, &exchange->response, options,
      [this, exchange](Status status) {
        std::vector<std::function<void(Status)>> waiters;
        {
          std::lock_guard lock(auth_->mutex);
          auth_->busy = false;
          if (status.ok()) {
            auth_->phase = AuthState::Phase::token;
            auth_->token = exchange->response.token();
            auth_->authentications.fetch_add(1);
          } else if (status.message == "etcdserver: authentication is not enabled") {
            // As the Go client does: with auth off, calls go without a token. Should auth
            // be turned on later, etcd's "user name is empty" brings us back here.
            auth_->phase = AuthState::Phase::auth_off;
            auth_->token.clear();
            status = Status{};
          }
          waiters.swap(auth_->waiters);
        }
        for (auto& waiter : waiters) waiter(status);
      },
      true);
}

bool is_token_error(std::string_view message) noexcept {
  return message == "etcdserver: invalid auth token" ||
         message == "etcdserver: user name is empty" ||
         message == "etcdserver: revision of auth store is old";
}

}  // namespace etcdpp::transport
