// The pseudo filesystems BPF work needs and distributions mount at boot, but a
// minimal host or a VM's init may not: bpffs (pinning), tracefs (tp/ programs
// resolve tracepoint ids there), securityfs (active LSMs, lockdown state).
// Each ensure_* mounts the filesystem unless it is already there; calling it
// again is a no-op. Nothing here ever unmounts.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace bulkhead::bpf {

Status ensure_bpffs(const std::string& path = "/sys/fs/bpf");
Status ensure_tracefs(const std::string& path = "/sys/kernel/tracing");
Status ensure_securityfs(const std::string& path = "/sys/kernel/security");

// Filesystem type ("bpf", "tracefs", ...) of the topmost mount whose mount
// point is exactly `path` (resolved with realpath), per /proc/self/mountinfo;
// nullopt when nothing is mounted there.
Result<std::optional<std::string>> mounted_fs_type(const std::string& path);

namespace detail {
// The parsing behind mounted_fs_type, on the text of a mountinfo file.
std::optional<std::string> find_mount_fs_type(std::string_view mountinfo,
                                              std::string_view mount_point);
// Undoes the octal escapes of mountinfo paths ("\040" is a space).
std::string unescape_mount_field(std::string_view field);
}  // namespace detail

}  // namespace bulkhead::bpf
