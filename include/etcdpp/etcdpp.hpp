// SPDX-License-Identifier: Apache-2.0
// etcdpp in one include: the Client with KV, Txn, member status and list, the Auth API, errors,
// the recipes (STM, queues, barriers, in-order keys), etcd v2's vocabulary, and the embedded
// etcd node and local cluster.
#pragma once

#include "etcdpp/auth.hpp"
#include "etcdpp/client.hpp"
#include "etcdpp/cluster.hpp"
#include "etcdpp/concurrency/barrier.hpp"
#include "etcdpp/concurrency/queue.hpp"
#include "etcdpp/concurrency/sequential_key.hpp"
#include "etcdpp/concurrency/stm.hpp"
#include "etcdpp/embedded/cluster.hpp"
#include "etcdpp/embedded/node.hpp"
#include "etcdpp/error.hpp"
#include "etcdpp/kv.hpp"
#include "etcdpp/lease.hpp"
#include "etcdpp/maintenance.hpp"
#include "etcdpp/paginator.hpp"
#include "etcdpp/txn.hpp"
#include "etcdpp/v2.hpp"
#include "etcdpp/watch.hpp"
