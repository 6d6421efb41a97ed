// Small helpers for the one-line files of procfs, sysfs and cgroupfs.
#pragma once

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace bulkhead {

// Reads a whole file (procfs/cgroupfs files report size 0, so read until EOF).
Result<std::string> read_file(const std::string& path);
// Writes `data` in one write(2) call, as cgroupfs and /proc/<pid>/uid_map require.
Status write_file(const std::string& path, const std::string& data);
// Same, relative to a directory fd (cgroup directories are kept open).
Status write_file_at(int dirfd, const std::string& name, const std::string& data);
Result<std::string> read_file_at(int dirfd, const std::string& name);
// mkdir -p with the given mode for each created component.
Status make_dirs(const std::string& path, unsigned mode);
Result<UniqueFd> open_dir(const std::string& path);
// Trims trailing whitespace and newlines.
std::string trim(std::string s);

}  // namespace bulkhead
