#include "cgroup/placement.h"

#include <spdlog/spdlog.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "cgroup/cgroup_fs.h"
#include "cgroup/limits.h"
#include "common/file_util.h"

namespace bulkhead::cgroup {
namespace {

std::string join_cgroup(const std::string& mount, const std::string& path) {
  if (path.empty() || path == "/") {
    return mount;
  }
  return mount + (path.front() == '/' ? "" : "/") + path;
}

std::string parent_of(const std::string& dir) {
  size_t slash = dir.find_last_of('/');
  return slash == std::string::npos || slash == 0 ? "/" : dir.substr(0, slash);
}

// systemd (251 and later) marks the cgroup of a unit with Delegate= by this
// extended attribute; a user manager, which cannot write trusted.*, uses user.*.
bool marked_delegated(const std::string& dir) {
  for (const char* name : {"trusted.delegate", "user.delegate"}) {
    std::array<char, 8> value{};
    ssize_t n = ::getxattr(dir.c_str(), name, value.data(), value.size());
    if (n == 1 && value[0] == '1') {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<ParentMode> parse_parent_mode(std::string_view text) {
  if (text == "auto") {
    return ParentMode::kAuto;
  }
  if (text == "root") {
    return ParentMode::kRoot;
  }
  if (text == "delegated") {
    return ParentMode::kDelegated;
  }
  return Error{EINVAL,
               "cgroup-parent must be auto, root or delegated, got \"" + std::string(text) + "\""};
}

std::string_view to_string(ParentMode mode) {
  switch (mode) {
    case ParentMode::kAuto:
      return "auto";
    case ParentMode::kRoot:
      return "root";
    case ParentMode::kDelegated:
      return "delegated";
  }
  return "?";
}

Result<std::string> parse_proc_cgroup(std::string_view content) {
  size_t start = 0;
  while (start < content.size()) {
    size_t end = content.find('\n', start);
    if (end == std::string_view::npos) {
      end = content.size();
    }
    std::string_view line = content.substr(start, end - start);
    if (line.substr(0, 3) == "0::") {
      std::string_view path = line.substr(3);
      if (path.empty() || path.front() != '/') {
        return Error{EINVAL, "malformed cgroup2 entry \"" + std::string(line) + "\""};
      }
      // A cgroup removed under the process reads "/a/b (deleted)".
      constexpr std::string_view kDeleted = " (deleted)";
      if (path.size() > kDeleted.size() && path.substr(path.size() - kDeleted.size()) == kDeleted) {
        return Error{ENOENT, "the process's cgroup " + std::string(path) + " was removed"};
      }
      return std::string(path);
    }
    start = end + 1;
  }
  return Error{ENOENT, "no cgroup2 entry (\"0::\")"};
}

Result<Placement> plan_placement(ParentMode mode, const HostCgroups& host, const OwnCgroup& own) {
  Placement p;
  p.v2_parent = host.unified_mount;
  const bool unified = host.layout == Layout::kUnified;
  const bool in_root = own.path.empty() || own.path == "/";
  if (mode == ParentMode::kRoot) {
    p.reason = "root of the hierarchy (cgroup-parent=root)";
    return p;
  }
  if (mode == ParentMode::kAuto) {
    if (!unified) {
      p.reason = "root of each hierarchy: hybrid host";
      return p;
    }
    if (in_root) {
      p.reason = "root of the hierarchy: the agent runs in the root cgroup";
      return p;
    }
    if (!own.delegated) {
      p.reason = "root of the hierarchy: the agent's cgroup " + own.path + " is not delegated";
      return p;
    }
  } else {
    if (!unified) {
      return Error{EINVAL,
                   "cgroup-parent=delegated needs the unified cgroup2 hierarchy; this host is "
                   "hybrid (its controllers are in cgroup v1)"};
    }
    if (in_root) {
      return Error{EINVAL,
                   "cgroup-parent=delegated: the agent runs in the root cgroup, nothing is "
                   "delegated to it (run it as a systemd service with Delegate=)"};
    }
  }
  p.delegated = true;
  p.v2_parent = join_cgroup(host.unified_mount, own.path);
  p.agent_leaf = p.v2_parent + "/" + std::string(kAgentLeaf);
  if (own.delegated) {
    p.reason = "delegated by systemd: " + own.path;
  } else {
    p.reason = "cgroup-parent=delegated: " + own.path + " (not marked delegated by systemd)";
  }
  return p;
}

Result<OwnCgroup> read_own_cgroup(const HostCgroups& host) {
  auto text = read_file("/proc/self/cgroup");
  if (!text) {
    return text.error();
  }
  auto path = parse_proc_cgroup(*text);
  if (!path) {
    return path.error().context("/proc/self/cgroup");
  }
  OwnCgroup own;
  own.path = *path;
  own.delegated = own.path != "/" && marked_delegated(join_cgroup(host.unified_mount, own.path));
  return own;
}

Status move_self_into_leaf(const std::string& leaf_dir) {
  const std::string parent = parent_of(leaf_dir);
  auto leaf = detail::make_dir(leaf_dir, detail::IfExists::kAdopt);
  if (!leaf) {
    return leaf.error().context("the agent's own cgroup");
  }
  if (Status st = write_file_at(leaf->fd.get(), "cgroup.procs", std::to_string(::getpid())); !st) {
    return st.error().context("moving the agent into " + leaf_dir);
  }
  auto parent_fd = open_dir(parent);
  if (!parent_fd) {
    return parent_fd.error();
  }
  // Checked, not inferred from a failed write: the error then says what to fix.
  auto left = detail::read_procs(parent_fd->get(), parent);
  if (!left) {
    return left.error();
  }
  if (!left->empty()) {
    std::string pids;
    for (pid_t pid : *left) {
      pids += (pids.empty() ? "" : " ") + std::to_string(pid);
    }
    return Error{EBUSY, "processes " + pids + " still live in " + parent +
                            ", so controllers cannot be enabled for the tenants below it "
                            "(cgroup2 allows them only in a cgroup without processes)"};
  }
  auto available = detail::read_controllers(parent_fd->get(), parent);
  auto enabled = detail::read_controllers(parent_fd->get(), parent, "cgroup.subtree_control");
  if (!available || !enabled) {
    return (!available ? available.error() : enabled.error());
  }
  for (std::string_view c : kLimitControllers) {
    const std::string name(c);
    if (available->count(name) == 0 || enabled->count(name) != 0) {
      continue;
    }
    if (Status st = write_file_at(parent_fd->get(), "cgroup.subtree_control", "+" + name); !st) {
      return st.error().context("enabling controller " + name + " in " + parent +
                                "/cgroup.subtree_control");
    }
  }
  return {};
}

Result<Placement> place_agent(ParentMode mode, const HostCgroups& host) {
  OwnCgroup own;
  if (mode != ParentMode::kRoot) {
    auto read = read_own_cgroup(host);
    if (!read) {
      return read.error().context("finding the agent's cgroup");
    }
    own = std::move(*read);
  }
  auto placement = plan_placement(mode, host, own);
  if (!placement) {
    return placement.error();
  }
  if (placement->delegated) {
    BULKHEAD_TRY(move_self_into_leaf(placement->agent_leaf));
    spdlog::debug("cgroup: agent moved into {}", placement->agent_leaf);
  }
  return placement;
}

std::string describe(const Placement& placement, const std::string& tree_name) {
  std::string out =
      "cgroup tree: " + placement.v2_parent + "/" + tree_name + " (" + placement.reason + ")";
  if (!placement.agent_leaf.empty()) {
    out += ", agent in " + placement.agent_leaf;
  }
  return out;
}

}  // namespace bulkhead::cgroup
