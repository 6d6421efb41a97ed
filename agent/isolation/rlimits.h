// Resource limits (setrlimit) of the workload process.
//
// check_rlimits() runs in the agent when the launch is planned; apply_rlimits()
// runs in the forked child and only makes syscalls.
#pragma once

#include <vector>

#include "common/result.h"
#include "config/profile.h"

namespace bulkhead::isolation {

// Verifies each limit can be applied by the child: a known resource, soft <=
// hard, and a hard limit no higher than the agent's own. The child inherits the
// agent's limits and may only lower a hard limit: raising one needs
// CAP_SYS_RESOURCE in the initial user namespace, which a tenant never has, so
// a too-high value is an error here instead of an EPERM after fork. Messages
// start with the limit's name; callers add "process.rlimits".
Status check_rlimits(const std::vector<config::Rlimit>& limits);

// Child side, after the final setresuid and before the capabilities are dropped
// (order does not matter for lowering). Applies the limits in order with
// setrlimit; UINT64_MAX means RLIM_INFINITY. Returns 0 or -errno of the first
// failure; never allocates.
int apply_rlimits(const std::vector<config::Rlimit>& limits) noexcept;

}  // namespace bulkhead::isolation
