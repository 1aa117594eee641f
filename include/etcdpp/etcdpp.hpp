// SPDX-License-Identifier: Apache-2.0
// etcdpp in one include: the Client with KV, Txn, member status and list, the Auth API, errors,
// the concurrency recipes (session, mutex, rw_mutex, election, STM, queues, barriers,
// in-order keys), the prefix cache, the service registry, etcd v2's vocabulary, and the
// embedded etcd node and local cluster.
#pragma once

#include "etcdpp/auth.hpp"
#include "etcdpp/client.hpp"
#include "etcdpp/client_options.hpp"
#include "etcdpp/cluster.hpp"
#include "etcdpp/concurrency/barrier.hpp"
#include "etcdpp/concurrency/election.hpp"
#include "etcdpp/concurrency/mutex.hpp"
#include "etcdpp/concurrency/queue.hpp"
#include "etcdpp/concurrency/rw_mutex.hpp"
#include "etcdpp/concurrency/sequential_key.hpp"
#include "etcdpp/concurrency/session.hpp"
#include "etcdpp/concurrency/stm.hpp"
#include "etcdpp/embedded/cluster.hpp"
#include "etcdpp/embedded/node.hpp"
#include "etcdpp/endpoint.hpp"
#include "etcdpp/error.hpp"
#include "etcdpp/kv.hpp"
#include "etcdpp/lease.hpp"
#include "etcdpp/log.hpp"
#include "etcdpp/maintenance.hpp"
#include "etcdpp/paginator.hpp"
#include "etcdpp/prefix_cache.hpp"
#include "etcdpp/registry/config.hpp"
#include "etcdpp/registry/registrar.hpp"
#include "etcdpp/registry/route.hpp"
#include "etcdpp/registry/typed_value.hpp"
#include "etcdpp/txn.hpp"
#include "etcdpp/v2.hpp"
#include "etcdpp/watch.hpp"
