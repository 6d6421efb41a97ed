// Names a profile spells that the kernel defines: capabilities, system calls,
// errno values, resource limits, and which namespaces may be shared.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <string>

#include "config/kernel_names.h"
#include "config/profile_loader.h"

namespace bulkhead::config {
namespace {

ProfileLoadResult load(const std::string& rest) {
  return load_profile_string("version: 1\ntenant: t\n" + rest, "t.yaml");
}

std::string dump(const ProfileLoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) {
    out += e.to_string() + "\n";
  }
  return out;
}

TEST(ProfileNames, CapabilitiesInAnySpellingBecomeCanonical) {
  for (const char* spelling : {"NET_BIND_SERVICE", "net_bind_service", "CAP_NET_BIND_SERVICE",
                               "cap_net_bind_service", "Cap_Net_Bind_Service"}) {
    auto c = canonical_capability(spelling);
    ASSERT_TRUE(c.ok()) << spelling;
    EXPECT_EQ(*c, "CAP_NET_BIND_SERVICE");
  }
  EXPECT_EQ(*canonical_capability("sys_admin"), "CAP_SYS_ADMIN");
  EXPECT_EQ(*canonical_capability("CAP_CHECKPOINT_RESTORE"), "CAP_CHECKPOINT_RESTORE");
}

TEST(ProfileNames, UnknownOrNumericCapabilitiesAreRejected) {
  for (const char* bad : {"", "CAP_", "NET_BIND", "CAP_FLY", "all", "12", "CAP_12", "net bind",
                          "cap_net_bind_service,cap_kill", "CAP_NET_BIND_SERVICE+ep"}) {
    EXPECT_FALSE(canonical_capability(bad).ok()) << bad;
  }
}

TEST(ProfileNames, CapabilityErrorsInAProfileNameTheItem) {
  auto r = load("process:\n  capabilities: [KILL, NOT_A_CAP]\n");
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_EQ(r.errors[0].field, "process.capabilities[1]");
  EXPECT_EQ(r.errors[0].line, 4);
  EXPECT_NE(r.errors[0].message.find("unknown capability \"NOT_A_CAP\""), std::string::npos);
}

TEST(ProfileNames, SyscallsResolveOnTheNativeArchitecture) {
  EXPECT_EQ(classify_syscall("read"), SyscallKind::kNative);
  EXPECT_EQ(classify_syscall("ptrace"), SyscallKind::kNative);
  EXPECT_EQ(classify_syscall("openat2"), SyscallKind::kNative);
  EXPECT_EQ(classify_syscall("PTRACE"), SyscallKind::kUnknown);  // names are case-sensitive
  EXPECT_EQ(classify_syscall("not_a_syscall"), SyscallKind::kUnknown);
  EXPECT_EQ(classify_syscall(""), SyscallKind::kUnknown);
  EXPECT_EQ(classify_syscall(std::string("read\0x", 6)), SyscallKind::kUnknown);
#if defined(__x86_64__)
  EXPECT_EQ(classify_syscall("socketcall"), SyscallKind::kForeignOnly);  // i386 only
#endif
}

TEST(ProfileNames, SyscallListsInAProfile) {
  auto r = load("seccomp:\n  allow: [ptrace, personality]\n  deny: [socket, bogus_call]\n");
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_EQ(r.errors[0].field, "seccomp.deny[1]");
  EXPECT_EQ(r.errors[0].line, 5);
  EXPECT_NE(r.errors[0].message.find("unknown system call"), std::string::npos);

  r = load("seccomp: {allow: [mount], deny: [mount]}\n");
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_EQ(r.errors[0].field, "seccomp.deny[0]");
}

#if defined(__x86_64__)
TEST(ProfileNames, ForeignOnlySyscallsNeedForeignAbis) {
  auto r = load("seccomp: {deny: [socketcall]}\n");
  ASSERT_EQ(r.errors.size(), 1u) << dump(r);
  EXPECT_NE(r.errors[0].message.find("allow_foreign_abi"), std::string::npos);
  // The order of the keys does not matter.
  r = load("seccomp: {deny: [socketcall], allow_foreign_abi: true}\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_TRUE(r.profile->seccomp.allow_foreign_abi);
  EXPECT_EQ(r.profile->seccomp.deny, std::vector<std::string>{"socketcall"});
}
#endif

TEST(ProfileNames, ErrnoByNameOrNumber) {
  EXPECT_EQ(*parse_errno("EPERM"), EPERM);
  EXPECT_EQ(*parse_errno("EACCES"), EACCES);
  EXPECT_EQ(*parse_errno("ENOSYS"), ENOSYS);
  EXPECT_EQ(*parse_errno("1"), 1);
  EXPECT_EQ(*parse_errno("4095"), 4095);
  for (const char* bad :
       {"", "0", "4096", "-1", "eperm", "EPERM ", "E2BIGGER", "99999999999999999999"}) {
    EXPECT_FALSE(parse_errno(bad).ok()) << bad;
  }
  auto r = load("seccomp: {action: errno, errno: ENOSYS}\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.profile->seccomp.errno_value, ENOSYS);
  r = load("seccomp: {action: log}\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.profile->seccomp.action, SeccompAction::kLog);
}

TEST(ProfileNames, RlimitTableMatchesTheKernelConstants) {
  EXPECT_EQ(find_rlimit("nofile")->resource, RLIMIT_NOFILE);
  EXPECT_EQ(find_rlimit("as")->resource, RLIMIT_AS);
  EXPECT_EQ(find_rlimit("rttime")->resource, RLIMIT_RTTIME);
  EXPECT_TRUE(find_rlimit("stack")->bytes);
  EXPECT_FALSE(find_rlimit("nproc")->bytes);
  EXPECT_EQ(find_rlimit("NOFILE"), nullptr);
  EXPECT_EQ(find_rlimit("files"), nullptr);
  EXPECT_EQ(rlimit_names().find("as, core, cpu"), 0u);
}

TEST(ProfileNames, RlimitValues) {
  auto r = load("process:\n  rlimits: {as: 1Gi, cpu: unlimited, rtprio: 99, nice: 40}\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.profile->process.rlimits[0].hard, 1u << 30);
  EXPECT_EQ(r.profile->process.rlimits[1].soft, UINT64_MAX);
  for (const char* bad : {"rtprio: 100", "nice: unlimited", "nofile: 1Ki", "nproc: {hard: 1}",
                          "core: {soft: unlimited, hard: 0}", "nofile: -1"}) {
    SCOPED_TRACE(bad);
    auto b = load(std::string("process:\n  rlimits: {") + bad + "}\n");
    EXPECT_FALSE(b.profile.has_value());
    EXPECT_EQ(b.errors.size(), 1u) << dump(b);
  }
}

TEST(ProfileNames, UtsAndCgroupNamespacesMayBeShared) {
  auto r = load("namespaces: {uts: false, cgroup: false}\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_FALSE(r.profile->namespaces.uts);
  EXPECT_FALSE(r.profile->namespaces.cgroup);
  EXPECT_TRUE(r.profile->namespaces.user);
  r = load("namespaces: {user: true, pid: true, mount: true, net: true, ipc: true}\n");
  EXPECT_TRUE(r.ok()) << dump(r);
}

TEST(ProfileNames, OtherNamespacesCannotBeTurnedOffAndSayWhy) {
  const std::pair<const char*, const char*> cases[] = {
      {"user", "uid boundary"}, {"pid", "signal host processes"},
      {"mount", "host mounts"}, {"net", "network policy"},
      {"ipc", "SysV IPC"},
  };
  for (const auto& [ns, why] : cases) {
    SCOPED_TRACE(ns);
    auto r = load(std::string("namespaces:\n  ") + ns + ": false\n");
    EXPECT_FALSE(r.profile.has_value());
    ASSERT_EQ(r.errors.size(), 1u) << dump(r);
    EXPECT_EQ(r.errors[0].field, std::string("namespaces.") + ns);
    EXPECT_EQ(r.errors[0].line, 4);
    EXPECT_NE(r.errors[0].message.find("cannot be turned off"), std::string::npos);
    EXPECT_NE(r.errors[0].message.find(why), std::string::npos) << dump(r);
  }
}

TEST(ProfileNames, TenantAndWorkloadNames) {
  for (const char* good : {"a", "0", "alpha", "tenant-2", "abcdefghijklmnopqrstuvwxyz012345"}) {
    EXPECT_TRUE(load_profile_string(std::string("version: 1\ntenant: ") + good + "\n", "t").ok())
        << good;
  }
  for (const char* bad :
       {"-a", "Alpha", "a_b", "a.b", "abcdefghijklmnopqrstuvwxyz0123456", "\"\"", "\"a b\""}) {
    auto r = load_profile_string(std::string("version: 1\ntenant: ") + bad + "\n", "t");
    ASSERT_EQ(r.errors.size(), 1u) << bad << "\n" << dump(r);
    EXPECT_EQ(r.errors[0].field, "tenant");
  }
}

TEST(ProfileNames, Hostnames) {
  for (const char* good : {"a", "web-1", "web.example.org", "A1"}) {
    EXPECT_TRUE(load(std::string("hostname: ") + good + "\n").ok()) << good;
  }
  for (const char* bad : {"-a", "a-", "a..b", "a_b", ".a", "a.", "\"\""}) {
    auto r = load(std::string("hostname: ") + bad + "\n");
    ASSERT_EQ(r.errors.size(), 1u) << bad << "\n" << dump(r);
    EXPECT_EQ(r.errors[0].field, "hostname");
  }
  EXPECT_FALSE(load("hostname: " + std::string(64, 'a') + "\n").ok());  // label > 63
  EXPECT_TRUE(load("hostname: " + std::string(32, 'a') + "." + std::string(31, 'b') + "\n").ok());
  EXPECT_FALSE(load("hostname: " + std::string(32, 'a') + "." + std::string(32, 'b') + "\n").ok());
}

}  // namespace
}  // namespace bulkhead::config
