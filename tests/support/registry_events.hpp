// SPDX-License-Identifier: Apache-2.0
// What the registry tests share: registry events written as short comparable lines.
#pragma once

#include <string>
#include <vector>

#include "etcdpp/registry/registrar.hpp"

namespace etcdpp::test {

/// `type node app item old>new [initial]`, with only the parts the event has.
inline std::string line_of(const registry::Event& e) {
  std::string line(registry::to_string(e.type));
  if (!e.node.empty()) line += " " + e.node;
  if (!e.application.name.empty()) line += " " + e.application.name;
  if (!e.item.empty()) {
    line += " " + e.item + " " + e.old_value.value_or("-") + ">" + e.new_value.value_or("-");
  }
  if (e.initial) line += " initial";
  return line;
}

inline std::vector<std::string> lines_of(const std::vector<registry::Event>& events) {
  std::vector<std::string> out;
  for (const registry::Event& e : events) out.push_back(line_of(e));
  return out;
}

}  // namespace etcdpp::test
