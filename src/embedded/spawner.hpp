// SPDX-License-Identifier: Apache-2.0
// The process-wide thread from which every embedded etcd is forked.
#pragma once

#include <sys/types.h>

namespace etcdpp::embedded::detail {

/// Forks on the library's spawner thread and returns the child's pid; in the child, runs
/// `child_main(arg)`, which must not return and may call async-signal-safe functions only.
/// Throws Error (Errc::node_failed) when fork fails.
///
/// Why a thread of its own: PR_SET_PDEATHSIG, which kills etcd when this process dies, fires
/// when the *thread* that forked exits, not the process. Forking from the caller would kill a
/// Node started in a worker thread as soon as that thread ends. The spawner thread is started
/// on first use with every signal blocked, and lives as long as the process, so the death
/// signal fires exactly when the process dies.
pid_t fork_on_spawner(void (*child_main)(void*), void* arg);

}  // namespace etcdpp::embedded::detail
