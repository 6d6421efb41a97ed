// Plan-side checks of the capability, Landlock and rlimit modules: no root, no
// kernel features (Landlock plans are made for a given ABI).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdint>

#include "isolation/capabilities.h"
#include "isolation/landlock.h"
#include "isolation/rlimits.h"

namespace bulkhead::isolation {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

TEST(CapabilityPlan, MapsNamesToBits) {
  auto plan =
      plan_capabilities({"CAP_NET_BIND_SERVICE", "CAP_CHOWN", "CAP_CHECKPOINT_RESTORE"}, 40);
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  EXPECT_EQ(plan->keep, (uint64_t{1} << CAP_NET_BIND_SERVICE) | (uint64_t{1} << CAP_CHOWN) |
                            (uint64_t{1} << 40));
  EXPECT_EQ(plan->last_cap, 40);
}

TEST(CapabilityPlan, EmptyKeepsNothing) {
  auto plan = plan_capabilities({}, 40);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->keep, 0u);
}

TEST(CapabilityPlan, RejectsUnknownAndNonCanonicalNames) {
  for (const char* bad : {"CAP_NET_BIND_SERVIC", "net_bind_service", "10", "CAP_10", ""}) {
    auto plan = plan_capabilities({"CAP_CHOWN", bad}, 40);
    ASSERT_FALSE(plan.ok()) << bad;
    EXPECT_THAT(plan.error().message, HasSubstr("unknown capability")) << bad;
  }
}

TEST(CapabilityPlan, RejectsCapabilitiesTheKernelLacks) {
  auto plan = plan_capabilities({"CAP_BPF"}, 38);  // a 5.7 kernel
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.error().message, HasSubstr("not supported by this kernel"));
}

TEST(CapabilityPlan, ReadsTheRunningKernelsLastCap) {
  auto plan = plan_capabilities({"CAP_KILL"});
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  EXPECT_GE(plan->last_cap, CAP_KILL);
  EXPECT_EQ(plan->keep, uint64_t{1} << CAP_KILL);
}

TEST(CapabilityPlan, SecurebitsLockEverythingAndSetOnlyNoRoot) {
  const uint32_t bits = hardened_securebits();
  EXPECT_EQ(bits & 0x55u, 0x01u);  // of the settable bits only NOROOT
  EXPECT_EQ(bits & 0xaau, 0xaau);  // all four locks
}

config::FilesystemView sample_view() {
  config::FilesystemView fs;
  fs.binds = {{"/usr", "/usr", true, false},
              {"/etc/ssl", "/etc/ssl", true, false},
              {"/srv/shared", "/shared", false, false},
              {"/opt/x", "/opt/x", true, true},
              {"/usr", "/usr", true, false}};  // duplicate target
  fs.tmpfs = {{"/tmp", 64 << 20, 01777}, {"/run", 1 << 20, 0755}};
  fs.symlinks = {{"usr/bin", "/bin"}, {"usr/lib", "/lib"}};
  fs.data = {"/var/lib/bulkhead/tenants/t1", "/data"};
  return fs;
}

TEST(LandlockPlan, DerivesRulesFromTheFilesystemView) {
  auto plan = plan_landlock(config::LandlockSpec{}, sample_view(), 3);
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  EXPECT_TRUE(plan->enabled);
  EXPECT_EQ(plan->abi, 3);
  EXPECT_THAT(plan->ro_paths, ElementsAre("/usr", "/etc/ssl", "/opt/x"));
  EXPECT_THAT(plan->rw_paths,
              UnorderedElementsAre("/shared", "/tmp", "/run", "/data", "/proc", "/dev"));
  // Symlinks get no rule of their own.
  for (const auto& p : {"/bin", "/lib"}) {
    EXPECT_EQ(std::count(plan->ro_paths.begin(), plan->ro_paths.end(), p), 0);
    EXPECT_EQ(std::count(plan->rw_paths.begin(), plan->rw_paths.end(), p), 0);
  }
}

TEST(LandlockPlan, AccessBitsFollowTheAbi) {
  const uint64_t abi1 = (1ULL << 13) - 1;
  EXPECT_EQ(landlock_fs_access_for_abi(0), 0u);
  EXPECT_EQ(landlock_fs_access_for_abi(1), abi1);
  EXPECT_EQ(landlock_fs_access_for_abi(2), abi1 | LANDLOCK_ACCESS_FS_REFER);
  EXPECT_EQ(landlock_fs_access_for_abi(3), (1ULL << 15) - 1);
  EXPECT_EQ(landlock_fs_access_for_abi(4), (1ULL << 15) - 1);
  EXPECT_EQ(landlock_fs_access_for_abi(5), (1ULL << 16) - 1);
  EXPECT_EQ(landlock_fs_access_for_abi(99), (1ULL << 16) - 1);

  for (int abi : {1, 2, 3, 5, 7}) {
    auto plan = plan_landlock(config::LandlockSpec{}, sample_view(), abi);
    ASSERT_TRUE(plan.ok());
    EXPECT_EQ(plan->handled, landlock_fs_access_for_abi(abi));
    EXPECT_EQ(plan->ro_access, LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE |
                                   LANDLOCK_ACCESS_FS_READ_DIR);
    EXPECT_EQ(plan->rw_access, plan->handled);
  }
}

TEST(LandlockPlan, FileRulesGetOnlyFileBits) {
  const uint64_t file = landlock_file_access();
  EXPECT_EQ(file, LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                      LANDLOCK_ACCESS_FS_READ_FILE | (1ULL << 14) | (1ULL << 15));
  EXPECT_EQ(file & LANDLOCK_ACCESS_FS_READ_DIR, 0u);
  EXPECT_EQ(file & LANDLOCK_ACCESS_FS_MAKE_REG, 0u);
}

TEST(LandlockPlan, ExplicitListsReplaceTheDerivedRules) {
  config::LandlockSpec spec;
  spec.read_only = {"/usr", "/etc", "/usr", "/data"};
  spec.read_write = {"/data"};
  auto plan = plan_landlock(spec, sample_view(), 7);
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  EXPECT_THAT(plan->ro_paths, ElementsAre("/usr", "/etc"));  // deduplicated, rw wins
  EXPECT_THAT(plan->rw_paths, ElementsAre("/data"));
}

TEST(LandlockPlan, RejectsRelativePaths) {
  config::LandlockSpec spec;
  spec.read_write = {"data"};
  auto plan = plan_landlock(spec, sample_view(), 7);
  ASSERT_FALSE(plan.ok());
  EXPECT_THAT(plan.error().message, HasSubstr("landlock.read_write"));
}

TEST(LandlockPlan, FailsClosedWithoutLandlock) {
  for (int abi : {0, -38 /* ENOSYS */, -95 /* EOPNOTSUPP */}) {
    auto plan = plan_landlock(config::LandlockSpec{}, sample_view(), abi);
    ASSERT_FALSE(plan.ok());
    EXPECT_THAT(plan.error().message, HasSubstr("landlock.enabled"));
    EXPECT_THAT(plan.error().message, HasSubstr("false"));
  }
}

TEST(LandlockPlan, DisabledNeedsNoKernelSupport) {
  config::LandlockSpec spec;
  spec.enabled = false;
  auto plan = plan_landlock(spec, sample_view(), -38);
  ASSERT_TRUE(plan.ok());
  EXPECT_FALSE(plan->enabled);
  EXPECT_TRUE(plan->ro_paths.empty());
  EXPECT_EQ(apply_landlock(*plan), 0);  // a no-op, safe to call anywhere
}

config::Rlimit own_limit(const char* name, int resource) {
  rlimit r{};
  EXPECT_EQ(::getrlimit(static_cast<__rlimit_resource_t>(resource), &r), 0);
  auto conv = [](rlim_t v) { return v == RLIM_INFINITY ? UINT64_MAX : uint64_t{v}; };
  return {name, resource, conv(r.rlim_cur), conv(r.rlim_max)};
}

TEST(RlimitCheck, AcceptsTheAgentsOwnAndLowerLimits) {
  auto nofile = own_limit("nofile", RLIMIT_NOFILE);
  auto core = own_limit("core", RLIMIT_CORE);
  EXPECT_TRUE(check_rlimits({nofile, core}).ok());
  EXPECT_TRUE(check_rlimits({{"nofile", RLIMIT_NOFILE, 16, 16}}).ok());
  EXPECT_TRUE(check_rlimits({}).ok());
}

TEST(RlimitCheck, RejectsAHardLimitAboveTheAgents) {
  // The nofile hard limit is never unlimited (it is bounded by fs.nr_open).
  auto s = check_rlimits({{"nofile", RLIMIT_NOFILE, 16, UINT64_MAX}});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("nofile"));
  EXPECT_THAT(s.error().message, HasSubstr("hard limit unlimited"));
  EXPECT_THAT(s.error().message, HasSubstr("CAP_SYS_RESOURCE"));

  auto own = own_limit("nofile", RLIMIT_NOFILE);
  auto s2 = check_rlimits({{"nofile", RLIMIT_NOFILE, 16, own.hard + 1}});
  EXPECT_FALSE(s2.ok());
}

TEST(RlimitCheck, RejectsSoftAboveHard) {
  auto s = check_rlimits({{"nofile", RLIMIT_NOFILE, 32, 16}});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("soft limit 32 is above the hard limit 16"));
  EXPECT_FALSE(check_rlimits({{"core", RLIMIT_CORE, UINT64_MAX, 0}}).ok());
}

TEST(RlimitCheck, RejectsUnknownResources) {
  EXPECT_FALSE(check_rlimits({{"bogus", RLIM_NLIMITS, 1, 1}}).ok());
  EXPECT_FALSE(check_rlimits({{"bogus", -1, 1, 1}}).ok());
}

}  // namespace
}  // namespace bulkhead::isolation
