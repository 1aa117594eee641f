// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include "etcdpp/client.hpp"

namespace etcdpp {
namespace {

TEST(EndpointTest, ParsesHostPortWithOrWithoutHttp) {
  EXPECT_EQ(Endpoint::parse("127.0.0.1:2379"),
            (Endpoint{Endpoint::Scheme::http, "127.0.0.1", 2379, ""}));
  EXPECT_EQ(Endpoint::parse("http://etcd-1:2379"),
            (Endpoint{Endpoint::Scheme::http, "etcd-1", 2379, ""}));
  EXPECT_EQ(Endpoint::parse("http://etcd-1:2379/"),
            (Endpoint{Endpoint::Scheme::http, "etcd-1", 2379, ""}));
  EXPECT_EQ(Endpoint::parse("[::1]:2379"), (Endpoint{Endpoint::Scheme::http, "::1", 2379, ""}));
  EXPECT_EQ(Endpoint::parse("[::1]:2379").to_string(), "[::1]:2379");
}

TEST(EndpointTest, ParsesUnixSockets) {
  EXPECT_EQ(Endpoint::parse("unix:///run/etcd.sock"),
            (Endpoint{Endpoint::Scheme::unix_socket, "", 0, "/run/etcd.sock"}));
  EXPECT_EQ(Endpoint::parse("unix:etcd.sock").path, "etcd.sock");
  EXPECT_EQ(Endpoint::parse("unix:///run/etcd.sock").to_string(), "unix:///run/etcd.sock");
}

void expect_invalid(const std::string& text, const std::string& says) {
  try {
    Endpoint::parse(text);
    ADD_FAILURE() << "accepted " << text;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_endpoint) << text;
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
  }
}

TEST(EndpointTest, MalformedEndpointsAreRefusedWithTheirFault) {
  expect_invalid("", "empty");
  expect_invalid("localhost", "missing :port");
  expect_invalid("localhost:", "port");
  expect_invalid("localhost:70000", "port");
  expect_invalid("localhost:12ab", "port");
  expect_invalid(":2379", "missing host");
  expect_invalid("ftp://h:1", "unknown scheme");
  expect_invalid("http://h:1/v3", "path");
  expect_invalid("::1:2379", "brackets");
  expect_invalid("[::1:2379", "unterminated");
  expect_invalid("unix://", "socket path");
  // Endpoints joined with commas, as etcdctl's --endpoints takes them, are named for what they
  // are (not "put an IPv6 address in brackets", not "unknown scheme").
  expect_invalid("127.0.0.1:2379,127.0.0.1:22379", "several endpoints in one string");
  expect_invalid("http://a:2379,http://b:2379", "split the string at its commas");
  EXPECT_EQ(Endpoint::parse("unix:///run/etcd,1.sock").path, "/run/etcd,1.sock");
}

TEST(EndpointTest, BlanksAroundAnEndpointAreDroppedAndBlanksInsideRefused) {
  // As after splitting "a, b" at its comma: gRPC would resolve " 127.0.0.1" as a host name.
  EXPECT_EQ(Endpoint::parse(" 127.0.0.1:2379"),
            (Endpoint{Endpoint::Scheme::http, "127.0.0.1", 2379, ""}));
  EXPECT_EQ(Endpoint::parse("\thttps://etcd-1:2379/ \r\n"),
            (Endpoint{Endpoint::Scheme::https, "etcd-1", 2379, ""}));
  EXPECT_EQ(Endpoint::parse(" unix:///run/etcd.sock ").path, "/run/etcd.sock");
  expect_invalid("  ", "only blanks");
  expect_invalid("127.0.0.1 :2379", "blank inside");
  expect_invalid("127.0.0.1: 2379", "blank inside");
  expect_invalid("etcd 1:2379", "blank inside");
  expect_invalid(" http://etcd\t1:2379", "blank inside");
  // The client takes them so too.
  Client client({.endpoints = {" 127.0.0.1:2379", "127.0.0.1:2380 "}});
  EXPECT_EQ(client.endpoints(),
            (std::vector<Endpoint>{{Endpoint::Scheme::http, "127.0.0.1", 2379, ""},
                                   {Endpoint::Scheme::http, "127.0.0.1", 2380, ""}}));
  EXPECT_THROW(Client({.endpoints = {"127.0.0.1:2379", "127.0.0.1 :2380"}}), Error);
}

TEST(EndpointTest, ParsesHttpsAsTls) {
  EXPECT_EQ(Endpoint::parse("https://etcd-1:2379"),
            (Endpoint{Endpoint::Scheme::https, "etcd-1", 2379, ""}));
  EXPECT_EQ(Endpoint::parse("https://[::1]:2379/").to_string(), "[::1]:2379");
  expect_invalid("https://h", "port");
}

TEST(EndpointTest, ClientRefusesNoEndpointAndBadOptions) {
  EXPECT_THROW(Client(ClientOptions{}), Error);
  try {
    Client({.endpoints = {"127.0.0.1:2379", "bogus"}});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_endpoint);
  }
  try {
    Client({.endpoints = {"127.0.0.1:2379"}, .call_timeout = std::chrono::milliseconds(0)});
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_option);
    EXPECT_NE(std::string(e.what()).find("call_timeout"), std::string::npos);
  }
}

}  // namespace
}  // namespace etcdpp
