#include "isolation/sandbox_plan.h"

#include <algorithm>

#include "isolation/rlimits.h"
#include "isolation/seccomp_network.h"

namespace bulkhead::isolation {
namespace {

// Abstract unix sockets live in the network namespace. A tenant in network
// mode host would reach every abstract socket of the host (session buses,
// X11, container runtimes) past its mount namespace; a Landlock scope is what
// keeps them out, so without one the profile is refused rather than run open.
Status scope_host_unix_sockets(const config::Profile& profile, LandlockPlan& landlock) {
  const auto& families = profile.network.socket_families;
  if (profile.network.mode != config::NetworkMode::kHost ||
      std::find(families.begin(), families.end(), "AF_UNIX") == families.end()) {
    return {};
  }
  if (!landlock.enabled || landlock.abi < kLandlockScopeAbi) {
    return make_error(
        "network.mode host shares the host's abstract unix sockets; scoping them needs Landlock "
        "ABI " +
        std::to_string(kLandlockScopeAbi) + " (Linux 6.12) with landlock.enabled" +
        (landlock.enabled ? " (this kernel has ABI " + std::to_string(landlock.abi) + ")" : "") +
        ", or leave AF_UNIX out of network.socket_families");
  }
  landlock.scoped |= kLandlockScopeAbstractUnix;
  return {};
}

}  // namespace

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
  BULKHEAD_TRY_CTX(scope_host_unix_sockets(profile, plan.landlock), where);

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
