// SPDX-License-Identifier: Apache-2.0
// Typed configuration values as the registry stores them: plain strings with an optional type
// prefix (`int:5432`, `float:0.75`, `bool:true`), written by hand with `etcdctl put`. Parsed
// here; layered and looked up in config.hpp; read and watched by the Registrar (registrar.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace etcdpp::registry {

/// A configuration value: a string (no prefix, an unknown prefix, or `string:`), an `int:`
/// (int64), a `float:` (double) or a `bool:`.
using ConfigValue = std::variant<std::string, std::int64_t, double, bool>;

/// What to do with a value whose type prefix is known but whose text does not parse
/// (`int:abc`).
enum class TypedValues {
  /// Refuse it: reading it throws Error (Errc::invalid_argument) naming the item and the text.
  strict,
  /// Keep the whole original text, prefix included, as a string (`"int:abc"`), as Ergo's
  /// registrar does, silently.
  compatible,
};

/// Parses a stored value. The prefixes are case-sensitive, and the rules those of the Go
/// registrar that writes and reads the same keys:
/// - `int:` a decimal int64 with an optional sign (`+`/`-`); no spaces, `_` or `0x`; overflow
///   is refused.
/// - `float:` a Go float literal: decimal with optional exponent (`1.5e3`, `.5`, `5.`), or
///   hexadecimal with a mandatory `p` exponent (`0x1.8p1`); `_` between digits; `Inf`,
///   `Infinity` (optionally signed) and `NaN`, in any case. A finite text beyond double's range
///   is refused; one too small for it gives 0 or a subnormal.
/// - `bool:` exactly one of `1 t T TRUE true True 0 f F FALSE false False`.
/// - anything else, `string:` included, is the string unchanged.
///
/// Returns std::nullopt when a known prefix is followed by text that does not parse.
std::optional<ConfigValue> try_parse_config_value(std::string_view text);

/// As try_parse_config_value, with the TypedValues policy for text that does not parse:
/// strict throws Error (Errc::invalid_argument) whose message names `item` and the text and says
/// what is accepted; compatible returns the text as a string.
ConfigValue parse_config_value(std::string_view text, TypedValues mode = TypedValues::strict,
                               std::string_view item = {});

/// The stored form of a value: `int:5432`, `float:0.75`, `bool:true`, or the string itself.
/// A string that would read back as another type (it starts with `int:`, `float:` or `bool:`) is
/// written as is, and so reads back as that type or, in compatible mode, as itself.
std::string to_stored_text(const ConfigValue& value);

/// A readable form for printing: `5432`, `0.75`, `true`, or the string in double quotes.
std::string to_string(const ConfigValue& value);

/// The name of the value's type: "string", "int", "float" or "bool".
std::string_view type_name(const ConfigValue& value) noexcept;

}  // namespace etcdpp::registry
