// SPDX-License-Identifier: Apache-2.0
// A TCP proxy on loopback in front of one etcd endpoint, which a test can cut (every connection
// through it closes, and new ones are closed at once) and restore: an endpoint made unreachable
// for one client while the others still reach the member.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace etcdpp::test {

class TcpProxy {
 public:
  /// Listens on a free loopback port and forwards to `upstream` (`host:port`).
  explicit TcpProxy(const std::string& upstream);
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  /// `127.0.0.1:port`, for ClientOptions::endpoints.
  std::string endpoint() const;
  /// Closes every connection and refuses new ones (accepts and closes them) until restore().
  void cut();
  void restore();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace etcdpp::test
