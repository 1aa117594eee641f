// SPDX-License-Identifier: Apache-2.0
// The typed parse table of registry config values: every accepted spelling, every refused one,
// and random text that never crashes.
#include "etcdpp/registry/typed_value.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "etcdpp/error.hpp"

namespace etcdpp::registry {
namespace {

TEST(TypedValueTest, IntAcceptsGoParseIntSpellings) {
  const std::vector<std::pair<std::string, std::int64_t>> table = {
      {"int:5432", 5432},
      {"int:0", 0},
      {"int:-0", 0},
      {"int:+7", 7},
      {"int:-42", -42},
      {"int:007", 7},
      {"int:9223372036854775807", std::numeric_limits<std::int64_t>::max()},
      {"int:-9223372036854775808", std::numeric_limits<std::int64_t>::min()},
  };
  for (const auto& [text, want] : table) {
    auto v = try_parse_config_value(text);
    ASSERT_TRUE(v.has_value()) << text;
    ASSERT_TRUE(std::holds_alternative<std::int64_t>(*v)) << text;
    EXPECT_EQ(std::get<std::int64_t>(*v), want) << text;
  }
}

TEST(TypedValueTest, IntRefusesWhatGoParseIntRefuses) {
  for (const char* text :
       {"int:", "int:abc", "int: not a number", "int: 5", "int:5 ", "int:1_000", "int:0x10",
        "int:1.0", "int:1e3", "int:+", "int:-", "int:--1", "int:+-1", "int:9223372036854775808",
        "int:-9223372036854775809", "int:99999999999999999999", "int:٣", "int:5\n"}) {
    EXPECT_FALSE(try_parse_config_value(text).has_value()) << text;
  }
}

TEST(TypedValueTest, FloatAcceptsGoParseFloatSpellings) {
  const std::vector<std::pair<std::string, double>> table = {
      {"float:0.75", 0.75},     {"float:3.14", 3.14},     {"float:1", 1.0},
      {"float:-2.5", -2.5},     {"float:+2.5", 2.5},      {"float:.5", 0.5},
      {"float:5.", 5.0},        {"float:1e3", 1000.0},    {"float:1E3", 1000.0},
      {"float:1e+3", 1000.0},   {"float:1e-3", 0.001},    {"float:1_000.5", 1000.5},
      {"float:1e1_0", 1e10},    {"float:0x1p-2", 0.25},   {"float:0X1P-2", 0.25},
      {"float:0x1.8p1", 3.0},   {"float:0x_1p0", 1.0},    {"float:-0x10p0", -16.0},
      {"float:1e-400", 0.0},    {"float:007.5", 7.5},
  };
  for (const auto& [text, want] : table) {
    auto v = try_parse_config_value(text);
    ASSERT_TRUE(v.has_value()) << text;
    ASSERT_TRUE(std::holds_alternative<double>(*v)) << text;
    EXPECT_DOUBLE_EQ(std::get<double>(*v), want) << text;
  }
  for (const char* text : {"float:Inf", "float:inf", "float:+Inf", "float:INFINITY",
                           "float:infinity", "float:+infinity"}) {
    auto v = try_parse_config_value(text);
    ASSERT_TRUE(v.has_value()) << text;
    EXPECT_EQ(std::get<double>(*v), std::numeric_limits<double>::infinity()) << text;
  }
  for (const char* text : {"float:-Inf", "float:-infinity"}) {
    auto v = try_parse_config_value(text);
    ASSERT_TRUE(v.has_value()) << text;
    EXPECT_EQ(std::get<double>(*v), -std::numeric_limits<double>::infinity()) << text;
  }
  for (const char* text : {"float:NaN", "float:nan", "float:NAN"}) {
    auto v = try_parse_config_value(text);
    ASSERT_TRUE(v.has_value()) << text;
    EXPECT_TRUE(std::isnan(std::get<double>(*v))) << text;
  }
}

TEST(TypedValueTest, FloatRefusesWhatGoParseFloatRefuses) {
  for (const char* text :
       {"float:", "float:abc", "float:.", "float:e5", "float:1e", "float:1e+", "float:1e_5",
        "float: 1", "float:1 ", "float:1.2.3", "float:_1", "float:1_", "float:1__0",
        "float:1_.5", "float:1._5", "float:0x1", "float:0x1.8", "float:0x", "float:0xp1",
        "float:1p3", "float:1e400", "float:-1e400", "float:0x1p2000", "float:+NaN",
        "float:-nan", "float:infin", "float:in", "float:nan(1)", "float:1,5", "float:0b101",
        "float:1f"}) {
    EXPECT_FALSE(try_parse_config_value(text).has_value()) << text;
  }
}

TEST(TypedValueTest, BoolAcceptsExactlyGoParseBoolSpellings) {
  for (const char* text : {"bool:1", "bool:t", "bool:T", "bool:TRUE", "bool:true", "bool:True"}) {
    auto v = try_parse_config_value(text);
    ASSERT_TRUE(v.has_value()) << text;
    EXPECT_EQ(std::get<bool>(*v), true) << text;
  }
  for (const char* text :
       {"bool:0", "bool:f", "bool:F", "bool:FALSE", "bool:false", "bool:False"}) {
    auto v = try_parse_config_value(text);
    ASSERT_TRUE(v.has_value()) << text;
    EXPECT_EQ(std::get<bool>(*v), false) << text;
  }
  for (const char* text : {"bool:", "bool:yes", "bool:no", "bool:tRUE", "bool:TrUe", "bool:2",
                           "bool: true", "bool:true ", "bool:on", "bool:y"}) {
    EXPECT_FALSE(try_parse_config_value(text).has_value()) << text;
  }
}

TEST(TypedValueTest, OtherTextIsTheStringUnchanged) {
  for (const char* text : {"info", "", "string:x", "Int:5", "INT:5", "int5", "float", "bool",
                           "int :5", " int:5", "json:{}", "int", "Bool:true"}) {
    auto v = try_parse_config_value(text);
    ASSERT_TRUE(v.has_value()) << text;
    ASSERT_TRUE(std::holds_alternative<std::string>(*v)) << text;
    EXPECT_EQ(std::get<std::string>(*v), text);
  }
}

TEST(TypedValueTest, StrictModeNamesItemAndTextCompatibleModeKeepsTheString) {
  try {
    parse_config_value("int:abc", TypedValues::strict, "database.port");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), make_error_code(Errc::invalid_argument));
    const std::string what = e.what();
    EXPECT_NE(what.find("\"database.port\""), std::string::npos) << what;
    EXPECT_NE(what.find("\"int:abc\""), std::string::npos) << what;
    EXPECT_NE(what.find("compatible"), std::string::npos) << what;
  }
  EXPECT_EQ(parse_config_value("int:abc", TypedValues::compatible), ConfigValue("int:abc"));
  EXPECT_EQ(parse_config_value("int: not a number", TypedValues::compatible),
            ConfigValue("int: not a number"));
  EXPECT_EQ(parse_config_value("int:5432"), ConfigValue(std::int64_t{5432}));
}

TEST(TypedValueTest, StoredTextReadsBackAsTheSameValue) {
  const std::vector<ConfigValue> values = {
      ConfigValue(std::int64_t{-12}), ConfigValue(0.1), ConfigValue(1e300), ConfigValue(true),
      ConfigValue(false), ConfigValue(std::string("plain")),
      ConfigValue(std::numeric_limits<double>::infinity())};
  for (const ConfigValue& v : values) {
    const std::string text = to_stored_text(v);
    EXPECT_EQ(try_parse_config_value(text), v) << text;
  }
  EXPECT_EQ(to_stored_text(ConfigValue(std::int64_t{5432})), "int:5432");
  EXPECT_EQ(to_stored_text(ConfigValue(true)), "bool:true");
  EXPECT_EQ(to_string(ConfigValue(0.75)), "0.75");
  EXPECT_EQ(to_string(ConfigValue(std::string("info"))), "\"info\"");
}

TEST(TypedValueTest, RandomTextNeverCrashesAndStrictAgreesWithTry) {
  std::mt19937 rng(20261201);
  const std::string alphabet = "intfloatbool:0123456789+-._eEpPxXaAnNIi \t\n\x01\xff";
  const std::vector<std::string> prefixes = {"int:", "float:", "bool:", "", "string:"};
  for (int i = 0; i < 20000; ++i) {
    std::string text = prefixes[rng() % prefixes.size()];
    const std::size_t length = rng() % 24;
    for (std::size_t k = 0; k < length; ++k) text.push_back(alphabet[rng() % alphabet.size()]);
    const auto tried = try_parse_config_value(text);
    const auto kept = parse_config_value(text, TypedValues::compatible);
    if (tried) {
      EXPECT_EQ(parse_config_value(text, TypedValues::strict).index(), tried->index());
    } else {
      EXPECT_EQ(kept, ConfigValue(text));
      EXPECT_THROW(parse_config_value(text, TypedValues::strict), Error) << text;
    }
  }
}

}  // namespace
}  // namespace etcdpp::registry
