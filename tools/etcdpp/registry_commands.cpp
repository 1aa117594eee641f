// SPDX-License-Identifier: Apache-2.0
// registry nodes, resolve and config: an operator's reads of the service registry, through
// registry::ClusterView (the same keys and rules as a Registrar's).
#include <iostream>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "etcdpp/registry/registrar.hpp"

namespace etcdpp::cli {
namespace {

registry::ClusterView view_of(Context& ctx, const RegistryArgs& a) {
  if (ctx.format() == Format::table) throw unsupported_format(Format::table);
  return registry::ClusterView(ctx.client(), {.root = a.root, .cluster = a.cluster});
}

nlohmann::json json_of(const registry::ConfigValue& value) {
  return std::visit([](const auto& v) { return nlohmann::json(v); }, value);
}

}  // namespace

int run_registry_nodes(Context& ctx, const RegistryArgs& a) {
  const auto view = view_of(ctx, a);
  const auto nodes = call([&] { return view.nodes(); });
  if (ctx.format() == Format::json) {
    std::cout << nlohmann::json{{"cluster", a.cluster}, {"nodes", nodes}}.dump() << "\n";
    return exit_success;
  }
  for (const std::string& n : nodes) std::cout << n << "\n";
  return exit_success;
}

int run_registry_resolve(Context& ctx, const RegistryArgs& a) {
  if (a.args.size() != 1) {
    throw ExitError{exit_bad_args, "registry resolve needs one argument: the application"};
  }
  const auto view = view_of(ctx, a);
  auto routes = call([&] { return view.resolve_application(a.args[0]); });
  if (!a.node.empty()) {
    std::erase_if(routes, [&](const registry::ApplicationRoute& r) { return r.node != a.node; });
  }
  if (ctx.format() == Format::json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : routes) {
      out.push_back({{"node", r.node}, {"name", r.name}, {"weight", r.weight},
                     {"mode", std::string(registry::to_string(r.mode))},
                     {"state", std::string(registry::to_string(r.state))}});
    }
    std::cout << out.dump() << "\n";
    return exit_success;
  }
  for (const auto& r : routes) {
    std::cout << r.node << " " << r.name << " weight=" << r.weight
              << " mode=" << registry::to_string(r.mode)
              << " state=" << registry::to_string(r.state) << "\n";
  }
  return exit_success;
}

int run_registry_config(Context& ctx, const RegistryArgs& a) {
  if (a.args.size() != 1) {
    throw ExitError{exit_bad_args, "registry config needs one argument: the item"};
  }
  if (a.node.empty()) {
    throw ExitError{exit_bad_args,
                    "registry config needs --node: configuration is resolved for one node"};
  }
  const std::string& item = a.args[0];
  const auto view = view_of(ctx, a);
  const auto layers = call([&] { return view.layers(a.node); });
  const auto text = layers.lookup(item);
  if (!text) {
    throw ExitError{exit_error, "registry config: no level sets \"" + item + "\" for node \"" +
                                    a.node + "\" of cluster \"" + a.cluster + "\""};
  }
  registry::ConfigValue value;
  try {
    value = registry::parse_config_value(*text, registry::TypedValues::strict, item);
  } catch (const Error& e) {
    throw ExitError{exit_error, e.what()};
  }
  const std::string level(registry::to_string(*layers.level(item)));
  if (ctx.format() == Format::json) {
    std::cout << nlohmann::json{{"item", item},   {"value", json_of(value)},
                                {"text", *text},  {"type", registry::type_name(value)},
                                {"level", level}}
                     .dump()
              << "\n";
    return exit_success;
  }
  std::cout << item << " = " << registry::to_string(value) << " ("
            << registry::type_name(value) << ", " << level << ")\n";
  return exit_success;
}

}  // namespace etcdpp::cli
