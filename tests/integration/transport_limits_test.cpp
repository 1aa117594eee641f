// SPDX-License-Identifier: Apache-2.0
// What the transport promises around its calls: a bound on calls in flight that refuses
// clearly, and gRPC's own log lines going to the user's sink, or nowhere.
#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "support/test_env.hpp"

namespace etcdpp {
namespace {

using namespace std::chrono_literals;

TEST(TransportLimitsTest, CallsBeyondMaxCallsInFlightFailAtOnceAndTheBoundIsReleased) {
  test::TestPrefix prefix(test::client());
  Client client({.endpoints = {test::node().client_endpoint()},
                 .call_timeout = 20s,
                 .max_calls_in_flight = 4});
  client.put(prefix("warm"), "v");  // connected
  struct Outcome {
    std::mutex mutex;
    std::vector<std::error_code> codes;
  } outcome;
  // A paused server holds the first four in flight.
  test::pause_process(test::node().pid());
  for (int i = 0; i < 6; ++i) {
    client.async_put(prefix("k" + std::to_string(i)), "v", {},
                     [&](std::exception_ptr e, PutResult) {
                       std::lock_guard lock(outcome.mutex);
                       outcome.codes.push_back(error_code_of(e));
                     });
  }
  const bool refused_at_once = test::wait_until(
      [&] {
        std::lock_guard lock(outcome.mutex);
        return outcome.codes.size() == 2;
      },
      2s);
  std::string what;
  try {
    client.get(prefix("k0"));
  } catch (const Error& e) {
    what = e.what();
    EXPECT_EQ(e.code(), Errc::resource_exhausted);
  }
  test::resume_process(test::node().pid());
  ASSERT_TRUE(refused_at_once);
  EXPECT_NE(what.find("max_calls_in_flight"), std::string::npos) << what;
  ASSERT_TRUE(test::wait_until(
      [&] {
        std::lock_guard lock(outcome.mutex);
        return outcome.codes.size() == 6;
      },
      20s));
  {
    std::lock_guard lock(outcome.mutex);
    EXPECT_EQ(outcome.codes[0], Errc::resource_exhausted);
    EXPECT_EQ(outcome.codes[1], Errc::resource_exhausted);
    for (std::size_t i = 2; i < 6; ++i) EXPECT_FALSE(outcome.codes[i]) << outcome.codes[i].message();
  }
  // Nothing refused was sent; the four held calls were written; the bound is free again.
  EXPECT_EQ(client.get(prefix(""), {.prefix = true, .count_only = true}).count, 5);
  EXPECT_NO_THROW(client.put(prefix("after"), "v"));
}

/// Sends what this process writes on stderr to a file while it lives.
class StderrCapture {
 public:
  StderrCapture() : path_("/tmp/etcdpp-stderr-" + std::to_string(::getpid())) {
    std::fflush(stderr);
    saved_ = ::dup(2);
    std::FILE* f = std::fopen(path_.c_str(), "w");
    ::dup2(::fileno(f), 2);
    std::fclose(f);
  }
  ~StderrCapture() { restore(); std::remove(path_.c_str()); }
  std::string restore() {
    if (saved_ >= 0) {
      std::fflush(stderr);
      ::dup2(saved_, 2);
      ::close(saved_);
      saved_ = -1;
    }
    std::ifstream in(path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

 private:
  std::string path_;
  int saved_ = -1;
};

/// A TCP server on loopback that answers every connection with bytes that are not TLS, then
/// closes it: a TLS client's handshake fails on them (and gRPC logs why).
class NotTlsServer {
 public:
  NotTlsServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      for (int served = 0; served < 100; ++served) {  // bounded, and ended by shutdown()
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        const char reply[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
        [[maybe_unused]] auto n = ::write(c, reply, sizeof reply - 1);
        ::close(c);
      }
    });
  }
  ~NotTlsServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

TEST(TransportLimitsTest, GrpcLogLinesGoToTheSinkAndByDefaultNowhere) {
  NotTlsServer server;
  const auto fail_a_call = [&] {
    Client client({.endpoints = {"https://127.0.0.1:" + std::to_string(server.port())},
                   .call_timeout = 2s});
    EXPECT_THROW(client.get("k"), Error);
  };
  StderrCapture capture;
  fail_a_call();  // no sink: dropped

  std::mutex mutex;
  std::vector<std::pair<LogSeverity, std::string>> lines;
  set_log_sink([&](LogSeverity severity, std::string_view message) {
    std::lock_guard lock(mutex);
    lines.emplace_back(severity, std::string(message));
  });
  fail_a_call();
  const bool logged = test::wait_until(
      [&] {
        std::lock_guard lock(mutex);
        for (const auto& [severity, text] : lines) {
          if (severity == LogSeverity::error && text.find("Handshake failed") != std::string::npos) {
            return true;
          }
        }
        return false;
      },
      5s);
  set_log_sink({});
  const std::string written = capture.restore();
  EXPECT_TRUE(logged) << "the sink never got gRPC's handshake error";
  EXPECT_EQ(written.find("Handshake failed"), std::string::npos)
      << "gRPC's line reached stderr without a sink:\n"
      << written;
}

}  // namespace
}  // namespace etcdpp
