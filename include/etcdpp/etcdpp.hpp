// SPDX-License-Identifier: Apache-2.0
// etcdpp in one include: the Client with KV, Txn, member status and list, the Auth API, errors,
// the prefix cache, and the embedded etcd node and local cluster.
#pragma once

#include "etcdpp/auth.hpp"
#include "etcdpp/client.hpp"
#include "etcdpp/cluster.hpp"
#include "etcdpp/embedded/cluster.hpp"
#include "etcdpp/embedded/node.hpp"
#include "etcdpp/error.hpp"
#include "etcdpp/kv.hpp"
#include "etcdpp/lease.hpp"
#include "etcdpp/maintenance.hpp"
#include "etcdpp/paginator.hpp"
#include "etcdpp/prefix_cache.hpp"
#include "etcdpp/txn.hpp"
#include "etcdpp/watch.hpp"
