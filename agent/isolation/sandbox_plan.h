// Everything a workload launch needs that can be computed ahead of the fork:
// validated, resolved and allocated once per tenant profile, then only read by
// the processes between fork and execve (which must not allocate).
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "config/profile.h"
#include "isolation/capabilities.h"
#include "isolation/landlock.h"
#include "isolation/rootfs.h"
#include "isolation/seccomp_policy.h"

namespace bulkhead::isolation {

struct SandboxPlan {
  RootfsPlan rootfs;
  CapabilityPlan capabilities;
  LandlockPlan landlock;
  SeccompProgram seccomp;
  SeccompProgram socket_filter;  // network.socket_families / raw_sockets (seccomp_network.h)
  std::vector<config::Rlimit> rlimits;
  bool new_cgroup_namespace = true;
  std::vector<std::string> warnings;  // e.g. OCI seccomp names this libseccomp cannot resolve
};

// staging_dir: an existing empty host directory the new root is mounted on.
Result<SandboxPlan> plan_sandbox(const config::Profile& profile, const std::string& staging_dir);

}  // namespace bulkhead::isolation
