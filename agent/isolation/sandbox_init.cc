#include "isolation/sandbox_init.h"

#include <linux/capability.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include "isolation/child_report.h"
#include "isolation/workload_exec.h"

namespace bulkhead::isolation {
namespace {

// Signals the agent (or a tenant process) may send to init that belong to the workload.
constexpr int kForwarded[] = {SIGHUP,  SIGINT,   SIGQUIT, SIGTERM, SIGUSR1,
                              SIGUSR2, SIGWINCH, SIGCONT, SIGALRM};

// init keeps nothing a tenant process could borrow: no capabilities, and not
// dumpable, so even a process with the same tenant uid cannot ptrace it.
void drop_own_privileges() noexcept {
  (void)::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  for (int cap = 0; cap <= 63; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno == EINVAL) {
      break;  // past the kernel's last capability
    }
  }
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  (void)::syscall(SYS_capset, &header, data);
  (void)::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

int shell_status(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return WEXITSTATUS(wait_status);
  }
  return 128 + WTERMSIG(wait_status);
}

}  // namespace

void run_init(const SandboxPlan& plan, const ExecSpec& spec, InitFds fds,
              const TerminalSize* terminal, bool die_with_parent) noexcept {
  if (die_with_parent) {
    (void)::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  }
  if (::unshare(CLONE_NEWNS) != 0) {
    report_and_exit(fds.report, LaunchStep::kUnshareMount, errno);
  }
  RootfsFailure failure{};
  if (int rc = apply_rootfs(plan.rootfs, &failure); rc < 0) {
    report_and_exit(fds.report, LaunchStep::kRootfs, -rc, failure.step);
  }

  sigset_t waited;
  sigemptyset(&waited);
  sigaddset(&waited, SIGCHLD);
  for (int sig : kForwarded) {
    sigaddset(&waited, sig);
  }
  // Blocked signals are queued even for a namespace init, so sigwaitinfo sees them.
  if (::sigprocmask(SIG_BLOCK, &waited, nullptr) != 0) {
    report_and_exit(fds.report, LaunchStep::kInitSignals, errno);
  }
  // In the new root, so the terminal is one of the workload's own devpts
  // instance; its master leaves for the agent before the workload exists.
  int slave = -1;
  if (terminal != nullptr) {
    slave = open_workload_terminal(fds.console, *terminal, spec.uid());
    if (slave < 0) {
      report_and_exit(fds.report, LaunchStep::kTerminal, -slave);
    }
    ::close(fds.console);
  }

  pid_t workload = ::fork();
  if (workload < 0) {
    report_and_exit(fds.report, LaunchStep::kForkWorkload, errno);
  }
  if (workload == 0) {
    ::close(fds.status);
    exec_workload(plan, spec, fds.report, slave);
  }
  if (slave >= 0) {
    ::close(slave);  // init is not in the workload's session and keeps no terminal
  }
  ::close(fds.report);
  drop_own_privileges();

  for (;;) {
    siginfo_t info{};
    int sig = ::sigwaitinfo(&waited, &info);
    if (sig < 0) {
      continue;  // EINTR
    }
    if (sig != SIGCHLD) {
      (void)::kill(workload, sig);
      continue;
    }
    // Reap everything: orphans re-parented to us as well as the workload.
    for (;;) {
      int status = 0;
      pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) {
        break;
      }
      if (pid == workload) {
        (void)!::write(fds.status, &status, sizeof(status));
        // Exiting ends the pid namespace: the kernel kills what is left in it.
        _exit(shell_status(status));
      }
    }
  }
}

}  // namespace bulkhead::isolation
