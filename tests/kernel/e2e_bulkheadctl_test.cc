// End to end: the real bulkheadd driven by the real bulkheadctl (e2e_fixture.h).
#include <sys/stat.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "e2e_fixture.h"

namespace bulkhead::api {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using testing::E2E;
using testing::eventually;
using testing::Output;
using testing::Proc;

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
    auto r = (*c)->call(Method::kTenants, json::object(), {}, std::chrono::milliseconds(2000));
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
