// The building blocks of the seccomp layer, checked without installing anything: compiled
// programs are run through the user-space interpreter (evaluate_seccomp).
#include "isolation/seccomp_policy.h"

#include <gtest/gtest.h>
#include <linux/audit.h>

#include <array>
#include <cerrno>
#include <random>

namespace bulkhead::isolation {
namespace {

constexpr uint32_t kEperm = SCMP_ACT_ERRNO(EPERM);

seccomp_data call(int nr, std::array<uint64_t, 6> args = {}, uint32_t arch = AUDIT_ARCH_X86_64) {
  seccomp_data d{};
  d.nr = nr;
  d.arch = arch;
  for (size_t i = 0; i < args.size(); ++i) {
    d.args[i] = args[i];
  }
  return d;
}

uint32_t decide(const SeccompProgram& p, const seccomp_data& d) {
  auto r = evaluate_seccomp(p, d);
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  return r.ok() ? *r : 0xdeadbeef;
}

uint32_t decide(const SeccompProgram& p, const std::string& name,
                std::array<uint64_t, 6> args = {}) {
  return decide(p, call(resolve_syscall(name), args));
}

SeccompRule rule(const std::string& name, uint32_t action, std::vector<scmp_arg_cmp> args = {}) {
  return {name, resolve_syscall(name), action, std::move(args), "test"};
}

SeccompProgram build(const SeccompPolicy& policy, bool foreign = false,
                     uint32_t bad_arch = kEperm) {
  auto p = build_seccomp_program(policy, foreign, bad_arch);
  EXPECT_TRUE(p.ok()) << p.error().to_string();
  return p.ok() ? std::move(*p) : SeccompProgram{};
}

bool covered(const std::vector<MaskedValue>& cover, uint32_t v) {
  for (const MaskedValue& m : cover) {
    if ((v & m.mask) == m.value) {
      return true;
    }
  }
  return false;
}

TEST(SeccompMaskedComplement, CoversEverythingButTheExcludedValues) {
  const std::vector<uint32_t> excluded = {0x5412, 0x541C};
  auto cover = masked_complement(excluded);
  EXPECT_LE(cover.size(), 64u);  // one rule per trie branch, not per value
  EXPECT_FALSE(covered(cover, 0x5412));
  EXPECT_FALSE(covered(cover, 0x541C));
  for (uint32_t v = 0; v < 0x20000; ++v) {
    if (v != 0x5412 && v != 0x541C) {
      ASSERT_TRUE(covered(cover, v)) << std::hex << v;
    }
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 100000; ++i) {
    uint32_t v = rng();
    ASSERT_EQ(covered(cover, v), v != 0x5412 && v != 0x541C) << std::hex << v;
  }
  for (uint32_t v : {0xffffffffu, 0x80000000u, 0x80005412u, 0x00015412u}) {
    EXPECT_TRUE(covered(cover, v)) << std::hex << v;
  }
}

TEST(SeccompMaskedComplement, EmptyExclusionCoversAll) {
  auto cover = masked_complement({});
  ASSERT_EQ(cover.size(), 1u);
  EXPECT_EQ(cover[0].mask, 0u);
}

TEST(SeccompBuild, AllowlistWithDefaultDeny) {
  SeccompPolicy policy;
  policy.default_action = kEperm;
  policy.rules = {rule("getpid", SCMP_ACT_ALLOW), rule("read", SCMP_ACT_ALLOW)};
  SeccompProgram p = build(policy);
  ASSERT_FALSE(p.instructions.empty());
  EXPECT_EQ(decide(p, "getpid"), SCMP_ACT_ALLOW);
  EXPECT_EQ(decide(p, "read"), SCMP_ACT_ALLOW);
  EXPECT_EQ(decide(p, "mount"), kEperm);
}

TEST(SeccompBuild, ArgumentConditions) {
  SeccompPolicy policy;
  policy.default_action = kEperm;
  for (const MaskedValue& m : masked_complement({0x5412})) {
    policy.rules.push_back(
        rule("ioctl", SCMP_ACT_ALLOW, {arg_cmp(1, SCMP_CMP_MASKED_EQ, m.mask, m.value)}));
  }
  SeccompProgram p = build(policy);
  EXPECT_EQ(decide(p, "ioctl", {1, 0x5413}), SCMP_ACT_ALLOW);
  EXPECT_EQ(decide(p, "ioctl", {1, 0x5412}), kEperm);
  // The kernel truncates ioctl's cmd to 32 bits: high bits must not smuggle it through.
  EXPECT_EQ(decide(p, "ioctl", {1, (uint64_t{1} << 32) | 0x5412}), kEperm);
  EXPECT_EQ(decide(p, "ioctl", {1, (uint64_t{1} << 32) | 0x5413}), SCMP_ACT_ALLOW);
}

TEST(SeccompBuild, ForeignAbisDeniedUnlessAllowed) {
  SeccompPolicy policy;
  policy.default_action = kEperm;
  policy.rules = {rule("getpid", SCMP_ACT_ALLOW)};
  const int x32_getpid = 0x40000000 | resolve_syscall("getpid");
  const int i386_getpid = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86, "getpid");
  SeccompProgram native = build(policy, false, SCMP_ACT_ERRNO(EACCES));
  EXPECT_EQ(decide(native, call(x32_getpid)), SCMP_ACT_ERRNO(EACCES));
  EXPECT_EQ(decide(native, call(i386_getpid, {}, AUDIT_ARCH_I386)), SCMP_ACT_ERRNO(EACCES));

  SeccompProgram foreign = build(policy, true);
  EXPECT_EQ(decide(foreign, call(x32_getpid)), SCMP_ACT_ALLOW);
  EXPECT_EQ(decide(foreign, call(i386_getpid, {}, AUDIT_ARCH_I386)), SCMP_ACT_ALLOW);
  EXPECT_EQ(decide(foreign, call(0x40000000 | resolve_syscall("mount"))), kEperm);
}

TEST(SeccompBuild, UnknownNewerSyscallsGetEnosys) {
  SeccompPolicy policy;
  policy.default_action = kEperm;
  policy.rules = {rule("getpid", SCMP_ACT_ALLOW)};
  policy.enosys_for_unknown_syscalls = true;
  SeccompProgram p = build(policy);
  EXPECT_EQ(decide(p, call(1000)), SECCOMP_RET_ERRNO | ENOSYS);
  EXPECT_EQ(decide(p, "getpid"), SCMP_ACT_ALLOW);
  EXPECT_EQ(decide(p, "mount"), kEperm);                  // known to libseccomp: the default action
  EXPECT_EQ(decide(p, call(0x40000000 | 1000)), kEperm);  // x32 stays libseccomp's
  EXPECT_EQ(decide(p, call(1000, {}, AUDIT_ARCH_I386)), kEperm);

  policy.enosys_for_unknown_syscalls = false;
  EXPECT_EQ(decide(build(policy), call(1000)), kEperm);
}

TEST(SeccompBuild, RulesRepeatingTheDefaultAreDropped) {
  SeccompPolicy policy;
  policy.default_action = kEperm;
  policy.rules = {rule("getpid", SCMP_ACT_ALLOW), rule("mount", kEperm)};
  SeccompProgram p = build(policy);
  EXPECT_EQ(decide(p, "mount"), kEperm);
}

TEST(SeccompBuild, ConflictingUnconditionalRulesAreRefused) {
  SeccompPolicy policy;
  policy.default_action = kEperm;
  policy.rules = {rule("ptrace", SCMP_ACT_ALLOW), rule("ptrace", SCMP_ACT_ERRNO(EACCES))};
  policy.rules[1].origin = "x.json: syscalls[4]";
  auto p = build_seccomp_program(policy, false, kEperm);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("x.json: syscalls[4]"), std::string::npos) << p.error().message;
  EXPECT_NE(p.error().message.find("ptrace"), std::string::npos);
}

TEST(SeccompBuild, ConditionalRuleShadowedByUnconditionalIsRefused) {
  SeccompPolicy policy;
  policy.default_action = SCMP_ACT_ALLOW;
  policy.rules = {rule("personality", SCMP_ACT_ERRNO(EPERM)),
                  rule("personality", SCMP_ACT_LOG, {arg_cmp(0, SCMP_CMP_EQ, 0)})};
  auto p = build_seccomp_program(policy, false, kEperm);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("would be ignored"), std::string::npos) << p.error().message;
}

TEST(SeccompBuild, SameActionRulesMerge) {
  SeccompPolicy policy;
  policy.default_action = kEperm;
  policy.rules = {rule("ptrace", SCMP_ACT_ALLOW), rule("ptrace", SCMP_ACT_ALLOW)};
  EXPECT_EQ(decide(build(policy), "ptrace"), SCMP_ACT_ALLOW);
}

TEST(SeccompDenyAction, FromSpec) {
  config::SeccompSpec spec;
  EXPECT_EQ(*seccomp_deny_action(spec), SCMP_ACT_ERRNO(EPERM));
  spec.errno_value = EACCES;
  EXPECT_EQ(*seccomp_deny_action(spec), SCMP_ACT_ERRNO(EACCES));
  spec.errno_value = 0;  // would report success
  EXPECT_FALSE(seccomp_deny_action(spec).ok());
  spec.errno_value = 4096;
  EXPECT_FALSE(seccomp_deny_action(spec).ok());
  spec.action = config::SeccompAction::kKill;
  EXPECT_EQ(*seccomp_deny_action(spec), SCMP_ACT_KILL_PROCESS);
  spec.action = config::SeccompAction::kLog;
  EXPECT_EQ(*seccomp_deny_action(spec), SCMP_ACT_LOG);
}

TEST(SeccompAllowDeny, ReplacesEveryRuleForTheName) {
  SeccompPolicy policy;
  policy.default_action = SCMP_ACT_ALLOW;
  policy.rules = {rule("ioctl", kEperm, {arg_cmp(1, SCMP_CMP_EQ, 0x5412)}), rule("mount", kEperm)};
  config::SeccompSpec spec;
  spec.allow = {"mount"};
  spec.deny = {"ioctl", "getcwd"};
  ASSERT_TRUE(apply_allow_deny(policy, spec, SCMP_ACT_ERRNO(EACCES), "p.yaml").ok());
  SeccompProgram p = build(policy);
  EXPECT_EQ(decide(p, "mount"), SCMP_ACT_ALLOW);
  EXPECT_EQ(decide(p, "ioctl", {0, 0x5413}), SCMP_ACT_ERRNO(EACCES));
  EXPECT_EQ(decide(p, "getcwd"), SCMP_ACT_ERRNO(EACCES));
  EXPECT_EQ(decide(p, "getpid"), SCMP_ACT_ALLOW);
}

TEST(SeccompAllowDeny, UnknownNameNamesItAndTheProfile) {
  SeccompPolicy policy;
  config::SeccompSpec spec;
  spec.allow = {"getpid", "not_a_syscall"};
  auto s = apply_allow_deny(policy, spec, kEperm, "/etc/bulkhead/t1.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("not_a_syscall"), std::string::npos);
  EXPECT_NE(s.error().message.find("/etc/bulkhead/t1.yaml"), std::string::npos);
  EXPECT_NE(s.error().message.find("seccomp.allow"), std::string::npos);

  spec.allow.clear();
  spec.deny = {"nope"};
  s = apply_allow_deny(policy, spec, kEperm, "t.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("seccomp.deny: unknown syscall 'nope'"), std::string::npos)
      << s.error().message;
}

TEST(SeccompAllowDeny, NameInBothListsIsAnError) {
  SeccompPolicy policy;
  config::SeccompSpec spec;
  spec.allow = {"ptrace"};
  spec.deny = {"ptrace"};
  auto s = apply_allow_deny(policy, spec, kEperm, "t.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("both"), std::string::npos);
}

TEST(SeccompEvaluate, RejectsMalformedPrograms) {
  SeccompProgram p;
  EXPECT_FALSE(evaluate_seccomp(p, call(0)).ok());  // no return
  p.instructions = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 64)};
  EXPECT_FALSE(evaluate_seccomp(p, call(0)).ok());  // beyond seccomp_data
  p.instructions = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  EXPECT_EQ(*evaluate_seccomp(p, call(0)), SECCOMP_RET_ALLOW);
}

TEST(SeccompInstall, RefusesEmptyPrograms) {
  EXPECT_EQ(install_seccomp(SeccompProgram{}), -EINVAL);
}

}  // namespace
}  // namespace bulkhead::isolation
