// A tenant on this host: its validated profile, the namespaces its workloads
// share, its cgroup with the profile's limits, its data directory, and the
// precomputed sandbox plan every workload launch uses.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cgroup/tree.h"
#include "common/result.h"
#include "config/profile.h"
#include "isolation/sandbox_plan.h"
#include "isolation/tenant_namespaces.h"
#include "isolation/terminal.h"
#include "isolation/workload.h"
#include "net/network_host.h"

namespace bulkhead::isolation {

struct TenantOptions {
  // An existing empty directory; each workload mounts its new root over it
  // inside its own mount namespace.
  std::string staging_dir;
  // The agent's bridge and address pool; required for network mode isolated.
  net::NetworkHost* network = nullptr;
};

struct LaunchRequest {
  std::string name;                        // workload name, unique among the tenant's running ones
  std::vector<std::string> argv;           // argv[0] absolute, or looked up in PATH
  std::map<std::string, std::string> env;  // added to (and overriding) the profile's env
  std::optional<std::string> cwd;          // default: the profile's
  int stdin_fd = STDIN_FILENO;
  int stdout_fd = STDOUT_FILENO;
  int stderr_fd = STDERR_FILENO;
  // Set: the workload gets a terminal of its own (isolation/terminal.h) of this
  // size as its controlling terminal and stdin, stdout and stderr; the fds
  // above then serve only the sandbox's init. Workload::take_terminal() has
  // the master.
  std::optional<TerminalSize> terminal;
  // SIGKILL the workload if the launching thread dies (for one-shot CLI runs).
  bool die_with_parent = false;
};

class Tenant {
 public:
  // Validates and plans everything first; on any error nothing is left behind
  // (except the persistent data directory, which is created on first use).
  static Result<std::unique_ptr<Tenant>> create(const config::Profile& profile,
                                                cgroup::CgroupTree& tree,
                                                const TenantOptions& options);

  Result<std::unique_ptr<Workload>> launch(const LaunchRequest& request);
  Status update_limits(const config::Limits& limits);

  [[nodiscard]] const config::Profile& profile() const { return profile_; }
  [[nodiscard]] const TenantNamespaces& namespaces() const { return *namespaces_; }
  [[nodiscard]] const cgroup::TenantCgroup& cgroup() const { return *cgroup_; }
  [[nodiscard]] const SandboxPlan& plan() const { return plan_; }
  [[nodiscard]] const net::TenantNetwork& network() const { return *network_; }

 private:
  Tenant() = default;

  config::Profile profile_;
  SandboxPlan plan_;
  std::unique_ptr<TenantNamespaces> namespaces_;
  // After the namespaces: destroyed first, while the network namespace still exists.
  std::unique_ptr<net::TenantNetwork> network_;
  std::unique_ptr<cgroup::TenantCgroup> cgroup_;
};

// Creates the tenant's data directory (mode 0700, owned by tenant root) if missing.
Status ensure_data_dir(const config::Profile& profile);

}  // namespace bulkhead::isolation
