// Seccomp filters on the real kernel. Each test forks a child that sets NO_NEW_PRIVS,
// installs a compiled filter and then makes calls; the child reports failed expectations
// on a pipe and exits with their count, so the parent (never filtered) can assert. Root
// is not needed: NO_NEW_PRIVS is enough to install a filter.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/sched.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "isolation/seccomp_default.h"
#include "isolation/seccomp_policy.h"
#include "kernel_test_env.h"

namespace bulkhead::isolation {
namespace {

const std::string kProbe = std::string(BULKHEAD_HELPER_DIR) + "/syscall_probe";
const std::string kDataDir = std::string(BULKHEAD_SOURCE_DIR) + "/tests/data/seccomp/";
constexpr int kDistinctErrno = EHWPOISON;  // no syscall here fails with it by itself

struct ChildResult {
  bool exited = false;
  int code = -1;
  int signal = 0;
  std::string output;
};

// Runs `body` in a child, under `program` when given. The child's stdout (which is also
// where an exec'd probe writes) comes back in `output`; the child is always reaped.
ChildResult run_child(const SeccompProgram* program, const std::function<int()>& body) {
  ChildResult r;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    r.output = "pipe failed";
    return r;
  }
  (void)fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    r.output = "fork failed";
    return r;
  }
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    alarm(30);  // a wedged child must not hang the suite
    if (program != nullptr) {
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
        _exit(100);
      }
      int rc = install_seccomp(*program);
      if (rc != 0) {
        dprintf(STDOUT_FILENO, "install_seccomp: %d\n", rc);
        _exit(101);
      }
    }
    _exit(body());
  }
  close(fds[1]);
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) != 0) {
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      break;
    }
    r.output.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exited = WIFEXITED(status);
  r.code = r.exited ? WEXITSTATUS(status) : -1;
  r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return r;
}

ChildResult run_filtered(const SeccompProgram& program, const std::function<int()>& body) {
  return run_child(&program, body);
}

// For use inside a child: each returns 1 and describes the failure on stdout, or 0.
int expect_errno(long ret, int expected, const char* what) {
  const int err = errno;
  if (ret == -1 && err == expected) {
    return 0;
  }
  dprintf(STDOUT_FILENO, "FAILED %s: ret=%ld errno=%d, expected errno %d\n", what, ret, err,
          expected);
  return 1;
}
int expect_ok(bool ok, const char* what) {
  if (!ok) {
    dprintf(STDOUT_FILENO, "FAILED %s: errno=%d\n", what, errno);
  }
  return ok ? 0 : 1;
}

// Runs the probe helper in the child with `args`.
int exec_probe(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(kProbe.c_str()));
  for (const std::string& a : args) {
    argv.push_back(const_cast<char*>(a.c_str()));
  }
  argv.push_back(nullptr);
  execv(kProbe.c_str(), argv.data());
  dprintf(STDOUT_FILENO, "exec %s: errno=%d\n", kProbe.c_str(), errno);
  return 127;
}

SeccompProgram compile(const config::SeccompSpec& spec) {
  auto p = compile_seccomp(spec, {}, "kernel-test.yaml");
  EXPECT_TRUE(p.ok()) << p.error().to_string();
  return p.ok() ? std::move(*p) : SeccompProgram{};
}

config::SeccompSpec spec_with(config::SeccompAction action, int errno_value = EPERM) {
  config::SeccompSpec spec;
  spec.action = action;
  spec.errno_value = errno_value;
  return spec;
}

long i386_getpid() {
  long ret = 20;  // __NR_getpid on i386
  asm volatile("int $0x80" : "+a"(ret) : : "r8", "r9", "r10", "r11", "memory");
  return ret;
}

void* thread_main(void* arg) { return arg; }

// What ordinary programs do; every one of these must keep working under the profile.
int ordinary_calls() {
  int failures = 0;
  failures += expect_ok(getpid() > 0, "getpid");
  char buf[256];
  int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  failures += expect_ok(fd >= 0 && read(fd, buf, sizeof(buf)) > 0, "open+read /proc/self/status");
  close(fd);
  failures += expect_ok(getcwd(buf, sizeof(buf)) != nullptr, "getcwd");
  pid_t child = fork();  // glibc: clone without namespace flags
  if (child == 0) {
    _exit(7);
  }
  int status = 0;
  failures += expect_ok(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) &&
                            WEXITSTATUS(status) == 7,
                        "fork+wait");
  pthread_t t;  // glibc: clone3 gets ENOSYS, then clone with thread flags
  void* out = nullptr;
  failures += expect_ok(pthread_create(&t, nullptr, thread_main, buf) == 0 &&
                            pthread_join(t, &out) == 0 && out == buf,
                        "pthread_create");
  int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  failures += expect_ok(s >= 0, "socket(AF_INET)");
  close(s);
  int sv[2];
  failures += expect_ok(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
  close(sv[0]);
  close(sv[1]);
  int p[2];
  failures += expect_ok(pipe2(p, O_CLOEXEC) == 0 && write(p[1], "x", 1) == 1, "pipe+write");
  int avail = 0;
  failures += expect_ok(ioctl(p[0], FIONREAD, &avail) == 0 && avail == 1, "ioctl(FIONREAD)");
  close(p[0]);
  close(p[1]);
  void* m = mmap(nullptr, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  failures += expect_ok(m != MAP_FAILED && munmap(m, 8192) == 0, "mmap+munmap");
  failures += expect_ok(getrandom(buf, 16, 0) == 16, "getrandom");
  failures += expect_ok(personality(0xffffffff) != -1, "personality query");
  struct utsname u {};
  failures += expect_ok(uname(&u) == 0, "uname");
  struct timespec ts {};
  failures += expect_ok(clock_gettime(CLOCK_MONOTONIC, &ts) == 0, "clock_gettime");
  failures += expect_ok(prctl(PR_SET_NAME, "seccomp-test", 0, 0, 0) == 0, "prctl");
  return failures;
}

TEST(SeccompFilter, DefaultDeniesEachListedSyscallWithEperm) {
  SeccompProgram p = compile({});
  ChildResult r = run_filtered(p, [] { return exec_probe(default_denied_syscalls()); });
  EXPECT_TRUE(r.exited) << r.output;
  EXPECT_EQ(r.code, 0) << r.output;
  for (const std::string& name : default_denied_syscalls()) {
    EXPECT_NE(r.output.find(name + " errno=1\n"), std::string::npos) << name << "\n" << r.output;
  }
}

TEST(SeccompFilter, DeniedCallsFailWithTheConfiguredErrno) {
  // An errno no syscall produces on its own proves the filter, not the kernel, said no.
  SeccompProgram p = compile(spec_with(config::SeccompAction::kErrno, kDistinctErrno));
  ChildResult r = run_filtered(p, [] {
    std::vector<std::string> args = {"--errno=" + std::to_string(kDistinctErrno)};
    args.insert(args.end(), default_denied_syscalls().begin(), default_denied_syscalls().end());
    args.insert(args.end(), {"clone_newuser", "personality", "ioctl_tiocsti", "ioctl_tiocsti_high",
                             "ioctl_tioclinux", "socket_vsock"});
    return exec_probe(args);
  });
  EXPECT_EQ(r.code, 0) << r.output;
}

TEST(SeccompFilter, OrdinaryCallsStillWork) {
  SeccompProgram p = compile({});
  ChildResult r = run_filtered(p, ordinary_calls);
  EXPECT_TRUE(r.exited) << "signal " << r.signal << "\n" << r.output;
  EXPECT_EQ(r.code, 0) << r.output;
}

TEST(SeccompFilter, CloneWithNamespaceFlagsDeniedForkWorks) {
  SeccompProgram p = compile({});
  ChildResult r = run_filtered(p, [] {
    int failures = 0;
    for (long ns : {CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWPID, CLONE_NEWIPC,
                    CLONE_NEWUTS, CLONE_NEWCGROUP}) {
      long pid = syscall(SYS_clone, ns | SIGCHLD, 0, 0, 0, 0);
      if (pid == 0) {
        _exit(0);  // the filter let it through: the parent reports it
      }
      if (pid > 0) {
        waitpid(static_cast<pid_t>(pid), nullptr, 0);
      }
      failures += expect_errno(pid, EPERM, "clone with a namespace flag");
    }
    failures += expect_errno(unshare(CLONE_NEWUSER), EPERM, "unshare(CLONE_NEWUSER)");
    pid_t child = fork();
    if (child == 0) {
      _exit(0);
    }
    failures += expect_ok(child > 0 && waitpid(child, nullptr, 0) == child, "fork");
    return failures;
  });
  EXPECT_EQ(r.code, 0) << r.output;
}

int clone3_is_enosys() {
  struct clone_args args {};
  args.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &args, sizeof(args));
  if (pid == 0) {
    _exit(0);
  }
  if (pid > 0) {
    waitpid(static_cast<pid_t>(pid), nullptr, 0);
  }
  return expect_errno(pid, ENOSYS, "clone3");
}

TEST(SeccompFilter, Clone3IsEnosys) {
  ChildResult r = run_filtered(compile({}), clone3_is_enosys);
  EXPECT_EQ(r.code, 0) << r.output;
  // Not killed under the kill action either: glibc must be able to fall back.
  r = run_filtered(compile(spec_with(config::SeccompAction::kKill)), clone3_is_enosys);
  EXPECT_TRUE(r.exited) << "signal " << r.signal;
  EXPECT_EQ(r.code, 0) << r.output;
}

TEST(SeccompFilter, KillActionKillsWithSigsys) {
  SeccompProgram p = compile(spec_with(config::SeccompAction::kKill));
  ChildResult r = run_filtered(p, [] {
    syscall(SYS_umount2, 0, 0x7fff0000);
    return 0;
  });
  EXPECT_FALSE(r.exited);
  EXPECT_EQ(r.signal, SIGSYS);
  // Ordinary calls still pass, and every listed call kills.
  r = run_filtered(p, ordinary_calls);
  EXPECT_EQ(r.code, 0) << r.output;
  r = run_filtered(p, [] {
    std::vector<std::string> args = {"--kill"};
    args.insert(args.end(), default_denied_syscalls().begin(), default_denied_syscalls().end());
    return exec_probe(args);
  });
  EXPECT_EQ(r.code, 0) << r.output;
}

TEST(SeccompFilter, LogActionLetsCallsThrough) {
  SeccompProgram p = compile(spec_with(config::SeccompAction::kLog));
  ChildResult r = run_filtered(p, [] {
    // Bad flags: the kernel, not the filter, must be the one refusing.
    return expect_errno(syscall(SYS_umount2, 0, 0x7fff0000), EINVAL, "umount2 under log");
  });
  EXPECT_EQ(r.code, 0) << r.output;
}

TEST(SeccompFilter, ForeignAbisDeniedUnlessAllowed) {
  // Which foreign ABIs this kernel runs at all, unfiltered: IA32 emulation and
  // x32 are build and boot options (ia32_emulation=, syscall.x32=).
  ChildResult probe = run_child(nullptr, [] { return i386_getpid() == getpid() ? 0 : 1; });
  const bool has_ia32 = probe.exited && probe.code == 0;
  probe = run_child(nullptr, [] { return syscall(0x40000000 | SYS_getpid) == getpid() ? 0 : 1; });
  const bool has_x32 = probe.exited && probe.code == 0;
  ::bulkhead::testing::record_branch(
      std::string(has_ia32 ? "ia32 runs" : "no ia32 (int 0x80 does not run)") +
      (has_x32 ? ", x32 runs" : ", no x32 (ENOSYS)"));

  // Denied: EPERM from the filter, whether or not the kernel has the ABI.
  ChildResult r = run_filtered(compile({}), [has_ia32] {
    int failures = expect_errno(syscall(0x40000000 | SYS_getpid), EPERM, "x32 getpid");
    if (has_ia32) {
      long ret = i386_getpid();
      if (ret != -EPERM) {
        dprintf(STDOUT_FILENO, "FAILED int 0x80 getpid: %ld\n", ret);
        ++failures;
      }
    }
    return failures;
  });
  EXPECT_EQ(r.code, 0) << r.output;
  if (!has_ia32) {
    // Nothing gets through int 0x80 under the filter either.
    r = run_filtered(compile({}), [] { return i386_getpid() == getpid() ? 0 : 1; });
    EXPECT_FALSE(r.exited && r.code == 0) << "int 0x80 getpid ran: " << r.output;
  }

  // Allowed: the filter lets them through to the kernel, which runs them where
  // it has the ABI and answers ENOSYS (x32) where it does not.
  config::SeccompSpec spec;
  spec.allow_foreign_abi = true;
  r = run_filtered(compile(spec), [has_ia32, has_x32] {
    int failures = 0;
    if (has_x32) {
      failures += expect_ok(syscall(0x40000000 | SYS_getpid) == getpid(), "x32 getpid allowed");
    } else {
      failures += expect_errno(syscall(0x40000000 | SYS_getpid), ENOSYS, "x32 getpid allowed");
    }
    if (has_ia32) {
      failures += expect_ok(i386_getpid() == getpid(), "int 0x80 getpid allowed");
    }
    return failures + ordinary_calls();
  });
  EXPECT_EQ(r.code, 0) << r.output;
}

TEST(SeccompFilter, TerminalInjectionIoctlsDenied) {
  SeccompProgram p = compile({});
  ChildResult r = run_filtered(p, [] {
    char c = 'x';
    int failures = 0;
    failures += expect_errno(ioctl(-1, TIOCSTI, &c), EPERM, "TIOCSTI");
    failures += expect_errno(ioctl(-1, TIOCLINUX, &c), EPERM, "TIOCLINUX");
    failures += expect_errno(syscall(SYS_ioctl, -1, (1UL << 32) | TIOCSTI, &c), EPERM,
                             "TIOCSTI with high bits");
    failures += expect_errno(ioctl(-1, TCGETS, nullptr), EBADF, "TCGETS reaches the kernel");
    // A real terminal still works.
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    failures += expect_ok(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0, "pty");
    if (master >= 0) {
      failures += expect_ok(isatty(master) == 1, "isatty on a pty");
      failures += expect_errno(ioctl(master, TIOCSTI, &c), EPERM, "TIOCSTI on a pty");
      close(master);
    }
    return failures;
  });
  EXPECT_EQ(r.code, 0) << r.output;
}

TEST(SeccompFilter, PersonalityAndVsock) {
  SeccompProgram p = compile({});
  ChildResult r = run_filtered(p, [] {
    int failures = 0;
    failures += expect_ok(personality(PER_LINUX) != -1, "personality(PER_LINUX)");
    failures += expect_errno(personality(ADDR_NO_RANDOMIZE), EPERM, "ADDR_NO_RANDOMIZE");
    failures += expect_errno(socket(AF_VSOCK, SOCK_STREAM, 0), EPERM, "socket(AF_VSOCK)");
    failures += expect_errno(syscall(SYS_socket, (1L << 32) | AF_VSOCK, SOCK_STREAM, 0), EPERM,
                             "socket(AF_VSOCK) with high bits");
    return failures;
  });
  EXPECT_EQ(r.code, 0) << r.output;
}

TEST(SeccompFilter, ProfileAllowAndDenyLists) {
  config::SeccompSpec spec;
  spec.allow = {"ptrace"};
  spec.deny = {"getcwd"};
  ChildResult r = run_filtered(compile(spec), [] {
    char buf[64];
    int failures = 0;
    // pid 0 does not exist: ESRCH means the call reached the kernel.
    failures += expect_errno(syscall(SYS_ptrace, 3 /*PEEKUSER*/, 0, 0, 0), ESRCH, "ptrace");
    failures += expect_errno(syscall(SYS_getcwd, buf, sizeof(buf)), EPERM, "getcwd");
    failures += expect_errno(syscall(SYS_mount, 0, 0, 0, 0, 0), EPERM, "mount");
    return failures;
  });
  EXPECT_EQ(r.code, 0) << r.output;
}

TEST(SeccompFilter, SyscallsNewerThanLibseccompGetEnosys) {
  uint32_t highest = 0;
  for (int nr = 0; nr < 1024; ++nr) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
    if (name != nullptr) {
      highest = static_cast<uint32_t>(nr);
      free(name);
    }
  }
  const long newer = highest + 1;  // statmount (457) with libseccomp 2.5.4
  ChildResult r = run_filtered(compile({}), [newer] {
    return expect_errno(syscall(newer, 0, 0, 0, 0), ENOSYS, "syscall newer than libseccomp");
  });
  EXPECT_EQ(r.code, 0) << r.output;
}

TEST(SeccompFilter, ImportedOciFileBehavesAsWritten) {
  config::SeccompSpec spec;
  spec.base = kDataDir + "deny_getcwd.json";
  ChildResult r = run_filtered(compile(spec), [] {
    char buf[256];
    int failures = expect_errno(syscall(SYS_getcwd, buf, sizeof(buf)), EACCES, "getcwd");
    failures += expect_ok(getpid() > 0, "getpid");
    // The file allows everything else, namespaces included.
    failures += expect_errno(syscall(SYS_umount2, 0, 0x7fff0000), EINVAL, "umount2 allowed");
    return failures;
  });
  EXPECT_EQ(r.code, 0) << r.output;
}

TEST(SeccompFilter, DockerShapedFixture) {
  config::SeccompSpec spec;
  spec.base = kDataDir + "docker_like.json";
  SeccompProgram p = compile(spec);
  ChildResult r = run_filtered(p, [] {
    int failures = 0;
    failures += expect_errno(syscall(SYS_mount, 0, 0, 0, 0, 0), EPERM, "mount");
    failures += expect_errno(unshare(CLONE_NEWUSER), EPERM, "unshare");
    failures += clone3_is_enosys();
    failures += expect_errno(syscall(SYS_ptrace, 3, 0, 0, 0), ESRCH, "ptrace (minKernel 4.8)");
    return failures + ordinary_calls();
  });
  EXPECT_EQ(r.code, 0) << r.output;
}

}  // namespace
}  // namespace bulkhead::isolation
