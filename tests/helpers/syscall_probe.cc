// syscall_probe: performs dangerous system calls with harmless arguments and reports how
// each one failed, so a test can check a seccomp filter from inside a real sandbox.
//
//   syscall_probe [--errno=N] [--kill] [--list] [--all] <name>...
//
// Prints "<name> errno=<n>" per call (errno=0: it succeeded; "signal=<n>": the call killed
// the process). Exit status: 0 when every call failed with the expected errno (EPERM, or
// N), or with --kill was killed by SIGSYS; 1 when any call succeeded; 2 otherwise (another
// errno, an unknown name, a crash).
//
// The arguments are chosen so that, should the filter let a call through, the kernel
// rejects it (bad flags, NULL or bad pointers, fd -1, pid 0) before it changes anything,
// usually before any capability check, so EPERM comes from seccomp rather than from the
// kernel refusing an unprivileged caller. Each call runs in its own child process.
//
// Self-contained on purpose: static, libc only, raw syscall numbers.
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

constexpr long kBadFlags = 0x7fff0000;  // no call defines these flag bits
constexpr long kX32Bit = 0x40000000;    // x32 ABI marker in the syscall number
constexpr long kX8664Getpid = 39;
constexpr long kI386Getpid = 20;
constexpr long kTiocsti = 0x5412;
constexpr long kTioclinux = 0x541C;
constexpr long kAfVsock = 40;
constexpr long kCloneNewuser = 0x10000000;
constexpr long kAddrNoRandomize = 0x0040000;

long bad_ptr() { return 1; }  // never mapped: copies from it fail with EFAULT

long probe_vhangup() {
  // Without a controlling terminal vhangup has nothing to hang up, even for root.
  setsid();
  return syscall(SYS_vhangup);
}

long probe_clone_newuser() {
  long pid = syscall(SYS_clone, kCloneNewuser | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) {
    _exit(0);
  }
  if (pid > 0) {
    waitpid(static_cast<pid_t>(pid), nullptr, 0);
    return 0;
  }
  return -1;
}

long probe_modify_ldt() {
  // modify_ldt returns its error as an unsigned int, which syscall() takes for success.
  long ret = syscall(SYS_modify_ldt, 1, 0, 0);  // write with a wrong size: EINVAL
  if (ret != -1 && static_cast<int>(ret) < 0) {
    errno = -static_cast<int>(ret);
    return -1;
  }
  return ret;
}

long probe_settimeofday() {
  long tv[2] = {0, -1};  // tv_usec out of range: rejected before the capability check
  return syscall(SYS_settimeofday, tv, 0);
}

long probe_socket_vsock() {
  long fd = syscall(SYS_socket, kAfVsock, SOCK_STREAM, 0);
  if (fd >= 0) {
    close(static_cast<int>(fd));
  }
  return fd;
}

long probe_i386_getpid() {
  long ret = kI386Getpid;
  // 32-bit entry point; r8-r11 are zeroed on return from it.
  asm volatile("int $0x80" : "+a"(ret) : : "r8", "r9", "r10", "r11", "memory");
  if (ret < 0 && ret > -4096) {
    errno = static_cast<int>(-ret);
    return -1;
  }
  return ret;
}

struct Probe {
  const char* name;
  long (*run)();
};

// clang-format off
const Probe kProbes[] = {
    {"mount", [] { return syscall(SYS_mount, 0, 0, 0, 0, 0); }},
    {"umount2", [] { return syscall(SYS_umount2, 0, kBadFlags); }},
    {"pivot_root", [] { return syscall(SYS_pivot_root, 0, 0); }},
    {"chroot", [] { return syscall(SYS_chroot, 0); }},
    {"unshare", [] { return syscall(SYS_unshare, 0x1); }},  // CSIGNAL bits: EINVAL
    {"setns", [] { return syscall(SYS_setns, -1, 0); }},
    {"fsopen", [] { return syscall(SYS_fsopen, 0, kBadFlags); }},
    {"fsconfig", [] { return syscall(SYS_fsconfig, -1, kBadFlags, 0, 0, 0); }},
    {"fsmount", [] { return syscall(SYS_fsmount, -1, kBadFlags, 0); }},
    {"fspick", [] { return syscall(SYS_fspick, -1, 0, kBadFlags); }},
    {"move_mount", [] { return syscall(SYS_move_mount, -1, 0, -1, 0, kBadFlags); }},
    {"open_tree", [] { return syscall(SYS_open_tree, -1, 0, kBadFlags); }},
    {"mount_setattr", [] { return syscall(SYS_mount_setattr, -1, 0, kBadFlags, 0, 0); }},
    {"keyctl", [] { return syscall(SYS_keyctl, kBadFlags, 0, 0, 0, 0); }},
    {"add_key", [] { return syscall(SYS_add_key, 0, 0, 0, 0, 0); }},
    {"request_key", [] { return syscall(SYS_request_key, 0, 0, 0, 0); }},
    {"bpf", [] { return syscall(SYS_bpf, kBadFlags, 0, 0); }},
    {"perf_event_open", [] { return syscall(SYS_perf_event_open, 0, 0, -1, -1, kBadFlags); }},
    {"kexec_load", [] { return syscall(SYS_kexec_load, 0, kBadFlags, 0, kBadFlags); }},
    {"kexec_file_load", [] { return syscall(SYS_kexec_file_load, -1, -1, 0, 0, kBadFlags); }},
    {"init_module", [] { return syscall(SYS_init_module, 0, 0, 0); }},  // empty image
    {"finit_module", [] { return syscall(SYS_finit_module, -1, 0, kBadFlags); }},
    {"delete_module", [] { return syscall(SYS_delete_module, 0, 0); }},
    {"reboot", [] { return syscall(SYS_reboot, 0, 0, 0, 0); }},  // wrong magic: EINVAL
    {"swapon", [] { return syscall(SYS_swapon, 0, kBadFlags); }},
    {"swapoff", [] { return syscall(SYS_swapoff, 0); }},
    {"acct", [] { return syscall(SYS_acct, bad_ptr()); }},  // NULL would switch accounting off
    {"quotactl", [] { return syscall(SYS_quotactl, -1, 0, 0, 0); }},
    {"quotactl_fd", [] { return syscall(SYS_quotactl_fd, -1, -1, 0, 0); }},
    {"syslog", [] { return syscall(SYS_syslog, 0x7fff, 0, 0); }},
    {"lookup_dcookie", [] { return syscall(SYS_lookup_dcookie, 0, 0, 0); }},
    {"sethostname", [] { return syscall(SYS_sethostname, 0, -1); }},
    {"setdomainname", [] { return syscall(SYS_setdomainname, 0, -1); }},
    {"settimeofday", probe_settimeofday},
    {"clock_settime", [] { return syscall(SYS_clock_settime, 0x7fffffff, 0); }},
    {"clock_adjtime", [] { return syscall(SYS_clock_adjtime, 0x7fffffff, 0); }},
    {"adjtimex", [] { return syscall(SYS_adjtimex, 0); }},
    {"open_by_handle_at", [] { return syscall(SYS_open_by_handle_at, -1, 0, 0); }},
    {"name_to_handle_at", [] { return syscall(SYS_name_to_handle_at, -1, 0, 0, 0, kBadFlags); }},
    {"userfaultfd", [] { return syscall(SYS_userfaultfd, kBadFlags); }},
    {"io_uring_setup", [] { return syscall(SYS_io_uring_setup, 0, 0); }},
    {"io_uring_enter", [] { return syscall(SYS_io_uring_enter, -1, 0, 0, 0, 0, 0); }},
    {"io_uring_register", [] { return syscall(SYS_io_uring_register, -1, 0, 0, 0); }},
    {"vhangup", probe_vhangup},
    {"iopl", [] { return syscall(SYS_iopl, 4); }},
    {"ioperm", [] { return syscall(SYS_ioperm, 0x10000, 1, 1); }},
    {"modify_ldt", probe_modify_ldt},
    {"fanotify_init", [] { return syscall(SYS_fanotify_init, kBadFlags, 0); }},
    {"fanotify_mark", [] { return syscall(SYS_fanotify_mark, -1, kBadFlags, 0, -1, 0); }},
    {"ptrace", [] { return syscall(SYS_ptrace, 3 /*PEEKUSER*/, 0, 0, 0); }},  // pid 0: ESRCH
    {"process_vm_readv", [] { return syscall(SYS_process_vm_readv, 0, 0, 0, 0, 0, kBadFlags); }},
    {"process_vm_writev", [] { return syscall(SYS_process_vm_writev, 0, 0, 0, 0, 0, kBadFlags); }},
    {"kcmp", [] { return syscall(SYS_kcmp, 0, 0, kBadFlags, 0, 0); }},
    {"pidfd_getfd", [] { return syscall(SYS_pidfd_getfd, -1, -1, kBadFlags); }},
    {"process_madvise", [] { return syscall(SYS_process_madvise, -1, 0, 0, 0, kBadFlags); }},
    {"mbind", [] { return syscall(SYS_mbind, 0, 0, 0x7fff, 0, 0, 0); }},
    {"set_mempolicy", [] { return syscall(SYS_set_mempolicy, 0x7fff, 0, 0); }},
    {"set_mempolicy_home_node", [] { return syscall(SYS_set_mempolicy_home_node, 0, 0, 0, kBadFlags); }},
    {"migrate_pages", [] { return syscall(SYS_migrate_pages, -1, 0, 0, 0); }},
    {"move_pages", [] { return syscall(SYS_move_pages, 0, 0, 0, 0, 0, kBadFlags); }},
    {"create_module", [] { return syscall(SYS_create_module, 0, 0); }},
    {"get_kernel_syms", [] { return syscall(SYS_get_kernel_syms, 0); }},
    {"query_module", [] { return syscall(SYS_query_module, 0, 0, 0, 0, 0); }},
    {"nfsservctl", [] { return syscall(SYS_nfsservctl, 0, 0, 0); }},
    {"uselib", [] { return syscall(SYS_uselib, 0); }},
    {"ustat", [] { return syscall(SYS_ustat, 0, 0); }},
    {"sysfs", [] { return syscall(SYS_sysfs, 0x7fff, 0, 0); }},
    {"_sysctl", [] { return syscall(SYS__sysctl, 0); }},
    // Conditional cases of the default profile.
    {"clone_newuser", probe_clone_newuser},
    {"clone3", [] { return syscall(SYS_clone3, 0, 0); }},  // expect ENOSYS: --errno=38
    {"personality", [] { return syscall(SYS_personality, kAddrNoRandomize); }},
    {"ioctl_tiocsti", [] { return syscall(SYS_ioctl, -1, kTiocsti, 0); }},
    {"ioctl_tiocsti_high", [] { return syscall(SYS_ioctl, -1, (1L << 32) | kTiocsti, 0); }},
    {"ioctl_tioclinux", [] { return syscall(SYS_ioctl, -1, kTioclinux, 0); }},
    {"socket_vsock", probe_socket_vsock},
    // Foreign ABIs.
    {"x32_getpid", [] { return syscall(kX32Bit | kX8664Getpid); }},
    {"i386_getpid", probe_i386_getpid},
};
// clang-format on

const Probe* find_probe(const char* name) {
  for (const Probe& p : kProbes) {
    if (strcmp(p.name, name) == 0) {
      return &p;
    }
  }
  return nullptr;
}

struct Outcome {
  bool succeeded = false;
  int err = 0;
  int signal = 0;
  bool crashed = false;  // no report and no signal
};

// Runs one probe in a child: a probe may change the process (personality, session) or
// kill it (seccomp kill action), and the next probe must start clean.
Outcome run_probe(const Probe& probe) {
  Outcome out;
  int fds[2];
  if (pipe(fds) != 0) {
    out.crashed = true;
    return out;
  }
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    out.crashed = true;
    return out;
  }
  if (pid == 0) {
    close(fds[0]);
    alarm(10);  // a probe must never hang the caller
    errno = 0;
    long ret = probe.run();
    int report[2] = {ret == -1 ? 0 : 1, ret == -1 ? errno : 0};
    ssize_t ignored = write(fds[1], report, sizeof(report));
    (void)ignored;
    _exit(0);
  }
  close(fds[1]);
  int report[2] = {0, 0};
  ssize_t n;
  do {
    n = read(fds[0], report, sizeof(report));
  } while (n < 0 && errno == EINTR);
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n == static_cast<ssize_t>(sizeof(report))) {
    out.succeeded = report[0] != 0;
    out.err = report[1];
  } else if (WIFSIGNALED(status)) {
    out.signal = WTERMSIG(status);
  } else {
    out.crashed = true;
  }
  return out;
}

void usage() {
  (void)fprintf(stderr,
                "usage: syscall_probe [--errno=N] [--kill] [--list] [--all] <name>...\n"
                "exit: 0 all denied as expected, 1 a call succeeded, 2 otherwise\n");
}

}  // namespace

int main(int argc, char** argv) {
  int expected_errno = EPERM;
  bool expect_kill = false;
  bool all = false;
  int first_name = argc;
  for (int i = 1; i < argc; ++i) {
    if (strncmp(argv[i], "--errno=", 8) == 0) {
      expected_errno = atoi(argv[i] + 8);
    } else if (strcmp(argv[i], "--kill") == 0) {
      expect_kill = true;
    } else if (strcmp(argv[i], "--all") == 0) {
      all = true;
    } else if (strcmp(argv[i], "--list") == 0) {
      for (const Probe& p : kProbes) {
        printf("%s\n", p.name);
      }
      return 0;
    } else if (argv[i][0] == '-') {
      usage();
      return 2;
    } else {
      first_name = i;
      break;
    }
  }
  if (!all && first_name == argc) {
    usage();
    return 2;
  }
  bool any_succeeded = false;
  bool any_unexpected = false;
  auto check = [&](const char* name, const Probe* probe) {
    if (probe == nullptr) {
      printf("%s unknown\n", name);
      any_unexpected = true;
      return;
    }
    Outcome o = run_probe(*probe);
    if (o.signal != 0) {
      printf("%s signal=%d\n", name, o.signal);
      any_unexpected |= !(expect_kill && o.signal == SIGSYS);
    } else if (o.crashed) {
      printf("%s crashed\n", name);
      any_unexpected = true;
    } else {
      printf("%s errno=%d\n", name, o.err);
      any_succeeded |= o.succeeded;
      any_unexpected |= expect_kill || o.err != expected_errno;
    }
    (void)fflush(stdout);
  };
  if (all) {
    for (const Probe& p : kProbes) {
      check(p.name, &p);
    }
  }
  for (int i = first_name; i < argc; ++i) {
    check(argv[i], find_probe(argv[i]));
  }
  if (any_succeeded) {
    return 1;
  }
  return any_unexpected ? 2 : 0;
}
