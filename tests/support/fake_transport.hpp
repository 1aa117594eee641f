// SPDX-License-Identifier: Apache-2.0
// A transport without a server, scripted by the test: it records every stream opened and every
// message written to it, every unary call and every endpoint marked failing, and the test
// answers (pushes messages, ends streams, completes or fails calls) when it chooses. Nothing
// happens on a thread of its own: observers and completions run on the thread of the test
// call that causes them, so a test that also drives the executor itself is deterministic.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "transport/transport.hpp"

namespace etcdpp::test {

/// A copy of a message the code under test sent.
std::unique_ptr<transport::Message> copy_message(const transport::Message& message);

/// One stream the code under test opened, as the test sees it. Shared by the fake's handle
/// (the BidiStream the code holds) and the test.
class FakeStream {
 public:
  FakeStream(std::string method, std::size_t endpoint, transport::StreamObserver* observer,
             std::vector<std::pair<std::string, std::string>> metadata);

  const std::string& method() const noexcept { return method_; }
  std::size_t endpoint() const noexcept { return endpoint_; }
  const std::vector<std::pair<std::string, std::string>>& metadata() const noexcept {
    return metadata_;
  }

  /// How many messages were written so far, and a copy of message `i` as its type.
  std::size_t written() const;
  template <class T>
  T written_as(std::size_t i) const {
    std::lock_guard lock(mutex_);
    return static_cast<const T&>(*written_.at(i));
  }
  /// Every message written so far, as type T.
  template <class T>
  std::vector<T> all_written_as() const {
    std::lock_guard lock(mutex_);
    std::vector<T> out;
    for (const auto& m : written_) out.push_back(static_cast<const T&>(*m));
    return out;
  }

  /// Whether the code under test cancelled it, or let go of its handle.
  bool cancelled() const;
  bool released() const;
  /// Whether on_done was delivered.
  bool ended() const;

  /// Hands `message` to the observer, on this thread; ignored once the stream has ended or its
  /// handle is gone (as a real stream's late messages are never seen).
  void push(const transport::Message& message);
  /// Ends the stream with `status`: the observer's on_done, once, on this thread.
  void end(transport::Status status);

  // For the handle.
  void on_write(std::unique_ptr<transport::Message> message);
  void on_cancel();
  void on_release();

 private:
  const std::string method_;
  const std::size_t endpoint_;
  const std::vector<std::pair<std::string, std::string>> metadata_;

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<transport::Message>> written_;
  bool cancelled_ = false;
  bool released_ = false;
  // Held while the observer runs, and by the handle's destructor: the observer is never
  // called after its stream's handle is gone (the owner destroys the observer after it).
  std::recursive_mutex deliver_mutex_;
  transport::StreamObserver* observer_;  // null once on_done was delivered
  bool ended_ = false;
};

/// One unary call the code under test made, waiting for the test's answer.
class FakeCall {
 public:
  FakeCall(std::string method, const transport::Message& request, transport::Message* response,
           transport::UnaryOptions options, std::function<void(transport::Status)> done);

  const std::string& method() const noexcept { return method_; }
  const transport::UnaryOptions& options() const noexcept { return options_; }
  template <class T>
  const T& request_as() const {
    return static_cast<const T&>(*request_);
  }
  /// Completes the call with `response`, on this thread.
  void reply(const transport::Message& response);
  /// Fails the call with `status`, on this thread.
  void fail(transport::Status status);
  bool completed() const noexcept { return !done_; }

 private:
  const std::string method_;
  std::unique_ptr<transport::Message> request_;
  transport::Message* response_;
  transport::UnaryOptions options_;
  std::function<void(transport::Status)> done_;
};

class FakeTransport final : public transport::Transport {
 public:
  /// `endpoints`: how many (127.0.0.1:2379, :2380, ...); streams go to the current one, which
  /// moves to the next after stream_failed() on it, as the gRPC transport's does.
  explicit FakeTransport(std::size_t endpoints = 3);
  ~FakeTransport() override;

  // ---- What the test sees ----
  std::size_t streams_opened() const;
  /// The `i`-th stream opened (0 first); throws when there is none yet.
  std::shared_ptr<FakeStream> stream(std::size_t i) const;
  /// The endpoints passed to stream_failed, in order.
  std::vector<std::size_t> failed_endpoints() const;
  /// Each add_endpoints call's argument, in order.
  std::vector<std::vector<Endpoint>> added_endpoints() const;
  /// The unary calls not answered yet, oldest first; take() removes the oldest.
  std::size_t pending_calls() const;
  std::shared_ptr<FakeCall> take_call();
  std::size_t calls_made() const;

  // ---- transport::Transport ----
  void unary(const transport::Method& method, const transport::Message& request,
             transport::Message* response, const transport::UnaryOptions& options,
             std::function<void(transport::Status)> done) override;
  std::unique_ptr<transport::BidiStream> open_stream(
      const transport::Method& method,
      std::function<std::unique_ptr<transport::Message>()> make_message,
      transport::StreamObserver* observer,
      const std::vector<std::pair<std::string, std::string>>& metadata) override;
  /// Not scripted: ends at once, as a stream that could not start.
  std::size_t server_stream(const transport::Method& method,
                            std::unique_ptr<transport::Message> request,
                            std::function<std::unique_ptr<transport::Message>()> make_message,
                            std::shared_ptr<transport::StreamObserver> observer,
                            const transport::ServerStreamOptions& options) override;
  void stream_failed(std::size_t endpoint) override;
  std::vector<Endpoint> endpoints() const override;
  void add_endpoints(const std::vector<Endpoint>& endpoints) override;
  std::vector<transport::EndpointState> endpoint_states() const override;
  void note_leader(std::size_t endpoint, bool is_leader) override;
  bool has_credentials() const noexcept override { return false; }
  std::string token() const override { return {}; }
  void refresh_token(const std::string& stale,
                     std::function<void(transport::Status)> done) override;
  std::uint64_t authentications() const noexcept override { return 0; }

 private:
  mutable std::mutex mutex_;
  std::vector<Endpoint> endpoints_;
  std::size_t current_ = 0;
  std::vector<std::shared_ptr<FakeStream>> streams_;
  std::vector<std::size_t> failed_;
  std::vector<std::vector<Endpoint>> added_;
  std::vector<std::shared_ptr<FakeCall>> calls_;
  std::size_t calls_made_ = 0;
};

/// Runs `io`'s handlers on this thread until `done()` holds or `timeout` passes; returns
/// whether it holds. The way to wait in these tests: no sleep, and no other thread.
template <class IoContext, class Pred>
bool drive_until(IoContext& io, Pred done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    io.restart();
    io.run_one_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace etcdpp::test
