// SPDX-License-Identifier: Apache-2.0
#include "support/tcp_proxy.hpp"

#include <array>
#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>
#include <future>
#include <list>
#include <mutex>
#include <thread>

namespace etcdpp::test {

namespace {
using asio::ip::tcp;

/// One proxied connection: two sockets and a pump in each direction.
struct Pair : std::enable_shared_from_this<Pair> {
  explicit Pair(asio::io_context& io) : client(io), server(io) {}
  tcp::socket client;
  tcp::socket server;
  std::array<char, 16384> up{};
  std::array<char, 16384> down{};

  void close() {
    asio::error_code ignored;
    client.close(ignored);
    server.close(ignored);
  }
  void pump(tcp::socket& from, tcp::socket& to, std::array<char, 16384>& buffer) {
    from.async_read_some(asio::buffer(buffer), [self = shared_from_this(), &from, &to, &buffer](
                                                   asio::error_code ec, std::size_t n) {
      if (ec) return self->close();
      asio::async_write(to, asio::buffer(buffer.data(), n),
                        [self, &from, &to, &buffer](asio::error_code wec, std::size_t) {
                          if (wec) return self->close();
                          self->pump(from, to, buffer);
                        });
    });
  }
};
}  // namespace

struct TcpProxy::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  tcp::endpoint upstream;
  std::list<std::weak_ptr<Pair>> pairs;  // touched on the io thread only
  bool cut = false;                      // likewise
  std::thread thread;

  void accept() {
    auto pair = std::make_shared<Pair>(io);
    acceptor.async_accept(pair->client, [this, pair](asio::error_code ec) {
      if (ec) return;  // closed
      if (cut) {
        pair->close();
      } else {
        pair->server.async_connect(upstream, [pair](asio::error_code cec) {
          if (cec) return pair->close();
          pair->pump(pair->client, pair->server, pair->up);
          pair->pump(pair->server, pair->client, pair->down);
        });
        pairs.push_back(pair);
      }
      accept();
    });
  }
};

TcpProxy::TcpProxy(const std::string& upstream) : impl_(std::make_shared<Impl>()) {
  const auto colon = upstream.rfind(':');
  impl_->upstream =
      tcp::endpoint(asio::ip::make_address(upstream.substr(0, colon)),
                    static_cast<std::uint16_t>(std::stoi(upstream.substr(colon + 1))));
  const tcp::endpoint local(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(local.protocol());
  impl_->acceptor.set_option(tcp::acceptor::reuse_address(true));
  impl_->acceptor.bind(local);
  impl_->acceptor.listen();
  impl_->accept();
  impl_->thread = std::thread([impl = impl_] { impl->io.run(); });
}

TcpProxy::~TcpProxy() {
  impl_->io.stop();
  impl_->thread.join();
}

std::string TcpProxy::endpoint() const {
  return "127.0.0.1:" + std::to_string(impl_->acceptor.local_endpoint().port());
}

void TcpProxy::cut() {
  std::promise<void> done;
  asio::post(impl_->io, [impl = impl_.get(), &done] {
    impl->cut = true;
    for (auto& weak : impl->pairs) {
      if (auto p = weak.lock()) p->close();
    }
    impl->pairs.clear();
    done.set_value();
  });
  done.get_future().wait();
}

void TcpProxy::restore() {
  std::promise<void> done;
  asio::post(impl_->io, [impl = impl_.get(), &done] {
    impl->cut = false;
    done.set_value();
  });
  done.get_future().wait();
}

}  // namespace etcdpp::test
