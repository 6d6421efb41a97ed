// Where the agent's cgroup tree goes (cgroup/placement.h): the option, the
// /proc/<pid>/cgroup parser, and the decision for each kind of host.
#include <gtest/gtest.h>

#include "cgroup/placement.h"

namespace bulkhead::cgroup {
namespace {

HostCgroups unified() {
  HostCgroups h;
  h.layout = Layout::kUnified;
  h.unified_mount = "/sys/fs/cgroup";
  return h;
}

HostCgroups hybrid() {
  HostCgroups h;
  h.layout = Layout::kHybrid;
  h.unified_mount = "/sys/fs/cgroup/unified";
  h.v1_mounts = {{"memory", "/sys/fs/cgroup/memory"}, {"pids", "/sys/fs/cgroup/pids"}};
  return h;
}

const OwnCgroup kService{"/system.slice/bulkheadd.service", true};
const OwnCgroup kSession{"/user.slice/user-0.slice/session-3.scope", false};
const OwnCgroup kRootCgroup{"/", false};

TEST(CgroupPlacement, ParsesTheOption) {
  EXPECT_EQ(*parse_parent_mode("auto"), ParentMode::kAuto);
  EXPECT_EQ(*parse_parent_mode("root"), ParentMode::kRoot);
  EXPECT_EQ(*parse_parent_mode("delegated"), ParentMode::kDelegated);
  for (const char* bad : {"", "Auto", "unit", "/sys/fs/cgroup"}) {
    auto m = parse_parent_mode(bad);
    ASSERT_FALSE(m.ok()) << bad;
    EXPECT_NE(m.error().to_string().find("auto, root or delegated"), std::string::npos);
  }
  for (ParentMode m : {ParentMode::kAuto, ParentMode::kRoot, ParentMode::kDelegated}) {
    EXPECT_EQ(*parse_parent_mode(to_string(m)), m);
  }
}

TEST(CgroupPlacement, ParsesProcCgroup) {
  EXPECT_EQ(*parse_proc_cgroup("0::/system.slice/bulkheadd.service\n"),
            "/system.slice/bulkheadd.service");
  // Hybrid host: v1 lines first, the cgroup2 line anywhere.
  EXPECT_EQ(*parse_proc_cgroup("12:pids:/user.slice\n4:memory:/user.slice\n"
                               "1:name=systemd:/user.slice/session-1.scope\n0::/user.slice/"
                               "session-1.scope\n"),
            "/user.slice/session-1.scope");
  EXPECT_EQ(*parse_proc_cgroup("0::/"), "/");
  EXPECT_FALSE(parse_proc_cgroup("4:memory:/x\n").ok());  // legacy only
  EXPECT_FALSE(parse_proc_cgroup("").ok());
  EXPECT_FALSE(parse_proc_cgroup("0::relative\n").ok());
  EXPECT_FALSE(parse_proc_cgroup("0::/gone (deleted)\n").ok());
}

TEST(CgroupPlacement, AutoUsesTheDelegatedUnitCgroupOnAUnifiedHost) {
  auto p = plan_placement(ParentMode::kAuto, unified(), kService);
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_TRUE(p->delegated);
  EXPECT_EQ(p->v2_parent, "/sys/fs/cgroup/system.slice/bulkheadd.service");
  EXPECT_EQ(p->agent_leaf, "/sys/fs/cgroup/system.slice/bulkheadd.service/agent");
  EXPECT_EQ(describe(*p, "bulkhead"),
            "cgroup tree: /sys/fs/cgroup/system.slice/bulkheadd.service/bulkhead (delegated by "
            "systemd: /system.slice/bulkheadd.service), agent in "
            "/sys/fs/cgroup/system.slice/bulkheadd.service/agent");
}

TEST(CgroupPlacement, AutoKeepsTheRootElsewhere) {
  struct Case {
    HostCgroups host;
    OwnCgroup own;
    const char* reason;
  };
  for (const Case& c : {
           Case{hybrid(), kService, "hybrid host"},                 // today's hybrid hosts
           Case{unified(), kSession, "is not delegated"},           // a shell, the tests
           Case{unified(), kRootCgroup, "runs in the root cgroup"}  // a container's cgroupns
       }) {
    auto p = plan_placement(ParentMode::kAuto, c.host, c.own);
    ASSERT_TRUE(p.ok()) << p.error().to_string();
    EXPECT_FALSE(p->delegated) << c.reason;
    EXPECT_EQ(p->v2_parent, c.host.unified_mount);
    EXPECT_TRUE(p->agent_leaf.empty());
    EXPECT_NE(p->reason.find(c.reason), std::string::npos) << p->reason;
  }
}

TEST(CgroupPlacement, RootIgnoresDelegation) {
  auto p = plan_placement(ParentMode::kRoot, unified(), kService);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->delegated);
  EXPECT_EQ(p->v2_parent, "/sys/fs/cgroup");
  EXPECT_EQ(describe(*p, "bulkhead"),
            "cgroup tree: /sys/fs/cgroup/bulkhead (root of the hierarchy (cgroup-parent=root))");
}

TEST(CgroupPlacement, DelegatedIsRefusedWhereItCannotWork) {
  auto on_hybrid = plan_placement(ParentMode::kDelegated, hybrid(), kService);
  ASSERT_FALSE(on_hybrid.ok());
  EXPECT_NE(on_hybrid.error().to_string().find("hybrid"), std::string::npos);
  auto in_root = plan_placement(ParentMode::kDelegated, unified(), kRootCgroup);
  ASSERT_FALSE(in_root.ok());
  EXPECT_NE(in_root.error().to_string().find("root cgroup"), std::string::npos);
}

TEST(CgroupPlacement, DelegatedTrustsTheOperatorWithoutTheMark) {
  auto p = plan_placement(ParentMode::kDelegated, unified(), kSession);
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_TRUE(p->delegated);
  EXPECT_EQ(p->v2_parent, "/sys/fs/cgroup/user.slice/user-0.slice/session-3.scope");
  EXPECT_NE(p->reason.find("not marked delegated"), std::string::npos);
}

}  // namespace
}  // namespace bulkhead::cgroup
