// Reload: validated as a whole before anything changes; limits applied in place,
// workloads started, stopped or restarted, tenants added, removed or recreated.
#include "agent_test_support.h"

namespace bulkhead::testing {
namespace {

using std::chrono::milliseconds;

class AgentReloadTest : public AgentKernelTest {
 protected:
  std::string limits(int pids) { return "limits: {pids: " + std::to_string(pids) + "}\n"; }
  std::string workloads(const std::string& entries) { return "workloads:\n" + entries; }
  pid_t pid_of(const std::string& tenant, const std::string& w) {
    auto info = agent_->workload(tenant, w);
    return info ? info->pid : -1;
  }
  std::string pids_max(const std::string& tenant) {
    return cgroup::testing::slurp(pids_max_path(name_, tenant));
  }
};

TEST_F(AgentReloadTest, ABadProfileChangesNothing) {
  agent_->write_profile(
      "a.yaml", agent_->tenant_yaml(
                    "a", 0, limits(100) + workloads(AgentInstance::sh_workload("w", "sleep 100"))));
  ASSERT_TRUE(agent_->start().ok());
  pid_t before = pid_of("a", "w");
  ASSERT_GT(before, 0);
  ASSERT_EQ(pids_max("a"), "100");

  // A good change to a, plus a new profile with an unknown key on line 3.
  agent_->write_profile(
      "a.yaml", agent_->tenant_yaml(
                    "a", 0, limits(50) + workloads(AgentInstance::sh_workload("w", "sleep 100"))));
  agent_->write_profile("b.yaml", "version: 1\ntenant: b\nbogus_key: 1\n");
  daemon::ReloadReport r = agent_->agent().reload();
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.errors.size(), 1U);
  EXPECT_EQ(r.errors[0].file, agent_->options().profiles_dir + "/b.yaml");
  EXPECT_EQ(r.errors[0].line, 3);
  EXPECT_EQ(r.errors[0].field, "bogus_key");
  EXPECT_NE(r.errors[0].to_string().find("b.yaml:3:1: bogus_key:"), std::string::npos)
      << r.errors[0].to_string();
  EXPECT_TRUE(r.added.empty() && r.removed.empty() && r.updated.empty() && r.failed.empty());

  // Untouched: same tenants, same process, old limit.
  EXPECT_EQ(pid_of("a", "w"), before);
  EXPECT_TRUE(process_exists(before));
  EXPECT_EQ(pids_max("a"), "100");
  EXPECT_EQ(agent_->agent().tenants().size(), 1U);
  run_for(milliseconds(100));
  EXPECT_EQ(pid_of("a", "w"), before);

  // Fixed: now it applies.
  agent_->remove_profile("b.yaml");
  r = agent_->agent().reload();
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.updated, std::vector<std::string>{"a"});
  EXPECT_EQ(pids_max("a"), "50");
}

TEST_F(AgentReloadTest, LimitsChangeInPlace) {
  agent_->write_profile(
      "a.yaml", agent_->tenant_yaml(
                    "a", 0, limits(100) + workloads(AgentInstance::sh_workload("w", "sleep 100"))));
  ASSERT_TRUE(agent_->start().ok());
  pid_t before = pid_of("a", "w");
  ASSERT_EQ(pids_max("a"), "100");

  agent_->write_profile(
      "a.yaml", agent_->tenant_yaml(
                    "a", 0, limits(42) + workloads(AgentInstance::sh_workload("w", "sleep 100"))));
  daemon::ReloadReport r = agent_->agent().reload();
  ASSERT_TRUE(r.ok) << (r.errors.empty() ? "" : r.errors[0].to_string());
  EXPECT_EQ(r.updated, std::vector<std::string>{"a"});
  EXPECT_EQ(pids_max("a"), "42");
  run_for(milliseconds(100));
  EXPECT_EQ(pid_of("a", "w"), before);
  EXPECT_TRUE(process_exists(before));
  EXPECT_EQ(agent_->workload("a", "w")->state, "running");

  // Unchanged the second time.
  r = agent_->agent().reload();
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.unchanged, std::vector<std::string>{"a"});
  EXPECT_TRUE(r.updated.empty());
}

TEST_F(AgentReloadTest, AddedTenantStartsAndRemovedTenantGoes) {
  agent_->options().stop_grace = milliseconds(500);
  agent_->write_profile(
      "a.yaml",
      agent_->tenant_yaml("a", 0, workloads(AgentInstance::sh_workload("w", "sleep 100"))));
  ASSERT_TRUE(agent_->start().ok());
  pid_t a_pid = pid_of("a", "w");

  agent_->write_profile(
      "b.yaml",
      agent_->tenant_yaml("b", 1, workloads(AgentInstance::sh_workload("wb", "sleep 100"))));
  daemon::ReloadReport r = agent_->agent().reload();
  ASSERT_TRUE(r.ok) << (r.errors.empty() ? "" : r.errors[0].to_string());
  EXPECT_EQ(r.added, std::vector<std::string>{"b"});
  EXPECT_EQ(r.unchanged, std::vector<std::string>{"a"});
  auto wb = agent_->workload("b", "wb");
  ASSERT_TRUE(wb);
  EXPECT_EQ(wb->state, "running");
  EXPECT_TRUE(process_exists(wb->pid));
  EXPECT_EQ(pid_of("a", "w"), a_pid);

  agent_->remove_profile("a.yaml");
  r = agent_->agent().reload();
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.removed, std::vector<std::string>{"a"});
  EXPECT_EQ(r.unchanged, std::vector<std::string>{"b"});
  ASSERT_TRUE(run_until([&] { return !agent_->tenant("a"); }, milliseconds(5000),
                        "tenant a to be removed"));
  EXPECT_TRUE(cgroup::testing::eventually([&] { return !process_exists(a_pid); }));
  for (const auto& tree : tree_paths_of(name_)) {
    EXPECT_FALSE(cgroup::testing::exists(tree + "/a")) << tree;
  }
  EXPECT_EQ(pid_of("b", "wb"), wb->pid);
}

TEST_F(AgentReloadTest, ChangedWorkloadsAloneAreRestarted) {
  auto profile = [&](const std::string& second_cmd, const std::string& third) {
    return agent_->tenant_yaml("a", 0,
                               workloads(AgentInstance::sh_workload("keep", "sleep 100") +
                                         AgentInstance::sh_workload("change", second_cmd) + third));
  };
  agent_->write_profile("a.yaml",
                        profile("sleep 100", AgentInstance::sh_workload("drop", "sleep 100")));
  ASSERT_TRUE(agent_->start().ok());
  pid_t keep = pid_of("a", "keep");
  pid_t change = pid_of("a", "change");
  pid_t drop = pid_of("a", "drop");

  agent_->write_profile("a.yaml",
                        profile("sleep 200", AgentInstance::sh_workload("add", "sleep 100")));
  daemon::ReloadReport r = agent_->agent().reload();
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.updated, std::vector<std::string>{"a"});
  ASSERT_TRUE(run_until(
      [&] {
        auto c = agent_->workload("a", "change");
        return c && c->state == "running" && c->pid != change && !agent_->workload("a", "drop");
      },
      milliseconds(5000), "change restarted and drop removed"));
  EXPECT_EQ(pid_of("a", "keep"), keep);
  EXPECT_EQ(agent_->workload("a", "change")->command[2], "sleep 200");
  EXPECT_EQ(agent_->workload("a", "add")->state, "running");
  EXPECT_TRUE(cgroup::testing::eventually([&] { return !process_exists(drop); }));
}

TEST_F(AgentReloadTest, OtherChangesRecreateTheTenant) {
  agent_->write_profile(
      "a.yaml", agent_->tenant_yaml(
                    "a", 0, workloads(AgentInstance::sh_workload("w", "hostname; sleep 100"))));
  ASSERT_TRUE(agent_->start().ok());
  pid_t before = pid_of("a", "w");
  // The first run has printed its hostname before the reload stops it.
  const std::string log = agent_->log_path("a", "w");
  ASSERT_TRUE(
      run_until([&] { return read_text(log) == "a\n"; }, milliseconds(5000), "the first hostname"));
  agent_->write_profile(
      "a.yaml", agent_->tenant_yaml("a", 0,
                                    "hostname: renamed\n" + workloads(AgentInstance::sh_workload(
                                                                "w", "hostname; sleep 100"))));
  daemon::ReloadReport r = agent_->agent().reload();
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.updated, std::vector<std::string>{"a"});
  ASSERT_TRUE(run_until(
      [&] {
        auto w = agent_->workload("a", "w");
        return w && w->state == "running" && w->pid != before;
      },
      milliseconds(5000), "the tenant to be recreated"));
  ASSERT_TRUE(run_until([&] { return read_text(log).find("renamed") != std::string::npos; },
                        milliseconds(5000), "the new hostname"));
  EXPECT_EQ(read_text(log), "a\nrenamed\n");
}

}  // namespace
}  // namespace bulkhead::testing
