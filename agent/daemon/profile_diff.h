// What changed between the profile a tenant runs with and the one a reload
// brings, field by field, so reload touches only what it must:
//  - limits           → applied in place to the running tenant's cgroup;
//  - network rules    → the tenant's eBPF policy replaced in place, atomically
//                       (a change of network mode recreates the tenant);
//  - workloads        → per workload: new ones started, removed ones stopped,
//                       ones with a new command/env/cwd restarted, and ones whose
//                       restart settings alone changed updated without a restart;
//  - everything else  → ids, hostname, namespaces, filesystem, process, landlock,
//                       seccomp, network: baked into the tenant's namespaces and sandbox
//                       plan, so the tenant is recreated (its workloads stopped,
//                       the tenant destroyed, created again and its workloads started).
// The profile's source file is a label, not configuration: a renamed file is
// no change.
//
// Every comparison binds all fields of its struct (structured bindings), so a
// field added to config/profile.h breaks the build here until it is classified.
#pragma once

#include <string>
#include <vector>

#include "config/profile.h"

namespace bulkhead::daemon {

struct WorkloadChanges {
  std::vector<std::string> added;         // names only in the new profile
  std::vector<std::string> removed;       // names only in the old one
  std::vector<std::string> replaced;      // command, env or cwd changed: restart
  std::vector<std::string> restart_only;  // only restart settings changed: in place
  [[nodiscard]] bool empty() const {
    return added.empty() && removed.empty() && replaced.empty() && restart_only.empty();
  }
};

struct ProfileDiff {
  bool limits = false;
  bool network_policy = false;  // egress/ingress/families changed, mode did not
  WorkloadChanges workloads;
  // Top-level fields that changed and need the tenant recreated ("filesystem", ...).
  std::vector<std::string> recreate;

  [[nodiscard]] bool needs_recreate() const { return !recreate.empty(); }
  [[nodiscard]] bool any() const {
    return limits || network_policy || !workloads.empty() || needs_recreate();
  }
  // "limits, workloads (+a -b ~c), recreate (filesystem, seccomp)" for the log.
  [[nodiscard]] std::string to_string() const;
};

ProfileDiff diff_profiles(const config::Profile& running, const config::Profile& wanted);
WorkloadChanges diff_workloads(const std::vector<config::WorkloadSpec>& running,
                               const std::vector<config::WorkloadSpec>& wanted);

bool same_limits(const config::Limits& a, const config::Limits& b);
// Everything but the source file.
bool same_profile(const config::Profile& a, const config::Profile& b);

}  // namespace bulkhead::daemon
