// SPDX-License-Identifier: Apache-2.0
// NodeOptions from TOML: cl-etcd's config files load as they are, every etcd flag is accepted
// under its own name, and a bad file is refused with a message that says where and what.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "etcdpp/embedded/node.hpp"
#include "etcdpp/error.hpp"

namespace etcdpp::embedded {
namespace {

using namespace std::chrono_literals;

// The seed's config1.ini (cl-etcd's README), as it is.
constexpr const char* kConfig1 = R"([etcd]
name = "infra0"
initial-advertise-peer-urls = "http://127.0.0.1:2380"
listen-peer-urls = "http://127.0.0.1:2380"
listen-client-urls = "http://127.0.0.1:2379"
advertise-client-urls = "http://127.0.0.1:2379"
initial-cluster = "infra0=http://127.0.0.1:2380,infra1=http://127.0.0.1:2480,infra2=http://127.0.0.1:2580"
host-whitelist = "127.0.0.1"
)";

std::string error_of(std::string_view toml) {
  try {
    NodeOptions::from_toml(toml, "test.toml");
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_option) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "no error for:\n" << toml;
  return {};
}

bool has(const std::vector<std::string>& flags, const std::string& flag) {
  return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

TEST(NodeTomlTest, SeedConfigFillsTheOptionsNamedAfterEtcdFlags) {
  const NodeOptions o = NodeOptions::from_toml(kConfig1);
  EXPECT_EQ(o.name, "infra0");
  EXPECT_EQ(o.initial_advertise_peer_urls, std::vector<std::string>{"http://127.0.0.1:2380"});
  EXPECT_EQ(o.listen_peer_urls, std::vector<std::string>{"http://127.0.0.1:2380"});
  EXPECT_EQ(o.listen_client_urls, std::vector<std::string>{"http://127.0.0.1:2379"});
  EXPECT_EQ(o.advertise_client_urls, std::vector<std::string>{"http://127.0.0.1:2379"});
  EXPECT_EQ(
      o.initial_cluster,
      "infra0=http://127.0.0.1:2380,infra1=http://127.0.0.1:2480,infra2=http://127.0.0.1:2580");
  EXPECT_EQ(o.extra_flags, std::vector<std::string>{"--host-whitelist=127.0.0.1"});
  EXPECT_TRUE(o.data_dir.empty());  // a temporary one, as with no config
  EXPECT_FALSE(o.peer_auto_tls.has_value());
}

TEST(NodeTomlTest, TypedValuesBecomeFlagsAndFields) {
  const NodeOptions o = NodeOptions::from_toml(R"(
[etcd]
data-dir = "/var/lib/x"
heartbeat-interval = 50
election-timeout = 500
peer-auto-tls = false
initial-cluster-state = "existing"
initial-cluster-token = "tok"
listen-client-urls = ["http://127.0.0.1:1", "http://127.0.0.1:2"]
pre-vote = true
snapshot-count = 1000
auto-compaction-retention = 1
grpc-keepalive-min-time = "2s"
quota-backend-bytes = -1
)");
  EXPECT_EQ(o.data_dir, "/var/lib/x");
  EXPECT_EQ(o.heartbeat_interval, 50ms);
  EXPECT_EQ(o.election_timeout, 500ms);
  EXPECT_EQ(o.peer_auto_tls, false);
  EXPECT_EQ(o.initial_cluster_state, "existing");
  EXPECT_EQ(o.initial_cluster_token, "tok");
  EXPECT_EQ(o.listen_client_urls,
            (std::vector<std::string>{"http://127.0.0.1:1", "http://127.0.0.1:2"}));
  EXPECT_TRUE(has(o.extra_flags, "--pre-vote=true"));
  EXPECT_TRUE(has(o.extra_flags, "--snapshot-count=1000"));
  EXPECT_TRUE(has(o.extra_flags, "--auto-compaction-retention=1"));
  EXPECT_TRUE(has(o.extra_flags, "--grpc-keepalive-min-time=2s"));
  EXPECT_TRUE(has(o.extra_flags, "--quota-backend-bytes=-1"));
}

TEST(NodeTomlTest, OtherTablesAreIgnored) {
  const NodeOptions o = NodeOptions::from_toml("[app]\nmode = 1\n[etcd]\nname = \"a\"\n");
  EXPECT_EQ(o.name, "a");
}

TEST(NodeTomlTest, MalformedTomlGivesLineAndColumn) {
  const std::string what = error_of("[etcd]\nname = \"infra0\"\nlisten-peer-urls = http://x\n");
  EXPECT_NE(what.find("test.toml:3:"), std::string::npos) << what;
  EXPECT_NE(what.find("malformed TOML"), std::string::npos) << what;
}

TEST(NodeTomlTest, UnknownKeyIsNamedWithItsPlace) {
  const std::string what = error_of("[etcd]\nname = \"a\"\nlisten-client-url = \"http://x:1\"\n");
  EXPECT_NE(what.find("unknown key \"listen-client-url\""), std::string::npos) << what;
  EXPECT_NE(what.find("test.toml:3:1"), std::string::npos) << what;
  EXPECT_NE(what.find("did you mean listen-client-urls?"), std::string::npos) << what;
}

TEST(NodeTomlTest, UnderscoredKeyIsRefusedWithEtcdsSpelling) {
  const std::string what = error_of("[etcd]\ndata_dir = \"/x\"\n");
  EXPECT_NE(what.find("\"data_dir\""), std::string::npos) << what;
  EXPECT_NE(what.find("data-dir"), std::string::npos) << what;
}

TEST(NodeTomlTest, ConfigFileFlagIsRefused) {
  const std::string what = error_of("[etcd]\nconfig-file = \"/etc/etcd.yml\"\n");
  EXPECT_NE(what.find("config-file"), std::string::npos) << what;
}

TEST(NodeTomlTest, ValueOfTheWrongTypeIsNamed) {
  std::string what = error_of("[etcd]\npeer-auto-tls = \"yes\"\n");
  EXPECT_NE(what.find("peer-auto-tls must be a boolean"), std::string::npos) << what;
  what = error_of("[etcd]\nheartbeat-interval = \"100ms\"\n");
  EXPECT_NE(what.find("heartbeat-interval must be a non-negative integer"), std::string::npos)
      << what;
  what = error_of("[etcd]\nlisten-client-urls = [1, 2]\n");
  EXPECT_NE(what.find("listen-client-urls must be a string or an array of strings"),
            std::string::npos)
      << what;
  what = error_of("[etcd]\ngrpc-keepalive-min-time = 5\n");
  EXPECT_NE(what.find("duration"), std::string::npos) << what;
}

TEST(NodeTomlTest, StringWithANulIsRefusedNamingItsKey) {
  // etcd's argv would end the value at the NUL: "infra" would be the member's name.
  std::string what = error_of("[etcd]\nname = \"infra\\u00000\"\n");
  EXPECT_NE(what.find("test.toml:2:"), std::string::npos) << what;
  EXPECT_NE(what.find("name"), std::string::npos) << what;
  EXPECT_NE(what.find("NUL"), std::string::npos) << what;
  what =
      error_of("[etcd]\nlisten-client-urls = [\"http://127.0.0.1:1\", \"http://a\\u0000b:2\"]\n");
  EXPECT_NE(what.find("listen-client-urls"), std::string::npos) << what;
  what = error_of("[etcd]\nlog-level = \"\\u0000\"\n");
  EXPECT_NE(what.find("log-level"), std::string::npos) << what;
}

TEST(NodeTomlTest, MissingEtcdTableIsRefused) {
  EXPECT_NE(error_of("[app]\nx = 1\n").find("no [etcd] table"), std::string::npos);
  EXPECT_NE(error_of("etcd = 1\n").find("etcd must be a table"), std::string::npos);
}

TEST(NodeTomlTest, FileIsReadAndNamedInErrors) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto path = dir / ("etcdpp-toml-test-" + std::to_string(::getpid()) + ".ini");
  { std::ofstream(path) << kConfig1; }
  EXPECT_EQ(NodeOptions::from_toml_file(path).name, "infra0");
  { std::ofstream(path) << "[etcd]\nbogus = 1\n"; }
  try {
    NodeOptions::from_toml_file(path);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string() + ":2:1"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
  try {
    NodeOptions::from_toml_file(path);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_option);
    EXPECT_NE(std::string(e.what()).find("cannot read TOML file"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace etcdpp::embedded
