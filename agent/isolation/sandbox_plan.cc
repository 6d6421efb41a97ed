#include "isolation/sandbox_plan.h"

#include "isolation/rlimits.h"
#include "isolation/seccomp_network.h"

namespace bulkhead::isolation {

Result<SandboxPlan> plan_sandbox(const config::Profile& profile, const std::string& staging_dir) {
  const std::string where = profile.source_file.empty() ? profile.name : profile.source_file;
  SandboxPlan plan;
  auto rootfs = plan_rootfs(profile.filesystem, staging_dir);
  if (!rootfs.ok()) {
    return rootfs.error().context(where);
  }
  plan.rootfs = std::move(*rootfs);

  auto caps = plan_capabilities(profile.process.capabilities);
  if (!caps.ok()) {
    return caps.error().context(where + ": process.capabilities");
  }
  plan.capabilities = *caps;

  auto landlock = plan_landlock(profile.landlock, profile.filesystem);
  if (!landlock.ok()) {
    return landlock.error().context(where);
  }
  plan.landlock = std::move(*landlock);

  auto seccomp = compile_seccomp(profile.seccomp, profile.process.capabilities, where);
  if (!seccomp.ok()) {
    return seccomp.error().context(where + ": seccomp");
  }
  plan.seccomp = std::move(*seccomp);
  plan.warnings = plan.seccomp.warnings;

  auto sockets = compile_socket_filter(profile.network, profile.seccomp);
  if (!sockets.ok()) {
    return sockets.error().context(where);
  }
  plan.socket_filter = std::move(*sockets);

  auto rlimits = check_rlimits(profile.process.rlimits);
  if (!rlimits.ok()) {
    return rlimits.error().context(where + ": process.rlimits");
  }
  plan.rlimits = profile.process.rlimits;
  plan.new_cgroup_namespace = profile.namespaces.cgroup;
  return plan;
}

}  // namespace bulkhead::isolation
