// Where in the cgroup2 hierarchy the agent puts its tree (option cgroup-parent).
//
// Run by systemd with Delegate= on a unified host, the agent owns the cgroup
// of its unit and nothing else: its tenants belong below it, not at the root of
// the hierarchy. cgroup2's "no internal processes" rule allows enabling
// controllers for a cgroup's children only while no process lives in that
// cgroup itself, so the agent first moves itself into a leaf beside its tree:
//
//   <unit cgroup>/agent                          the agent process
//   <unit cgroup>/<tree>/<tenant>/<workload>     tenants and workloads
//
// Everywhere else (hybrid hosts, runs from a shell, tests, containers whose
// cgroup namespace makes the agent's cgroup "/") the tree stays at the root of
// each hierarchy, <mount>/<tree>/..., as before.
#pragma once

#include <string>
#include <string_view>

#include "cgroup/layout.h"
#include "common/result.h"

namespace bulkhead::cgroup {

enum class ParentMode {
  kAuto,       // delegated when the agent's cgroup is marked delegated, else root
  kRoot,       // the root of every hierarchy
  kDelegated,  // the agent's own cgroup; an error when the host is not unified
};

// "auto", "root", "delegated"; anything else is an error naming the choices.
Result<ParentMode> parse_parent_mode(std::string_view text);
std::string_view to_string(ParentMode mode);

// The cgroup2 path of a process from the text of /proc/<pid>/cgroup (its "0::"
// line), relative to the cgroup namespace root: "/system.slice/x.service".
Result<std::string> parse_proc_cgroup(std::string_view content);

// What the agent knows about its own cgroup2 cgroup.
struct OwnCgroup {
  std::string path;        // relative to the hierarchy root, from /proc/self/cgroup
  bool delegated = false;  // systemd marked it delegated (xattr trusted.delegate=1)
};

// The name of the agent's leaf below a delegated cgroup.
inline constexpr std::string_view kAgentLeaf = "agent";

struct Placement {
  bool delegated = false;
  std::string v2_parent;   // cgroup2 directory the tree is created in
  std::string agent_leaf;  // delegated only: cgroup2 directory the agent moves into
  std::string reason;      // why, for the start-up report
};

// The decision alone (no side effects), for the start-up and for tests.
Result<Placement> plan_placement(ParentMode mode, const HostCgroups& host, const OwnCgroup& own);

// Reads /proc/self/cgroup and the delegation mark of that cgroup.
Result<OwnCgroup> read_own_cgroup(const HostCgroups& host);

// Moves the calling process into `leaf_dir` (created if missing; it is the
// agent's, so an existing one is reused) and enables, in the cgroup.subtree_control
// of its parent, every controller of kLimitControllers the parent has. Fails
// when another process still lives in the parent (the controllers could not be
// enabled) or a controller the parent offers cannot be enabled.
Status move_self_into_leaf(const std::string& leaf_dir);

// plan_placement on this process, then move_self_into_leaf when delegated.
Result<Placement> place_agent(ParentMode mode, const HostCgroups& host);

// One line for the start-up report: "cgroup tree: <dir>/<name> (...)".
std::string describe(const Placement& placement, const std::string& tree_name);

}  // namespace bulkhead::cgroup
