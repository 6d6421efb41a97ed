// Capabilities of the workload process: which ones it keeps, and the securebits
// that stop it from regaining the others.
//
// Split like every isolation mechanism: plan_capabilities() runs in the agent
// (validates names, reads the kernel's last capability) and apply_capabilities()
// runs in the forked child right before execve, making only syscalls.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace bulkhead::isolation {

struct CapabilityPlan {
  uint64_t keep = 0;  // bit N set = keep CAP number N
  int last_cap = 0;   // highest capability the running kernel knows (cap_last_cap)
};

// The securebits apply_capabilities() leaves the process with (see capabilities.cc
// for why each one is, or is not, set).
uint32_t hardened_securebits();

// The number of a canonical capability name ("CAP_NET_BIND_SERVICE"), or -1.
// Uses libcap's table, the one config validation uses, so the two agree.
int capability_from_name(const std::string& name);

// Maps the profile's names (canonical "CAP_..." form) to a bit mask. An unknown
// name, or one the running kernel does not support, is an error (messages do not
// repeat the field name; callers add "process.capabilities").
Result<CapabilityPlan> plan_capabilities(const std::vector<std::string>& names);
// Same, against a given cap_last_cap (for tests; the one above reads
// /proc/sys/kernel/cap_last_cap).
Result<CapabilityPlan> plan_capabilities(const std::vector<std::string>& names, int last_cap);

// Child side, after the final setresuid and before PR_SET_NO_NEW_PRIVS, Landlock
// and seccomp. Afterwards the bounding, permitted, effective, inheritable and
// ambient sets are exactly `plan.keep` and the securebits are
// hardened_securebits(), all locked. Returns 0 or -errno; never allocates.
//
// Precondition: the process still has CAP_SETPCAP and every kept capability in
// its permitted set. A setresuid from uid 0 to a non-zero uid empties the
// permitted set unless retain_capabilities_across_setuid() was called first
// (the effective set is emptied either way; apply_capabilities raises it again).
int apply_capabilities(const CapabilityPlan& plan) noexcept;

// Child side, right before the setresuid to the workload uid: sets
// PR_SET_KEEPCAPS so a switch away from uid 0 keeps the permitted set for
// apply_capabilities(). The flag is cleared by apply_capabilities() and by
// execve. Returns 0 or -errno.
int retain_capabilities_across_setuid() noexcept;

}  // namespace bulkhead::isolation
