// probe_kernel_features on the real kernel. What every kernel this agent
// supports has is asserted outright; fentry, BPF-LSM and kprobes differ between
// hosts, so for them the answer is checked for consistency with the evidence
// (active LSMs, kprobe PMU) and for being reported with a reason.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <string>

#include "bpf/kernel_features.h"
#include "kernel_test_env.h"

namespace bulkhead::bpf {
namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(BpfKernelFeatures, ProbesQuicklyAndFindsTheBaseline) {
  BULKHEAD_REQUIRE_ROOT();
  const auto start = std::chrono::steady_clock::now();
  auto probed = probe_kernel_features();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(probed.ok()) << probed.error().to_string();
  const KernelFeatures& f = *probed;
  const std::string text = describe(f);
  std::cout << text << "\nprobe took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms\n";
  // A sanity bound for the start-up path (a hang or a retry loop), not a
  // benchmark: emulated guests take ~1 s, more on a loaded machine.
  EXPECT_LT(elapsed, std::chrono::seconds(10));

  EXPECT_TRUE(f.btf) << text;
  EXPECT_TRUE(f.ring_buffer) << text;
  EXPECT_TRUE(f.tracepoints) << text;
  EXPECT_TRUE(f.tp_btf) << text;
  EXPECT_TRUE(f.cgroup_sock_addr) << text;
  EXPECT_TRUE(f.cgroup_skb) << text;
  EXPECT_TRUE(f.task_iter) << text;
  EXPECT_FALSE(f.kernel_release.empty());
  EXPECT_FALSE(f.lsm_list.empty()) << "securityfs should have been mounted";
  EXPECT_FALSE(f.lockdown.empty()) << "securityfs should have been mounted";
  EXPECT_TRUE(contains(text, "tracepoints yes")) << text;
  EXPECT_TRUE(contains(text, "ring buffer yes")) << text;
  EXPECT_TRUE(contains(text, f.kernel_release)) << text;
}

TEST(BpfKernelFeatures, HostDependentFeaturesAgreeWithTheEvidence) {
  BULKHEAD_REQUIRE_ROOT();
  auto probed = probe_kernel_features();
  ASSERT_TRUE(probed.ok()) << probed.error().to_string();
  const KernelFeatures& f = *probed;
  const std::string text = describe(f);

  const bool bpf_lsm_active = detail::lsm_list_has_bpf(f.lsm_list);
  const bool kprobe_pmu = ::access("/sys/bus/event_source/devices/kprobe/type", F_OK) == 0;
  ::bulkhead::testing::record_branch(
      std::string(bpf_lsm_active ? "bpf is an active LSM" : "bpf is not an active LSM") +
      (kprobe_pmu ? ", kprobe PMU present" : ", no kprobe PMU") + "; lockdown " + f.lockdown +
      "; fentry " + (f.fentry ? "yes" : "no") + ", bpf-lsm " + (f.bpf_lsm ? "yes" : "no") +
      ", kprobes " + (f.kprobes ? "yes" : "no"));
  // BPF-LSM programs only run when "bpf" is an active LSM.
  if (!bpf_lsm_active) {
    EXPECT_FALSE(f.bpf_lsm) << text;
    EXPECT_FALSE(f.lsm_cgroup) << text;
  }
  // Kprobes need the kprobe PMU.
  if (!kprobe_pmu) {
    EXPECT_FALSE(f.kprobes) << text;
  }
  // Each missing feature is named in the report, with its reason.
  const struct {
    bool value;
    const char* key;
    const char* label;
  } host_dependent[] = {{f.fentry, "fentry", "fentry no ("},
                        {f.bpf_lsm, "bpf_lsm", "bpf-lsm no ("},
                        {f.lsm_cgroup, "lsm_cgroup", "lsm_cgroup no ("},
                        {f.kprobes, "kprobes", "kprobes no ("}};
  for (const auto& item : host_dependent) {
    if (item.value) {
      EXPECT_EQ(f.why_not.count(item.key), 0u) << item.key;
      continue;
    }
    EXPECT_EQ(f.why_not.count(item.key), 1u) << item.key;
    EXPECT_TRUE(contains(text, item.label)) << text;
  }
  // Probing again (securityfs and tracefs now mounted) gives the same answer.
  auto again = probe_kernel_features();
  ASSERT_TRUE(again.ok()) << again.error().to_string();
  EXPECT_EQ(describe(*again), text);
}

TEST(BpfKernelFeatures, RefusedWithoutPrivilegeIsAnErrorNotAllNo) {
  BULKHEAD_REQUIRE_ROOT();
  // Where kernel.unprivileged_bpf_disabled is 0, nobody may load some program
  // types (socket filters); the probe must still report the missing privilege.
  std::ifstream sysctl("/proc/sys/kernel/unprivileged_bpf_disabled");
  int unprivileged_disabled = -1;
  sysctl >> unprivileged_disabled;
  ::bulkhead::testing::record_branch("kernel.unprivileged_bpf_disabled = " +
                                     std::to_string(unprivileged_disabled));
  // In a child that drops to nobody.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) {
      ::_exit(2);
    }
    auto probed = probe_kernel_features();
    ::_exit(!probed.ok() && probed.error().code == EPERM ? 0 : 1);
  }
  int st = 0;
  ASSERT_EQ(::waitpid(child, &st, 0), child);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0) << "unprivileged probe should fail with EPERM";
}

}  // namespace
}  // namespace bulkhead::bpf
