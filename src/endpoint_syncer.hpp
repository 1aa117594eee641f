// SPDX-License-Identifier: Apache-2.0
// Endpoint auto-sync (ClientOptions::auto_sync_interval): the client's endpoints grow with the
// client URLs of the cluster's member list.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include "client_core.hpp"
#include "detail/convert.hpp"
#include "detail/status.hpp"
#include "etcd/etcdserver/etcdserverpb/rpc.pb.h"
#include "etcdpp/client.hpp"
#include "transport/transport.hpp"

namespace etcdpp::detail {

inline constexpr transport::Method kSyncMemberList{"/etcdserverpb.Cluster/MemberList", true};

/// Auto-sync: every interval, the member list's client URLs that the transport does not know
/// are added to its endpoints. One timer on the client's executor, one call at a time.
class EndpointSyncer : public std::enable_shared_from_this<EndpointSyncer> {
 public:
  EndpointSyncer(transport::Transport& transport, const asio::any_io_executor& executor,
                 std::chrono::milliseconds interval, std::chrono::milliseconds timeout)
      : transport_(transport), timer_(executor), interval_(interval), timeout_(timeout) {}

  void start() {
    std::lock_guard lock(mutex_);
    arm_locked();
  }

  /// After it returns, the transport is never touched again.
  void stop() {
    std::lock_guard lock(mutex_);
    stopped_ = true;
    timer_.cancel();
  }

 private:
  void arm_locked() {
    timer_.expires_after(interval_);
    timer_.async_wait([weak = weak_from_this()](std::error_code ec) {
      if (auto self = weak.lock()) self->tick(ec);
    });
  }

  void tick(std::error_code ec) {
    // Held while the call starts: stop() waits for it, and a call that fails at once comes
    // back on this thread (hence the recursive mutex).
    std::lock_guard lock(mutex_);
    if (stopped_ || ec) return;
    ClientCore::call_via<pb::MemberListResponse>(
        transport_, std::nullopt, kSyncMemberList, std::make_unique<pb::MemberListRequest>(),
        timeout_, nullptr, true,
        [self = shared_from_this()](CallStatus status, pb::MemberListResponse&& r) {
          self->on_members(status, std::move(r));
        });
  }

  void on_members(const CallStatus& status, pb::MemberListResponse&& r) {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    if (!status.code) {
      std::vector<Endpoint> found;
      for (const auto& member : from_proto(std::move(r))) {
        for (const auto& url : member.client_urls) {
          try {
            found.push_back(Endpoint::parse(url));
          } catch (const Error&) {
            // A URL this client cannot use (a scheme Endpoint::parse refuses): not an endpoint.
          }
        }
      }
      transport_.add_endpoints(found);
    }
    arm_locked();
  }

  transport::Transport& transport_;
  std::recursive_mutex mutex_;
  asio::steady_timer timer_;
  std::chrono::milliseconds interval_;
  std::chrono::milliseconds timeout_;
  bool stopped_ = false;
};

}  // namespace etcdpp::detail
