#include "isolation/seccomp_default.h"

#include <cerrno>
#include <string_view>

namespace bulkhead::isolation {
namespace {

constexpr std::string_view kOrigin = "built-in default profile";

// Allowed without conditions. Grouped by what a program uses them for; a call that only
// touches the caller's own files, memory, children or namespaced objects, or that the
// kernel already limits by capability or rlimit, is allowed. The 32-bit names at the end
// only matter when a profile allows foreign ABIs (libseccomp skips them elsewhere).
const std::vector<std::string> kAllowed = {
    // Files and descriptors.
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2",
    "pwritev2", "open", "openat", "openat2", "creat", "close", "close_range", "dup", "dup2", "dup3",
    "lseek", "fcntl", "flock", "fsync", "fdatasync", "sync", "syncfs", "sync_file_range",
    "fallocate", "ftruncate", "truncate", "fadvise64", "readahead", "sendfile", "splice", "tee",
    "vmsplice", "copy_file_range", "pipe", "pipe2", "memfd_create", "memfd_secret", "cachestat",
    // Paths and metadata.
    "stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs", "access", "faccessat",
    "faccessat2", "readlink", "readlinkat", "getdents", "getdents64", "getcwd", "chdir", "fchdir",
    "mkdir", "mkdirat", "rmdir", "rename", "renameat", "renameat2", "link", "linkat", "unlink",
    "unlinkat", "symlink", "symlinkat", "chmod", "fchmod", "fchmodat", "fchmodat2", "chown",
    "fchown", "lchown", "fchownat", "umask", "utime", "utimes", "utimensat", "futimesat", "mknod",
    "mknodat", "getxattr", "lgetxattr", "fgetxattr", "setxattr", "lsetxattr", "fsetxattr",
    "listxattr", "llistxattr", "flistxattr", "removexattr", "lremovexattr", "fremovexattr",
    // Waiting for events.
    "select", "pselect6", "poll", "ppoll", "epoll_create", "epoll_create1", "epoll_ctl",
    "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "signalfd", "signalfd4",
    "timerfd_create", "timerfd_settime", "timerfd_gettime", "inotify_init", "inotify_init1",
    "inotify_add_watch", "inotify_rm_watch", "io_setup", "io_destroy", "io_submit", "io_cancel",
    "io_getevents", "io_pgetevents",
    // Memory.
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "msync", "mincore", "mlock", "mlock2",
    "munlock", "mlockall", "munlockall", "remap_file_pages", "membarrier", "pkey_alloc",
    "pkey_free", "pkey_mprotect", "map_shadow_stack", "getrandom",
    // NUMA policy of the caller's own memory; the kernel intersects it with cpuset.mems.
    // procps probes set_mempolicy, so denying it would kill ps under the kill action.
    "get_mempolicy", "set_mempolicy", "mbind", "set_mempolicy_home_node",
    // Processes and threads (clone is conditional, see below).
    "execve", "execveat", "fork", "vfork", "exit", "exit_group", "wait4", "waitid", "kill", "tkill",
    "tgkill", "getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid",
    "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid", "getgroups", "setuid",
    "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid", "setfsgid", "setgroups",
    "capget", "capset", "prctl", "arch_prctl", "set_tid_address", "set_robust_list",
    "get_robust_list", "futex", "futex_waitv", "futex_wake", "futex_wait", "futex_requeue", "rseq",
    "getrlimit", "setrlimit", "prlimit64", "getrusage", "getpriority", "setpriority", "sched_yield",
    "sched_getaffinity", "sched_setaffinity", "sched_getparam", "sched_setparam",
    "sched_getscheduler", "sched_setscheduler", "sched_get_priority_max", "sched_get_priority_min",
    "sched_rr_get_interval", "sched_getattr", "sched_setattr", "ioprio_get", "ioprio_set", "getcpu",
    "pidfd_open", "pidfd_send_signal", "process_mrelease", "set_thread_area", "get_thread_area",
    "restart_syscall", "times", "uname", "sysinfo",
    // A workload may only narrow itself further.
    "seccomp", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
    // Signals and timers.
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigsuspend",
    "rt_sigtimedwait", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaltstack", "pause", "alarm",
    "getitimer", "setitimer", "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep",
    "gettimeofday", "time", "timer_create", "timer_settime", "timer_gettime", "timer_getoverrun",
    "timer_delete",
    // Sockets (socket itself is conditional, see below).
    "socketpair", "bind", "listen", "accept", "accept4", "connect", "shutdown", "getsockname",
    "getpeername", "getsockopt", "setsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg",
    "sendmmsg", "recvmmsg",
    // System V and POSIX IPC (namespaced).
    "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop", "semtimedop", "semctl", "shmget",
    "shmat", "shmdt", "shmctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive",
    "mq_notify", "mq_getsetattr",
    // 32-bit x86 spellings of the calls above.
    "_llseek", "_newselect", "chown32", "fchown32", "lchown32", "fcntl64", "fstat64", "fstatat64",
    "lstat64", "stat64", "statfs64", "fstatfs64", "ftruncate64", "truncate64", "fadvise64_64",
    "sendfile64", "mmap2", "getuid32", "geteuid32", "getgid32", "getegid32", "getgroups32",
    "setgroups32", "getresuid32", "getresgid32", "setresuid32", "setresgid32", "setreuid32",
    "setregid32", "setuid32", "setgid32", "setfsuid32", "setfsgid32", "ugetrlimit", "waitpid",
    "sigreturn", "sigprocmask", "sigaction", "sigsuspend", "sigpending", "clock_gettime64",
    "clock_getres_time64", "clock_nanosleep_time64", "futex_time64", "ppoll_time64",
    "pselect6_time64", "recvmmsg_time64", "rt_sigtimedwait_time64", "sched_rr_get_interval_time64",
    "semtimedop_time64", "timer_gettime64", "timer_settime64", "timerfd_gettime64",
    "timerfd_settime64", "utimensat_time64", "mq_timedreceive_time64", "mq_timedsend_time64",
    "io_pgetevents_time64", "send", "recv"};

// Denied outright (they are simply not in kAllowed; this list is what the tests check).
const std::vector<std::string> kDenied = {
    // Namespaces and mounts: the sandbox's own boundaries.
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "fsopen", "fsconfig", "fsmount",
    "fspick", "move_mount", "open_tree", "mount_setattr",
    // Kernel-wide state that no namespace covers.
    "keyctl", "add_key", "request_key", "bpf", "perf_event_open", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "reboot", "swapon", "swapoff", "acct",
    "quotactl", "quotactl_fd", "syslog", "lookup_dcookie", "sethostname", "setdomainname",
    // Clocks: seccomp cannot see the mode inside struct timex, so read-only adjtimex cannot
    // be told apart from setting the clock.
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    // Escapes and attack surface with a history.
    "open_by_handle_at", "name_to_handle_at", "userfaultfd", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "vhangup", "iopl", "ioperm", "modify_ldt", "fanotify_init",
    "fanotify_mark",
    // Reaching into other processes (a profile may allow ptrace).
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "process_madvise",
    // Moving the pages of other processes between NUMA nodes.
    "migrate_pages", "move_pages",
    // Obsolete calls.
    "create_module", "get_kernel_syms", "query_module", "nfsservctl", "uselib", "ustat", "sysfs",
    "_sysctl"};

void add(SeccompPolicy& policy, const std::string& name, uint32_t action,
         std::vector<scmp_arg_cmp> args = {}) {
  int nr = resolve_syscall(name);
  if (nr == __NR_SCMP_ERROR) {
    return;  // an older libseccomp: the call stays denied, which is safe
  }
  policy.rules.push_back({name, nr, action, std::move(args), std::string(kOrigin)});
}

// One allow rule per masked value: the union allows every 32-bit value of argument
// `arg` except `excluded`.
void allow_except(SeccompPolicy& policy, const std::string& name, unsigned arg,
                  const std::vector<uint32_t>& excluded) {
  for (const MaskedValue& m : masked_complement(excluded)) {
    add(policy, name, SCMP_ACT_ALLOW, {arg_cmp(arg, SCMP_CMP_MASKED_EQ, m.mask, m.value)});
  }
}

}  // namespace

SeccompPolicy default_seccomp_policy(uint32_t deny_action) {
  SeccompPolicy policy;
  policy.default_action = deny_action;
  // In audit mode (log) nothing should change behaviour except being logged.
  policy.enosys_for_unknown_syscalls = deny_action != SCMP_ACT_LOG;
  for (const std::string& name : kAllowed) {
    add(policy, name, SCMP_ACT_ALLOW);
  }
  // fork-style and thread clones only; flags is an unsigned long, compared in full.
  add(policy, "clone", SCMP_ACT_ALLOW, {arg_cmp(0, SCMP_CMP_MASKED_EQ, kCloneNamespaceFlags, 0)});
  // clone3 takes its flags in memory, out of seccomp's sight. ENOSYS (in every mode) makes
  // glibc fall back to clone, whose flags the rule above checks.
  add(policy, "clone3", SCMP_ACT_ERRNO(ENOSYS));
  // The kernel reads personality's argument as 32 bits, hence the mask.
  for (uint32_t persona : kAllowedPersonalities) {
    add(policy, "personality", SCMP_ACT_ALLOW,
        {arg_cmp(0, SCMP_CMP_MASKED_EQ, 0xffffffff, persona)});
  }
  allow_except(policy, "ioctl", 1, {kIoctlTiocsti, kIoctlTioclinux});
  allow_except(policy, "socket", 0, {kAfVsock});
  return policy;
}

const std::vector<std::string>& default_denied_syscalls() { return kDenied; }

const std::vector<std::string>& default_allowed_syscalls() { return kAllowed; }

}  // namespace bulkhead::isolation
