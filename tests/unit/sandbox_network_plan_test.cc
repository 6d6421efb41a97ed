// The sandbox plan's network parts: the socket filter is compiled, and network
// mode host is refused unless the host's abstract unix sockets can be scoped.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "config/profile_loader.h"
#include "isolation/sandbox_plan.h"

namespace bulkhead::isolation {
namespace {

class SandboxNetworkPlan : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bulkhead-plan-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Result<SandboxPlan> plan(const std::string& yaml) {
    auto r = config::load_profile_string("version: 1\ntenant: t\n" + yaml, "t.yaml");
    EXPECT_TRUE(r.ok());
    if (!r.ok()) {
      return make_error("profile");
    }
    r.profile->ids = config::IdRange{0x70000000, 65536};
    return plan_sandbox(*r.profile, dir_);
  }
  std::string dir_;
};

TEST_F(SandboxNetworkPlan, HostModeWithoutLandlockScopingIsRefused) {
  auto p = plan("network: {mode: host}\nlandlock: {enabled: false}\n");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("abstract unix sockets"), std::string::npos)
      << p.error().message;
  // Without AF_UNIX there is nothing to scope.
  auto q = plan("network: {mode: host, socket_families: [AF_INET]}\nlandlock: {enabled: false}\n");
  EXPECT_TRUE(q.ok()) << q.error().to_string();
}

TEST_F(SandboxNetworkPlan, OwnNetworkNamespacesNeedNoScope) {
  for (const char* mode : {"none", "isolated"}) {
    auto p = plan(std::string("network: {mode: ") + mode + "}\nlandlock: {enabled: false}\n");
    ASSERT_TRUE(p.ok()) << mode << ": " << p.error().to_string();
    EXPECT_EQ(p->landlock.scoped, 0u);
    EXPECT_FALSE(p->socket_filter.instructions.empty());
  }
}

}  // namespace
}  // namespace bulkhead::isolation
