// The agent and the eBPF network policy: every tenant gets its policy attached
// to its cgroup and pinned before any workload starts, the API reports its
// counters, and shutdown removes links and pins with the cgroups.
#include <bpf/bpf.h>
#include <fcntl.h>
#include <sys/wait.h>

#include <filesystem>

#include "agent_test_support.h"
#include "bpf/fs_mounts.h"

namespace bulkhead::testing {
namespace {

class AgentNetPolicyTest : public AgentKernelTest {
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

TEST_F(AgentNetPolicyTest, PolicyIsAttachedPinnedReportedAndRemoved) {
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
  ASSERT_TRUE(info->network_counters.contains("connect4")) << info->network_counters.dump();
  EXPECT_TRUE(info->network_counters["skb_egress"].contains("denied"));

  ASSERT_TRUE(shutdown(*agent_));
  agent_.reset();
  EXPECT_FALSE(cgroup::testing::exists(pins)) << "pins left behind in " << pins;
}

// Fail closed: a tenant whose policy cannot be attached is not created, so no
// workload of it ever runs, and the error says why. The failure is forced
// with a pin of the wrong kind where the tenant's policy map would be adopted.
TEST_F(AgentNetPolicyTest, TenantWhosePolicyCannotAttachStartsNothing) {
  const std::string pins = "/sys/fs/bpf/" + name_;
  ASSERT_EQ(bpf::ensure_bpffs().ok(), true);
  std::filesystem::create_directories(pins + "/a");
  struct PinGuard {
    std::string dir;
    ~PinGuard() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } guard{pins};
  UniqueFd wrong(bpf_map_create(BPF_MAP_TYPE_ARRAY, "wrong", 4, 4, 1, nullptr));
  ASSERT_TRUE(wrong);
  ASSERT_EQ(bpf_obj_pin(wrong.get(), (pins + "/a/map_policy").c_str()), 0);

  agent_->write_profile(
      "a.yaml",
      agent_->tenant_yaml("a", 0, "workloads:\n" + AgentInstance::sh_workload("w", "sleep 100")));
  auto s = agent_->start();
  ASSERT_FALSE(s.ok());
  const std::string why = s.error().to_string();
  EXPECT_NE(why.find("network policy of tenant a"), std::string::npos) << why;
  EXPECT_NE(why.find("map_policy"), std::string::npos) << why;
  int status = 0;
  EXPECT_TRUE(::waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD) << "a workload ran";
}

}  // namespace
}  // namespace bulkhead::testing
