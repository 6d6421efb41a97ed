// The agent's cgroups: its own subtree, one inner cgroup per tenant holding the
// tenant's limits, and one leaf per workload where processes live.
//
//   <cgroup2>/<tree>/<tenant>/<workload>          placement, BPF, cgroup.kill; and on
//                                                 a unified host the limits (<cgroup2>
//                                                 is the agent's delegated cgroup
//                                                 under systemd: cgroup/placement.h)
//   <v1 memory|pids|cpu>/<tree>/<tenant>/<workload>  hybrid hosts: the limits
//   <v1 blkio>/<tree>/<tenant>/<workload>            hybrid, when limits.io.weight is set
//
// Each controller is served by its cgroup v1 hierarchy when the host mounts one,
// otherwise by cgroup2 (where the tree enables it in cgroup.subtree_control of the
// mount root, if needed and possible, and of every directory it owns). A limit set
// in a profile whose controller is unavailable is an error, never ignored.
//
// Lifetimes: the tree root is shared by its tenants and a tenant by its
// workloads, so destroying a CgroupTree or a TenantCgroup first only drops a
// reference: a directory is removed when the last object that needs it is gone.
// A TenantCgroup can therefore safely outlive its CgroupTree. The objects are
// not synchronised: use one from one thread at a time (distinct tenants of one
// tree may be used from different threads).
//
// One agent per tree name: two trees with the same name in one process share
// nothing and would step on each other.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cgroup/cgroup_fs.h"
#include "cgroup/layout.h"
#include "common/result.h"
#include "config/profile.h"

namespace bulkhead::cgroup {

namespace detail {
struct TreeRoot;
struct TenantNode;
}  // namespace detail

// A leaf: the processes of one workload live here.
class WorkloadCgroup {
 public:
  // O_DIRECTORY fd of the cgroup2 dir, for clone3(CLONE_INTO_CGROUP).
  [[nodiscard]] int v2_fd() const { return v2_.fd.get(); }
  // cgroup2 id (inode number of the dir, = bpf_get_current_cgroup_id()).
  [[nodiscard]] uint64_t v2_id() const { return v2_id_; }
  [[nodiscard]] const std::string& v2_path() const { return v2_.path; }
  // The directories of its own in the cgroup v1 hierarchies (hybrid hosts;
  // empty on unified). Not the tenant's blkio directory, where its processes
  // are attached too (v1 blk-throttle is flat: see TenantCgroup::create_workload).
  [[nodiscard]] std::vector<std::string> v1_paths() const;

  // Writes pid to cgroup.procs in every hierarchy used (cgroup2 and the v1
  // controllers). Call it before the child runs tenant code: v1 has no
  // CLONE_INTO_CGROUP.
  Status attach(pid_t pid);
  // The same, v1 hierarchies only: for a pid clone3 already placed in cgroup2.
  Status attach_v1_only(pid_t pid);
  // From cgroup.events: true while a process lives in the workload.
  [[nodiscard]] Result<bool> populated() const;
  // cgroup.kill (cgroup2; works on hybrid hosts too since the processes are in
  // cgroup2), plus SIGKILL to any process found only in a v1 directory. Kernels
  // without cgroup.kill: freeze (if cgroup.freeze exists), SIGKILL every listed
  // pid repeatedly (bounded), thaw.
  Status kill_all();
  // The fallback of kill_all without cgroup.kill; public for tests.
  Status kill_all_by_signal();

  // kill_all, waits (bounded, 2 s) until empty, removes the directories in all
  // hierarchies. Logs failures, never throws.
  ~WorkloadCgroup();
  WorkloadCgroup(const WorkloadCgroup&) = delete;
  WorkloadCgroup& operator=(const WorkloadCgroup&) = delete;

 private:
  friend class TenantCgroup;
  WorkloadCgroup(std::shared_ptr<detail::TenantNode> tenant, detail::CgroupDir v2, uint64_t v2_id,
                 std::vector<detail::CgroupDir> v1, std::vector<detail::CgroupDir> v1_shared);
  [[nodiscard]] Result<bool> empty_everywhere() const;

  std::shared_ptr<detail::TenantNode> tenant_;  // keeps the parent directories alive
  detail::CgroupDir v2_;
  uint64_t v2_id_ = 0;
  std::vector<detail::CgroupDir> v1_;
  // Tenant directories the workload's processes are attached to as well (never
  // removed or emptied by the workload: other workloads share them).
  std::vector<detail::CgroupDir> v1_shared_;
};

// An inner node: holds the tenant's limits, no processes. Workloads inherit them.
class TenantCgroup {
 public:
  // Applies the limits in place (also to a running tenant). Unset limits are
  // written as the kernel default ("max", -1, weight 100), so a limit removed from
  // a profile is really removed. Everything is checked before the first write.
  // Hybrid: limits.io.weight can only be added to a tenant created with one (its blkio
  // cgroup is made at creation); otherwise an error.
  Status update_limits(const config::Limits& limits);
  // A new leaf directory; an error if it exists. On hybrid hosts the
  // workload gets a directory in each v1 hierarchy except blkio, where its
  // processes join the tenant's own directory: v1 blk-throttle limits only
  // the processes of the cgroup that holds them, not its children's.
  Result<std::unique_ptr<WorkloadCgroup>> create_workload(const std::string& name);

  [[nodiscard]] const std::string& v2_path() const;
  [[nodiscard]] uint64_t v2_id() const;
  [[nodiscard]] std::vector<std::string> v1_paths() const;

  // Removes the directories in all hierarchies once the last of its workloads is
  // gone too (they hold a reference).
  ~TenantCgroup();
  TenantCgroup(const TenantCgroup&) = delete;
  TenantCgroup& operator=(const TenantCgroup&) = delete;

 private:
  friend class CgroupTree;
  explicit TenantCgroup(std::shared_ptr<detail::TenantNode> node);
  std::shared_ptr<detail::TenantNode> node_;
};

// The agent's own subtree: <cgroup2>/<name> and <v1 hierarchy>/<name>.
class CgroupTree {
 public:
  // Creates the subtree, or adopts the directories a crashed agent left (they are
  // then not removed by this tree). `v2_parent` is the cgroup2 directory it is
  // made in: empty for the root of the hierarchy, or the cgroup systemd delegated
  // to the agent (cgroup/placement.h); v1 directories are always at their roots.
  static Result<std::unique_ptr<CgroupTree>> create(const HostCgroups& host,
                                                    const std::string& name = "bulkhead",
                                                    const std::string& v2_parent = {});
  // Limits are validated and applied before returning; on error nothing is left
  // behind. A tenant directory left by a previous agent is reused when no process
  // lives in it (its stale workload directories are removed first); one that
  // still holds processes is refused (EBUSY), never killed or moved. A tenant name
  // already live in this tree is refused (EEXIST).
  Result<std::unique_ptr<TenantCgroup>> create_tenant(const std::string& tenant,
                                                      const config::Limits& limits);

  [[nodiscard]] const std::string& v2_path() const;
  [[nodiscard]] std::vector<std::string> v1_paths() const;

  // Removes the subtree directories this tree created, once its tenants are gone
  // and if they are empty.
  ~CgroupTree();
  CgroupTree(const CgroupTree&) = delete;
  CgroupTree& operator=(const CgroupTree&) = delete;

 private:
  explicit CgroupTree(std::shared_ptr<detail::TreeRoot> root);
  std::shared_ptr<detail::TreeRoot> root_;
};

}  // namespace bulkhead::cgroup
