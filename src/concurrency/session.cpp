// SPDX-License-Identifier: Apache-2.0
// Session: a lease granted (or adopted) and kept alive by the client's shared keep-alive stream.
#include "etcdpp/concurrency/session.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include "concurrency/recipe.hpp"

namespace etcdpp::concurrency {

namespace {

constexpr std::chrono::seconds kMinTtl{2};

void check_options(const SessionOptions& options) {
  if (options.lease == LeaseId{} && options.ttl < kMinTtl) {
    throw Error(make_error_code(Errc::invalid_option),
                "Session: ttl " + std::to_string(options.ttl.count()) +
                    " s is below etcd's minimum of 2 s; give a ttl of at least 2 s");
  }
}

asio::awaitable<Session> create(Client client, SessionOptions options) {
  check_options(options);
  LeaseId lease = options.lease;
  std::chrono::seconds ttl = options.ttl;
  if (lease == LeaseId{}) {
    const auto granted = co_await etcdpp::detail::grant_lease(client, ttl);
    lease = granted.id;
    ttl = granted.ttl;
  } else {
    const auto live =
        co_await client.async_lease_time_to_live(lease, asio::use_awaitable);
    if (live.ttl < std::chrono::seconds(0)) {
      throw Error(make_error_code(Errc::lease_not_found),
                  "Session: lease " + etcdpp::detail::lease_hex(lease) +
                      " to adopt does not exist (expired or revoked)");
    }
    ttl = live.granted_ttl;
  }
  auto executor = options.executor ? options.executor : client.executor();
  auto core = std::make_shared<etcdpp::detail::SessionCore>(
      client, lease, ttl, std::move(options.on_lost), std::move(executor));
  std::exception_ptr failure;
  try {
    co_await core->start_keep_alive();
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    // A lease granted here and not kept: give it back rather than let it live its TTL.
    if (options.lease == LeaseId{}) {
      co_await client.async_lease_revoke(lease, asio::experimental::as_tuple(asio::use_awaitable));
    }
    std::rethrow_exception(failure);
  }
  co_return etcdpp::detail::SessionAccess::make(core);
}

}  // namespace

const char* to_string(SessionState state) noexcept {
  switch (state) {
    case SessionState::alive: return "alive";
    case SessionState::revoked: return "revoked";
    case SessionState::expired: return "expired";
    case SessionState::closed: return "closed";
  }
  return "unknown";
}

Session::Session(Client client, SessionOptions options) {
  check_options(options);
  etcdpp::detail::Waiter<Session> waiter;
  start_create(client, options, waiter.callback());
  std::optional<Session> result;
  etcdpp::detail::throw_if_failed("Session", "", waiter.wait(result));
  core_ = std::move(result->core_);
}

void Session::start_create(const Client& client, const SessionOptions& options,
                           etcdpp::detail::Callback<Session> callback) {
  etcdpp::detail::spawn<Session>(client.executor(), std::move(callback), nullptr,
                                 [client, options] { return create(client, options); });
}

Session::Session(Session&&) noexcept = default;

Session& Session::operator=(Session&& other) noexcept {
  if (this != &other) {
    if (core_) {
      try {
        core_->close(true);
      } catch (...) {
      }
    }
    core_ = std::move(other.core_);
  }
  return *this;
}

Session::~Session() {
  if (!core_) return;
  try {
    core_->close(true);
  } catch (...) {
    // The lease expires after its TTL.
  }
}

LeaseId Session::lease() const noexcept { return core_ ? core_->lease : LeaseId{}; }

std::chrono::seconds Session::ttl() const noexcept {
  return core_ ? core_->ttl : std::chrono::seconds{0};
}

const Client& Session::client() const {
  if (!core_) {
    throw Error(make_error_code(Errc::invalid_option),
                "Session::client: an empty Session (default-made or moved from) has no client");
  }
  return core_->client;
}

SessionState Session::state() const noexcept {
  return core_ ? core_->state() : SessionState::closed;
}

void Session::close() {
  if (core_) core_->close(true);
}

void Session::orphan() noexcept {
  if (!core_) return;
  try {
    core_->close(false);
  } catch (...) {
  }
}

}  // namespace etcdpp::concurrency
