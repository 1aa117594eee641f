// SPDX-License-Identifier: Apache-2.0
// The Maintenance API against a real etcd: a member describes itself, in both faces; calls
// addressed to one endpoint; alarms, defragmentation, hashes; snapshots written whole or not at
// all, and restored with etcdctl into a node that serves the same keys.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/use_future.hpp>
#include <filesystem>
#include <fstream>

#include "support/test_env.hpp"

namespace etcdpp {
namespace {

using namespace std::chrono_literals;

TEST(MaintenanceTest, StatusOfASingleNodeSaysItIsItsOwnLeader) {
  const StatusResult status = test::client().maintenance().status();
  EXPECT_NE(status.header.member_id, MemberId{});
  EXPECT_NE(status.header.cluster_id, 0u);
  EXPECT_EQ(status.leader, status.header.member_id);
  EXPECT_TRUE(status.version.starts_with("3.")) << status.version;
  EXPECT_GT(status.raft_term, 0u);
  EXPECT_GT(status.raft_index, 0u);
  EXPECT_GT(status.db_size, 0);
  EXPECT_GT(status.db_size_in_use, 0);
  EXPECT_TRUE(status.errors.empty());
  EXPECT_FALSE(status.is_learner);
}

TEST(MaintenanceTest, AsyncStatusGivesTheSameMember) {
  const Client client = test::client();
  auto future = client.maintenance().async_status(asio::use_future);
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  const StatusResult status = future.get();
  EXPECT_EQ(status.header.member_id, client.maintenance().status().header.member_id);
  EXPECT_EQ(status.leader, status.header.member_id);
}

TEST(MaintenanceTest, StatusOfAnUnreachableEndpointThrowsUnavailableNamingIt) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  const std::string endpoint = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  const Client client({.endpoints = {endpoint}, .call_timeout = 500ms});
  try {
    client.maintenance().status();
    FAIL() << "status() of a closed port returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::unavailable) << e.what();
    EXPECT_NE(std::string(e.what()).find(endpoint), std::string::npos) << e.what();
  }
}

/// Every file name in `dir`.
std::vector<std::string> files_in(const std::filesystem::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    out.push_back(entry.path().filename().string());
  }
  return out;
}

/// Writes `count` keys `<prefix>NNNNN` with values of `value_size` bytes, 128 puts a txn.
void fill(const Client& client, const std::string& prefix, int count, std::size_t value_size) {
  const std::string value(value_size, 'v');
  for (int first = 0; first < count; first += 128) {
    Txn txn;
    for (int i = first; i < std::min(count, first + 128); ++i) {
      char key[16];
      std::snprintf(key, sizeof key, "%05d", i);
      txn.then(Op::put(prefix + key, value + std::to_string(i)));
    }
    ASSERT_TRUE(client.txn(txn).succeeded);
  }
}

TEST(MaintenanceTest, StatusOfOneEndpointGoesThereAndAnUnknownOneIsRefusedByName) {
  const Client client = test::client();
  const std::string endpoint = test::node().client_endpoint();
  const StatusResult status = client.maintenance().status("http://" + endpoint);
  EXPECT_EQ(status.header.member_id, test::node().member_id());

  auto future = client.maintenance().async_status(endpoint, asio::use_future);
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(future.get().header.member_id, test::node().member_id());

  for (const std::string bad : {"127.0.0.1:1", "no port"}) {
    try {
      client.maintenance().status(bad);
      FAIL() << "status(\"" << bad << "\") returned";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::invalid_endpoint) << e.what();
      EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
    }
  }
}

TEST(MaintenanceTest, StatusAllGivesEachEndpointItsStatusOrItsError) {
  const std::string good = test::node().client_endpoint();
  const std::string dead = "127.0.0.1:" + std::to_string(test::free_ports(1)[0]);
  const Client client({.endpoints = {good, dead}, .call_timeout = 2s});
  const auto statuses = client.maintenance().status_all();
  ASSERT_EQ(statuses.size(), 2u);
  EXPECT_EQ(statuses[0].endpoint, good);
  ASSERT_TRUE(statuses[0].ok()) << statuses[0].message;
  EXPECT_EQ(statuses[0].status->header.member_id, test::node().member_id());
  EXPECT_EQ(statuses[1].endpoint, dead);
  EXPECT_FALSE(statuses[1].ok());
  EXPECT_EQ(statuses[1].error, Errc::unavailable) << statuses[1].message;
  EXPECT_NE(statuses[1].message.find(dead), std::string::npos) << statuses[1].message;
}

TEST(MaintenanceTest, NoAlarmIsRaisedAndDisarmingNoneGivesNone) {
  const Client client = test::client();
  EXPECT_TRUE(client.maintenance().alarm_list().empty());
  auto future = client.maintenance().async_alarm_disarm(MemberId{}, AlarmType::no_space, asio::use_future);
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(future.get().empty());
}

TEST(MaintenanceTest, DefragmentAndHashesOfTheNode) {
  const Client client = test::client();
  test::TestPrefix p(client);
  const std::string endpoint = test::node().client_endpoint();
  // Space freed by a delete and a compaction is given back by defragmentation only.
  fill(client, p("big/"), 512, 2048);
  const auto deleted = client.delete_range(p("big/"), {.prefix = true});
  client.compact(deleted.header.revision, {.physical = true});
  const StatusResult before = client.maintenance().status(endpoint);
  auto defragmented = client.maintenance().async_defragment(endpoint, asio::use_future);
  ASSERT_EQ(defragmented.wait_for(10s), std::future_status::ready);
  defragmented.get();
  const StatusResult after = client.maintenance().status(endpoint);
  EXPECT_LT(after.db_size, before.db_size - 512 * 1024);

  const auto put = client.put(p("k"), "v");
  EXPECT_NE(client.maintenance().hash(endpoint).hash, 0u);
  const HashKvResult at_put = client.maintenance().hash_kv(endpoint, put.header.revision);
  EXPECT_NE(at_put.hash, 0u);
  // The same history up to a revision hashes the same, whatever came after.
  client.put(p("k2"), "v2");
  auto future = client.maintenance().async_hash_kv(endpoint, put.header.revision, asio::use_future);
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(future.get().hash, at_put.hash);
  EXPECT_NE(client.maintenance().hash_kv(endpoint, 0).hash, at_put.hash);
}

TEST(MaintenanceTest, ASnapshotRestoredWithEtcdctlServesTheSameKeys) {
  test::ScratchDir dir;
  embedded::Node source;
  const Client client = source.client();
  fill(client, "snap/", 10000, 16);
  const auto last = client.get("snap/09999");
  ASSERT_TRUE(last);

  const std::string path = (dir.path() / "db").string();
  const SnapshotResult snapshot = client.with_timeout(20s).maintenance().snapshot(path);
  EXPECT_EQ(snapshot.path, path);
  EXPECT_EQ(snapshot.size, std::filesystem::file_size(path));
  EXPECT_EQ(files_in(dir.path()), std::vector<std::string>{"db"});

  const std::uint16_t peer_port = test::free_ports(1)[0];
  const std::string peer_url = "http://127.0.0.1:" + std::to_string(peer_port);
  const std::string data_dir = (dir.path() / "restored").string();
  const std::string command = "ETCDCTL_API=3 etcdctl snapshot restore '" + path +
                              "' --name restored --initial-cluster restored=" + peer_url +
                              " --initial-advertise-peer-urls " + peer_url + " --data-dir '" +
                              data_dir + "' >'" + (dir.path() / "restore.log").string() + "' 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;

  embedded::NodeOptions options;
  options.name = "restored";
  options.data_dir = data_dir;
  options.peer_port = peer_port;
  options.initial_cluster = "restored=" + peer_url;
  options.peer_auto_tls = false;
  embedded::Node restored(options);
  const GetResult keys = restored.client().get("snap/", {.prefix = true, .count_only = true});
  EXPECT_EQ(keys.count, 10000);
  const auto copy = restored.client().get("snap/09999");
  ASSERT_TRUE(copy);
  EXPECT_EQ(copy->value, last->value);
}

TEST(MaintenanceTest, ASnapshotThatFailsLeavesNoFile) {
  test::ScratchDir dir;
  embedded::Node source;
  fill(source.client(), "snap/", 2000, 1000);
  const std::string path = (dir.path() / "db").string();

  // Too short a deadline.
  try {
    source.client().with_timeout(1ms).maintenance().snapshot(path);
    FAIL() << "snapshot within 1 ms returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::deadline_exceeded) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_TRUE(files_in(dir.path()).empty());

  // The member hangs mid-snapshot (its partial file is there) until the deadline.
  auto future = source.client().with_timeout(1500ms).maintenance().async_snapshot(path, asio::use_future);
  source.pause();
  EXPECT_EQ(files_in(dir.path()).size(), 1u);
  ASSERT_EQ(future.wait_for(10s), std::future_status::ready);
  source.resume();
  try {
    future.get();
    FAIL() << "snapshot of a paused member returned";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), Errc::deadline_exceeded) << e.what();
  }
  EXPECT_TRUE(files_in(dir.path()).empty());

  // Cancelled by the caller.
  asio::cancellation_signal signal;
  auto cancelled = source.client().maintenance().async_snapshot(
      path, asio::bind_cancellation_slot(signal.slot(), asio::use_future));
  signal.emit(asio::cancellation_type::terminal);
  ASSERT_EQ(cancelled.wait_for(10s), std::future_status::ready);
  try {
    cancelled.get();
    // The member may have sent it all before the cancellation came: then it is whole.
    EXPECT_EQ(files_in(dir.path()), std::vector<std::string>{"db"});
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), Errc::cancelled) << e.what();
    EXPECT_TRUE(files_in(dir.path()).empty());
  }
}

TEST(MaintenanceTest, ASnapshotToADirectoryThatDoesNotExistNamesIt) {
  const std::string path = "/nonexistent-etcdpp-dir/db";
  try {
    test::client().maintenance().snapshot(path);
    FAIL() << "snapshot into a missing directory returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::file_error) << e.what();
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace etcdpp
