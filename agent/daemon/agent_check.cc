#include "daemon/agent_check.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "cgroup/layout.h"
#include "cgroup/placement.h"
#include "daemon/profile_validation.h"
#include "detect/rule_loader.h"
#include "net/address_pool.h"
#include "net/host_bridge.h"

namespace bulkhead::daemon {
namespace {

namespace fs = std::filesystem;

// A temporary directory for --check, removed whatever happens.
class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (fs::temp_directory_path() / "bulkheadd-check-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) {
      path_ = tmpl;
      ::chmod(path_.c_str(), 0755);  // planned as a staging dir: tenants traverse it
    }
  }
  ~ScratchDir() {
    if (!path_.empty()) {
      std::error_code ec;
      fs::remove_all(path_, ec);
    }
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

bool is_dir(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The agent creates what is missing of <state_dir>/rootfs searchable by
// others; what exists already must be too.
std::vector<std::string> check_state_dir_traversal(const std::string& state_dir) {
  std::vector<std::string> out;
  std::string path = state_dir;
  while (!path.empty() && path != "/") {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
      if ((st.st_mode & S_IXOTH) == 0) {
        out.push_back("state directory: " + path +
                      " is not searchable by others (o+x), which tenants must traverse to reach " +
                      state_dir + "/rootfs");
      }
    }
    path = fs::path(path).parent_path().string();
  }
  return out;
}

}  // namespace

Status check_agent_options(const AgentOptions& o) {
  if (o.profiles_dir.empty()) {
    return make_error("the profiles directory is not set");
  }
  if (o.state_dir.empty() || o.state_dir[0] != '/') {
    return make_error("the state directory must be an absolute path, got \"" + o.state_dir + "\"");
  }
  if (o.cgroup_name.empty() || o.cgroup_name == "." || o.cgroup_name == ".." ||
      o.cgroup_name.find('/') != std::string::npos) {
    return make_error("the cgroup name must be one path component, got \"" + o.cgroup_name + "\"");
  }
  auto parent = cgroup::parse_parent_mode(o.cgroup_parent);
  if (!parent.ok()) {
    return parent.error();
  }
  if (*parent != cgroup::ParentMode::kRoot && o.cgroup_name == cgroup::kAgentLeaf) {
    return make_error("the cgroup name \"" + o.cgroup_name +
                      "\" is the agent's own cgroup below a delegated one; choose another");
  }
  if (o.stop_grace.count() < 0) {
    return make_error("the stop grace period must not be negative");
  }
  if (o.restart_reset_after.count() < 0) {
    return make_error("the restart reset period must not be negative");
  }
  if (o.log_max_bytes == 0) {
    return make_error("the workload log size limit must be at least 1 byte");
  }
  if (o.event_drop_report.count() <= 0) {
    return make_error("the event drop report interval must be positive");
  }
  if (o.log_keep < 0 || o.log_keep > 1000) {
    return make_error("the number of rotated workload logs kept must be 0..1000");
  }
  if (auto pool = net::parse_pool_config(o.pool_ipv4, o.pool_ipv6); !pool.ok()) {
    return pool.error().context("address pool");
  }
  if (!net::is_valid_link_name(o.bridge)) {
    return make_error("the bridge name must be a network link name of 1-15 characters, got \"" +
                      o.bridge + "\"");
  }
  return {};
}

std::vector<std::string> check_configuration(const AgentOptions& options) {
  std::vector<std::string> problems;
  if (auto s = check_agent_options(options); !s.ok()) {
    problems.push_back("options: " + s.error().to_string());
    return problems;
  }
  if (auto host = cgroup::detect_host_cgroups(); !host.ok()) {
    problems.push_back("cgroups: " + host.error().to_string());
  } else if (options.cgroup_parent == cgroup::to_string(cgroup::ParentMode::kDelegated) &&
             host->layout != cgroup::Layout::kUnified) {
    // (Whether the cgroup is delegated is for the start to find out: under
    // systemd, --check runs as ExecStartPre= in <unit>/.control.)
    problems.push_back(
        "cgroups: cgroup-parent=delegated needs the unified cgroup2 hierarchy; this host is "
        "hybrid");
  }
  for (auto& p : check_state_dir_traversal(options.state_dir)) {
    problems.push_back(std::move(p));
  }
  ScratchDir scratch;
  if (scratch.path().empty()) {
    problems.push_back("cannot create a temporary directory for the check");
    return problems;
  }
  std::string staging = options.state_dir + "/rootfs";
  if (!is_dir(staging)) {
    staging = scratch.path() + "/rootfs";
    ::mkdir(staging.c_str(), 0755);
  }
  const std::string ids = options.state_dir + "/ids.json";
  const std::string ids_copy = scratch.path() + "/ids.json";
  std::error_code ec;
  if (fs::exists(ids, ec)) {
    fs::copy_file(ids, ids_copy, ec);
    if (ec) {
      problems.push_back(ids + ": cannot be read: " + ec.message());
      return problems;
    }
  }
  ValidatedProfiles v = validate_profiles(options.profiles_dir, staging, ids_copy);
  for (const auto& w : v.warnings) {
    spdlog::warn("{}", w);
  }
  for (const auto& e : v.errors) {
    // The copy's name means nothing to the operator.
    std::string line = e.to_string();
    for (size_t at = line.find(ids_copy); at != std::string::npos;
         at = line.find(ids_copy, at + ids.size())) {
      line.replace(at, ids_copy.size(), ids);
    }
    problems.push_back(line);
  }
  if (!options.rules_dir.empty()) {
    for (const auto& e : detect::load_rule_dir(options.rules_dir).errors) {
      problems.push_back(e.to_string());
    }
  }
  return problems;
}

}  // namespace bulkhead::daemon
