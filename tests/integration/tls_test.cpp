// SPDX-License-Identifier: Apache-2.0
// TLS and mutual TLS against a real etcd serving https:// on loopback, with certificates made
// for the test by the openssl command (Debian package openssl).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "support/test_env.hpp"

namespace etcdpp {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

/// A CA, a server certificate for 127.0.0.1 signed by it, a client certificate signed by it,
/// and a second CA that signed nothing of these; in a temporary directory removed afterwards.
class Certificates {
 public:
  Certificates() {
    dir_ = fs::temp_directory_path() /
           ("etcdpp-tls-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(dir_);
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=etcdpp-test-ca -keyout ca.key -out ca.crt");
    run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=etcdpp-other-ca -keyout other-ca.key -out other-ca.crt");
    std::ofstream(dir_ / "server.ext") << "subjectAltName=IP:127.0.0.1,DNS:etcd.test\n"
                                       << "extendedKeyUsage=serverAuth,clientAuth\n";
    std::ofstream(dir_ / "client.ext") << "extendedKeyUsage=clientAuth\n";
    for (const std::string name : {"server", "client"}) {
      run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=" + name +
          " -keyout " + name + ".key -out " + name + ".csr");
      run("openssl x509 -req -days 1 -in " + name + ".csr -CA ca.crt -CAkey ca.key " +
          "-CAcreateserial -extfile " + name + ".ext -out " + name + ".crt");
    }
  }
  ~Certificates() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string pem(const std::string& name) const {
    std::ifstream in(dir_ / name);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

 private:
  void run(const std::string& command) const {
    const std::string line = "cd '" + dir_.string() + "' && " + command + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(line.c_str()), 0)
        << "failed: " << command << " (is the openssl command installed?)";
  }

  fs::path dir_;
  static inline int counter_ = 0;
};

/// A node serving clients on https://127.0.0.1 with the server certificate; with
/// `mutual`, it also requires client certificates signed by the CA.
embedded::NodeOptions tls_node(const Certificates& certs, bool mutual) {
  embedded::NodeOptions options;
  const auto port = test::free_ports(1).front();
  options.listen_client_urls = {"https://127.0.0.1:" + std::to_string(port)};
  options.extra_flags = {"--cert-file=" + certs.path("server.crt"),
                         "--key-file=" + certs.path("server.key")};
  options.client_tls.ca_file = certs.path("ca.crt");
  if (mutual) {
    options.extra_flags.push_back("--client-cert-auth");
    options.extra_flags.push_back("--trusted-ca-file=" + certs.path("ca.crt"));
    options.client_tls.cert_file = certs.path("client.crt");
    options.client_tls.key_file = certs.path("client.key");
  }
  return options;
}

Client client_with(const embedded::Node& node, TlsOptions tls) {
  ClientOptions options{.endpoints = {node.client_endpoint()}, .call_timeout = 5000ms};
  options.tls = std::move(tls);
  return Client(std::move(options));
}

/// The code of the Error that `f` throws, its message in `what`, and how long it took.
template <class F>
std::error_code error_of(F&& f, std::string& what, std::chrono::milliseconds& took) {
  const auto start = std::chrono::steady_clock::now();
  std::error_code ec;
  try {
    f();
  } catch (const Error& e) {
    what = e.what();
    ec = e.code();
  }
  took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
  return ec;
}

TEST(TlsTest, KvOverTlsWithTheServersCa) {
  const Certificates certs;
  embedded::Node node(tls_node(certs, false));
  EXPECT_TRUE(node.client_endpoint().starts_with("https://127.0.0.1:")) << node.client_endpoint();
  const Client client = client_with(node, {.ca_file = certs.path("ca.crt")});
  client.put("tls/k", "v");
  ASSERT_TRUE(client.get("tls/k").has_value());
  EXPECT_EQ(client.get("tls/k")->value, "v");
  // The node's own client (its readiness and roles) speaks TLS too.
  EXPECT_EQ(node.client().get("tls/k")->value, "v");
  EXPECT_EQ(node.role(), embedded::Role::leader);
}

TEST(TlsTest, KvOverMutualTlsWithPemTextAndAServerNameOverride) {
  const Certificates certs;
  embedded::Node node(tls_node(certs, true));
  // The certificate names 127.0.0.1 and etcd.test; the override checks the latter.
  const Client client = client_with(node, {.ca_pem = certs.pem("ca.crt"),
                                           .cert_pem = certs.pem("client.crt"),
                                           .key_pem = certs.pem("client.key"),
                                           .server_name = "etcd.test"});
  client.put("mtls/k", "v");
  EXPECT_EQ(client.get("mtls/k")->value, "v");
}

TEST(TlsTest, UntrustedServerCertificateFailsWithATlsErrorAtOnce) {
  const Certificates certs;
  embedded::Node node(tls_node(certs, false));
  const Client client = client_with(node, {.ca_file = certs.path("other-ca.crt")});
  std::string what;
  std::chrono::milliseconds took{};
  EXPECT_EQ(error_of([&] { client.put("k", "v"); }, what, took), Errc::tls_handshake_failed)
      << what;
  EXPECT_LT(took, 3000ms) << what;
  // In etcdpp's words: which server, what is wrong, which option fixes it; no gRPC wrapping.
  const std::string endpoint = node.client_endpoint().substr(std::string("https://").size());
  EXPECT_NE(what.find("put \"k\": TLS handshake with " + endpoint +
                      " failed: the server's certificate is not trusted"),
            std::string::npos)
      << what;
  EXPECT_NE(what.find("ClientOptions::tls.ca_file"), std::string::npos) << what;
  EXPECT_EQ(what.find("failed to connect to all addresses"), std::string::npos) << what;
  EXPECT_EQ(error_of([&] { client.get("k"); }, what, took), Errc::tls_handshake_failed) << what;
  EXPECT_EQ(error_of([&] { client.watch("k"); }, what, took), Errc::tls_handshake_failed) << what;
  EXPECT_LT(took, 3000ms) << what;
}

TEST(TlsTest, MissingClientCertificateAgainstMutualTlsFailsWithATlsError) {
  const Certificates certs;
  embedded::Node node(tls_node(certs, true));
  const Client client = client_with(node, {.ca_file = certs.path("ca.crt")});
  std::string what;
  std::chrono::milliseconds took{};
  EXPECT_EQ(error_of([&] { client.get("k"); }, what, took), Errc::tls_handshake_failed) << what;
  EXPECT_LT(took, 3000ms) << what;
  EXPECT_NE(what.find("refused by the server: it likely requires a client certificate"),
            std::string::npos)
      << what;
  EXPECT_NE(what.find("ClientOptions::tls.cert_file"), std::string::npos) << what;
}

TEST(TlsTest, HttpsToAServerWithoutTlsSaysWhatToChange) {
  embedded::Node node;  // plain: its endpoint is host:port
  const std::string endpoint = node.client_endpoint();
  Client client({.endpoints = {"https://" + endpoint}, .call_timeout = 3000ms});
  std::string what;
  std::chrono::milliseconds took{};
  // etcd answers a TLS handshake on a plain port in one of two ways, depending on how much of
  // it has arrived when it decides: it closes the connection, as a server going down would
  // (the call retries until its deadline, then says what it most likely is), or it answers
  // bytes that are no TLS (a handshake failure at once). Either way the words say what to change.
  const std::error_code ec = error_of([&] { client.get("k"); }, what, took);
  if (ec == Errc::tls_handshake_failed) {
    EXPECT_NE(what.find("TLS handshake with " + endpoint +
                        " failed: the server does not answer in TLS"),
              std::string::npos)
        << what;
  } else {
    EXPECT_EQ(ec, Errc::unavailable) << what;
    EXPECT_NE(what.find("cannot connect to " + endpoint + ": socket closed during the TLS "
                        "handshake (is it a server without TLS?"),
              std::string::npos)
        << what;
  }
  EXPECT_NE(what.find("use http://"), std::string::npos) << what;
}

TEST(TlsTest, PlainToATlsServerFailsNamingTheEndpoint) {
  const Certificates certs;
  embedded::Node node(tls_node(certs, false));
  const std::string endpoint = node.client_endpoint().substr(std::string("https://").size());
  Client client({.endpoints = {"http://" + endpoint}, .call_timeout = 1500ms});
  std::string what;
  std::chrono::milliseconds took{};
  const std::error_code ec = error_of([&] { client.get("k"); }, what, took);
  EXPECT_TRUE(ec) << "a plain call to a TLS port succeeded";
  EXPECT_NE(what.find("get \"k\": "), std::string::npos) << what;
  EXPECT_NE(what.find("cannot connect to " + endpoint +
                      ": socket closed (if the server uses TLS on this port, use https://"),
            std::string::npos)
      << what;
  EXPECT_EQ(what.find("failed to connect to all addresses"), std::string::npos) << what;
}

TEST(TlsTest, UnreadableCertificateFilesAndAKeylessCertificateAreRefused) {
  const auto make = [](TlsOptions tls) {
    ClientOptions options{.endpoints = {"https://127.0.0.1:1"}};
    options.tls = std::move(tls);
    Client client(std::move(options));
  };
  std::string what;
  std::chrono::milliseconds took{};
  EXPECT_EQ(error_of([&] { make({.ca_file = "/nonexistent/ca.crt"}); }, what, took),
            Errc::invalid_option);
  EXPECT_NE(what.find("/nonexistent/ca.crt"), std::string::npos) << what;
  EXPECT_EQ(error_of([&] { make({.cert_pem = "x"}); }, what, took), Errc::invalid_option);
  EXPECT_NE(what.find("key"), std::string::npos) << what;
}

}  // namespace
}  // namespace etcdpp
