// SPDX-License-Identifier: Apache-2.0
// The inside of embedded::Node, shared with embedded::Cluster (which stops its members in
// parallel and silences them before it does).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "embedded/process.hpp"
#include "etcdpp/embedded/node.hpp"

namespace etcdpp::embedded {

struct Node::Impl {
  explicit Impl(NodeOptions opts);
  ~Impl();
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // Configuration: fixed once the constructor has returned, except the ports while the first
  // start retries after losing a port race.
  NodeOptions options;
  std::string binary;
  bool owns_data_dir = false;
  bool client_port_auto = false;  // only touched under control_mutex
  bool peer_port_auto = false;
  bool port_taken = false;  // serve_once found another process on the client port
  std::atomic<std::uint16_t> client_port{0};
  std::atomic<std::uint16_t> peer_port{0};
  std::shared_ptr<detail::Log> log;

  // Serialises start, stop, kill, pause, resume and wait_ready.
  std::mutex control_mutex;

  // Shared with the watcher thread.
  mutable std::mutex state_mutex;
  std::condition_variable watcher_cv;
  std::unique_ptr<detail::ChildProcess> child;
  bool ready_flag = false;       // the current child served and its member id is known
  bool paused_flag = false;      // SIGSTOPped by pause()
  std::uint64_t generation = 0;  // bumped by every new child and every end of one
  Role current_role = Role::none;
  MemberId member_id{};
  std::string version_text;
  std::optional<Client> client;
  bool stopping_watcher = false;
  bool wake_watcher = false;
  std::thread watcher;

  /// `*impl`; throws Error for a moved-from Node.
  static Impl& checked(const std::unique_ptr<Impl>& impl, const char* call);

  void validate() const;
  bool clustered() const;
  bool peer_tls() const;
  std::vector<std::string> listen_client_urls() const;
  std::vector<std::string> advertise_client_urls() const;
  std::vector<std::string> listen_peer_urls() const;
  std::vector<std::string> advertise_peer_urls() const;
  std::string initial_cluster() const;
  /// The client endpoints this process reaches the node on.
  std::vector<std::string> endpoints() const;
  std::vector<std::string> arguments() const;

  void make_temp_data_dir();
  void pick_ports();
  void make_client();
  Client own_client() const;

  /// Starts a new child (control_mutex held).
  void spawn();
  void check_fixed_ports() const;
  bool someone_else_serves() const;
  /// Takes the child out of the shared state, which then says stopped.
  std::unique_ptr<detail::ChildProcess> take_child(bool* was_paused = nullptr);
  /// Stops the child, if any, as stop() does with `grace` (0: SIGKILL at once); returns its
  /// wait status, -1 if none.
  int end_child(std::chrono::milliseconds grace) noexcept;
  /// Sends SIGTERM (and SIGCONT when paused) without waiting: a Cluster stops its members in
  /// parallel this way, then stops each.
  void begin_stop() noexcept;

  std::string failure_message(const std::string& what) const;
  bool lost_port_race() const;
  std::optional<std::string> address_in_use() const;
  /// Waits until the current child serves and says who it is; `budget` is for the message.
  void serve_once(detail::Clock::time_point deadline, std::chrono::milliseconds budget);
  void wait_ready_locked(detail::Clock::time_point deadline);

  void start_watcher();
  /// Ends the watcher (no callback fires after this returns) and the log sink.
  void silence() noexcept;
  void watch() noexcept;
  void announce(Role previous, Role now, MemberId id, MemberId leader, std::uint64_t term,
                const Client& node_client) noexcept;
  template <class Callback, class Arg>
  void invoke(const Callback& callback, const char* what, const Arg& arg) noexcept;
};

}  // namespace etcdpp::embedded
