// Tenant::launch: the agent side of starting a workload, and the first child
// ("stage 1") that carries it into the tenant's namespaces.
//
//   agent ──clone3(CLONE_INTO_CGROUP)──▶ stage 1 (host root, already in the workload cgroup)
//     stage 1: join user/net/ipc/uts ns → stdio → close fds → tenant root →
//              unshare(pid, cgroup) → clone(CLONE_PARENT) ──▶ init (PID 1, child of the agent)
//     init: mount ns → new root → [terminal: pty of its devpts, master to the agent] →
//           fork ──▶ workload: session [+ terminal], creds, rlimits, caps, NNP, Landlock,
//           seccomp, execve
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <optional>

#include "common/scope_exit.h"
#include "isolation/child_report.h"
#include "isolation/sandbox_init.h"
#include "isolation/tenant.h"

namespace bulkhead::isolation {
namespace {

// Fixed fd numbers inside the sandbox processes before execve.
constexpr int kReportFd = 3;
constexpr int kStatusFd = 4;
constexpr int kConsoleFd = 5;  // only with a terminal
constexpr int kMaxKept = 6;

struct Stage1Context {
  const SandboxPlan* plan;
  const ExecSpec* exec;
  const TenantNamespaces* ns;
  int go_fd;
  int report_fd;
  int status_fd;
  int console_fd;                // -1 without a terminal
  const TerminalSize* terminal;  // nullptr without
  int stdio[3];
  bool die_with_parent;
};

// Moves the fds a sandbox keeps to 0..5 without clobbering one another, then
// closes every other fd the agent had open.
int arrange_fds(const Stage1Context& c) noexcept {
  const int wanted[kMaxKept] = {c.stdio[0],  c.stdio[1],  c.stdio[2],
                                c.report_fd, c.status_fd, c.console_fd};
  const int kept = c.console_fd >= 0 ? kMaxKept : kMaxKept - 1;
  int temp[kMaxKept];
  for (int i = 0; i < kept; ++i) {
    temp[i] = ::fcntl(wanted[i], F_DUPFD_CLOEXEC, kMaxKept);
    if (temp[i] < 0) {
      return -errno;
    }
  }
  for (int i = 0; i < kept; ++i) {
    if (::dup2(temp[i], i) < 0) {
      return -errno;
    }
  }
  // The report, status and console sockets must not survive into the workload's execve.
  for (int fd = kReportFd; fd < kept; ++fd) {
    if (::fcntl(fd, F_SETFD, FD_CLOEXEC) != 0) {
      return -errno;
    }
  }
  if (::syscall(SYS_close_range, static_cast<unsigned>(kept), ~0U, 0U) != 0) {
    return -errno;
  }
  return 0;
}

[[noreturn]] void run_stage1(const Stage1Context& c) noexcept {
  int report = c.report_fd;
  char go = 0;
  // Wait until the agent has placed us in the v1 hierarchies too: no tenant
  // code may run outside the tenant's limits.
  if (::read(c.go_fd, &go, 1) != 1) {
    _exit(126);
  }
  if (::setns(c.ns->user_fd(), CLONE_NEWUSER) != 0) {
    report_and_exit(report, LaunchStep::kJoinUserNamespace, errno);
  }
  // -1 in network mode host: the workload stays in the agent's (the host's).
  if (c.ns->net_fd() >= 0 && ::setns(c.ns->net_fd(), CLONE_NEWNET) != 0) {
    report_and_exit(report, LaunchStep::kJoinNetNamespace, errno);
  }
  if (::setns(c.ns->ipc_fd(), CLONE_NEWIPC) != 0) {
    report_and_exit(report, LaunchStep::kJoinIpcNamespace, errno);
  }
  if (c.ns->uts_fd() >= 0 && ::setns(c.ns->uts_fd(), CLONE_NEWUTS) != 0) {
    report_and_exit(report, LaunchStep::kJoinUtsNamespace, errno);
  }
  if (int rc = arrange_fds(c); rc < 0) {
    report_and_exit(report, LaunchStep::kStdio, -rc);
  }
  report = kReportFd;
  // Tenant root: host uid ids.base. Capabilities inside the tenant's user
  // namespace are kept (the change is not from that namespace's root).
  // Raw syscalls, not glibc's wrappers: this process was made by a raw clone3,
  // so glibc still lists the agent's other threads (event sink workers) and its
  // set*id wrappers would signal them and wait for answers that never come.
  if (::syscall(SYS_setgroups, 0, nullptr) != 0 || ::syscall(SYS_setresgid, 0, 0, 0) != 0 ||
      ::syscall(SYS_setresuid, 0, 0, 0) != 0) {
    report_and_exit(report, LaunchStep::kTenantRoot, errno);
  }
  int flags = CLONE_NEWPID | (c.plan->new_cgroup_namespace ? CLONE_NEWCGROUP : 0);
  if (::unshare(flags) != 0) {
    report_and_exit(report, LaunchStep::kUnsharePidCgroup, errno);
  }
  // CLONE_PARENT: init becomes the agent's child, so stage 1 can exit now and
  // the agent waits on init directly.
  long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) {
    report_and_exit(report, LaunchStep::kForkInit, errno);
  }
  if (pid == 0) {
    InitFds fds{kReportFd, kStatusFd, c.console_fd >= 0 ? kConsoleFd : -1};
    run_init(*c.plan, *c.exec, fds, c.terminal, c.die_with_parent);
  }
  // Success record: step 0 carries init's pid as seen by the agent.
  ChildReport started{0, 0, static_cast<int32_t>(pid), 0};
  (void)!::write(report, &started, sizeof(started));
  _exit(0);
}

Result<pid_t> clone_into_cgroup(int cgroup_fd, bool* placed_in_v2) {
  struct clone_args args {};
  args.flags = CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<uint64_t>(cgroup_fd);
  long pid = ::syscall(SYS_clone3, &args, sizeof(args));
  if (pid >= 0) {
    *placed_in_v2 = true;
    return static_cast<pid_t>(pid);
  }
  // Kernels before 5.7: fork, and the agent attaches the child before it runs tenant code.
  if (errno != ENOSYS && errno != E2BIG && errno != EINVAL) {
    return errno_error("clone3 into workload cgroup");
  }
  *placed_in_v2 = false;
  pid = ::fork();
  if (pid < 0) {
    return errno_error("fork");
  }
  return static_cast<pid_t>(pid);
}

void reap_blocking(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

Error describe_child_failure(const SandboxPlan& plan, const ChildReport& r) {
  auto step = static_cast<LaunchStep>(r.step);
  std::string msg = step_name(step);
  if (step == LaunchStep::kRootfs) {
    msg += ": " + describe_failure(plan.rootfs, RootfsFailure{r.err, r.detail});
  }
  return Error{r.err, msg};
}

}  // namespace

Result<std::unique_ptr<Workload>> Tenant::launch(const LaunchRequest& request) {
  const std::string what = "tenant " + profile_.name + ", workload " + request.name;
  std::map<std::string, std::string> env = profile_.process.env;
  for (const auto& [k, v] : request.env) {
    env[k] = v;
  }
  auto exec = ExecSpec::create(request.argv, env, request.cwd.value_or(profile_.process.cwd),
                               profile_.process.uid, profile_.process.gid);
  if (!exec.ok()) {
    return exec.error().context(what);
  }
  auto cg = cgroup_->create_workload(request.name);
  if (!cg.ok()) {
    return cg.error().context(what);
  }
  std::unique_ptr<cgroup::WorkloadCgroup> workload_cgroup = std::move(*cg);

  int go[2];
  int report[2];
  int status[2];
  if (::pipe2(go, O_CLOEXEC) != 0) {
    return errno_error(what + ": pipe");
  }
  UniqueFd go_read(go[0]);
  UniqueFd go_write(go[1]);
  if (::pipe2(report, O_CLOEXEC) != 0) {
    return errno_error(what + ": pipe");
  }
  UniqueFd report_read(report[0]);
  UniqueFd report_write(report[1]);
  if (::pipe2(status, O_CLOEXEC) != 0) {
    return errno_error(what + ": pipe");
  }
  UniqueFd status_read(status[0]);
  UniqueFd status_write(status[1]);
  // With a terminal, init sends its master on this socket (isolation/terminal.h).
  UniqueFd console_read;
  UniqueFd console_write;
  if (request.terminal) {
    int console[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, console) != 0) {
      return errno_error(what + ": socketpair");
    }
    console_read.reset(console[0]);
    console_write.reset(console[1]);
  }

  Stage1Context ctx{&plan_,
                    &*exec,
                    namespaces_.get(),
                    go_read.get(),
                    report_write.get(),
                    status_write.get(),
                    console_write.get(),
                    request.terminal ? &*request.terminal : nullptr,
                    {request.stdin_fd, request.stdout_fd, request.stderr_fd},
                    request.die_with_parent};
  bool placed_in_v2 = false;
  auto stage1 = clone_into_cgroup(workload_cgroup->v2_fd(), &placed_in_v2);
  if (!stage1.ok()) {
    return stage1.error().context(what);
  }
  if (*stage1 == 0) {
    run_stage1(ctx);
  }
  pid_t stage1_pid = *stage1;
  go_read.reset();
  report_write.reset();
  status_write.reset();
  console_write.reset();
  // Until init is known, a failure kills stage 1 (and anything it started, via
  // the cgroup) and reaps it.
  ScopeExit kill_stage1([&] {
    (void)workload_cgroup->kill_all();
    ::kill(stage1_pid, SIGKILL);
    reap_blocking(stage1_pid);
  });

  auto attached = placed_in_v2 ? workload_cgroup->attach_v1_only(stage1_pid)
                               : workload_cgroup->attach(stage1_pid);
  if (!attached.ok()) {
    return attached.error().context(what + ": placing the workload in its cgroup");
  }
  char byte = 1;
  if (::write(go_write.get(), &byte, 1) != 1) {
    return errno_error(what + ": starting stage 1");
  }
  go_write.reset();

  // Read every record until EOF. EOF comes once stage 1 has exited, init has
  // closed its copy and the workload's execve closed the last one (CLOEXEC).
  // Stage 1 and init write concurrently, so the order of records is not fixed.
  pid_t init_pid = 0;
  std::optional<ChildReport> failure;
  for (;;) {
    ChildReport r{};
    ssize_t n = ::read(report_read.get(), &r, sizeof(r));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n != sizeof(r)) {
      break;
    }
    if (r.step == 0) {
      init_pid = r.detail;
    } else if (!failure) {
      failure = r;
      // Stop the rest so the pipe reaches EOF.
      (void)workload_cgroup->kill_all();
    }
  }
  kill_stage1.dismiss();
  reap_blocking(stage1_pid);
  if (failure || init_pid <= 0) {
    (void)workload_cgroup->kill_all();
    if (init_pid > 0) {
      reap_blocking(init_pid);
    }
    if (!failure) {
      return make_error(what + ": sandbox setup ended without a report");
    }
    return describe_child_failure(plan_, *failure).context(what);
  }

  // init sent the master before it forked the workload, whose execve ended
  // the reports: it is there now, or never.
  UniqueFd terminal;
  if (request.terminal) {
    auto master = receive_workload_terminal(console_read.get());
    if (!master.ok()) {
      (void)workload_cgroup->kill_all();
      reap_blocking(init_pid);
      return master.error().context(what);
    }
    terminal = std::move(*master);
  }
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, init_pid, 0)));
  if (!pidfd) {
    Error e = errno_error(what + ": pidfd_open");
    (void)workload_cgroup->kill_all();
    reap_blocking(init_pid);
    return e;
  }
  return std::make_unique<Workload>(request.name, init_pid, std::move(pidfd),
                                    std::move(status_read), std::move(workload_cgroup),
                                    std::move(terminal));
}

}  // namespace bulkhead::isolation
