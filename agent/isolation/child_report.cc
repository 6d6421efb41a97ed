#include "isolation/child_report.h"

namespace bulkhead::isolation {

const char* step_name(LaunchStep step) {
  switch (step) {
    case LaunchStep::kStdio:
      return "setting up stdio and closing inherited fds";
    case LaunchStep::kJoinUserNamespace:
      return "joining the tenant user namespace";
    case LaunchStep::kJoinNetNamespace:
      return "joining the tenant network namespace";
    case LaunchStep::kJoinIpcNamespace:
      return "joining the tenant ipc namespace";
    case LaunchStep::kJoinUtsNamespace:
      return "joining the tenant uts namespace";
    case LaunchStep::kTenantRoot:
      return "becoming tenant root";
    case LaunchStep::kUnsharePidCgroup:
      return "creating the pid and cgroup namespaces";
    case LaunchStep::kForkInit:
      return "starting the sandbox init";
    case LaunchStep::kUnshareMount:
      return "creating the mount namespace";
    case LaunchStep::kRootfs:
      return "building the root filesystem";
    case LaunchStep::kInitSignals:
      return "setting up signal forwarding";
    case LaunchStep::kTerminal:
      return "setting up the workload's terminal";
    case LaunchStep::kForkWorkload:
      return "forking the workload";
    case LaunchStep::kWorkdir:
      return "changing to the working directory";
    case LaunchStep::kRlimits:
      return "applying rlimits";
    case LaunchStep::kCredentials:
      return "switching to the workload uid/gid";
    case LaunchStep::kCapabilities:
      return "dropping capabilities";
    case LaunchStep::kNoNewPrivs:
      return "setting no_new_privs";
    case LaunchStep::kLandlock:
      return "applying Landlock rules";
    case LaunchStep::kSeccomp:
      return "installing the seccomp filter";
    case LaunchStep::kExec:
      return "executing the command";
  }
  return "unknown launch step";
}

}  // namespace bulkhead::isolation
