// The rules every path in a profile follows. Paths are compared as strings later
// (duplicate mount targets, Landlock rules, "is this under /proc?"), so they must
// already be in one canonical spelling: absolute, no "." or "..", no repeated or
// trailing slashes. A path that is not canonical is rejected rather than fixed,
// so the profile on disk says exactly what the agent does.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace bulkhead::config {

// Absolute and canonical; the error suggests the canonical spelling when there is one.
Status check_absolute_path(std::string_view path);

// Where something is placed inside a tenant (a mount target, a symlink): also
// not "/" (the sandbox root itself) and not under /proc or /dev, which the
// sandbox builds itself and a tenant-chosen mount there could shadow.
Status check_target_path(std::string_view path);

// True when `path` is `dir` or below it: "/proc/1" is under "/proc", "/procfs" is not.
// Both must be canonical.
bool path_is_under(std::string_view path, std::string_view dir);

}  // namespace bulkhead::config
