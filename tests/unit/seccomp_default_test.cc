// The built-in default profile, compiled through compile_seccomp and judged call by call
// with the user-space interpreter. The kernel suite checks the same on a real kernel.
#include "isolation/seccomp_default.h"

#include <gtest/gtest.h>
#include <linux/audit.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <set>

#include "isolation/seccomp_policy.h"

namespace bulkhead::isolation {
namespace {

constexpr uint32_t kEperm = SCMP_ACT_ERRNO(EPERM);

SeccompProgram compile(const config::SeccompSpec& spec) {
  auto p = compile_seccomp(spec, {}, "test.yaml");
  EXPECT_TRUE(p.ok()) << p.error().to_string();
  return p.ok() ? std::move(*p) : SeccompProgram{};
}

uint32_t decide(const SeccompProgram& p, const std::string& name,
                std::array<uint64_t, 6> args = {}) {
  seccomp_data d{};
  d.nr = resolve_syscall(name);
  d.arch = AUDIT_ARCH_X86_64;
  std::copy(args.begin(), args.end(), d.args);
  auto r = evaluate_seccomp(p, d);
  EXPECT_TRUE(r.ok()) << name;
  return r.ok() ? *r : 0xdeadbeef;
}

TEST(SeccompDefault, Compiles) {
  SeccompProgram p = compile({});
  EXPECT_GT(p.instructions.size(), 100u);
  EXPECT_LE(p.instructions.size(), size_t{BPF_MAXINSNS});
  EXPECT_TRUE(p.warnings.empty());
}

TEST(SeccompDefault, EveryListedNameIsKnownToLibseccomp) {
  for (const std::string& name : default_allowed_syscalls()) {
    EXPECT_NE(resolve_syscall(name), __NR_SCMP_ERROR) << name;
  }
  for (const std::string& name : default_denied_syscalls()) {
    EXPECT_GE(resolve_syscall(name), 0) << name << " is not a native syscall";
  }
}

TEST(SeccompDefault, DeniedAndAllowedListsAreDisjoint) {
  std::set<std::string> allowed(default_allowed_syscalls().begin(),
                                default_allowed_syscalls().end());
  for (const std::string& name : default_denied_syscalls()) {
    EXPECT_FALSE(allowed.contains(name)) << name;
  }
}

TEST(SeccompDefault, DeniesEachListedCall) {
  SeccompProgram p = compile({});
  for (const std::string& name : default_denied_syscalls()) {
    EXPECT_EQ(decide(p, name), kEperm) << name;
  }
}

TEST(SeccompDefault, AllowsOrdinaryCalls) {
  SeccompProgram p = compile({});
  for (const std::string& name : default_allowed_syscalls()) {
    if (resolve_syscall(name) >= 0) {  // the 32-bit spellings have no native number
      EXPECT_EQ(decide(p, name), SCMP_ACT_ALLOW) << name;
    }
  }
}

TEST(SeccompDefault, CloneOnlyWithoutNamespaceFlags) {
  SeccompProgram p = compile({});
  const uint64_t thread_flags = 0x3d0f00;  // glibc's pthread_create clone flags
  EXPECT_EQ(decide(p, "clone", {17 /*SIGCHLD*/}), SCMP_ACT_ALLOW);
  EXPECT_EQ(decide(p, "clone", {thread_flags}), SCMP_ACT_ALLOW);
  for (uint64_t ns : {0x00020000ULL, 0x02000000ULL, 0x04000000ULL, 0x08000000ULL, 0x10000000ULL,
                      0x20000000ULL, 0x40000000ULL}) {
    EXPECT_EQ(decide(p, "clone", {ns | 17}), kEperm) << std::hex << ns;
  }
  EXPECT_EQ(decide(p, "clone3"), SCMP_ACT_ERRNO(ENOSYS));
}

TEST(SeccompDefault, Clone3IsEnosysEvenWhenKilling) {
  config::SeccompSpec spec;
  spec.action = config::SeccompAction::kKill;
  SeccompProgram p = compile(spec);
  EXPECT_EQ(decide(p, "clone3"), SCMP_ACT_ERRNO(ENOSYS));
  EXPECT_EQ(decide(p, "mount"), SCMP_ACT_KILL_PROCESS);
}

TEST(SeccompDefault, PersonalityOnlyHarmlessValues) {
  SeccompProgram p = compile({});
  for (uint32_t v : kAllowedPersonalities) {
    EXPECT_EQ(decide(p, "personality", {v}), SCMP_ACT_ALLOW) << std::hex << v;
  }
  EXPECT_EQ(decide(p, "personality", {0x0040000 /*ADDR_NO_RANDOMIZE*/}), kEperm);
  EXPECT_EQ(decide(p, "personality", {0x0400000 /*READ_IMPLIES_EXEC*/}), kEperm);
}

TEST(SeccompDefault, IoctlTerminalInjectionDenied) {
  SeccompProgram p = compile({});
  EXPECT_EQ(decide(p, "ioctl", {0, kIoctlTiocsti}), kEperm);
  EXPECT_EQ(decide(p, "ioctl", {0, kIoctlTioclinux}), kEperm);
  EXPECT_EQ(decide(p, "ioctl", {0, (uint64_t{0xffffffff} << 32) | kIoctlTiocsti}), kEperm);
  EXPECT_EQ(decide(p, "ioctl", {0, 0x5401 /*TCGETS*/}), SCMP_ACT_ALLOW);
  EXPECT_EQ(decide(p, "ioctl", {0, 0x541B /*FIONREAD*/}), SCMP_ACT_ALLOW);
}

TEST(SeccompDefault, SocketFamilies) {
  SeccompProgram p = compile({});
  EXPECT_EQ(decide(p, "socket", {2 /*AF_INET*/}), SCMP_ACT_ALLOW);
  EXPECT_EQ(decide(p, "socket", {1 /*AF_UNIX*/}), SCMP_ACT_ALLOW);
  EXPECT_EQ(decide(p, "socket", {16 /*AF_NETLINK*/}), SCMP_ACT_ALLOW);
  EXPECT_EQ(decide(p, "socket", {kAfVsock}), kEperm);
  EXPECT_EQ(decide(p, "socket", {(uint64_t{1} << 32) | kAfVsock}), kEperm);
}

TEST(SeccompDefault, AllowAndDenyLists) {
  config::SeccompSpec spec;
  spec.allow = {"ptrace", "clone"};
  spec.deny = {"getcwd", "ioctl"};
  SeccompProgram p = compile(spec);
  EXPECT_EQ(decide(p, "ptrace"), SCMP_ACT_ALLOW);
  EXPECT_EQ(decide(p, "clone", {0x10000000}), SCMP_ACT_ALLOW);  // allowed outright
  EXPECT_EQ(decide(p, "getcwd"), kEperm);
  EXPECT_EQ(decide(p, "ioctl", {0, 0x5401}), kEperm);
  EXPECT_EQ(decide(p, "mount"), kEperm);
}

TEST(SeccompDefault, ActionsAndErrno) {
  config::SeccompSpec spec;
  spec.errno_value = EACCES;
  EXPECT_EQ(decide(compile(spec), "mount"), SCMP_ACT_ERRNO(EACCES));
  spec.action = config::SeccompAction::kLog;
  SeccompProgram log = compile(spec);
  EXPECT_EQ(decide(log, "mount"), SCMP_ACT_LOG);
  EXPECT_EQ(decide(log, "getpid"), SCMP_ACT_ALLOW);
}

TEST(SeccompDefault, UnknownNameInProfileListsIsAnError) {
  config::SeccompSpec spec;
  spec.deny = {"getpid", "frobnicate"};
  auto p = compile_seccomp(spec, {}, "/etc/bulkhead/tenants/a.yaml");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("frobnicate"), std::string::npos);
  EXPECT_NE(p.error().message.find("/etc/bulkhead/tenants/a.yaml"), std::string::npos);
}

TEST(SeccompDefault, RelativeBaseIsAnError) {
  config::SeccompSpec spec;
  spec.base = "docker.json";
  auto p = compile_seccomp(spec, {}, "a.yaml");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("absolute"), std::string::npos);
}

TEST(SeccompDefault, ForeignAbiRulesMatchNative) {
  config::SeccompSpec spec;
  spec.allow_foreign_abi = true;
  SeccompProgram p = compile(spec);
  auto i386 = [&](const char* name, uint64_t a0 = 0) {
    seccomp_data d{};
    d.nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, name);
    d.arch = AUDIT_ARCH_I386;
    d.args[0] = a0;
    return *evaluate_seccomp(p, d);
  };
  EXPECT_EQ(i386("getpid"), SCMP_ACT_ALLOW);
  EXPECT_EQ(i386("mmap2"), SCMP_ACT_ALLOW);
  EXPECT_EQ(i386("mount"), kEperm);
  EXPECT_EQ(i386("clone", 0x10000000), kEperm);
  EXPECT_EQ(i386("clone", 17), SCMP_ACT_ALLOW);
}

}  // namespace
}  // namespace bulkhead::isolation
