#include "isolation/workload_exec.h"

#include <grp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>

#include "isolation/child_report.h"
#include "isolation/rlimits.h"
#include "isolation/terminal.h"

namespace bulkhead::isolation {
namespace {

// init blocked the signals it forwards; a workload starts with a clean slate.
void reset_signals() noexcept {
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) {
      (void)::signal(sig, SIG_DFL);
    }
  }
}

}  // namespace

void exec_workload(const SandboxPlan& plan, const ExecSpec& spec, int report_fd,
                   int terminal) noexcept {
  reset_signals();
  // Its own session: job-control signals from the operator's terminal session
  // do not reach into the tenant. With a terminal of its own, that terminal
  // is the session's: Ctrl-C and window changes reach its foreground group.
  (void)::setsid();
  if (terminal >= 0) {
    if (int rc = attach_workload_terminal(terminal); rc < 0) {
      report_and_exit(report_fd, LaunchStep::kTerminal, -rc);
    }
  }

  // Keep the permitted set across the uid change so kept capabilities can be
  // re-raised (as ambient) for a non-root workload user; the rest is dropped below.
  // Raw syscalls (see run_stage1 in launch.cc): glibc's wrappers would wait
  // for threads of the agent this process does not have.
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0 || ::syscall(SYS_setgroups, 0, nullptr) != 0 ||
      ::syscall(SYS_setresgid, spec.gid(), spec.gid(), spec.gid()) != 0 ||
      ::syscall(SYS_setresuid, spec.uid(), spec.uid(), spec.uid()) != 0) {
    report_and_exit(report_fd, LaunchStep::kCredentials, errno);
  }
  if (int rc = apply_rlimits(plan.rlimits); rc < 0) {
    report_and_exit(report_fd, LaunchStep::kRlimits, -rc);
  }
  // After the uid change, so the workload user needs search permission on it.
  if (::chdir(spec.cwd()) != 0) {
    report_and_exit(report_fd, LaunchStep::kWorkdir, errno);
  }
  if (int rc = apply_capabilities(plan.capabilities); rc < 0) {
    report_and_exit(report_fd, LaunchStep::kCapabilities, -rc);
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    report_and_exit(report_fd, LaunchStep::kNoNewPrivs, errno);
  }
  if (int rc = apply_landlock(plan.landlock); rc < 0) {
    report_and_exit(report_fd, LaunchStep::kLandlock, -rc);
  }
  // Last: from here on only the calls the profile allows are possible, and
  // execve must be one of them. The socket filter goes first: the main filter
  // may not allow seccomp(2) itself.
  if (int rc = install_seccomp(plan.socket_filter); rc < 0) {
    report_and_exit(report_fd, LaunchStep::kSeccomp, -rc);
  }
  if (int rc = install_seccomp(plan.seccomp); rc < 0) {
    report_and_exit(report_fd, LaunchStep::kSeccomp, -rc);
  }
  int err = ENOENT;
  for (const auto& candidate : spec.candidates()) {
    ::execve(candidate.c_str(), spec.argv(), spec.envp());
    // Like execvp: remember the most telling error, ENOENT only if nothing else.
    if (errno != ENOENT && errno != ENOTDIR) {
      err = errno;
    }
  }
  report_and_exit(report_fd, LaunchStep::kExec, err);
}

}  // namespace bulkhead::isolation
