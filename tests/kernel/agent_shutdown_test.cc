// Start-up failures and shutdown: an agent that does not start leaves nothing,
// and one that shuts down leaves no cgroup directory, process, zombie or fd.
#include <sys/wait.h>

#include "agent_test_support.h"

namespace bulkhead::testing {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

class AgentShutdownTest : public AgentKernelTest {
 protected:
  std::vector<pid_t> all_pids(AgentInstance& a) {
    std::vector<pid_t> out;
    for (const auto& w : a.agent().workloads(std::nullopt)) {
      if (w.pid > 0) {
        out.push_back(w.pid);
      }
    }
    return out;
  }
  void expect_tree_gone(const std::string& tree) {
    for (const auto& p : tree_paths_of(tree)) {
      EXPECT_FALSE(cgroup::testing::exists(p)) << "left behind: " << p;
    }
  }
  static bool no_children_left() {
    int status = 0;
    return ::waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD;
  }
};

TEST_F(AgentShutdownTest, InvalidProfilesAreAllReportedAndNothingIsCreated) {
  agent_->write_profile("a.yaml", "version: 1\ntenant: a\nunknown: 1\n");
  agent_->write_profile("b.yaml", "version: 1\ntenant: b\nlimits: {pids: lots}\n");
  agent_->write_profile("c.yaml", agent_->tenant_yaml("c", 2));
  auto s = agent_->start();
  ASSERT_FALSE(s.ok());
  const std::string msg = s.error().to_string();
  EXPECT_NE(msg.find("a.yaml:3:1: unknown:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("b.yaml:3:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("limits.pids"), std::string::npos) << msg;
  expect_tree_gone(name_);
}

TEST_F(AgentShutdownTest, ATenantThatCannotBeCreatedFailsTheStartCleanly) {
  // Valid on paper, but b's data directory path is taken by a file.
  std::string taken = agent_->work_dir() + "/data/b";
  std::filesystem::create_directories(agent_->work_dir() + "/data");
  std::ofstream(taken) << "not a directory";
  agent_->write_profile(
      "a.yaml",
      agent_->tenant_yaml("a", 0, "workloads:\n" + AgentInstance::sh_workload("w", "sleep 100")));
  agent_->write_profile("b.yaml", agent_->tenant_yaml("b", 1));
  auto s = agent_->start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().to_string().find("tenant b"), std::string::npos) << s.error().to_string();
  expect_tree_gone(name_);
  EXPECT_TRUE(no_children_left());
}

TEST_F(AgentShutdownTest, ShutdownLeavesNothingBehind) {
  agent_->write_profile(
      "a.yaml", agent_->tenant_yaml("a", 0,
                                    "workloads:\n" + AgentInstance::sh_workload("w1", "sleep 100") +
                                        AgentInstance::sh_workload(
                                            "w2", "sleep 100", "{policy: always, backoff: 10ms}")));
  agent_->write_profile(
      "b.yaml",
      agent_->tenant_yaml("b", 1, "workloads:\n" + AgentInstance::sh_workload("w", "sleep 100")));
  ASSERT_TRUE(agent_->start().ok());
  std::optional<isolation::ExitStatus> adhoc_exit;
  daemon::AdhocRun run;
  run.tenant = "b";
  run.argv = {"/bin/sleep", "100"};
  ASSERT_TRUE(
      agent_->agent().run(run, [&](const isolation::ExitStatus& s) { adhoc_exit = s; }).ok());
  std::vector<pid_t> pids = all_pids(*agent_);
  ASSERT_EQ(pids.size(), 4U);

  ASSERT_TRUE(shutdown(*agent_));
  // The ad-hoc run's owner heard of its end.
  ASSERT_TRUE(adhoc_exit);
  EXPECT_TRUE(adhoc_exit->signaled);
  EXPECT_EQ(adhoc_exit->code, SIGTERM);
  // Nothing is left: no cgroup directory of the tree, no process, no zombie.
  expect_tree_gone(name_);
  for (pid_t p : pids) {
    EXPECT_FALSE(process_exists(p)) << p;
  }
  EXPECT_TRUE(no_children_left());
  // The agent refuses work now, and says so.
  EXPECT_FALSE(agent_->agent().run(run, nullptr).ok());
  EXPECT_FALSE(agent_->agent().reload().ok);
  EXPECT_TRUE(agent_->agent().workloads(std::nullopt).empty());
  bool again = false;
  agent_->agent().shutdown([&] { again = true; });
  EXPECT_TRUE(run_until([&] { return again; }, milliseconds(1000), "a second shutdown"));
  // And once it and its loop are gone, so are all their fds.
  agent_.reset();
  EXPECT_EQ(loop_->fd_count(), 0U);
  EXPECT_EQ(loop_->timer_count(), 0U);
  loop_.reset();
  EXPECT_EQ(open_fd_count(), fd_baseline_);
}

TEST_F(AgentShutdownTest, ShutdownKillsWhatIgnoresTermAfterOneGracePeriod) {
  // Long enough that one grace period plus a loaded machine's overhead stays
  // below two grace periods, which the two workloads would take one after the other.
  const milliseconds grace(1500);
  agent_->options().stop_grace = grace;
  agent_->write_profile(
      "a.yaml",
      agent_->tenant_yaml(
          "a", 0,
          "workloads:\n" + AgentInstance::sh_workload("s1", "trap '' TERM; echo ready; sleep 100") +
              AgentInstance::sh_workload("s2", "trap '' TERM; echo ready; sleep 100")));
  ASSERT_TRUE(agent_->start().ok());
  for (const char* w : {"s1", "s2"}) {
    const std::string log = agent_->log_path("a", w);
    ASSERT_TRUE(run_until([&] { return read_text(log).find("ready") != std::string::npos; },
                          milliseconds(5000), std::string("trap in ") + w));
  }
  std::vector<pid_t> pids = all_pids(*agent_);
  auto t0 = Clock::now();
  ASSERT_TRUE(shutdown(*agent_));
  auto took = Clock::now() - t0;
  // Both got the same grace period, in parallel.
  EXPECT_GE(took, grace);
  EXPECT_LT(took, 2 * grace);
  for (pid_t p : pids) {
    EXPECT_FALSE(process_exists(p)) << p;
  }
  expect_tree_gone(name_);
}

TEST_F(AgentShutdownTest, DestroyingARunningAgentCleansUpToo) {
  agent_->options().stop_grace = milliseconds(300);
  agent_->write_profile(
      "a.yaml",
      agent_->tenant_yaml("a", 0,
                          "workloads:\n" + AgentInstance::sh_workload("polite", "sleep 100") +
                              AgentInstance::sh_workload("stubborn", "trap '' TERM; sleep 100")));
  ASSERT_TRUE(agent_->start().ok());
  run_for(milliseconds(100));
  std::vector<pid_t> pids = all_pids(*agent_);
  ASSERT_EQ(pids.size(), 2U);
  auto t0 = Clock::now();
  agent_->destroy();
  EXPECT_LT(Clock::now() - t0, milliseconds(3000));
  for (pid_t p : pids) {
    EXPECT_FALSE(process_exists(p)) << p;
  }
  expect_tree_gone(name_);
  EXPECT_TRUE(no_children_left());
  EXPECT_EQ(loop_->fd_count(), 0U);
  EXPECT_EQ(loop_->timer_count(), 0U);
}

TEST_F(AgentShutdownTest, TwoAgentsRunSideBySide) {
  AgentInstance& other = another_agent();
  agent_->write_profile(
      "a.yaml", agent_->tenant_yaml("same", 0,
                                    "workloads:\n" + AgentInstance::sh_workload("w", "sleep 100")));
  // The same tenant and workload names in the other agent: separate trees, state and ids.
  other.write_profile(
      "a.yaml",
      other.tenant_yaml("same", 0, "workloads:\n" + AgentInstance::sh_workload("w", "sleep 100")));
  ASSERT_TRUE(agent_->start().ok());
  ASSERT_TRUE(other.start().ok());
  pid_t p1 = agent_->workload("same", "w")->pid;
  pid_t p2 = other.workload("same", "w")->pid;
  EXPECT_NE(p1, p2);
  EXPECT_NE(agent_->tenant("same")->cgroup_path, other.tenant("same")->cgroup_path);
  EXPECT_NE(agent_->tenant("same")->id_base, other.tenant("same")->id_base);

  ASSERT_TRUE(shutdown(*agent_));
  EXPECT_FALSE(process_exists(p1));
  EXPECT_TRUE(process_exists(p2));  // the other agent is not affected
  EXPECT_EQ(other.workload("same", "w")->state, "running");
  ASSERT_TRUE(shutdown(other));
  EXPECT_FALSE(process_exists(p2));
  expect_tree_gone(name_);
  expect_tree_gone(extra_names_[0]);
}

}  // namespace
}  // namespace bulkhead::testing
