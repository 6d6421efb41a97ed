// Which cgroup hierarchies the host has and where they are mounted.
//
// Two layouts are supported:
//  - unified: one cgroup2 hierarchy (normally at /sys/fs/cgroup) that carries the
//    controllers;
//  - hybrid: cgroup2 (normally at /sys/fs/cgroup/unified) used only to place
//    processes and to attach BPF programs, while the controllers (memory, pids,
//    cpu, blkio, ...) are bound to cgroup v1 hierarchies under /sys/fs/cgroup/<name>.
// A host without any cgroup2 mount (legacy only) is refused: the BPF programs of
// the agent attach to cgroup2 directories.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/result.h"

namespace bulkhead::cgroup {

enum class Layout { kUnified, kHybrid };

struct HostCgroups {
  Layout layout = Layout::kUnified;
  std::string unified_mount;                     // "/sys/fs/cgroup" or "/sys/fs/cgroup/unified"
  std::map<std::string, std::string> v1_mounts;  // hybrid only: "memory" -> "/sys/fs/cgroup/memory"
};

// Parses mountinfo (injectable path for unit tests). No cgroup2 mount at all is an
// error. Mounts hidden by a later mount on the same or a parent directory are
// ignored; when a hierarchy is mounted more than once, a mount of its root ("/")
// is preferred, then /sys/fs/cgroup/..., then the first one.
Result<HostCgroups> detect_host_cgroups(const std::string& mountinfo = "/proc/self/mountinfo");
// The same on the text of a mountinfo file.
Result<HostCgroups> parse_mountinfo(std::string_view content);
// Undoes the octal escapes of mountinfo paths ("\040" is a space).
std::string unescape_mountinfo_path(std::string_view s);

// One line for the agent's start-up report.
std::string describe(const HostCgroups& host);

}  // namespace bulkhead::cgroup
