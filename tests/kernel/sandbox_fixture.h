// A tenant built from a YAML profile for kernel tests: its own cgroup subtree,
// uid range, staging and data directories, all removed when the fixture ends
// (also when an assertion fails).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cgroup/tree.h"
#include "config/profile_loader.h"
#include "isolation/tenant.h"
#include "kernel_test_env.h"

namespace bulkhead::testing {

struct RunResult {
  isolation::ExitStatus status;
  std::string out;  // stdout and stderr together
};

// A temporary directory (mode 0755 so tenant uids can traverse it), removed recursively.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class SandboxHost {
 public:
  // One cgroup tree per test binary run and per fixture instance.
  SandboxHost();
  ~SandboxHost();
  SandboxHost(const SandboxHost&) = delete;
  SandboxHost& operator=(const SandboxHost&) = delete;

  // Builds the standard test profile for `tenant`; `extra` is appended YAML
  // (top-level keys such as limits: or seccomp:).
  std::string profile_yaml(const std::string& tenant, const std::string& extra = "",
                           const std::string& extra_read_only = "") const;
  // Loads the YAML and creates the tenant; ASSERTs on error via the returned Result.
  Result<std::unique_ptr<isolation::Tenant>> make_tenant(const std::string& yaml,
                                                         net::NetworkHost* network = nullptr);
  // Runs argv in the tenant and collects its output (bounded by the workload ending).
  static Result<RunResult> run(isolation::Tenant& tenant, std::vector<std::string> argv,
                               const std::string& name = "t");

  [[nodiscard]] const std::string& work_dir() const { return work_.path(); }
  [[nodiscard]] const std::string& tree_name() const { return tree_name_; }
  [[nodiscard]] cgroup::CgroupTree& tree() { return *tree_; }
  [[nodiscard]] const cgroup::HostCgroups& host() const { return host_; }

 private:
  TempDir work_;
  std::string tree_name_;
  cgroup::HostCgroups host_;
  std::unique_ptr<cgroup::CgroupTree> tree_;
  uint32_t next_base_;
};

}  // namespace bulkhead::testing
