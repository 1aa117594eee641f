// SPDX-License-Identifier: Apache-2.0
// The plain data of etcd's Cluster API: the members of a cluster. Client (client.hpp) lists
// them; adding, removing and promoting members come with the rest of the Cluster API.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace etcdpp {

/// One member of the cluster (etcd's Member).
struct Member {
  std::uint64_t id = 0;
  std::string name;                      ///< Empty for a member added but not started yet.
  std::vector<std::string> peer_urls;    ///< URLs the other members reach it on.
  std::vector<std::string> client_urls;  ///< URLs clients reach it on; empty if not started.
  bool is_learner = false;

  bool operator==(const Member&) const = default;
};

}  // namespace etcdpp
