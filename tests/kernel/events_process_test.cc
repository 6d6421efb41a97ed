// Process events of tenant workloads: exec, fork, exit, fileless exec and a
// seccomp kill, each exactly once with the right tenant, workload and fields;
// host processes produce nothing in the default mode.
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "events_test_support.h"

namespace bulkhead::testing {
namespace {

using events::Event;
using events::EventType;
using namespace std::chrono_literals;

TEST_F(EventsTest, ExecReportsImageArgsCwdAndIdsInsideAndOnTheHost) {
  auto t = tracked_tenant("evexec");
  ASSERT_TRUE(t);
  auto run = run_action(*t, "w-exec", {"noop", "second arg"});
  ASSERT_NE(run.helper_pid, 0);
  auto execs = select(run.events, EventType::kProcessExec,
                      [&](const Event& e) { return e.process.pid == run.helper_pid; });
  ASSERT_EQ(execs.size(), 1u);
  const Event& e = execs[0];
  EXPECT_EQ(e.tenant, "evexec");
  EXPECT_EQ(e.workload, "w-exec");
  EXPECT_EQ(e.process.exe, "/helpers/event_actions");
  EXPECT_EQ(e.process.args,
            (std::vector<std::string>{"/helpers/event_actions", "noop", "second arg"}));
  EXPECT_FALSE(e.process.args_truncated);
  EXPECT_EQ(e.process.cwd, "/");
  EXPECT_EQ(e.process.comm, "event_actions");
  const uint32_t base = t->profile().ids->base;
  EXPECT_EQ(e.process.uid, base);
  EXPECT_EQ(e.process.euid, base);
  EXPECT_EQ(e.process.gid, base);
  EXPECT_EQ(e.process.uid_inside, 0u);
  EXPECT_EQ(e.process.egid_inside, 0u);
  EXPECT_NE(e.process.exec_id, 0u);
  EXPECT_EQ(e.fields["fileless"], false);
  EXPECT_EQ(e.fields["by_fd"], false);
  // Nothing of the sandbox set-up before the workload's exec is reported.
  EXPECT_TRUE(select(run.events, EventType::kSetns).empty());
  EXPECT_TRUE(select(run.events, EventType::kMount).empty());
  // Its exit, with the code.
  auto exits = select(run.events, EventType::kProcessExit,
                      [&](const Event& x) { return x.process.pid == run.helper_pid; });
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].fields["code"], 0);
  EXPECT_EQ(exits[0].fields["seccomp_kill"], false);
  EXPECT_EQ(exits[0].process.exec_id, e.process.exec_id);
  EXPECT_GT(exits[0].time_ns, e.time_ns);
}

TEST_F(EventsTest, ForkAndChildExecCarryAncestry) {
  auto t = tracked_tenant("evfork");
  ASSERT_TRUE(t);
  auto run = run_action(*t, "w-fork", {"spawn"});
  ASSERT_NE(run.helper_pid, 0);
  auto forks = select(run.events, EventType::kProcessFork,
                      [&](const Event& e) { return e.process.pid == run.helper_pid; });
  ASSERT_EQ(forks.size(), 1u);
  const int child = forks[0].fields["child_pid"].get<int>();
  EXPECT_GT(child, 0);
  EXPECT_EQ(forks[0].workload, "w-fork");
  EXPECT_EQ(forks[0].fields["namespaces"], nlohmann::json::array());
  // glibc's fork() is clone(CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD).
  EXPECT_EQ(forks[0].fields["syscall"], "clone");
  EXPECT_EQ(forks[0].fields["clone_flags"],
            nlohmann::json::array({"CLONE_CHILD_CLEARTID", "CLONE_CHILD_SETTID"}));
  auto parent_exec = select(run.events, EventType::kProcessExec,
                            [&](const Event& e) { return e.process.pid == run.helper_pid; });
  auto child_exec = select(run.events, EventType::kProcessExec,
                           [&](const Event& e) { return e.process.pid == child; });
  ASSERT_EQ(parent_exec.size(), 1u);
  ASSERT_EQ(child_exec.size(), 1u);
  const auto& c = child_exec[0].process;
  EXPECT_EQ(c.ppid, run.helper_pid);
  EXPECT_EQ(c.parent_exec_id, parent_exec[0].process.exec_id);
  ASSERT_FALSE(c.ancestry.empty());
  EXPECT_EQ(c.ancestry[0], parent_exec[0].process.exec_id);
  EXPECT_NE(c.exec_id, parent_exec[0].process.exec_id);
  EXPECT_EQ(c.args, (std::vector<std::string>{"/helpers/event_actions", "noop"}));
}

TEST_F(EventsTest, MemfdExecIsReportedAsFileless) {
  auto t = tracked_tenant("evmemfd");
  ASSERT_TRUE(t);
  auto run = run_action(*t, "w-memfd", {"memfd-exec"});
  ASSERT_NE(run.helper_pid, 0);
  auto memfds = select(run.events, EventType::kMemfdCreate,
                       [&](const Event& e) { return e.process.pid == run.helper_pid; });
  ASSERT_EQ(memfds.size(), 1u);
  EXPECT_EQ(memfds[0].fields["name"], "payload");
  EXPECT_EQ(memfds[0].fields["flags"], nlohmann::json::array({"MFD_CLOEXEC"}));
  EXPECT_GE(memfds[0].fields["result"].get<int>(), 0);
  auto execs = select(run.events, EventType::kProcessExec, [&](const Event& e) {
    return e.process.pid == run.helper_pid && e.fields["fileless"] == true;
  });
  ASSERT_EQ(execs.size(), 1u) << run.out;
  EXPECT_EQ(execs[0].fields["by_fd"], true);
  EXPECT_EQ(execs[0].process.exe,
            "/dev/fd/" + std::to_string(memfds[0].fields["result"].get<int>()));
  EXPECT_EQ(execs[0].process.args[1], "noop");
  EXPECT_EQ(execs[0].workload, "w-memfd");
}

TEST_F(EventsTest, SeccompKillIsReportedOnExit) {
  auto t = tracked_tenant("evkill", "seccomp:\n  deny: [setuid]\n  action: kill\n");
  ASSERT_TRUE(t);
  auto run = run_action(*t, "w-kill", {"setuid", "0"});
  ASSERT_NE(run.helper_pid, 0);
  auto exits = select(run.events, EventType::kProcessExit,
                      [&](const Event& e) { return e.process.pid == run.helper_pid; });
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].fields["signal"], "SIGSYS");
  EXPECT_EQ(exits[0].fields["seccomp_kill"], true);
}

// A process of the test itself (the host) makes the same calls: nothing.
TEST_F(EventsTest, HostProcessesYieldNothingByDefault) {
  auto t = tracked_tenant("evhost");
  ASSERT_TRUE(t);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::execl(BULKHEAD_HELPER_DIR "/event_actions", "event_actions", "write",
            "/tmp/bulkhead-events-host-test", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ::unlink("/tmp/bulkhead-events-host-test");
  received_.clear();
  poll_until([] { return false; }, 200ms);
  for (const auto& e : received_) {
    ADD_FAILURE() << "unexpected event from pid " << e.process.pid << " type "
                  << static_cast<int>(e.type);
  }
}

}  // namespace
}  // namespace bulkhead::testing

namespace bulkhead::testing {
namespace {

TEST_F(EventsTest, ExecCwdIsThePathInsideTheTenant) {
  auto t = tracked_tenant("evcwd");
  ASSERT_TRUE(t);
  auto run = run_action(*t, "w-cwd", {"noop"}, "/usr/share/doc");
  auto execs = select(run.events, EventType::kProcessExec,
                      [&](const Event& e) { return e.process.pid == run.helper_pid; });
  ASSERT_EQ(execs.size(), 1u);
  // /usr is a bind mount inside the tenant's own root: the walk crosses it.
  EXPECT_EQ(execs[0].process.cwd, "/usr/share/doc");
  EXPECT_FALSE(execs[0].fields.contains("cwd_truncated"));
}

// Host-wide mode: a host process is reported, with no tenant; tenants still
// are attributed.
TEST_F(EventsTest, HostWideModeReportsHostProcesses) {
  events::KernelSourceOptions options;
  options.host_wide = true;
  start_source(options);
  auto t = tracked_tenant("evwide");
  ASSERT_TRUE(t);
  const std::string path = "/tmp/bulkhead-events-wide-" + std::to_string(::getpid());
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::execl(BULKHEAD_HELPER_DIR "/event_actions", "event_actions", "write", path.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ::unlink(path.c_str());
  auto is_ours = [&](const Event& e) {
    return e.process.pid == child && field_string(e, "path") == path;
  };
  ASSERT_TRUE(poll_until([&] { return !select(received_, EventType::kFileOpen, is_ours).empty(); },
                         1000ms));
  auto opens = select(received_, EventType::kFileOpen, is_ours);
  ASSERT_EQ(opens.size(), 1u);
  EXPECT_EQ(opens[0].tenant, "");
  EXPECT_EQ(opens[0].workload, "");
  EXPECT_FALSE(opens[0].process.uid_inside.has_value());

  auto run = run_action(*t, "w-wide", {"write", "/tmp/x"});
  auto tenant_opens = select(run.events, EventType::kFileOpen, [&](const Event& e) {
    return e.process.pid == run.helper_pid && field_string(e, "path") == "/tmp/x";
  });
  ASSERT_EQ(tenant_opens.size(), 1u);
  EXPECT_EQ(tenant_opens[0].workload, "w-wide");
}

}  // namespace
}  // namespace bulkhead::testing
