// SPDX-License-Identifier: Apache-2.0
// etcdpp in one include: the Client with KV, Txn, member status and list, the Auth API, errors,
// the concurrency recipes (session, mutex, rw_mutex, election), the prefix cache, and the
// embedded etcd node and local cluster.
#pragma once

#include "etcdpp/auth.hpp"
#include "etcdpp/client.hpp"
#include "etcdpp/cluster.hpp"
#include "etcdpp/concurrency/election.hpp"
#include "etcdpp/concurrency/mutex.hpp"
#include "etcdpp/concurrency/rw_mutex.hpp"
#include "etcdpp/concurrency/session.hpp"
#include "etcdpp/embedded/cluster.hpp"
#include "etcdpp/embedded/node.hpp"
#include "etcdpp/error.hpp"
#include "etcdpp/kv.hpp"
#include "etcdpp/lease.hpp"
#include "etcdpp/maintenance.hpp"
#include "etcdpp/paginator.hpp"
#include "etcdpp/prefix_cache.hpp"
#include "etcdpp/registry/config.hpp"
#include "etcdpp/registry/registrar.hpp"
#include "etcdpp/registry/route.hpp"
#include "etcdpp/registry/typed_value.hpp"
#include "etcdpp/txn.hpp"
#include "etcdpp/watch.hpp"
