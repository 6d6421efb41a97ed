// The agent and the eBPF network policy: every tenant gets its policy attached
// to its cgroup and pinned before any workload starts, the API reports its
// counters, and shutdown removes links and pins with the cgroups.
#include <bpf/bpf.h>
#include <fcntl.h>

#include "agent_test_support.h"

namespace bulkhead::testing {
namespace {

class AgentNetworkTest : public AgentKernelTest {
 protected:
  static uint32_t attached(const std::string& cgroup, bpf_attach_type type) {
    UniqueFd fd(::open(cgroup.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    uint32_t ids[4];
    uint32_t count = 4;
    if (!fd || bpf_prog_query(fd.get(), type, 0, nullptr, ids, &count) != 0) {
      return 99;
    }
    return count;
  }
};

TEST_F(AgentNetworkTest, PolicyIsAttachedPinnedReportedAndRemoved) {
  agent_->write_profile(
      "a.yaml",
      agent_->tenant_yaml("a", 0, "workloads:\n" + AgentInstance::sh_workload("w", "sleep 100")));
  ASSERT_TRUE(agent_->start().ok());
  auto info = agent_->tenant("a");
  ASSERT_TRUE(info);
  const std::string cgroup = info->cgroup_path;
  for (auto type : {BPF_CGROUP_INET4_CONNECT, BPF_CGROUP_INET6_CONNECT, BPF_CGROUP_UDP4_SENDMSG,
                    BPF_CGROUP_INET4_BIND, BPF_CGROUP_INET_SOCK_CREATE, BPF_CGROUP_INET_INGRESS,
                    BPF_CGROUP_INET_EGRESS}) {
    EXPECT_EQ(attached(cgroup, type), 1U) << "attach type " << type << " on " << cgroup;
  }
  const std::string pins = "/sys/fs/bpf/" + name_;
  EXPECT_TRUE(cgroup::testing::exists(pins + "/a/link_bh_connect4"));
  EXPECT_TRUE(cgroup::testing::exists(pins + "/a/map_policy"));
  ASSERT_TRUE(info->network.contains("connect4")) << info->network.dump();
  EXPECT_TRUE(info->network["skb_egress"].contains("denied"));

  ASSERT_TRUE(shutdown(*agent_));
  agent_.reset();
  EXPECT_FALSE(cgroup::testing::exists(pins)) << "pins left behind in " << pins;
}

}  // namespace
}  // namespace bulkhead::testing
