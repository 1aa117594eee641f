// SPDX-License-Identifier: Apache-2.0
#include "embedded/temp_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

#include "etcdpp/error.hpp"

namespace etcdpp::embedded::detail {
namespace {

/// When process `pid` started (field 22 of /proc/<pid>/stat, in clock ticks since boot); empty
/// when there is no such process. Together with the pid, it names one process for good: a pid
/// reused later has another start time.
std::string start_time_of(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  if (!std::getline(in, stat)) return {};
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return field;
  }
  return {};
}

std::string owner_line() {
  const long pid = static_cast<long>(::getpid());
  return std::to_string(pid) + " " + start_time_of(pid) + "\n";
}

/// Whether the owner file at `path` names a process that has ended.
bool owner_gone(const std::filesystem::path& path) {
  std::ifstream in(path);
  long pid = 0;
  std::string started;
  if (!(in >> pid >> started) || pid <= 0) return false;  // unreadable: not ours to judge
  const std::string now = start_time_of(pid);
  return now.empty() || now != started;
}

}  // namespace

int reclaim_orphaned_temp_dirs(const std::filesystem::path& parent, std::string_view stem) {
  int removed = 0;
  std::error_code ec;
  const std::string prefix = std::string(stem) + "-";
  for (const auto& entry : std::filesystem::directory_iterator(parent, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix)) continue;
    struct stat st {};
    if (::lstat(entry.path().c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid()) {
      continue;
    }
    if (!owner_gone(entry.path() / kOwnerFile)) continue;
    std::error_code ignored;
    if (std::filesystem::remove_all(entry.path(), ignored) > 0) ++removed;
  }
  return removed;
}

std::filesystem::path make_owned_temp_dir(std::string_view stem) {
  const char* tmp = std::getenv("TMPDIR");
  const std::filesystem::path parent = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  // Nodes and clusters reclaim each other's: a program that used one leaves room for the other.
  for (const std::string_view known : {std::string_view("etcdpp-node"), std::string_view("etcdpp-cluster")}) {
    if (known != stem) reclaim_orphaned_temp_dirs(parent, known);
  }
  reclaim_orphaned_temp_dirs(parent, stem);
  std::string pattern = (parent / (std::string(stem) + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw Error(make_error_code(Errc::node_failed),
                "cannot create a temporary data dir " + pattern + ": " + std::strerror(errno) +
                    " (set TMPDIR to a writable directory, or give a data dir)");
  }
  const std::filesystem::path dir = pattern;
  std::ofstream owner(dir / kOwnerFile);
  owner << owner_line();
  if (!owner.flush()) {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
    throw Error(make_error_code(Errc::node_failed),
                "cannot write " + (dir / kOwnerFile).string() + " in a new temporary data dir");
  }
  return dir;
}

}  // namespace etcdpp::embedded::detail
