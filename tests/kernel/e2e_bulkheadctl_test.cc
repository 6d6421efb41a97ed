// End to end: the real bulkheadd (own socket, state dir, cgroup name and
// profile dir in a temp dir) driven by the real bulkheadctl, both found next to
// this test binary (<build>/tests/.. -> <build>/agent/). Every wait is bounded,
// and the daemon is killed in teardown even when an assertion failed.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <thread>

#include "api/client.h"
#include "cgroup/layout.h"
#include "child_process.h"
#include "kernel_test_env.h"
#include "sandbox_fixture.h"

namespace bulkhead::api {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

using testing::build_binary;
using testing::kWait;
using testing::Output;
using testing::Proc;

bool eventually(const std::function<bool()>& pred, milliseconds timeout = kWait) {
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
    fs::create_directories(dir_.path() + "/profiles");
    fs::create_directories(dir_.path() + "/state");
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
    fs::remove_all("/sys/fs/bpf/" + cgroup_name_, ec);
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
    fs::path p = fs::path(root) / cgroup_name_;
    std::error_code ec;
    if (!fs::exists(p, ec)) {
      return;
    }
    std::vector<fs::path> dirs;
    for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (it->is_directory()) {
        dirs.push_back(it->path());
      }
    }
    std::sort(dirs.begin(), dirs.end(), [](const fs::path& a, const fs::path& b) {
      return a.string().size() > b.string().size();
    });
    for (const auto& d : dirs) {
      ::rmdir(d.c_str());
    }
    ::rmdir(p.c_str());
  }

  // Ids in 0x58000000 + a pid-derived slot, away from the other suites' ranges.
  void write_profile(const std::string& tenant, uint32_t slot = 0) {
    const uint32_t base =
        0x58000000U + ((static_cast<uint32_t>(::getpid()) % 64U) * 4U + slot) * 0x10000U;
    std::ofstream(dir_.path() + "/profiles/" + tenant + ".yaml")
        << "version: 1\n"
        << "tenant: " << tenant << "\n"
        << "ids: {base: " << base << ", count: 65536}\n"
        << "filesystem:\n"
        << "  read_only:\n"
        << "    - /usr\n"
        << "  symlinks:\n"
        << "    - {path: /bin, target: usr/bin}\n"
        << "    - {path: /sbin, target: usr/sbin}\n"
        << "    - {path: /lib, target: usr/lib}\n"
        << "    - {path: /lib64, target: usr/lib64}\n"
        << "  tmpfs:\n"
        << "    - {target: /tmp, size: 16Mi}\n"
        << "process:\n"
        << "  env: {PATH: /usr/bin:/bin}\n";
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
      auto c = Client::connect(socket_);
      return c.ok() && (*c)->call(Method::kStatus, json::object(), {}, milliseconds(1000)).ok();
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
    auto c = Client::connect(socket_);
    if (!c.ok()) {
      return "";
    }
    auto r = (*c)->call(Method::kPs, json{{"tenant", "alpha"}}, {}, milliseconds(2000));
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

  testing::TempDir dir_;
  std::string daemon_bin_;
  std::string ctl_bin_;
  std::string cgroup_name_;
  std::string socket_;
  std::unique_ptr<Proc> daemon_;
};

TEST_F(E2E, ExitCodeIsTheWorkloads) {
  Output o = ctl({"run", "--tenant", "alpha", "--", "sh", "-c", "exit 3"});
  EXPECT_FALSE(o.timed_out);
  EXPECT_EQ(o.code, 3) << o.err;
}

TEST_F(E2E, StdoutAndStderrArrive) {
  Output o = ctl({"run", "--tenant", "alpha", "--", "sh", "-c", "echo out; echo err >&2"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "out\n");
  EXPECT_EQ(o.err, "err\n");
}

TEST_F(E2E, StdinIsPassed) {
  Output o = ctl({"run", "--tenant", "alpha", "--", "cat"}, "through the agent\n");
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "through the agent\n");
}

TEST_F(E2E, EnvAndCwdAreApplied) {
  Output o = ctl({"run", "--tenant", "alpha", "--env", "GREETING=hi", "--cwd", "/tmp", "--", "sh",
                  "-c", "echo $GREETING; pwd"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "hi\n/tmp\n");
}

TEST_F(E2E, KilledBySignalIs128PlusN) {
  Output o = ctl({"run", "--tenant", "alpha", "--", "sh", "-c", "kill -KILL $$"});
  EXPECT_EQ(o.code, 128 + SIGKILL) << o.err;
}

TEST_F(E2E, SignalsToCtlAreForwarded) {
  Proc p(ctl_args({"run", "--tenant", "alpha", "--name", "sleeper", "--", "sleep", "100"}));
  ASSERT_TRUE(eventually([&] { return workload_state("sleeper") == "running"; }));
  ASSERT_EQ(::kill(p.pid(), SIGINT), 0);
  Output o = p.finish();
  EXPECT_FALSE(o.timed_out);
  EXPECT_EQ(o.code, 128 + SIGINT) << o.err;
}

TEST_F(E2E, HelpAfterACommandPrintsTheUsageButRunPassesItOn) {
  Output o = ctl({"events", "--help"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("Usage: bulkheadctl"), std::string::npos) << o.out;
  o = ctl({"run", "--tenant", "alpha", "--", "sh", "-c", "echo \"$1\"", "sh", "--help"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out, "--help\n");
}

TEST_F(E2E, UnknownTenantIsACtlError) {
  Output o = ctl({"run", "--tenant", "nope", "--", "true"});
  EXPECT_EQ(o.code, 125);
  EXPECT_NE(o.err.find("unknown tenant 'nope'"), std::string::npos) << o.err;
}

TEST_F(E2E, NoAgentIsACtlError) {
  Proc p({ctl_bin_, "--socket", dir_.path() + "/nothing.sock", "status"});
  Output o = p.finish();
  EXPECT_EQ(o.code, 125);
  EXPECT_NE(o.err.find("is bulkheadd running?"), std::string::npos) << o.err;
}

TEST_F(E2E, UnprivilegedUserIsRefused) {
  Proc p(ctl_args({"run", "--tenant", "alpha", "--", "true"}), /*drop_to_nobody=*/true);
  Output o = p.finish();
  EXPECT_EQ(o.code, 125);
  EXPECT_NE(o.err.find("permission denied"), std::string::npos) << o.err;
}

TEST_F(E2E, ClientGoneStopsItsWorkload) {
  auto p = std::make_unique<Proc>(
      ctl_args({"run", "--tenant", "alpha", "--name", "victim", "--", "sleep", "100"}));
  ASSERT_TRUE(eventually([&] { return workload_state("victim") == "running"; }));
  ::kill(p->pid(), SIGKILL);
  p.reset();
  EXPECT_TRUE(eventually([&] { return workload_state("victim") != "running"; }));
}

TEST_F(E2E, TablesAndJson) {
  Output status = ctl({"status"});
  EXPECT_EQ(status.code, 0) << status.err;
  EXPECT_NE(status.out.find("api:               bulkhead.api/v1"), std::string::npos) << status.out;
  Output tenants = ctl({"tenants"});
  EXPECT_EQ(tenants.code, 0);
  EXPECT_EQ(tenants.out.rfind("TENANT  IDS", 0), 0U) << tenants.out;
  EXPECT_NE(tenants.out.find("\nalpha "), std::string::npos) << tenants.out;
  Output raw = ctl({"--json", "tenants"});
  EXPECT_EQ(raw.code, 0);
  json j = json::parse(raw.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << raw.out;
  EXPECT_EQ(j["tenants"][0]["name"], "alpha");
  Output ps = ctl({"ps", "--tenant", "nope"});
  EXPECT_EQ(ps.code, 125);
  EXPECT_NE(ps.err.find("unknown tenant"), std::string::npos);
}

TEST_F(E2E, ReloadRefusesABrokenProfileWithLocations) {
  std::ofstream(dir_.path() + "/profiles/broken.yaml")
      << "version: 1\ntenant: b\nlimits:\n  pids: 0\n";
  Output o = ctl({"reload"});
  EXPECT_EQ(o.code, 125);
  EXPECT_NE(o.err.find(dir_.path() + "/profiles/broken.yaml:4:9: limits.pids: "), std::string::npos)
      << o.err;
  Output local = ctl({"check", dir_.path() + "/profiles/broken.yaml"});
  EXPECT_EQ(local.code, 1);
  EXPECT_NE(local.err.find("broken.yaml:4:9: limits.pids: "), std::string::npos) << local.err;
  Output in_agent = ctl({"check", "--agent", dir_.path() + "/profiles/alpha.yaml"});
  EXPECT_EQ(in_agent.code, 0) << in_agent.err;
  EXPECT_NE(in_agent.out.find("ok (tenant alpha)"), std::string::npos);
}

TEST_F(E2E, ShutdownLeavesNoCgroups) {
  auto p = std::make_unique<Proc>(
      ctl_args({"run", "--tenant", "alpha", "--name", "lingerer", "--", "sleep", "100"}));
  ASSERT_TRUE(eventually([&] { return workload_state("lingerer") == "running"; }));
  // Where the agent put its tree on this host (at the cgroup2 root, or below
  // its own cgroup when that is delegated to it), as it reports it.
  std::string tree;
  {
    auto c = Client::connect(socket_);
    ASSERT_TRUE(c.ok());
    auto r = (*c)->call(Method::kTenants, json::object(), {}, milliseconds(2000));
    ASSERT_TRUE(r.ok() && r->result) << (r.ok() ? r->error->message : r.error().to_string());
    const std::string tenant = (*r->result)["tenants"][0]["cgroup_path"].get<std::string>();
    tree = fs::path(tenant).parent_path().string();
  }
  ASSERT_EQ(fs::path(tree).filename(), cgroup_name_) << tree;
  testing::record_branch("the agent's tree: " + tree);
  ASSERT_EQ(::kill(daemon_->pid(), SIGTERM), 0);
  Output d = daemon_->finish();
  EXPECT_FALSE(d.timed_out) << d.err;
  EXPECT_EQ(d.code, 0) << d.err;
  daemon_.reset();
  Output client = p->finish();
  EXPECT_FALSE(client.timed_out);
  EXPECT_NE(client.code, 0);
  // Neither where it was, nor at the cgroup2 root, nor in any v1 hierarchy.
  std::vector<std::string> left;
  std::error_code ec;
  if (fs::exists(tree, ec)) {
    left.push_back(tree);
  }
  for (const std::string& root : cgroup_roots()) {
    if (fs::exists(fs::path(root) / cgroup_name_, ec)) {
      left.push_back((fs::path(root) / cgroup_name_).string());
    }
  }
  EXPECT_TRUE(left.empty()) << "left behind: " << (left.empty() ? "" : left.front());
  // A clean shutdown detaches the network policies and removes their pins.
  EXPECT_FALSE(fs::exists("/sys/fs/bpf/" + cgroup_name_, ec)) << "bpffs pins left behind";
  struct stat st {};
  EXPECT_NE(::lstat(socket_.c_str(), &st), 0) << "socket left behind";
}

// A crashed agent cannot report the end of its own run: the next one does, as
// an agent.drop event, and after a clean stop it does not.
TEST_F(E2E, RestartAfterACrashReportsTheGapOnce) {
  auto p = std::make_unique<Proc>(
      ctl_args({"run", "--tenant", "alpha", "--name", "victim", "--", "sleep", "100"}));
  ASSERT_TRUE(eventually([&] { return workload_state("victim") == "running"; }));
  const pid_t crashed = daemon_->pid();
  ASSERT_EQ(::kill(crashed, SIGKILL), 0);
  daemon_->finish();
  daemon_.reset();
  p->finish();
  start_daemon();
  Output o = ctl({"events", "--type", "agent.drop"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find("reason=unclean_stop"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("previous_pid=" + std::to_string(crashed)), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("last_seen=20"), std::string::npos) << o.out;

  // This one stops cleanly: the next start reports nothing.
  ASSERT_EQ(::kill(daemon_->pid(), SIGTERM), 0);
  EXPECT_EQ(daemon_->finish().code, 0);
  daemon_.reset();
  start_daemon();
  o = ctl({"events", "--type", "agent.drop"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out.find("unclean_stop"), std::string::npos) << o.out;
}

}  // namespace
}  // namespace bulkhead::api
