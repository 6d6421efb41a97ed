// Shared by the agent kernel tests: an Agent driven in-process on its own
// EventLoop, with its own temporary state and profile directories, a unique
// cgroup tree name ("bulkhead-test-agent-<pid>-<n>") and explicit uid ranges
// derived from the pid (0x50000000 + ...) so concurrent test runs never meet.
// TearDown destroys the agent and fails the test if any cgroup directory of
// its tree is left in any hierarchy (then removes it). Every wait is bounded.
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cgroup_test_support.h"
#include "daemon/agent.h"
#include "daemon/event_loop.h"
#include "sandbox_fixture.h"

namespace bulkhead::testing {

inline std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline bool process_exists(pid_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno != ESRCH); }

inline size_t open_fd_count() {
  size_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (dirent* e = ::readdir(d)) {
      n += e->d_name[0] != '.' ? 1 : 0;
    }
    ::closedir(d);
  }
  return n - 1;  // the directory stream itself
}

// One agent: its directories, options and the Agent object.
class AgentInstance {
 public:
  AgentInstance(daemon::EventLoop& loop, std::string cgroup_name, uint32_t id_base)
      : loop_(loop), id_base_(id_base) {
    options_.profiles_dir = work_.path() + "/profiles";
    options_.state_dir = work_.path() + "/state";
    options_.cgroup_name = std::move(cgroup_name);
    options_.socket_path = work_.path() + "/sock";
    options_.stop_grace = std::chrono::milliseconds(2000);
    std::filesystem::create_directories(options_.profiles_dir);
  }
  ~AgentInstance() { agent_.reset(); }

  daemon::AgentOptions& options() { return options_; }
  const std::string& work_dir() const { return work_.path(); }

  // A tenant profile in the style of the sandbox tests (read-only /usr, the usual
  // symlinks, a tmpfs /tmp and a data dir), with uid range number `slot` (0..3).
  std::string tenant_yaml(const std::string& tenant, int slot,
                          const std::string& extra = "") const {
    std::string y;
    y += "version: 1\n";
    y += "tenant: " + tenant + "\n";
    y += "ids: {base: " + std::to_string(id_base_ + static_cast<uint32_t>(slot) * 0x10000U) +
         ", count: 65536}\n";
    y += "filesystem:\n";
    y += "  read_only: [/usr]\n";
    y += "  symlinks:\n";
    y += "    - {path: /bin, target: usr/bin}\n";
    y += "    - {path: /sbin, target: usr/sbin}\n";
    y += "    - {path: /lib, target: usr/lib}\n";
    y += "    - {path: /lib64, target: usr/lib64}\n";
    y += "  tmpfs:\n";
    y += "    - {target: /tmp, size: 16Mi}\n";
    y += "  data: {target: /data, host_path: " + work_.path() + "/data/" + tenant + "}\n";
    y += "process:\n";
    y += "  env: {PATH: /usr/bin:/bin}\n";
    y += extra;
    return y;
  }
  // `workloads:` with one shell workload.
  static std::string sh_workload(const std::string& name, const std::string& script,
                                 const std::string& restart = "") {
    std::string y = "  - name: " + name + "\n";
    y += "    command: [/bin/sh, -c, \"" + script + "\"]\n";
    if (!restart.empty()) {
      y += "    restart: " + restart + "\n";
    }
    return y;
  }

  void write_profile(const std::string& file, const std::string& yaml) const {
    std::ofstream(options_.profiles_dir + "/" + file) << yaml;
  }
  void remove_profile(const std::string& file) const {
    std::filesystem::remove(options_.profiles_dir + "/" + file);
  }

  Status start() {
    auto a = daemon::Agent::create(options_, loop_);
    if (!a.ok()) {
      return a.error();
    }
    agent_ = std::move(*a);
    return {};
  }
  daemon::Agent& agent() { return *agent_; }
  bool running() const { return agent_ != nullptr; }
  void destroy() { agent_.reset(); }

  std::optional<daemon::WorkloadInfo> workload(const std::string& tenant,
                                               const std::string& name) const {
    if (!agent_) {
      return std::nullopt;
    }
    for (const auto& w : agent_->workloads(tenant)) {
      if (w.name == name) {
        return w;
      }
    }
    return std::nullopt;
  }
  std::optional<daemon::TenantInfo> tenant(const std::string& name) const {
    if (!agent_) {
      return std::nullopt;
    }
    for (const auto& t : agent_->tenants()) {
      if (t.name == name) {
        return t;
      }
    }
    return std::nullopt;
  }
  std::string log_path(const std::string& tenant, const std::string& workload) const {
    return options_.state_dir + "/logs/" + tenant + "/" + workload + ".log";
  }

 private:
  daemon::EventLoop& loop_;
  TempDir work_;
  uint32_t id_base_;
  daemon::AgentOptions options_;
  std::unique_ptr<daemon::Agent> agent_;
};

class AgentKernelTest : public cgroup::testing::CgroupKernelTest {
 protected:
  void SetUp() override {
    CgroupKernelTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    fd_baseline_ = open_fd_count();
    auto loop = daemon::EventLoop::create();
    ASSERT_TRUE(loop.ok()) << loop.error().to_string();
    loop_ = std::move(*loop);
    name_ = next_tree_name();
    agent_ = std::make_unique<AgentInstance>(*loop_, name_, next_id_base());
  }

  void TearDown() override {
    if (!ready_) {
      return;
    }
    // Destroying an agent stops (grace, then kill) whatever still runs.
    agent_.reset();
    extra_.clear();
    loop_.reset();
    CgroupKernelTest::TearDown();
    for (const auto& name : extra_names_) {
      for (const auto& p : tree_paths_of(name)) {
        EXPECT_FALSE(cgroup::testing::exists(p)) << "left behind: " << p;
        if (cgroup::testing::exists(p)) {
          force_remove(p);
        }
      }
    }
  }

  // A second (third...) agent on the same loop with its own tree and ids.
  AgentInstance& another_agent() {
    std::string name = next_tree_name();
    extra_names_.push_back(name);
    extra_.push_back(std::make_unique<AgentInstance>(*loop_, name, next_id_base()));
    return *extra_.back();
  }

  [[nodiscard]] std::vector<std::string> tree_paths_of(const std::string& name) const {
    std::vector<std::string> out = {host_.unified_mount + "/" + name};
    for (const auto& [controller, mount] : host_.v1_mounts) {
      out.push_back(mount + "/" + name);
    }
    return out;
  }
  // Where a tenant's pids.max is: the v1 pids hierarchy on hybrid hosts.
  [[nodiscard]] std::string pids_max_path(const std::string& tree,
                                          const std::string& tenant) const {
    auto it = host_.v1_mounts.find("pids");
    std::string dir = it != host_.v1_mounts.end() ? it->second : host_.unified_mount;
    return dir + "/" + tree + "/" + tenant + "/pids.max";
  }

  // Runs the loop until `done` holds (checked every 5 ms) or `limit` passes;
  // false (and a test failure naming `what`) on timeout.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit,
                 const std::string& what) {
    if (done()) {
      return true;
    }
    bool ok = false;
    bool timed_out = false;
    std::function<void()> check = [&] {
      if (done()) {
        ok = true;
        loop_->stop();
        return;
      }
      poll_timer_ = loop_->add_timer(std::chrono::milliseconds(5), check);
    };
    poll_timer_ = loop_->add_timer(std::chrono::milliseconds(5), check);
    auto deadline = loop_->add_timer(limit, [&] {
      timed_out = true;
      loop_->stop();
    });
    auto ran = loop_->run();
    loop_->cancel_timer(poll_timer_);
    loop_->cancel_timer(deadline);
    EXPECT_TRUE(ran.ok()) << ran.error().to_string();
    EXPECT_FALSE(timed_out) << "timed out after " << limit.count() << " ms waiting for: " << what;
    return ok;
  }
  // Runs the loop for a fixed time (to see that something does NOT happen).
  void run_for(std::chrono::milliseconds duration) {
    auto t = loop_->add_timer(duration, [&] { loop_->stop(); });
    auto ran = loop_->run();
    loop_->cancel_timer(t);
    EXPECT_TRUE(ran.ok());
  }
  // Agent::shutdown, bounded.
  bool shutdown(AgentInstance& a, std::chrono::milliseconds limit = std::chrono::seconds(15)) {
    bool done = false;
    a.agent().shutdown([&done] { done = true; });
    return run_until([&] { return done; }, limit, "agent shutdown");
  }

  std::unique_ptr<daemon::EventLoop> loop_;
  std::unique_ptr<AgentInstance> agent_;
  std::vector<std::unique_ptr<AgentInstance>> extra_;
  std::vector<std::string> extra_names_;
  size_t fd_baseline_ = 0;

 private:
  static std::string next_tree_name() {
    static int counter = 0;
    return "bulkhead-test-agent-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  }
  // 4 tenants (slots) per agent, 8 agents per pid slot, 128 pid slots: all in
  // [0x50000000, 0x60000000), clear of the sandbox tests' 0x60000000 ranges.
  static uint32_t next_id_base() {
    static uint32_t counter = 0;
    uint32_t block = (static_cast<uint32_t>(::getpid()) % 128U) * 32U + (counter++ % 8U) * 4U;
    return 0x50000000U + block * 0x10000U;
  }
  daemon::EventLoop::TimerId poll_timer_ = 0;
};

}  // namespace bulkhead::testing
