// Internal to agent/cgroup: the shared directory sets behind CgroupTree and
// TenantCgroup. Each is owned by shared_ptr so a child keeps its parent's
// directories alive; the destructor removes what must go.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "cgroup/cgroup_fs.h"
#include "cgroup/layout.h"

namespace bulkhead::cgroup::detail {

// A cgroup v1 hierarchy the tree uses for limits (one per mount point).
struct V1Hierarchy {
  std::string mount;
  std::vector<std::string> controllers;  // v1 names: "memory", "cpu", "blkio", ...
  [[nodiscard]] bool has(const std::string& c) const;
  [[nodiscard]] bool only_blkio() const;
};

// A directory in one v1 hierarchy; `hierarchy` indexes TreeRoot::hierarchies.
struct V1Dir {
  size_t hierarchy = 0;
  CgroupDir dir;
};

struct TreeRoot {
  HostCgroups host;
  std::string name;
  std::vector<V1Hierarchy> hierarchies;
  // Limit controllers (cgroup2 names) served by cgroup2, i.e. not by a v1 hierarchy.
  std::set<std::string> v2_wanted;
  CgroupDir v2;
  std::vector<V1Dir> v1;  // one per hierarchy, same order

  std::mutex mu;
  std::set<std::string> live_tenants;  // guarded by mu

  // Index of the v1 hierarchy of a limit controller ("io" -> blkio), or -1.
  [[nodiscard]] int hierarchy_of(const std::string& controller) const;

  TreeRoot() = default;
  TreeRoot(const TreeRoot&) = delete;
  TreeRoot& operator=(const TreeRoot&) = delete;
  ~TreeRoot();  // removes the directories it created
};

struct TenantNode {
  std::shared_ptr<TreeRoot> tree;
  std::string name;
  bool registered = false;  // holds its name in tree->live_tenants
  CgroupDir v2;
  uint64_t v2_id = 0;
  std::vector<V1Dir> v1;

  TenantNode() = default;
  TenantNode(const TenantNode&) = delete;
  TenantNode& operator=(const TenantNode&) = delete;
  ~TenantNode();  // removes its directories (created or adopted) in all hierarchies
};

}  // namespace bulkhead::cgroup::detail
