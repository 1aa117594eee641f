// SPDX-License-Identifier: Apache-2.0
// What the service registry publishes: a node's network routes and its applications' routes,
// and their stored form, the `etcdpp-json/1` codec. The Registrar (registrar.hpp) writes and
// reads them; config values (typed_value.hpp) are stored differently, as plain strings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace etcdpp::registry {

/// A protocol version a route speaks.
struct Version {
  std::string name{};     ///< The protocol's name.
  std::string release{};  ///< Its release, e.g. a version number.
  std::string commit{};   ///< The commit of the implementation; may be empty.
  std::string license{};  ///< The implementation's license; may be empty.

  bool operator==(const Version&) const = default;  ///< Member-wise comparison.
};

/// One way to reach a node.
struct Route {
  std::string host{};      ///< The host name or address to connect to.
  std::uint16_t port = 0;  ///< The TCP port to connect to.
  bool tls = false;        ///< Whether the connection uses TLS.
  Version handshake{};     ///< The handshake protocol the node speaks on this route.
  Version proto{};         ///< The protocol it speaks once the handshake is done.

  bool operator==(const Route&) const = default;  ///< Member-wise comparison.
};

/// How an application restarts (values as Ergo's gen.ApplicationMode).
enum class ApplicationMode : int { temporary = 1, transient = 2, permanent = 3 };
/// Where an application stands (values as Ergo's gen.ApplicationState).
enum class ApplicationState : int { loaded = 1, running = 2, stopping = 3 };

/// "temporary", "transient", "permanent".
std::string_view to_string(ApplicationMode mode) noexcept;
/// "loaded", "running", "stopping".
std::string_view to_string(ApplicationState state) noexcept;

/// An application of a node, as the registry publishes it.
struct ApplicationRoute {
  std::string node{};  ///< Filled by the Registrar with its node's name.
  std::string name{};  ///< The application's name: non-empty, without `/`.
  /// Its weight among the nodes that run it, for a resolver to choose by; stored as given.
  int weight = 0;
  ApplicationMode mode = ApplicationMode::temporary;   ///< How it restarts.
  ApplicationState state = ApplicationState::loaded;  ///< Where it stands.

  bool operator==(const ApplicationRoute&) const = default;  ///< Member-wise comparison.
};

/// The codec name of encode_node_routes and encode_application_route.
inline constexpr std::string_view kRouteCodec = "etcdpp-json/1";

/// A node's value in codec `etcdpp-json/1`: a JSON object
/// `{"v":1,"routes":[{"host":…,"port":…,"tls":…,"handshake":{"name","release","commit",
/// "license"},"proto":{…}}]}`, with strings escaped as JSON requires. It starts with `{`, which
/// a base64 value (Ergo's EDF codec) never does, so a reader can tell the two apart.
std::string encode_node_routes(const std::vector<Route>& routes);
/// An application's value: `{"v":1,"node":…,"name":…,"weight":…,"mode":1..3,"state":1..3}`.
std::string encode_application_route(const ApplicationRoute& route);

/// Decodes a node's value; std::nullopt when it is not `etcdpp-json/1` (for instance the EDF
/// value of an Ergo node) or is malformed. Unknown fields are ignored.
std::optional<std::vector<Route>> decode_node_routes(std::string_view value);
/// Decodes an application's value; std::nullopt when it is not `etcdpp-json/1`, is malformed,
/// or has a mode or state out of range.
std::optional<ApplicationRoute> decode_application_route(std::string_view value);

}  // namespace etcdpp::registry
