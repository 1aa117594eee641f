// SPDX-License-Identifier: Apache-2.0
// Temporary data dirs of embedded nodes and clusters that outlive no owner for long: each holds
// its owner's identity, and whoever makes the next one removes those whose owner has died (a
// program killed by SIGKILL, or ended by an uncaught exception, cannot remove its own).
#pragma once

#include <filesystem>
#include <string_view>

namespace etcdpp::embedded::detail {

/// Makes `$TMPDIR/<stem>-XXXXXX` (/tmp without TMPDIR), marked as this process's, after removing
/// the dirs `<stem>-*`, `etcdpp-node-*` and `etcdpp-cluster-*` there whose owner process has
/// ended. Throws Error (Errc::node_failed)
/// naming the path when it cannot be made.
std::filesystem::path make_owned_temp_dir(std::string_view stem);

/// Removes the dirs `<stem>-*` in `parent` whose owner file names a process that has ended (or
/// a pid now used by another process); dirs without an owner file, of another user, or whose
/// owner lives are left alone. Returns how many it removed.
int reclaim_orphaned_temp_dirs(const std::filesystem::path& parent, std::string_view stem);

/// The name of the owner file inside such a dir.
inline constexpr std::string_view kOwnerFile = ".etcdpp-owner";

}  // namespace etcdpp::embedded::detail
