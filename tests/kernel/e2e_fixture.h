// The end-to-end fixture: the real bulkheadd (own socket, state dir, cgroup
// name and profile dir in a temp dir) driven by the real bulkheadctl, both
// found next to the test binary (<build>/tests/.. -> <build>/agent/). Every
// wait is bounded, and the daemon is killed in teardown even when an assertion
// failed.
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/client.h"
#include "cgroup/layout.h"
#include "child_process.h"
#include "kernel_test_env.h"
#include "sandbox_fixture.h"

namespace bulkhead::testing {

namespace e2e_fs = std::filesystem;

inline bool eventually(const std::function<bool()>& pred, milliseconds timeout = kWait) {
  return testing::wait_for(pred, timeout);
}

class E2E : public ::testing::Test {
 protected:
  void SetUp() override {
    BULKHEAD_REQUIRE_ROOT();
    daemon_bin_ = build_binary("bulkheadd");
    ctl_bin_ = build_binary("bulkheadctl");
    BULKHEAD_REQUIRE(::access(daemon_bin_.c_str(), X_OK) == 0,
                     "bulkheadd not built: " + daemon_bin_);
    BULKHEAD_REQUIRE(::access(ctl_bin_.c_str(), X_OK) == 0, "bulkheadctl not built: " + ctl_bin_);
    static int instance = 0;
    cgroup_name_ = "bulkhead-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(instance++);
    socket_ = dir_.path() + "/run/api.sock";
    e2e_fs::create_directories(dir_.path() + "/profiles");
    e2e_fs::create_directories(dir_.path() + "/state");
    ::chmod((dir_.path() + "/state").c_str(), 0755);
    std::ofstream(dir_.path() + "/bulkheadd.conf")
        << "# empty: every option is on the command line\n";
    write_profile("alpha");
    start_daemon();
  }

  void TearDown() override {
    if (daemon_) {
      ::kill(daemon_->pid(), SIGKILL);
      Output o = daemon_->finish(milliseconds(5000));
      if (HasFailure()) {
        std::cerr << "---- bulkheadd log ----\n" << o.err << o.out << "-----------------------\n";
      }
      daemon_.reset();
    }
    // A killed daemon leaves its cgroups; remove them (deepest first) so runs do not pile up.
    for (const std::string& root : cgroup_roots()) {
      remove_cgroups(root);
    }
    // And its network policy pins, on purpose (enforcement outlives a crashed
    // agent); with the cgroups gone, unpinning frees the links.
    std::error_code ec;
    e2e_fs::remove_all("/sys/fs/bpf/" + cgroup_name_, ec);
  }

  // Where the daemon's tree can be, on this host's layout: the cgroup2 mount and,
  // on a hybrid host, every v1 hierarchy.
  static std::vector<std::string> cgroup_roots() {
    auto host = cgroup::detect_host_cgroups();
    if (!host.ok()) {
      ADD_FAILURE() << host.error().to_string();
      return {};
    }
    std::vector<std::string> roots = {host->unified_mount};
    for (const auto& [controller, mount] : host->v1_mounts) {
      roots.push_back(mount);
    }
    return roots;
  }

  void remove_cgroups(const std::string& root) {
    e2e_fs::path p = e2e_fs::path(root) / cgroup_name_;
    std::error_code ec;
    if (!e2e_fs::exists(p, ec)) {
      return;
    }
    std::vector<e2e_fs::path> dirs;
    for (auto it = e2e_fs::recursive_directory_iterator(p, ec); !ec && it != e2e_fs::end(it);
         it.increment(ec)) {
      if (it->is_directory()) {
        dirs.push_back(it->path());
      }
    }
    std::sort(dirs.begin(), dirs.end(), [](const e2e_fs::path& a, const e2e_fs::path& b) {
      return a.string().size() > b.string().size();
    });
    for (const auto& d : dirs) {
      ::rmdir(d.c_str());
    }
    ::rmdir(p.c_str());
  }

  // Ids in 0x58000000 + a pid-derived slot, away from the other suites' ranges.
  // `extra_read_only` adds entries to filesystem.read_only; `extra` goes at the
  // end (e.g. `workloads:`).
  void write_profile(const std::string& tenant, uint32_t slot = 0,
                     const std::string& extra_read_only = "", const std::string& extra = "") {
    const uint32_t base =
        0x58000000U + ((static_cast<uint32_t>(::getpid()) % 64U) * 4U + slot) * 0x10000U;
    std::ofstream(dir_.path() + "/profiles/" + tenant + ".yaml")
        << "version: 1\n"
        << "tenant: " << tenant << "\n"
        << "ids: {base: " << base << ", count: 65536}\n"
        << "filesystem:\n"
        << "  read_only:\n"
        << "    - /usr\n"
        << extra_read_only << "  symlinks:\n"
        << "    - {path: /bin, target: usr/bin}\n"
        << "    - {path: /sbin, target: usr/sbin}\n"
        << "    - {path: /lib, target: usr/lib}\n"
        << "    - {path: /lib64, target: usr/lib64}\n"
        << "  tmpfs:\n"
        << "    - {target: /tmp, size: 16Mi}\n"
        << "process:\n"
        << "  env: {PATH: /usr/bin:/bin}\n"
        << extra;
  }

  void start_daemon() {
    daemon_ = std::make_unique<Proc>(std::vector<std::string>{
        daemon_bin_, "--config", dir_.path() + "/bulkheadd.conf", "--profiles",
        dir_.path() + "/profiles", "--state-dir", dir_.path() + "/state", "--socket", socket_,
        "--cgroup-name", cgroup_name_, "--stop-grace", "2s", "--log-level", "info"});
    bool up = eventually([&] {
      if (daemon_->exited()) {
        return true;  // reported below
      }
      auto c = api::Client::connect(socket_);
      return c.ok() &&
             (*c)->call(api::Method::kStatus, nlohmann::json::object(), {}, milliseconds(1000))
                 .ok();
    });
    ASSERT_TRUE(up) << "bulkheadd did not come up";
    ASSERT_FALSE(daemon_->exited()) << "bulkheadd exited at start";
  }

  std::vector<std::string> ctl_args(std::vector<std::string> args) const {
    args.insert(args.begin(), {ctl_bin_, "--socket", socket_});
    return args;
  }

  Output ctl(std::vector<std::string> args, const std::string& stdin_data = "") {
    Proc p(ctl_args(std::move(args)));
    if (!stdin_data.empty()) {
      p.write_stdin(stdin_data);
    }
    return p.finish();
  }

  // The state of a workload as `ps` reports it; empty when not listed.
  std::string workload_state(const std::string& name) {
    auto c = api::Client::connect(socket_);
    if (!c.ok()) {
      return "";
    }
    auto r =
        (*c)->call(api::Method::kPs, nlohmann::json{{"tenant", "alpha"}}, {}, milliseconds(2000));
    if (!r.ok() || !r->result) {
      return "";
    }
    for (const auto& w : (*r->result)["workloads"]) {
      if (w["name"] == name) {
        return w["state"].get<std::string>();
      }
    }
    return "";
  }

  [[nodiscard]] std::string log_path(const std::string& tenant, const std::string& workload) const {
    return dir_.path() + "/state/logs/" + tenant + "/" + workload + ".log";
  }

  testing::TempDir dir_;
  std::string daemon_bin_;
  std::string ctl_bin_;
  std::string cgroup_name_;
  std::string socket_;
  std::unique_ptr<Proc> daemon_;
};

}  // namespace bulkhead::testing
