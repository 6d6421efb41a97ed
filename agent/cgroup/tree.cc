#include "cgroup/tree.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "cgroup/limits.h"
#include "cgroup/limits_v1.h"
#include "cgroup/limits_v2.h"
#include "cgroup/nodes.h"
#include "common/file_util.h"
#include "common/scope_exit.h"

namespace bulkhead::cgroup {
namespace detail {

bool V1Hierarchy::has(const std::string& c) const {
  return std::find(controllers.begin(), controllers.end(), c) != controllers.end();
}

bool V1Hierarchy::only_blkio() const {
  return controllers.size() == 1 && controllers[0] == "blkio";
}

int TreeRoot::hierarchy_of(const std::string& controller) const {
  const std::string name_in_v1 = v1_controller_name(controller);
  for (size_t i = 0; i < hierarchies.size(); ++i) {
    if (hierarchies[i].has(name_in_v1)) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

TreeRoot::~TreeRoot() {
  for (auto it = v1.rbegin(); it != v1.rend(); ++it) {
    if (it->dir.created) {
      if (Status st = remove_dir(it->dir.path); !st) {
        spdlog::warn("cgroup: leaving {}: {}", it->dir.path, st.error().to_string());
      }
    }
  }
  if (v2.created) {
    if (Status st = remove_dir(v2.path); !st) {
      spdlog::warn("cgroup: leaving {}: {}", v2.path, st.error().to_string());
    }
  }
}

TenantNode::~TenantNode() {
  for (auto it = v1.rbegin(); it != v1.rend(); ++it) {
    if (Status st = remove_dir(it->dir.path); !st) {
      spdlog::error("cgroup: cannot remove tenant {} cgroup: {}", name, st.error().to_string());
    }
  }
  if (v2.fd.valid()) {
    if (Status st = remove_dir(v2.path); !st) {
      spdlog::error("cgroup: cannot remove tenant {} cgroup: {}", name, st.error().to_string());
    }
  }
  if (registered) {
    std::lock_guard lock(tree->mu);
    tree->live_tenants.erase(name);
  }
}

}  // namespace detail

namespace {

using detail::CgroupDir;
using detail::IfExists;
using detail::TenantNode;
using detail::TreeRoot;

// v1 memory must account hierarchically, or a tenant's limit would not cover the
// memory of its workloads. Always on (and fixed) since Linux 5.16; older kernels
// take "1" while the group has no children.
Status ensure_memory_hierarchy(const CgroupDir& dir) {
  auto text = read_file_at(dir.fd.get(), "memory.use_hierarchy");
  if (!text) {
    return text.error().code == ENOENT ? Status{} : text.error().context(dir.path);
  }
  if (trim(*text) == "1") {
    return {};
  }
  Status st = write_file_at(dir.fd.get(), "memory.use_hierarchy", "1");
  auto again = read_file_at(dir.fd.get(), "memory.use_hierarchy");
  if (!st || !again || trim(*again) != "1") {
    return make_error("memory.use_hierarchy is off in " + dir.path +
                      " and cannot be turned on: a tenant's memory limit would not cover its "
                      "workloads");
  }
  return {};
}

bool path_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

Result<bool> stale_is_populated(const std::string& path, bool is_v2) {
  if (is_v2 && path_exists(path + "/cgroup.events")) {
    auto events = read_file(path + "/cgroup.events");
    return events ? parse_populated(*events) : Result<bool>(events.error());
  }
  return detail::subtree_has_procs(path);
}

// A tenant directory left by a previous agent may be reused only if no process
// lives in it or below it. Right after that agent was killed its workloads are
// still dying (their sandbox init gets SIGKILL as its parent-death signal and
// the kernel then kills the rest of its pid namespace), so a populated
// directory is given a short, bounded while to empty before it is refused.
Status check_stale_is_empty(const std::string& path, bool is_v2) {
  constexpr auto kDyingGrace = std::chrono::seconds(2);
  constexpr auto kPollEvery = std::chrono::milliseconds(20);
  const auto deadline = std::chrono::steady_clock::now() + kDyingGrace;
  for (;;) {
    auto busy = stale_is_populated(path, is_v2);
    if (!busy) {
      return busy.error().context("checking the existing cgroup " + path);
    }
    if (!*busy) {
      return {};
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Error{EBUSY, "the cgroup " + path +
                              " already exists and holds processes (left by a previous agent?); "
                              "not reusing it"};
    }
    std::this_thread::sleep_for(kPollEvery);
  }
}

// The profile's device throttles, resolved, and the devices `io` throttles now
// (from io.max, or the blkio.throttle files on v1).
Result<IoDeviceState> io_device_state(const config::Limits& limits, const ControllerDir& io,
                                      bool v1) {
  IoDeviceState state;
  auto wanted = resolve_io_devices(limits.io_devices);
  if (!wanted) {
    return wanted.error();
  }
  state.wanted = std::move(*wanted);
  if (io.fd < 0) {
    return state;  // the controller is missing: the writes report it if a limit needs it
  }
  auto read_rules = [&](const char* file) -> Status {
    auto text = read_file_at(io.fd, file);
    if (!text) {
      return text.error().code == ENOENT ? Status() : text.error().context(io.path);
    }
    state.current.merge(throttled_devices(*text));
    return {};
  };
  if (v1) {
    for (const char* file : kV1ThrottleFiles) {
      BULKHEAD_TRY(read_rules(file));
    }
  } else {
    BULKHEAD_TRY(read_rules("io.max"));
  }
  return state;
}

}  // namespace

// ---- CgroupTree -------------------------------------------------------------

CgroupTree::CgroupTree(std::shared_ptr<TreeRoot> root) : root_(std::move(root)) {}
CgroupTree::~CgroupTree() = default;

const std::string& CgroupTree::v2_path() const { return root_->v2.path; }

std::vector<std::string> CgroupTree::v1_paths() const {
  std::vector<std::string> out;
  for (const auto& d : root_->v1) {
    out.push_back(d.dir.path);
  }
  return out;
}

Result<std::unique_ptr<CgroupTree>> CgroupTree::create(const HostCgroups& host,
                                                       const std::string& name,
                                                       const std::string& v2_parent) {
  BULKHEAD_TRY(check_cgroup_name("tree", name));
  auto root = std::make_shared<TreeRoot>();
  root->host = host;
  root->name = name;
  for (std::string_view c : kLimitControllers) {
    const std::string v1 = v1_controller_name(c);
    auto mount = host.v1_mounts.find(v1);
    if (mount == host.v1_mounts.end()) {
      root->v2_wanted.emplace(c);
      continue;
    }
    auto h = std::find_if(root->hierarchies.begin(), root->hierarchies.end(),
                          [&](const detail::V1Hierarchy& x) { return x.mount == mount->second; });
    if (h == root->hierarchies.end()) {
      root->hierarchies.push_back({mount->second, {}});
      h = root->hierarchies.end() - 1;
    }
    h->controllers.push_back(v1);
  }

  // cgroup2: placement and BPF everywhere, limits for the controllers v1 does not serve.
  const std::string& parent = v2_parent.empty() ? host.unified_mount : v2_parent;
  auto parent_fd = open_dir(parent);
  if (!parent_fd) {
    return parent_fd.error().context("creating the cgroup tree");
  }
  detail::enable_subtree_controllers(parent_fd->get(), parent, root->v2_wanted);
  auto v2 = detail::make_dir(parent + "/" + name, IfExists::kAdopt);
  if (!v2) {
    return v2.error().context("creating the cgroup tree");
  }
  root->v2 = std::move(*v2);
  detail::enable_subtree_controllers(root->v2.fd.get(), root->v2.path, root->v2_wanted);

  for (size_t i = 0; i < root->hierarchies.size(); ++i) {
    auto d = detail::make_dir(root->hierarchies[i].mount + "/" + name, IfExists::kAdopt);
    if (!d) {
      return d.error().context("creating the cgroup tree");
    }
    root->v1.push_back({i, std::move(*d)});
    if (root->hierarchies[i].has("memory")) {
      BULKHEAD_TRY_CTX(ensure_memory_hierarchy(root->v1.back().dir), "creating the cgroup tree");
    }
  }
  spdlog::debug("cgroup: tree {} ready ({}{})", root->v2.path,
                root->v2.created ? "created" : "adopted",
                root->hierarchies.empty() ? "" : ", with cgroup v1 limits");
  return std::unique_ptr<CgroupTree>(new CgroupTree(std::move(root)));
}

Result<std::unique_ptr<TenantCgroup>> CgroupTree::create_tenant(const std::string& tenant,
                                                                const config::Limits& limits) {
  BULKHEAD_TRY(check_cgroup_name("tenant", tenant));
  BULKHEAD_TRY(validate_limits(limits));

  auto node = std::make_shared<TenantNode>();
  node->tree = root_;
  node->name = tenant;
  {
    std::lock_guard lock(root_->mu);
    if (!root_->live_tenants.insert(tenant).second) {
      return Error{EEXIST, "the cgroup " + root_->v2.path + "/" + tenant +
                               " is already in use by this agent"};
    }
    node->registered = true;
  }

  // Which v1 directories the tenant gets: blkio only with an io limit, unless a
  // previous agent left one (reused then).
  struct Planned {
    std::string path;
    size_t hierarchy;
  };
  std::vector<Planned> v1_planned;
  for (const auto& d : root_->v1) {
    std::string path = d.dir.path + "/" + tenant;
    if (root_->hierarchies[d.hierarchy].only_blkio() && !config::has_io_limit(limits) &&
        !path_exists(path)) {
      continue;
    }
    v1_planned.push_back({std::move(path), d.hierarchy});
  }
  const std::string v2_path = root_->v2.path + "/" + tenant;

  // Leftovers of a previous agent: checked before anything is touched.
  if (path_exists(v2_path)) {
    BULKHEAD_TRY(check_stale_is_empty(v2_path, true));
  }
  for (const Planned& p : v1_planned) {
    if (path_exists(p.path)) {
      BULKHEAD_TRY(check_stale_is_empty(p.path, false));
    }
  }

  auto reuse = [](const CgroupDir& d) -> Status {
    if (d.created) {
      return {};
    }
    spdlog::warn("cgroup: reusing the empty cgroup {} left by a previous agent", d.path);
    return detail::remove_children(d.path);
  };
  auto v2 = detail::make_dir(v2_path, IfExists::kAdopt);
  if (!v2) {
    return v2.error().context("creating the tenant's cgroup");
  }
  node->v2 = std::move(*v2);
  BULKHEAD_TRY(reuse(node->v2));
  auto id = detail::cgroup_id(node->v2.fd.get(), node->v2.path);
  if (!id) {
    return id.error();
  }
  node->v2_id = *id;
  for (Planned& p : v1_planned) {
    auto d = detail::make_dir(p.path, IfExists::kAdopt);
    if (!d) {
      return d.error().context("creating the tenant's cgroup");
    }
    node->v1.push_back({p.hierarchy, std::move(*d)});
    BULKHEAD_TRY(reuse(node->v1.back().dir));
  }
  // Per-workload accounting below the tenant (the tenant itself never holds processes).
  detail::enable_subtree_controllers(node->v2.fd.get(), node->v2.path, root_->v2_wanted);

  std::unique_ptr<TenantCgroup> t(new TenantCgroup(std::move(node)));
  BULKHEAD_TRY(t->update_limits(limits));
  return t;
}

// ---- TenantCgroup -----------------------------------------------------------

TenantCgroup::TenantCgroup(std::shared_ptr<TenantNode> node) : node_(std::move(node)) {}
TenantCgroup::~TenantCgroup() = default;

const std::string& TenantCgroup::v2_path() const { return node_->v2.path; }
uint64_t TenantCgroup::v2_id() const { return node_->v2_id; }

std::vector<std::string> TenantCgroup::v1_paths() const {
  std::vector<std::string> out;
  for (const auto& d : node_->v1) {
    out.push_back(d.dir.path);
  }
  return out;
}

Status TenantCgroup::update_limits(const config::Limits& limits) {
  BULKHEAD_TRY(validate_limits(limits));
  const TreeRoot& tree = *node_->tree;
  const std::string& path = node_->v2.path;

  auto v2_available = detail::read_controllers(node_->v2.fd.get(), path);
  if (!v2_available) {
    return v2_available.error();
  }
  std::map<std::string, ControllerDir> dirs;
  bool memory_in_v1 = false;
  uint64_t current_memsw = kV1Unlimited;
  for (std::string_view cv : kLimitControllers) {
    const std::string c(cv);
    ControllerDir& out = dirs[c];
    const int h = tree.hierarchy_of(c);
    if (h >= 0) {
      auto d = std::find_if(node_->v1.begin(), node_->v1.end(),
                            [h](const detail::V1Dir& x) { return x.hierarchy == size_t(h); });
      if (d == node_->v1.end()) {
        out.unavailable = "the tenant has no cgroup in the v1 " + v1_controller_name(c) +
                          " hierarchy: it is only made when the tenant is created with this "
                          "limit (restart the tenant)";
        continue;
      }
      out.fd = d->dir.fd.get();
      out.path = d->dir.path;
      if (c == "memory") {
        memory_in_v1 = true;
        auto memsw = read_file_at(out.fd, "memory.memsw.limit_in_bytes");
        if (memsw) {
          auto parsed = parse_v1_bytes(*memsw);
          if (!parsed) {
            return parsed.error().context(out.path + "/memory.memsw.limit_in_bytes");
          }
          current_memsw = *parsed;
        }
      }
    } else if (v2_available->count(c) != 0) {
      out.fd = node_->v2.fd.get();
      out.path = path;
    } else {
      out.unavailable = tree.hierarchies.empty() && tree.host.layout == Layout::kUnified
                            ? "cgroup2 does not offer it in " + path + "/cgroup.controllers"
                            : "no cgroup v1 hierarchy of it is mounted and cgroup2 does not offer "
                              "it in " +
                                  path + "/cgroup.controllers";
    }
  }

  auto io = io_device_state(limits, dirs["io"], tree.hierarchy_of("io") >= 0);
  if (!io) {
    return io.error();
  }
  config::Limits v1_limits = limits;
  if (!memory_in_v1) {
    v1_limits.memory_swap_max.reset();  // only v1 memory has the memsw constraint
  }
  auto v1_writes = render_v1_limits(v1_limits, current_memsw, *io);
  if (!v1_writes) {
    return v1_writes.error();
  }
  const std::vector<LimitWrite> v2_writes = render_v2_limits(limits, *io);
  std::vector<LimitWrite> writes;
  for (std::string_view cv : kLimitControllers) {
    const std::string c(cv);
    const auto& source = tree.hierarchy_of(c) >= 0 ? *v1_writes : v2_writes;
    for (const LimitWrite& w : source) {
      if (w.controller == c) {
        writes.push_back(w);
      }
    }
  }
  return apply_limit_writes(writes, dirs);
}

Result<std::unique_ptr<WorkloadCgroup>> TenantCgroup::create_workload(const std::string& name) {
  BULKHEAD_TRY(check_cgroup_name("workload", name));
  auto v2 = detail::make_dir(node_->v2.path + "/" + name, IfExists::kFail);
  if (!v2) {
    return v2.error().context("creating workload " + name + " cgroup");
  }
  std::vector<CgroupDir> v1;
  std::vector<CgroupDir> v1_shared;
  ScopeExit undo([&] {
    for (auto it = v1.rbegin(); it != v1.rend(); ++it) {
      (void)detail::remove_dir(it->path);
    }
    (void)detail::remove_dir(v2->path);
  });
  auto id = detail::cgroup_id(v2->fd.get(), v2->path);
  if (!id) {
    return id.error();
  }
  for (const auto& d : node_->v1) {
    if (node_->tree->hierarchies[d.hierarchy].has("blkio")) {
      // v1 blk-throttle is flat: a limit applies to the processes of the very
      // cgroup that holds it, not to its children. The tenant's processes sit
      // in the tenant's own blkio cgroup, so its device throttles are the
      // tenant's total, as io.max is on cgroup2.
      UniqueFd fd(::fcntl(d.dir.fd.get(), F_DUPFD_CLOEXEC, 0));
      if (!fd) {
        return errno_error("dup " + d.dir.path);
      }
      v1_shared.push_back({d.dir.path, std::move(fd), false});
      continue;
    }
    auto dir = detail::make_dir(d.dir.path + "/" + name, IfExists::kFail);
    if (!dir) {
      return dir.error().context("creating workload " + name + " cgroup");
    }
    v1.push_back(std::move(*dir));
  }
  undo.dismiss();
  return std::unique_ptr<WorkloadCgroup>(
      new WorkloadCgroup(node_, std::move(*v2), *id, std::move(v1), std::move(v1_shared)));
}

}  // namespace bulkhead::cgroup
