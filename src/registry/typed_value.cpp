// SPDX-License-Identifier: Apache-2.0
#include "etcdpp/registry/typed_value.hpp"

#include <cerrno>
#include <charconv>
#include <clocale>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <locale.h>

#include "etcdpp/error.hpp"

namespace etcdpp::registry {
namespace {

constexpr std::string_view kInt = "int:";
constexpr std::string_view kFloat = "float:";
constexpr std::string_view kBool = "bool:";

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_hex_digit(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Go's strconv.ParseInt(s, 10, 64): a sign, then one or more decimal digits, nothing else.
std::optional<std::int64_t> parse_int(std::string_view s) {
  std::string_view digits = s;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty()) return std::nullopt;
  for (char c : digits) {
    if (!is_digit(c)) return std::nullopt;
  }
  // Accumulate the magnitude as unsigned so that INT64_MIN, whose magnitude int64 cannot hold,
  // parses too.
  std::uint64_t magnitude = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  const auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (negative) {
    if (magnitude > max + 1) return std::nullopt;
    if (magnitude == max + 1) return std::numeric_limits<std::int64_t>::min();
    return -static_cast<std::int64_t>(magnitude);
  }
  if (magnitude > max) return std::nullopt;
  return static_cast<std::int64_t>(magnitude);
}

// Go's rule for `_` in a number: only between two digits (a base prefix counts as a digit).
bool underscores_ok(std::string_view s) {
  char saw = '^';  // ^ start, 0 digit or prefix, _ underscore, ! anything else
  std::size_t i = 0;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) s.remove_prefix(1);
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0' && lower(s[1]) == 'x') {
    i = 2;
    saw = '0';
    hex = true;
  }
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (is_digit(c) || (hex && is_hex_digit(c))) {
      saw = '0';
      continue;
    }
    if (c == '_') {
      if (saw != '0') return false;
      saw = '_';
      continue;
    }
    if (saw == '_') return false;
    saw = '!';
  }
  return saw != '_';
}

// Whether `s` is a Go float literal as strconv.ParseFloat reads it (specials aside).
bool float_syntax_ok(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  bool hex = false;
  if (i + 2 < s.size() && s[i] == '0' && lower(s[i + 1]) == 'x') {
    hex = true;
    i += 2;
  }
  bool saw_dot = false;
  bool saw_digits = false;
  bool underscores = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '_') {
      underscores = true;
    } else if (c == '.') {
      if (saw_dot) break;
      saw_dot = true;
    } else if (hex ? is_hex_digit(c) : is_digit(c)) {
      saw_digits = true;
    } else {
      break;
    }
  }
  if (!saw_digits) return false;
  const char exp_char = hex ? 'p' : 'e';
  if (i < s.size() && lower(s[i]) == exp_char) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (i >= s.size() || !is_digit(s[i])) return false;
    for (; i < s.size() && (is_digit(s[i]) || s[i] == '_'); ++i) {
      if (s[i] == '_') underscores = true;
    }
  } else if (hex) {
    return false;  // a hexadecimal mantissa needs its exponent
  }
  if (i != s.size()) return false;
  return !underscores || underscores_ok(s);
}

// strtod in the "C" locale, whatever the process's locale says the decimal point is.
double strtod_c(const std::string& s, char** end) {
  static const locale_t c_locale = newlocale(LC_ALL_MASK, "C", locale_t{});
  return strtod_l(s.c_str(), end, c_locale);
}

// Go's strconv.ParseFloat(s, 64).
std::optional<double> parse_float(std::string_view s) {
  {
    std::string_view body = s;
    double sign = 1.0;
    bool signed_text = false;
    if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
      sign = body[0] == '-' ? -1.0 : 1.0;
      signed_text = true;
      body.remove_prefix(1);
    }
    if (equals_ignore_case(body, "inf") || equals_ignore_case(body, "infinity")) {
      return sign * std::numeric_limits<double>::infinity();
    }
    // NaN takes no sign in Go.
    if (!signed_text && equals_ignore_case(body, "nan")) {
      return std::numeric_limits<double>::quiet_NaN();
    }
  }
  if (!float_syntax_ok(s)) return std::nullopt;
  std::string text;
  text.reserve(s.size());
  for (char c : s) {
    if (c != '_') text.push_back(c);
  }
  errno = 0;
  char* end = nullptr;
  const double value = strtod_c(text, &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  // Overflow is refused; underflow gives 0 or a subnormal, as in Go.
  if (errno == ERANGE && std::isinf(value)) return std::nullopt;
  return value;
}

std::optional<bool> parse_bool(std::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false" || s == "False") {
    return false;
  }
  return std::nullopt;
}

std::string what_is_accepted(std::string_view text) {
  if (text.starts_with(kInt)) return "a decimal int64 with an optional sign, e.g. \"int:5432\"";
  if (text.starts_with(kFloat)) {
    return "a float such as \"float:0.75\", \"float:1e-3\", \"float:0x1p-2\" or \"float:Inf\"";
  }
  return "one of 1 t T TRUE true True 0 f F FALSE false False, e.g. \"bool:true\"";
}

}  // namespace

std::optional<ConfigValue> try_parse_config_value(std::string_view text) {
  if (text.starts_with(kInt)) {
    if (auto v = parse_int(text.substr(kInt.size()))) return ConfigValue(*v);
    return std::nullopt;
  }
  if (text.starts_with(kFloat)) {
    if (auto v = parse_float(text.substr(kFloat.size()))) return ConfigValue(*v);
    return std::nullopt;
  }
  if (text.starts_with(kBool)) {
    if (auto v = parse_bool(text.substr(kBool.size()))) return ConfigValue(*v);
    return std::nullopt;
  }
  return ConfigValue(std::string(text));
}

ConfigValue parse_config_value(std::string_view text, TypedValues mode, std::string_view item) {
  if (auto value = try_parse_config_value(text)) return std::move(*value);
  if (mode == TypedValues::compatible) return ConfigValue(std::string(text));
  std::string what = "registry config";
  if (!item.empty()) what += " \"" + std::string(item) + "\"";
  what += ": malformed typed value \"" + std::string(text) + "\": expected " +
          what_is_accepted(text) +
          " (TypedValues::compatible keeps such a value as the string itself)";
  throw Error(make_error_code(Errc::invalid_argument), what);
}

std::string to_stored_text(const ConfigValue& value) {
  struct Visitor {
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(std::int64_t i) const { return std::string(kInt) + std::to_string(i); }
    std::string operator()(double d) const {
      if (std::isnan(d)) return "float:NaN";
      if (std::isinf(d)) return d > 0 ? "float:+Inf" : "float:-Inf";
      char buffer[64];
      const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, d);
      return std::string(kFloat) + std::string(buffer, ec == std::errc() ? end : buffer);
    }
    std::string operator()(bool b) const { return b ? "bool:true" : "bool:false"; }
  };
  return std::visit(Visitor{}, value);
}

std::string to_string(const ConfigValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return "\"" + *s + "\"";
  const std::string stored = to_stored_text(value);
  return stored.substr(stored.find(':') + 1);
}

std::string_view type_name(const ConfigValue& value) noexcept {
  switch (value.index()) {
    case 0: return "string";
    case 1: return "int";
    case 2: return "float";
    default: return "bool";
  }
}

}  // namespace etcdpp::registry
