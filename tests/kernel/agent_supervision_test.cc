// Declared workloads under the agent: started at create, restarted (or not) by
// their policy with backoff up to the limit, stopped with SIGTERM then killed.
// Ad-hoc runs get the caller's fds and report their exit.
#include <fcntl.h>

#include "agent_test_support.h"

namespace bulkhead::testing {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

class AgentSupervisionTest : public AgentKernelTest {
 protected:
  // A tenant "t" with the given workloads section entries; starts the agent.
  void start_with(const std::string& workloads) {
    agent_->write_profile("t.yaml", agent_->tenant_yaml("t", 0, "workloads:\n" + workloads));
    auto s = agent_->start();
    ASSERT_TRUE(s.ok()) << s.error().to_string();
  }
  std::string state(const std::string& w) {
    auto info = agent_->workload("t", w);
    return info ? info->state : "<none>";
  }
  size_t count_lines(const std::string& path, const std::string& text) {
    std::istringstream in(read_text(path));
    size_t n = 0;
    for (std::string line; std::getline(in, line);) {
      n += line == text ? 1 : 0;
    }
    return n;
  }
};

TEST_F(AgentSupervisionTest, DeclaredWorkloadsStartAtCreate) {
  start_with(AgentInstance::sh_workload("one", "sleep 100") +
             AgentInstance::sh_workload("two", "sleep 100"));
  for (const char* name : {"one", "two"}) {
    auto w = agent_->workload("t", name);
    ASSERT_TRUE(w) << name;
    EXPECT_EQ(w->state, "running");
    EXPECT_EQ(w->kind, daemon::WorkloadKind::kDeclared);
    EXPECT_GT(w->pid, 0);
    EXPECT_TRUE(process_exists(w->pid));
    EXPECT_EQ(w->command, (std::vector<std::string>{"/bin/sh", "-c", "sleep 100"}));
    EXPECT_GT(w->started_unix_ms, 0);
    // In its own leaf of the tenant's cgroup.
    EXPECT_EQ(cgroup::testing::proc_cgroup_path(w->pid, ""),
              "/" + name_ + "/t/" + std::string(name));
  }
  auto t = agent_->tenant("t");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->workloads_running, 2U);
  EXPECT_EQ(t->id_count, 65536U);
  EXPECT_EQ(t->cgroup_path, host_.unified_mount + "/" + name_ + "/t");
  EXPECT_NE(t->cgroup_id, 0U);
  auto st = agent_->agent().status();
  EXPECT_EQ(st.tenants, 1U);
  EXPECT_EQ(st.workloads_running, 2U);
  EXPECT_EQ(st.pid, ::getpid());
  EXPECT_FALSE(st.cgroup_layout.empty());
  EXPECT_FALSE(st.version.empty());
}

TEST_F(AgentSupervisionTest, OnFailureRestartsWithBackoffUpToTheLimitThenFails) {
  start_with(AgentInstance::sh_workload("crash", "echo started; exit 1",
                                        "{policy: on-failure, limit: 2, backoff: 100ms}"));
  auto t0 = Clock::now();
  ASSERT_TRUE(run_until([&] { return state("crash") == "failed"; }, milliseconds(10000),
                        "crash to be marked failed"));
  auto elapsed = Clock::now() - t0;
  auto w = agent_->workload("t", "crash");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->restarts, 2U);
  ASSERT_TRUE(w->last_exit);
  EXPECT_FALSE(w->last_exit->signaled);
  EXPECT_EQ(w->last_exit->code, 1);
  EXPECT_EQ(w->pid, 0);
  // Backoff 100 ms, then 200 ms.
  EXPECT_GE(elapsed, milliseconds(300));
  // Three runs: the first and two restarts.
  EXPECT_EQ(count_lines(agent_->log_path("t", "crash"), "started"), 3U);
  // And no more.
  run_for(milliseconds(500));
  EXPECT_EQ(agent_->workload("t", "crash")->restarts, 2U);
  EXPECT_EQ(state("crash"), "failed");
}

TEST_F(AgentSupervisionTest, OnFailureDoesNotRestartASuccess) {
  start_with(AgentInstance::sh_workload("ok", "exit 0", "{policy: on-failure, backoff: 10ms}"));
  ASSERT_TRUE(run_until([&] { return state("ok") == "exited"; }, milliseconds(5000), "ok exits"));
  run_for(milliseconds(200));
  auto w = agent_->workload("t", "ok");
  EXPECT_EQ(w->state, "exited");
  EXPECT_EQ(w->restarts, 0U);
  ASSERT_TRUE(w->last_exit);
  EXPECT_EQ(w->last_exit->shell_code(), 0);
}

TEST_F(AgentSupervisionTest, AlwaysRestartsAfterASuccess) {
  start_with(AgentInstance::sh_workload("loop", "echo started; exit 0",
                                        "{policy: always, limit: 2, backoff: 50ms}"));
  ASSERT_TRUE(run_until([&] { return agent_->workload("t", "loop")->restarts == 2; },
                        milliseconds(10000), "two restarts"));
  ASSERT_TRUE(run_until([&] { return state("loop") == "failed"; }, milliseconds(5000),
                        "the limit to be reached"));
  EXPECT_EQ(agent_->workload("t", "loop")->restarts, 2U);
  EXPECT_EQ(count_lines(agent_->log_path("t", "loop"), "started"), 3U);
}

TEST_F(AgentSupervisionTest, PolicyNoNeverRestarts) {
  start_with(AgentInstance::sh_workload("once", "exit 3", "{policy: no, backoff: 10ms}"));
  ASSERT_TRUE(
      run_until([&] { return state("once") == "failed"; }, milliseconds(5000), "once to end"));
  run_for(milliseconds(200));
  auto w = agent_->workload("t", "once");
  EXPECT_EQ(w->state, "failed");
  EXPECT_EQ(w->restarts, 0U);
  EXPECT_EQ(w->last_exit->code, 3);
}

TEST_F(AgentSupervisionTest, ALaunchFailureCountsAsAFailedRun) {
  agent_->write_profile(
      "t.yaml",
      agent_->tenant_yaml("t", 0,
                          "workloads:\n"
                          "  - name: missing\n"
                          "    command: [/usr/bin/no-such-binary]\n"
                          "    restart: {policy: on-failure, limit: 1, backoff: 10ms}\n"));
  ASSERT_TRUE(agent_->start().ok());
  ASSERT_TRUE(run_until([&] { return state("missing") == "failed"; }, milliseconds(5000),
                        "missing to fail"));
  auto w = agent_->workload("t", "missing");
  EXPECT_EQ(w->restarts, 1U);
  EXPECT_NE(w->last_error.find("No such file"), std::string::npos) << w->last_error;
}

TEST_F(AgentSupervisionTest, StopSendsTermThenKillsAfterTheGrace) {
  // Long enough that "at once" and "after the grace" stay apart on a loaded machine.
  const milliseconds grace(1500);
  agent_->options().stop_grace = grace;
  start_with(AgentInstance::sh_workload("stubborn", "trap '' TERM; echo ready; sleep 100",
                                        "{policy: always, backoff: 10ms}") +
             AgentInstance::sh_workload("polite", "sleep 100", "{policy: always, backoff: 10ms}"));
  const std::string log = agent_->log_path("t", "stubborn");
  ASSERT_TRUE(run_until([&] { return read_text(log).find("ready") != std::string::npos; },
                        milliseconds(5000), "the TERM trap to be set"));
  pid_t stubborn = agent_->workload("t", "stubborn")->pid;
  pid_t polite = agent_->workload("t", "polite")->pid;

  // A workload that honours SIGTERM ends at once, by SIGTERM.
  auto t0 = Clock::now();
  ASSERT_TRUE(agent_->agent().stop("t", "polite").ok());
  ASSERT_TRUE(run_until([&] { return state("polite") == "stopped"; }, milliseconds(5000),
                        "polite to stop"));
  EXPECT_LT(Clock::now() - t0, grace);
  auto p = agent_->workload("t", "polite");
  ASSERT_TRUE(p->last_exit);
  EXPECT_TRUE(p->last_exit->signaled);
  EXPECT_EQ(p->last_exit->code, SIGTERM);

  // One that ignores it is killed once the grace period is over.
  t0 = Clock::now();
  ASSERT_TRUE(agent_->agent().stop("t", "stubborn").ok());
  EXPECT_EQ(state("stubborn"), "stopping");
  ASSERT_TRUE(run_until([&] { return state("stubborn") == "stopped"; }, milliseconds(5000),
                        "stubborn to be killed"));
  EXPECT_GE(Clock::now() - t0, grace);
  auto s = agent_->workload("t", "stubborn");
  ASSERT_TRUE(s->last_exit);
  EXPECT_TRUE(s->last_exit->signaled);
  EXPECT_EQ(s->last_exit->code, SIGKILL);
  EXPECT_TRUE(cgroup::testing::eventually([&] { return !process_exists(stubborn); }));
  EXPECT_TRUE(cgroup::testing::eventually([&] { return !process_exists(polite); }));

  // Stopped workloads are not restarted, whatever their policy...
  run_for(milliseconds(200));
  EXPECT_EQ(state("stubborn"), "stopped");
  EXPECT_EQ(state("polite"), "stopped");
  EXPECT_EQ(agent_->workload("t", "polite")->pid, 0);
  // ...until started again.
  ASSERT_TRUE(agent_->agent().start("t", "polite").ok());
  EXPECT_EQ(state("polite"), "running");
  EXPECT_FALSE(agent_->agent().stop("t", "nope").ok());
  EXPECT_FALSE(agent_->agent().stop("nope", "polite").ok());
}

TEST_F(AgentSupervisionTest, SignalReachesTheWorkload) {
  start_with(AgentInstance::sh_workload("hup",
                                        "trap 'echo got-hup' HUP; echo ready; "
                                        "while true; do sleep 0.05; done"));
  const std::string log = agent_->log_path("t", "hup");
  ASSERT_TRUE(run_until([&] { return read_text(log).find("ready") != std::string::npos; },
                        milliseconds(5000), "the trap"));
  ASSERT_TRUE(agent_->agent().signal("t", "hup", SIGHUP).ok());
  ASSERT_TRUE(run_until([&] { return read_text(log).find("got-hup") != std::string::npos; },
                        milliseconds(5000), "the HUP trap to run"));
  EXPECT_EQ(state("hup"), "running");
}

// Reads a pipe to its end (bounded by the caller's loop: the run has ended).
std::string read_all(int fd) {
  std::string out;
  char buf[256];
  for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;) {
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

TEST_F(AgentSupervisionTest, AdhocRunGetsPipesOfTheAgentAndReportsItsExit) {
  start_with(AgentInstance::sh_workload("idle", "sleep 100"));
  daemon::AdhocRun run;
  run.tenant = "t";
  run.argv = {"/bin/sh", "-c", "echo out; echo err >&2; cat; exit 4"};
  std::optional<isolation::ExitStatus> exit;
  auto started = agent_->agent().run(run, [&](const isolation::ExitStatus& s) { exit = s; });
  ASSERT_TRUE(started.ok()) << started.error().to_string();
  EXPECT_EQ(started->info.name, "run-1");
  EXPECT_EQ(started->info.kind, daemon::WorkloadKind::kAdhoc);
  EXPECT_GT(started->info.pid, 0);
  // The caller's ends: the workload's stdin, stdout, stderr.
  ASSERT_EQ(started->stdio.size(), 3U);
  ASSERT_EQ(::write(started->stdio[0].get(), "in\n", 3), 3);
  started->stdio[0].reset();  // end of input: cat ends
  ASSERT_TRUE(run_until([&] { return exit.has_value(); }, milliseconds(5000), "the run to end"));
  EXPECT_EQ(exit->shell_code(), 4);
  EXPECT_EQ(read_all(started->stdio[1].get()), "out\nin\n");
  EXPECT_EQ(read_all(started->stdio[2].get()), "err\n");
  EXPECT_FALSE(agent_->workload("t", "run-1"));  // gone once ended

  // With a terminal: one master, the workload's stdin, stdout and stderr are
  // that terminal (of its own devpts instance) and it is its controlling one.
  run.tty = isolation::TerminalSize{33, 101};
  run.argv = {"/bin/sh", "-c",
              "test -t 0 && test -t 1 && test -t 2 && stty size </dev/tty && tty; exit 5"};
  exit.reset();
  auto tty = agent_->agent().run(run, [&](const isolation::ExitStatus& s) { exit = s; });
  ASSERT_TRUE(tty.ok()) << tty.error().to_string();
  ASSERT_EQ(tty->stdio.size(), 1U);
  ASSERT_TRUE(run_until([&] { return exit.has_value(); }, milliseconds(5000), "the run to end"));
  EXPECT_EQ(exit->shell_code(), 5);
  std::string screen;
  char buf[256];
  // EIO once the workload's side is closed and everything was read.
  for (ssize_t n; (n = ::read(tty->stdio[0].get(), buf, sizeof(buf))) > 0;) {
    screen.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(screen, "33 101\r\n/dev/pts/0\r\n");
  run.tty.reset();

  // Names: unique, valid, not a declared workload's.
  run.argv = {"/bin/true"};
  run.name = "idle";
  EXPECT_FALSE(agent_->agent().run(run, nullptr).ok());
  run.name = "Bad/Name";
  EXPECT_FALSE(agent_->agent().run(run, nullptr).ok());
  run.name = "";
  run.tenant = "nope";
  EXPECT_FALSE(agent_->agent().run(run, nullptr).ok());
}

}  // namespace
}  // namespace bulkhead::testing
