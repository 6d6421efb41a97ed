// The child-side hardening steps against the real kernel: capabilities,
// Landlock and rlimits. Each test forks a child that applies a plan and probes
// what it can still do; the child reports through its exit code (0 = all
// probes behaved, otherwise the number of the first probe that did not) and,
// for the tests that execve, through a pipe. No namespaces are needed.
#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "common/unique_fd.h"
#include "isolation/capabilities.h"
#include "isolation/landlock.h"
#include "isolation/rlimits.h"
#include "kernel_test_env.h"

namespace bulkhead::isolation {
namespace {

namespace fs = std::filesystem;
using std::chrono::steady_clock;

constexpr uint64_t kNetBind = uint64_t{1} << CAP_NET_BIND_SERVICE;
constexpr auto kChildTimeout = std::chrono::seconds(30);

struct ChildOutcome {
  bool exited = false;
  int code = -1;    // exit status when exited
  int signal = 0;   // terminating signal otherwise
  std::string out;  // everything the child wrote to its output pipe
};

std::ostream& operator<<(std::ostream& os, const ChildOutcome& o) {
  if (o.exited) {
    return os << "exit " << o.code << ", output:\n" << o.out;
  }
  return os << "signal " << o.signal << ", output:\n" << o.out;
}

// Forks; the child runs body(out_fd) and exits with its return value. The parent
// collects the output until EOF, then reaps. Bounded: after kChildTimeout the
// child is killed (and still reaped).
ChildOutcome run_child(const std::function<int(int out_fd)>& body) {
  ChildOutcome outcome;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2: " << std::strerror(errno);
    return outcome;
  }
  UniqueFd rd(fds[0]);
  UniqueFd wr(fds[1]);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ADD_FAILURE() << "fork: " << std::strerror(errno);
    return outcome;
  }
  if (pid == 0) {
    rd.reset();
    ::_exit(body(wr.get()));
  }
  wr.reset();
  const auto deadline = steady_clock::now() + kChildTimeout;
  bool timed_out = false;
  char buf[4096];
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{rd.get(), POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      timed_out = n == 0;
      break;
    }
    const ssize_t got = ::read(rd.get(), buf, sizeof(buf));
    if (got < 0 && errno == EINTR) {
      continue;
    }
    if (got <= 0) {
      break;  // EOF: the child (and anything it started) closed the pipe
    }
    outcome.out.append(buf, static_cast<size_t>(got));
  }
  int status = 0;
  if (timed_out) {
    ::kill(pid, SIGKILL);
  }
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, timed_out ? 0 : WNOHANG);
    if (r == pid) {
      break;
    }
    if (r < 0) {
      if (errno == EINTR) {
        continue;
      }
      ADD_FAILURE() << "waitpid: " << std::strerror(errno);
      return outcome;
    }
    if (steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    } else {
      timed_out = true;  // the next waitpid blocks: SIGKILL cannot be ignored
      ::kill(pid, SIGKILL);
    }
  }
  EXPECT_FALSE(timed_out) << "child did not finish in time and was killed";
  outcome.exited = WIFEXITED(status);
  outcome.code = outcome.exited ? WEXITSTATUS(status) : -1;
  outcome.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return outcome;
}

// A unique directory under /tmp, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "bulkhead-harden-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
    }
    path_ = tmpl;
    ::chmod(path_.c_str(), 0755);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] std::string path(const std::string& rel = "") const {
    return rel.empty() ? path_ : path_ + "/" + rel;
  }

 private:
  std::string path_;
};

void write_text(const std::string& path, const std::string& text, mode_t mode = 0644) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
}

// "CapEff" -> value, from `grep Cap /proc/self/status` output.
std::map<std::string, uint64_t> parse_caps(const std::string& text) {
  std::map<std::string, uint64_t> caps;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) {
      continue;
    }
    caps[line.substr(0, colon)] = std::stoull(line.substr(colon + 1), nullptr, 16);
  }
  return caps;
}

// Child side: replaces the process with a shell printing its capability sets.
int exec_print_caps(int out_fd) {
  if (::dup2(out_fd, STDOUT_FILENO) < 0) {
    return 90;
  }
  ::execl("/bin/sh", "sh", "-c", "grep Cap /proc/self/status", static_cast<char*>(nullptr));
  return 91;
}

// Child side: 0 when a TCP socket can bind 127.0.0.1:port, else errno.
int bind_loopback(uint16_t port) {
  UniqueFd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) {
    return errno;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(s.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return errno;
  }
  return 0;
}

// The privileged port the capability tests bind, in a network namespace of
// the child's own (enter_private_netns): free there, and privileged whatever
// the host set ip_unprivileged_port_start to (a new namespace starts at 1024).
constexpr uint16_t kPrivilegedPort = 80;

// Child side: moves into a new network namespace with loopback up; 0 or the
// number of the step that failed.
int enter_private_netns() {
  if (::unshare(CLONE_NEWNET) != 0) {
    return 1;
  }
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (!s || ::ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) {
    return 2;
  }
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  if (::ioctl(s.get(), SIOCSIFFLAGS, &ifr) != 0) {
    return 3;
  }
  // /proc/sys/net shows the reader's namespace: the new one's threshold.
  std::ifstream in("/proc/sys/net/ipv4/ip_unprivileged_port_start");
  int start = 0;
  in >> start;
  return start > kPrivilegedPort ? 0 : 4;
}

// Child side: becomes uid/gid 65534 keeping the permitted set.
bool become_nobody(bool keep_caps) {
  if (keep_caps && retain_capabilities_across_setuid() != 0) {
    return false;
  }
  return ::setgroups(0, nullptr) == 0 && ::setresgid(65534, 65534, 65534) == 0 &&
         ::setresuid(65534, 65534, 65534) == 0;
}

// Child side: forks a grandchild that execs `path`; its exit code, or 100 + errno
// when execve failed.
int run_program(const char* path) {
  const pid_t pid = ::fork();
  if (pid < 0) {
    return 200;
  }
  if (pid == 0) {
    ::execl(path, path, static_cast<char*>(nullptr));
    ::_exit(100 + errno);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      return 201;
    }
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 202;
}

bool fails_with(int rc, int err) { return rc < 0 && errno == err; }

// ---------------------------------------------------------------- capabilities

TEST(CapabilityApply, KeepsOnlyThePlannedCapabilityAsRoot) {
  BULKHEAD_REQUIRE_ROOT();
  const uint16_t port = kPrivilegedPort;
  TempDir tmp;
  write_text(tmp.path("mine"), "root's\n");
  write_text(tmp.path("theirs"), "secret\n", 0600);
  ASSERT_EQ(::chown(tmp.path("theirs").c_str(), 1234, 1234), 0);
  auto plan = plan_capabilities({"CAP_NET_BIND_SERVICE"});
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();

  const std::string mine = tmp.path("mine");
  const std::string theirs = tmp.path("theirs");
  auto outcome = run_child([&](int) {
    if (int step = enter_private_netns(); step != 0) {
      return step;
    }
    if (apply_capabilities(*plan) != 0) {
      return 10;
    }
    const int bits = ::prctl(PR_GET_SECUREBITS);
    if (bits != static_cast<int>(hardened_securebits()) || (bits & SECBIT_NOROOT) == 0 ||
        (bits & SECBIT_KEEP_CAPS) != 0 || (bits & SECBIT_NO_SETUID_FIXUP) != 0) {
      return 11;
    }
    if (bind_loopback(port) != 0) {
      return 12;
    }
    if (!fails_with(::chown(mine.c_str(), 1234, -1), EPERM)) {
      return 13;  // CAP_CHOWN is gone
    }
    if (!fails_with(::open(theirs.c_str(), O_RDONLY | O_CLOEXEC), EACCES)) {
      return 14;  // CAP_DAC_OVERRIDE is gone
    }
    if (!fails_with(::setuid(1234), EPERM)) {
      return 15;  // CAP_SETUID is gone
    }
    if (::prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN) != 0 ||
        ::prctl(PR_CAPBSET_READ, CAP_NET_BIND_SERVICE) != 1) {
      return 16;
    }
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_BIND_SERVICE, 0, 0) != 1) {
      return 17;
    }
    // Locked: even a process that kept CAP_SETPCAP could not change them.
    if (!fails_with(::prctl(PR_SET_SECUREBITS, 0), EPERM)) {
      return 18;
    }
    return 0;
  });
  EXPECT_TRUE(outcome.exited && outcome.code == 0) << outcome;
}

TEST(CapabilityApply, WithoutNetBindServiceRootCannotBindAPrivilegedPort) {
  BULKHEAD_REQUIRE_ROOT();
  auto plan = plan_capabilities({});
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  auto outcome = run_child([&](int) {
    if (int step = enter_private_netns(); step != 0) {
      return step;
    }
    if (bind_loopback(kPrivilegedPort) != 0) {
      return 9;  // the control: root binds it before the drop
    }
    if (apply_capabilities(*plan) != 0) {
      return 10;
    }
    return bind_loopback(kPrivilegedPort) == EACCES ? 0 : 11;
  });
  EXPECT_TRUE(outcome.exited && outcome.code == 0) << outcome;
}

TEST(CapabilityApply, RootKeepsExactlyThePlanAcrossExecve) {
  BULKHEAD_REQUIRE_ROOT();
  auto plan = plan_capabilities({"CAP_NET_BIND_SERVICE"});
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  auto outcome = run_child([&](int out) {
    if (apply_capabilities(*plan) != 0) {
      return 10;
    }
    return exec_print_caps(out);
  });
  ASSERT_TRUE(outcome.exited && outcome.code == 0) << outcome;
  auto caps = parse_caps(outcome.out);
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    ASSERT_TRUE(caps.count(set)) << set << " missing in:\n" << outcome.out;
    EXPECT_EQ(caps[set], kNetBind) << set;
  }
}

TEST(CapabilityApply, NonRootKeepsExactlyThePlanAcrossExecve) {
  BULKHEAD_REQUIRE_ROOT();
  const uint16_t port = kPrivilegedPort;
  auto plan = plan_capabilities({"CAP_NET_BIND_SERVICE"});
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  auto outcome = run_child([&](int out) {
    if (int step = enter_private_netns(); step != 0) {
      return step;
    }
    if (!become_nobody(/*keep_caps=*/true)) {
      return 10;
    }
    if (apply_capabilities(*plan) != 0) {
      return 11;
    }
    if (bind_loopback(port) != 0) {
      return 12;
    }
    return exec_print_caps(out);
  });
  ASSERT_TRUE(outcome.exited && outcome.code == 0) << outcome;
  auto caps = parse_caps(outcome.out);
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    ASSERT_TRUE(caps.count(set)) << set << " missing in:\n" << outcome.out;
    EXPECT_EQ(caps[set], kNetBind) << set;
  }
}

TEST(CapabilityApply, RootWithNothingKeptHasNoCapabilitiesAfterExecve) {
  BULKHEAD_REQUIRE_ROOT();
  auto plan = plan_capabilities({});
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  auto outcome = run_child([&](int out) {
    if (apply_capabilities(*plan) != 0) {
      return 10;
    }
    if (::getuid() != 0 || ::geteuid() != 0) {
      return 11;
    }
    return exec_print_caps(out);
  });
  ASSERT_TRUE(outcome.exited && outcome.code == 0) << outcome;
  auto caps = parse_caps(outcome.out);
  for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    ASSERT_TRUE(caps.count(set)) << set << " missing in:\n" << outcome.out;
    EXPECT_EQ(caps[set], 0u) << set;
  }
}

// The second layer on its own: with SECBIT_NOROOT, uid 0 gets nothing at
// execve even with a full bounding set, because nothing is ambient.
TEST(CapabilityApply, NoRootSecurebitAloneStopsRootGainingCapabilitiesAtExecve) {
  BULKHEAD_REQUIRE_ROOT();
  ASSERT_NE(hardened_securebits() & SECBIT_NOROOT, 0u);
  auto outcome = run_child([&](int out) {
    if (::prctl(PR_SET_SECUREBITS, hardened_securebits(), 0, 0, 0) != 0) {
      return 10;
    }
    if (::prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN) != 1) {
      return 11;  // the bounding set is untouched here
    }
    return exec_print_caps(out);
  });
  ASSERT_TRUE(outcome.exited && outcome.code == 0) << outcome;
  auto caps = parse_caps(outcome.out);
  ASSERT_TRUE(caps.count("CapEff") && caps.count("CapPrm") && caps.count("CapBnd")) << outcome;
  EXPECT_EQ(caps["CapEff"], 0u);
  EXPECT_EQ(caps["CapPrm"], 0u);
  EXPECT_NE(caps["CapBnd"] & (uint64_t{1} << CAP_SYS_ADMIN), 0u);
}

TEST(CapabilityApply, FailsClosedWhenTheSetuidDroppedThePermittedSet) {
  BULKHEAD_REQUIRE_ROOT();
  auto plan = plan_capabilities({"CAP_NET_BIND_SERVICE"});
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  auto outcome = run_child([&](int) {
    if (!become_nobody(/*keep_caps=*/false)) {
      return 10;
    }
    return apply_capabilities(*plan) == -EPERM ? 0 : 11;
  });
  EXPECT_TRUE(outcome.exited && outcome.code == 0) << outcome;
}

// ---------------------------------------------------------------- Landlock

class LandlockApply : public ::testing::Test {
 protected:
  void SetUp() override {
    BULKHEAD_REQUIRE_ROOT();
    abi_ = landlock_abi_version();
    BULKHEAD_REQUIRE(abi_ >= 1, "Landlock is not available on this kernel");
    for (const char* dir : {"ro", "rw", "outside"}) {
      ASSERT_EQ(::mkdir(tmp_.path(dir).c_str(), 0755), 0) << dir;
    }
    write_text(tmp_.path("ro/f"), "read me\n");
    write_text(tmp_.path("ro/t"), "to truncate\n");
    write_text(tmp_.path("outside/f"), "hidden\n");
    write_text(tmp_.path("rwfile"), "writable file\n");
    write_text(tmp_.path("sibling"), "not listed\n");
    fs::copy_file("/bin/true", tmp_.path("outside/true"));
    ::chmod(tmp_.path("outside/true").c_str(), 0755);
    etc_file_ = fs::exists("/etc/hostname") ? "/etc/hostname" : "/etc/passwd";
    // The control of probe 40: without Landlock the copy runs (a noexec
    // scratch filesystem would make Landlock's refusal there prove nothing).
    ASSERT_EQ(run_program(tmp_.path("outside/true").c_str()), 0)
        << "cannot execute from " << tmp_.path() << " even without Landlock (mounted noexec?)";
    ::bulkhead::testing::record_branch(
        "Landlock ABI " + std::to_string(abi_) +
        (abi_ >= 3 ? ": truncate is a handled right, refused under a read-only rule"
                   : ": no truncate right (ABI < 3), truncate is not restricted"));
  }

  // Child side: the probes common to the explicit and the derived rules.
  // Derived rules may list any directory (so `ls /` works); explicit ones may not.
  [[nodiscard]] int probe_tree(bool may_list_everything = false) const {
    const std::string ro_f = tmp_.path("ro/f");
    if (UniqueFd(::open(ro_f.c_str(), O_RDONLY | O_CLOEXEC)).get() < 0) {
      return 30;
    }
    if (!fails_with(::open(ro_f.c_str(), O_WRONLY | O_CLOEXEC), EACCES)) {
      return 31;
    }
    if (!fails_with(::open(tmp_.path("ro/new").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644),
                    EACCES)) {
      return 32;
    }
    if (!fails_with(::mkdir(tmp_.path("ro/d").c_str(), 0755), EACCES)) {
      return 33;
    }
    // Truncation is a right of its own from ABI 3 on; before, Landlock cannot
    // refuse it (docs/security-model.md), so a read-only rule does not stop it.
    const std::string ro_t = tmp_.path("ro/t");
    if (abi_ >= 3 ? !fails_with(::truncate(ro_t.c_str(), 0), EACCES)
                  : ::truncate(ro_t.c_str(), 0) != 0) {
      return 34;
    }
    UniqueFd x(::open(tmp_.path("rw/x").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    if (!x || ::write(x.get(), "x", 1) != 1) {
      return 35;
    }
    if (::mkdir(tmp_.path("rw/d").c_str(), 0755) != 0) {
      return 36;
    }
    if (!fails_with(::open(tmp_.path("outside/f").c_str(), O_RDONLY | O_CLOEXEC), EACCES)) {
      return 37;
    }
    const int outside_dir =
        ::open(tmp_.path("outside").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (may_list_everything ? UniqueFd(outside_dir).get() < 0 : !fails_with(outside_dir, EACCES)) {
      return 38;
    }
    if (run_program("/bin/true") != 0) {
      return 39;  // /bin -> usr/bin: the rule on /usr covers the resolved path
    }
    if (run_program(tmp_.path("outside/true").c_str()) != 100 + EACCES) {
      return 40;
    }
    return 0;
  }

  int abi_ = 0;
  TempDir tmp_;
  std::string etc_file_;
};

TEST_F(LandlockApply, ExplicitRulesAllowOnlyWhatIsListed) {
  config::LandlockSpec spec;
  // "/bin" is a symlink on merged-/usr systems: opening it resolves to
  // /usr/bin, so the rule lands on the directory Landlock will check.
  spec.read_only = {
      "/usr", "/bin", "/lib", "/lib64", "/etc", tmp_.path("ro"), tmp_.path("does-not-exist")};
  spec.read_write = {tmp_.path("rw"), tmp_.path("rwfile")};
  auto plan = plan_landlock(spec, config::FilesystemView{});
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  ASSERT_TRUE(plan->enabled);

  const std::string etc_file = etc_file_;
  const std::string rwfile = tmp_.path("rwfile");
  const std::string sibling = tmp_.path("sibling");
  auto outcome = run_child([&](int) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
      return 10;
    }
    if (apply_landlock(*plan) != 0) {
      return 11;
    }
    if (UniqueFd(::open(etc_file.c_str(), O_RDONLY | O_CLOEXEC)).get() < 0) {
      return 20;
    }
    // A rule on a regular file: only file rights, and only for that file.
    if (UniqueFd(::open(rwfile.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC)).get() < 0) {
      return 21;
    }
    if (!fails_with(::open(sibling.c_str(), O_RDONLY | O_CLOEXEC), EACCES)) {
      return 22;
    }
    return probe_tree();
  });
  EXPECT_TRUE(outcome.exited && outcome.code == 0) << outcome;
  EXPECT_TRUE(fs::exists(tmp_.path("rw/x")));
  EXPECT_FALSE(fs::exists(tmp_.path("ro/new")));
  std::ifstream in(tmp_.path("ro/f"));
  std::string content;
  std::getline(in, content);
  EXPECT_EQ(content, "read me");
}

TEST_F(LandlockApply, RulesDerivedFromTheFilesystemView) {
  config::FilesystemView view;
  view.binds = {{"/usr", "/usr", true, false},
                {"/etc", "/etc", true, false},
                {tmp_.path("ro"), tmp_.path("ro"), true, false},
                {tmp_.path("rw"), tmp_.path("rw"), false, false},
                {"/nonexistent", tmp_.path("optional-missing"), true, true}};
  view.symlinks = {{"usr/bin", "/bin"}, {"usr/lib", "/lib"}, {"usr/lib64", "/lib64"}};
  auto plan = plan_landlock(config::LandlockSpec{}, view);
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();

  auto outcome = run_child([&](int) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
      return 10;
    }
    if (apply_landlock(*plan) != 0) {
      return 11;
    }
    // /dev is read-write in derived rules.
    UniqueFd null(::open("/dev/null", O_WRONLY | O_CLOEXEC));
    if (!null || ::write(null.get(), "x", 1) != 1) {
      return 20;
    }
    return probe_tree(/*may_list_everything=*/true);
  });
  EXPECT_TRUE(outcome.exited && outcome.code == 0) << outcome;
}

// ---------------------------------------------------------------- rlimits

TEST(RlimitApply, NofileLimitsOpenDescriptors) {
  BULKHEAD_REQUIRE_ROOT();
  const std::vector<config::Rlimit> limits = {{"nofile", RLIMIT_NOFILE, 16, 16},
                                              {"core", RLIMIT_CORE, 0, 0}};
  ASSERT_TRUE(check_rlimits(limits).ok());
  auto outcome = run_child([&](int) {
    if (apply_rlimits(limits) != 0) {
      return 10;
    }
    rlimit r{};
    if (::getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur != 16 || r.rlim_max != 16) {
      return 11;
    }
    if (::getrlimit(RLIMIT_CORE, &r) != 0 || r.rlim_cur != 0 || r.rlim_max != 0) {
      return 12;
    }
    // Fill every free descriptor below 16; the next open must fail EMFILE.
    for (int i = 0; i < 16; ++i) {
      if (::open("/dev/null", O_RDONLY | O_CLOEXEC) < 0) {
        if (errno != EMFILE) {
          return 13;
        }
        break;
      }
    }
    for (int fd = 0; fd < 16; ++fd) {
      if (::fcntl(fd, F_GETFD) < 0) {
        return 14;  // a hole below the limit was left
      }
    }
    if (!fails_with(::open("/dev/null", O_RDONLY | O_CLOEXEC), EMFILE)) {
      return 15;
    }
    return 0;
  });
  EXPECT_TRUE(outcome.exited && outcome.code == 0) << outcome;
}

TEST(RlimitApply, AHardLimitCannotBeRaisedWithoutCapSysResource) {
  BULKHEAD_REQUIRE_ROOT();
  auto plan = plan_capabilities({});
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  auto outcome = run_child([&](int) {
    if (apply_rlimits({{"nofile", RLIMIT_NOFILE, 16, 16}}) != 0) {
      return 10;
    }
    if (apply_capabilities(*plan) != 0) {
      return 11;
    }
    // Lowering still works; raising back is the EPERM check_rlimits prevents.
    if (apply_rlimits({{"nofile", RLIMIT_NOFILE, 8, 8}}) != 0) {
      return 12;
    }
    return apply_rlimits({{"nofile", RLIMIT_NOFILE, 16, 16}}) == -EPERM ? 0 : 13;
  });
  EXPECT_TRUE(outcome.exited && outcome.code == 0) << outcome;
}

}  // namespace
}  // namespace bulkhead::isolation
