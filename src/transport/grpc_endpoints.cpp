// SPDX-License-Identifier: Apache-2.0
// The gRPC transport's endpoint selection: which endpoint calls and streams go to, which ones
// they avoid after a failure, and what connection_info() reports of each.
#include "transport/grpc_transport.hpp"

namespace etcdpp::transport {

void GrpcTransport::avoid(std::size_t k) {
  if (k >= count()) return;
  channels_[k]->failing_until.store(to_ns(Clock::now() + options_.reconnect_backoff_max),
                                    std::memory_order_relaxed);
  std::size_t expected = k;
  current_.compare_exchange_strong(expected, (k + 1) % count());
}

std::vector<Endpoint> GrpcTransport::endpoints() const {
  std::lock_guard lock(endpoints_mutex_);
  return endpoints_;
}

void GrpcTransport::note_leader(std::size_t endpoint, bool is_leader) {
  if (endpoint < count()) channels_[endpoint]->leader.store(is_leader ? 1 : 0);
}

std::vector<EndpointState> GrpcTransport::endpoint_states() const {
  std::vector<EndpointState> out;
  const auto now = to_ns(Clock::now());
  for (std::size_t i = 0, n = count(); i < n; ++i) {
    const auto& c = channels_[i];
    EndpointState state;
    switch (c->channel->GetState(false)) {
      case GRPC_CHANNEL_IDLE:
        state.connectivity = EndpointState::Connectivity::idle;
        break;
      case GRPC_CHANNEL_CONNECTING:
        state.connectivity = EndpointState::Connectivity::connecting;
        break;
      case GRPC_CHANNEL_READY:
        state.connectivity = EndpointState::Connectivity::ready;
        break;
      default:
        state.connectivity = EndpointState::Connectivity::failing;
        break;
    }
    const auto until = c->failing_until.load(std::memory_order_relaxed);
    if (until > now) {
      state.avoided_until = Clock::time_point(std::chrono::nanoseconds(until));
      // A call failed on it lately, whatever gRPC says of the connection since.
      if (state.connectivity != EndpointState::Connectivity::ready) {
        state.connectivity = EndpointState::Connectivity::failing;
      }
    }
    state.streams = c->streams.load(std::memory_order_relaxed);
    const int leader = c->leader.load();
    if (leader >= 0) state.is_leader = leader == 1;
    out.push_back(state);
  }
  return out;
}

std::size_t GrpcTransport::choose_endpoint() const {
  // The current endpoint unless it failed recently; else the next that did not; else the one
  // whose failure is oldest (its channel may well have reconnected by now).
  const auto now = to_ns(Clock::now());
  const std::size_t n = count();
  const std::size_t start = current_.load(std::memory_order_relaxed);
  std::size_t best = start % n;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t k = (start + i) % n;
    const auto until = channels_[k]->failing_until.load(std::memory_order_relaxed);
    if (until <= now) return k;
    if (until < channels_[best]->failing_until.load(std::memory_order_relaxed)) best = k;
  }
  return best;
}

}  // namespace etcdpp::transport
