#include <gtest/gtest.h>

#include <algorithm>

#include "bpf/kernel_features.h"

namespace bulkhead::bpf {
namespace {

TEST(BpfFeaturesParse, Lockdown) {
  EXPECT_EQ(detail::parse_lockdown("none [integrity] confidentiality\n"), "integrity");
  EXPECT_EQ(detail::parse_lockdown("[none] integrity confidentiality\n"), "none");
  EXPECT_EQ(detail::parse_lockdown("none integrity [confidentiality]"), "confidentiality");
  EXPECT_EQ(detail::parse_lockdown("weird\n"), "weird");
}

TEST(BpfFeaturesParse, LsmList) {
  EXPECT_TRUE(detail::lsm_list_has_bpf("lockdown,capability,landlock,bpf"));
  EXPECT_TRUE(detail::lsm_list_has_bpf("bpf,capability\n"));
  EXPECT_TRUE(detail::lsm_list_has_bpf("capability,bpf\n"));
  EXPECT_FALSE(detail::lsm_list_has_bpf("lockdown,capability,landlock"));
  EXPECT_FALSE(detail::lsm_list_has_bpf("bpfx,xbpf"));
  EXPECT_FALSE(detail::lsm_list_has_bpf(""));
}

TEST(BpfFeaturesDescribe, NamesEveryFeatureWithReasons) {
  KernelFeatures f;
  f.btf = f.ring_buffer = f.tracepoints = f.tp_btf = true;
  f.cgroup_sock_addr = f.cgroup_skb = f.task_iter = true;
  f.why_not["fentry"] = "refused at load: EPERM; lockdown=integrity";
  f.why_not["kprobes"] = "no kprobe event source";
  f.lsm_list = "lockdown,capability,landlock,bpf";
  f.lockdown = "integrity";
  f.kernel_release = "6.18.44";
  const std::string text = describe(f);
  for (const char* expected :
       {"bpf: btf yes", "ring buffer yes", "tracepoints yes", "tp_btf yes", "cgroup sock_addr yes",
        "cgroup_skb yes", "task iter yes", "fentry no (refused at load: EPERM; lockdown=integrity)",
        "bpf-lsm no", "lsm_cgroup no", "kprobes no (no kprobe event source)",
        "\nbpf: kernel 6.18.44, lsm lockdown,capability,landlock,bpf, lockdown integrity"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << " in:\n" << text;
  }
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << "two lines";
}

TEST(BpfFeaturesDescribe, UnknownSecurityStateIsShownAsSuch) {
  const std::string text = describe(KernelFeatures{});
  EXPECT_NE(text.find("lsm ?, lockdown ?"), std::string::npos) << text;
}

}  // namespace
}  // namespace bulkhead::bpf
