// SPDX-License-Identifier: Apache-2.0
// The four-level priority table of registry configuration (every combination of present levels),
// the relevance rules of config keys, typed access through Config, and the route codec.
#include <gtest/gtest.h>

#include <random>

#include "etcdpp/error.hpp"
#include "etcdpp/registry/config.hpp"
#include "etcdpp/registry/route.hpp"

namespace etcdpp::registry {
namespace {

const ConfigScope kScope{.root = "services/ergo", .cluster = "production", .node = "web1"};

// The key of each level, as the seed document writes them, highest priority first.
const std::array<std::string, 4> kLevelKeys = {
    "services/ergo/config/production/web1/database.port",
    "services/ergo/cluster/production/config/web1/database.port",
    "services/ergo/cluster/production/config/*/database.port",
    "services/ergo/config/global/database.port",
};
const std::array<ConfigLevel, 4> kLevels = {ConfigLevel::cross_cluster_node,
                                            ConfigLevel::cluster_node, ConfigLevel::cluster_wide,
                                            ConfigLevel::global};

TEST(ConfigLayersTest, EveryCombinationOfLevelsResolvesToTheHighestPresent) {
  for (unsigned mask = 0; mask < 16; ++mask) {
    ConfigLayers layers(kScope);
    for (unsigned level = 0; level < 4; ++level) {
      if (mask & (1u << level)) {
        ASSERT_EQ(layers.apply(kLevelKeys[level], "int:" + std::to_string(level)),
                  "database.port");
      }
    }
    std::optional<unsigned> want;
    for (unsigned level = 0; level < 4 && !want; ++level) {
      if (mask & (1u << level)) want = level;
    }
    const auto got = layers.lookup("database.port");
    if (!want) {
      EXPECT_FALSE(got.has_value()) << "mask " << mask;
      EXPECT_FALSE(layers.level("database.port").has_value());
      EXPECT_TRUE(layers.items().empty());
      continue;
    }
    ASSERT_TRUE(got.has_value()) << "mask " << mask;
    EXPECT_EQ(*got, "int:" + std::to_string(*want)) << "mask " << mask;
    EXPECT_EQ(layers.level("database.port"), kLevels[*want]) << "mask " << mask;
    EXPECT_EQ(layers.items(), std::vector<std::string>{"database.port"});
    const Config config = resolve_config(layers, {"database.port", "absent"});
    EXPECT_EQ(config.get<std::int64_t>("database.port"), static_cast<std::int64_t>(*want));
    EXPECT_FALSE(config.contains("absent"));
  }
}

TEST(ConfigLayersTest, DeletingTheWinningLevelFallsBackToTheNext) {
  for (unsigned mask = 1; mask < 16; ++mask) {
    ConfigLayers layers(kScope);
    for (unsigned level = 0; level < 4; ++level) {
      if (mask & (1u << level)) layers.apply(kLevelKeys[level], "L" + std::to_string(level));
    }
    // Remove levels from the top one at a time; each time the next present one wins.
    for (unsigned level = 0; level < 4; ++level) {
      if (!(mask & (1u << level))) continue;
      ASSERT_EQ(layers.lookup("database.port"), "L" + std::to_string(level)) << mask;
      layers.apply(kLevelKeys[level], std::nullopt);
    }
    EXPECT_FALSE(layers.lookup("database.port").has_value()) << mask;
  }
}

TEST(ConfigLayersTest, KeysAreRelevantExactlyAsForErgoNodes) {
  ConfigLayers layers(kScope);
  struct Case {
    std::string key;
    std::optional<std::string> item;
  };
  const std::vector<Case> cases = {
      {"services/ergo/cluster/production/config/web1/ssl.enabled", "ssl.enabled"},
      {"services/ergo/cluster/production/config/*/cache.ratio", "cache.ratio"},
      {"services/ergo/config/global/log.level", "log.level"},
      {"services/ergo/config/production/web1/x", "x"},
      // Both roots feed one map: these fill the node and the global level.
      {"services/ergo/config/web1/x", "x"},
      {"services/ergo/cluster/production/config/global/x", "x"},
      {"services/ergo/cluster/production/config/production/web1/x", "x"},
      // Ignored: one segment, four, empty segments, another node or cluster, not config.
      {"services/ergo/cluster/production/config/cache.enabled", std::nullopt},
      {"services/ergo/cluster/production/config/web1/a/b", std::nullopt},
      {"services/ergo/cluster/production/config/web1/", std::nullopt},
      {"services/ergo/cluster/production/config//x", std::nullopt},
      {"services/ergo/cluster/production/config/web2/x", std::nullopt},
      {"services/ergo/cluster/staging/config/web1/x", std::nullopt},
      {"services/ergo/config/staging/web1/x", std::nullopt},
      {"services/ergo/config/production/web2/x", std::nullopt},
      {"services/ergo/cluster/production/routes/nodes/web1", std::nullopt},
      {"services/ergo/configx/global/x", std::nullopt},
      {"other/config/global/x", std::nullopt},
  };
  for (const Case& c : cases) EXPECT_EQ(layers.item_of(c.key), c.item) << c.key;
  EXPECT_FALSE(layers.apply("services/ergo/cluster/production/config/web2/x", "1").has_value());
  EXPECT_TRUE(layers.items().empty());
}

TEST(ConfigLayersTest, TheCrossClusterRootWinsOnTheSameRelativePath) {
  ConfigLayers layers(kScope);
  layers.apply("services/ergo/cluster/production/config/global/x", "from-cluster-root");
  EXPECT_EQ(layers.lookup("x"), "from-cluster-root");
  layers.apply("services/ergo/config/global/x", "from-config-root");
  EXPECT_EQ(layers.lookup("x"), "from-config-root");
  layers.apply("services/ergo/config/global/x", std::nullopt);
  EXPECT_EQ(layers.lookup("x"), "from-cluster-root");
}

TEST(ConfigLayersTest, TheSeedDocumentIsReadAsWritten) {
  ConfigLayers layers(kScope);
  layers.apply("services/ergo/cluster/production/config/web1/database.port", "int:5432");
  layers.apply("services/ergo/cluster/production/config/*/cache.ratio", "float:0.75");
  layers.apply("services/ergo/cluster/production/config/*/debug.enabled", "bool:true");
  layers.apply("services/ergo/cluster/production/config/web1/ssl.enabled", "bool:false");
  layers.apply("services/ergo/cluster/production/config/*/myapp.cache.size", "int:256");
  layers.apply("services/ergo/cluster/production/config/*/client.timeout", "int:30");
  layers.apply("services/ergo/config/global/log.level", "info");
  const Config config =
      resolve_config(layers, {"database.port", "cache.ratio", "debug.enabled", "ssl.enabled",
                              "myapp.cache.size", "client.timeout", "log.level"});
  EXPECT_EQ(config.get<std::int64_t>("database.port"), 5432);
  EXPECT_EQ(config.get<double>("cache.ratio"), 0.75);
  EXPECT_EQ(config.get<bool>("debug.enabled"), true);
  EXPECT_EQ(config.get<bool>("ssl.enabled"), false);
  EXPECT_EQ(config.get<std::int64_t>("myapp.cache.size"), 256);
  EXPECT_EQ(config.get<std::int64_t>("client.timeout"), 30);
  EXPECT_EQ(config.get<std::string>("log.level"), "info");
  EXPECT_EQ(config.get<ConfigValue>("log.level"), ConfigValue("info"));
  EXPECT_EQ(config.size(), 7u);
}

TEST(ConfigTest, GetNamesTheItemWhenAbsentOrOfAnotherType) {
  const Config config(Config::Map{{"port", ConfigValue(std::int64_t{5432})}});
  try {
    (void)config.get<std::string>("port");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::invalid_argument));
    EXPECT_NE(std::string(e.what()).find("\"port\""), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("int 5432"), std::string::npos) << e.what();
  }
  try {
    (void)config.get<std::int64_t>("missing");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::not_found));
    EXPECT_NE(std::string(e.what()).find("\"missing\""), std::string::npos);
  }
  EXPECT_EQ(config.get_or<std::int64_t>("missing", 7), 7);
}

TEST(ConfigTest, StrictResolveRefusesAMalformedValueCompatibleKeepsIt) {
  ConfigLayers layers(kScope);
  layers.apply("services/ergo/config/global/port", "int:abc");
  EXPECT_THROW(resolve_config(layers, {"port"}), Error);
  EXPECT_EQ(resolve_config(layers, {"port"}, TypedValues::compatible).get<std::string>("port"),
            "int:abc");
}

TEST(RouteCodecTest, NodeRoutesRoundTripAndStartWithABrace) {
  const std::vector<Route> routes = {
      {.host = "10.0.0.1", .port = 15000, .tls = true,
       .handshake = {"EHS", "1.2", "abc", "MIT"}, .proto = {"EDF", "\"quoted\"\n\\", "", ""}},
      {.host = "h\xc3\xa9te", .port = 65535},
  };
  const std::string text = encode_node_routes(routes);
  EXPECT_EQ(text.front(), '{');
  EXPECT_EQ(decode_node_routes(text), routes);
  EXPECT_EQ(decode_node_routes(encode_node_routes({})), std::vector<Route>{});
}

TEST(RouteCodecTest, ApplicationRouteRoundTripsAndRefusesOutOfRange) {
  const ApplicationRoute app{.node = "web1", .name = "web", .weight = 10,
                             .mode = ApplicationMode::permanent,
                             .state = ApplicationState::running};
  const std::string text = encode_application_route(app);
  EXPECT_EQ(text,
            R"({"v":1,"node":"web1","name":"web","weight":10,"mode":3,"state":2})");
  EXPECT_EQ(decode_application_route(text), app);
  EXPECT_FALSE(decode_application_route(R"({"v":1,"name":"web","state":4})"));
  EXPECT_FALSE(decode_application_route(R"({"v":1,"name":"web","mode":0})"));
  EXPECT_FALSE(decode_application_route(R"({"v":2,"name":"web"})"));
  EXPECT_FALSE(decode_application_route(R"({"v":1,"name":5})"));
  EXPECT_FALSE(decode_application_route(R"({"v":1,"weight":1.5})"));
  // Unknown fields, spaces and escapes are fine.
  const auto spaced = decode_application_route(
      R"({"extra":[1,{"a":null}], "v":1, "name":"w\u00e9b", "state":3} )");
  ASSERT_TRUE(spaced.has_value());
  EXPECT_EQ(spaced->name, "w\xc3\xa9" "b");
  EXPECT_EQ(spaced->state, ApplicationState::stopping);
  // A value must start with '{' (that is how the codec is told from base64).
  EXPECT_FALSE(decode_application_route(R"( {"v":1})"));
}

TEST(RouteCodecTest, ErgoValuesAndGarbageAreNotDecodedAndNeverCrash) {
  EXPECT_FALSE(decode_node_routes("gwAbI2VyZ28uc2VydmljZXMvZXJnby9nZW4vUm91dGU="));
  EXPECT_FALSE(decode_node_routes(""));
  EXPECT_FALSE(decode_node_routes("{"));
  EXPECT_FALSE(decode_node_routes(std::string(100000, '[')));
  EXPECT_FALSE(decode_node_routes("{\"v\":1,\"routes\":" + std::string(1000, '[')));
  std::mt19937 rng(7);
  const std::string alphabet = "{}[]\":,0123456789-.eEtruefalsnv\\u \x01";
  const std::string seed = encode_node_routes({{.host = "a", .port = 1}});
  for (int i = 0; i < 20000; ++i) {
    std::string text = seed;
    for (int k = 0; k < 3; ++k) {
      text[rng() % text.size()] = alphabet[rng() % alphabet.size()];
    }
    (void)decode_node_routes(text);
    (void)decode_application_route(text);
  }
}

}  // namespace
}  // namespace etcdpp::registry
