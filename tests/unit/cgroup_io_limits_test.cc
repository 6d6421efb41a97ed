// Block I/O limits: device throttles rendered for cgroup2 (io.max) and v1
// (blkio.throttle.*), the devices read back from those files, device paths
// that cannot be throttled, and the exact message when the host cannot enforce
// an io weight (no BFQ, no blk-iocost).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "cgroup/io_devices.h"
#include "cgroup/limits.h"
#include "cgroup/limits_v1.h"
#include "cgroup/limits_v2.h"

namespace bulkhead::cgroup {
namespace {

using Writes = std::vector<std::pair<std::string, std::string>>;

// The writes of one controller, as (file, value), in order.
Writes io_writes(const std::vector<LimitWrite>& all, const std::string& prefix) {
  Writes out;
  for (const auto& w : all) {
    if (w.file.rfind(prefix, 0) == 0) {
      out.emplace_back(w.file, w.value);
    }
  }
  return out;
}

IoDeviceState vda_wanted_sdb_current() {
  config::IoDeviceLimit vda{"/dev/vda", 1u << 20, std::nullopt, std::nullopt, 500};
  IoDeviceState io;
  io.wanted.push_back({{254, 0}, vda});
  io.current = {{254, 0}, {8, 16}};  // sdb was throttled before and is no longer wanted
  return io;
}

TEST(CgroupIoLimits, V2DeviceThrottlesAndResets) {
  config::Limits l;
  IoDeviceState io = vda_wanted_sdb_current();
  l.io_devices.push_back(io.wanted[0].limit);
  auto writes = render_v2_limits(l, io);
  EXPECT_EQ(io_writes(writes, "io.max"),
            (Writes{{"io.max", "254:0 rbps=1048576 wbps=max riops=max wiops=500"},
                    {"io.max", "8:16 rbps=max wbps=max riops=max wiops=max"}}));
  for (const auto& w : writes) {
    if (w.file == "io.max" && w.value.rfind("254:0", 0) == 0) {
      EXPECT_EQ(w.limit, "limits.io.devices[0]");
      EXPECT_EQ(w.controller, "io");
      EXPECT_NE(w.missing_hint.find("CONFIG_BLK_DEV_THROTTLING"), std::string::npos);
    } else if (w.file == "io.max") {
      EXPECT_TRUE(w.limit.empty()) << "a reset is skipped where io.max is absent";
    }
  }
}

TEST(CgroupIoLimits, V1DeviceThrottlesAndResets) {
  config::Limits l;
  IoDeviceState io = vda_wanted_sdb_current();
  l.io_devices.push_back(io.wanted[0].limit);
  auto writes = render_v1_limits(l, kV1Unlimited, io);
  ASSERT_TRUE(writes.ok()) << writes.error().to_string();
  EXPECT_EQ(io_writes(*writes, "blkio.throttle."),
            (Writes{{"blkio.throttle.read_bps_device", "254:0 1048576"},
                    {"blkio.throttle.write_bps_device", "254:0 0"},
                    {"blkio.throttle.read_iops_device", "254:0 0"},
                    {"blkio.throttle.write_iops_device", "254:0 500"},
                    {"blkio.throttle.read_bps_device", "8:16 0"},
                    {"blkio.throttle.write_bps_device", "8:16 0"},
                    {"blkio.throttle.read_iops_device", "8:16 0"},
                    {"blkio.throttle.write_iops_device", "8:16 0"}}));
}

TEST(CgroupIoLimits, NoDevicesNoThrottleWrites) {
  EXPECT_TRUE(io_writes(render_v2_limits(config::Limits{}), "io.max").empty());
  auto v1 = render_v1_limits(config::Limits{}, kV1Unlimited);
  ASSERT_TRUE(v1.ok());
  EXPECT_TRUE(io_writes(*v1, "blkio.throttle.").empty());
}

TEST(CgroupIoLimits, ThrottledDevicesAreReadBack) {
  EXPECT_EQ(throttled_devices("254:0 rbps=1048576 wbps=max riops=max wiops=500\n"
                              "8:16 rbps=max wbps=2 riops=max wiops=max\n"),
            (std::set<DeviceNumber>{{8, 16}, {254, 0}}));
  EXPECT_EQ(throttled_devices("259:3 1048576\n"), (std::set<DeviceNumber>{{259, 3}}));
  EXPECT_TRUE(throttled_devices("").empty());
  EXPECT_TRUE(throttled_devices("Total 0\n:1 x\n1: y\nabc\n").empty());
}

TEST(CgroupIoLimits, DevicesThatCannotBeThrottledAreRefusedByField) {
  auto missing = resolve_io_devices({{"/nonexistent/disk", 1, {}, {}, {}}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "limits.io.devices[0].device: /nonexistent/disk");
  EXPECT_EQ(missing.error().code, ENOENT);

  auto not_block = resolve_io_devices({{"/dev/null", {}, {}, {}, 1}, {"/dev/zero", {}, {}, 1, {}}});
  ASSERT_FALSE(not_block.ok());
  EXPECT_EQ(not_block.error().message,
            "limits.io.devices[0].device: /dev/null is not a block device");
}

// The message when a profile asks for an io weight the host cannot enforce,
// as the cgroup layer gives it: the limit, the controller, the files, the
// reason, and no tenant name (the caller that knows the tenant adds it once).
TEST(CgroupIoLimits, MissingWeightSupportMessageShape) {
  char tmpl[] = "/tmp/bulkhead-io-limits-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  config::Limits l;
  l.io_weight = 100;
  std::map<std::string, ControllerDir> dirs = {{"io", {fd, dir, ""}}};
  Status v1 = apply_limit_writes(*render_v1_limits(l, kV1Unlimited), dirs);
  Status v2 = apply_limit_writes(render_v2_limits(l), dirs);
  ::close(fd);
  ::rmdir(dir.c_str());
  ASSERT_FALSE(v1.ok());
  ASSERT_FALSE(v2.ok());
  EXPECT_EQ(v1.error().to_string(),
            "limit limits.io.weight of the 'io' controller needs " + dir +
                "/blkio.weight or blkio.bfq.weight, which does not exist: no io weight support: "
                "neither CFQ (blkio.weight) nor BFQ (blkio.bfq.weight)");
  EXPECT_EQ(v2.error().to_string(),
            "limit limits.io.weight of the 'io' controller needs " + dir +
                "/io.weight or io.bfq.weight, which does not exist: no io weight support: "
                "neither blk-iocost (io.weight) nor BFQ (io.bfq.weight)");
}

}  // namespace
}  // namespace bulkhead::cgroup
