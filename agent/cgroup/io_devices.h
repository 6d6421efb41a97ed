// The block devices of limits.io.devices, resolved to the major:minor numbers
// that io.max (cgroup2) and blkio.throttle.* (v1) take, and the devices a
// cgroup already throttles (read back so a device dropped from a profile on
// reload has its rule removed).
#pragma once

#include <compare>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "config/profile.h"

namespace bulkhead::cgroup {

struct DeviceNumber {
  uint32_t major = 0;
  uint32_t minor = 0;
  [[nodiscard]] std::string text() const;  // "254:0", as the cgroup files spell it
  // Ordered by (major, minor) so that sets of devices are deterministic.
  bool operator==(const DeviceNumber&) const = default;
  bool operator<(const DeviceNumber& o) const {
    return major != o.major ? major < o.major : minor < o.minor;
  }
};

struct IoThrottle {
  DeviceNumber device;
  config::IoDeviceLimit limit;
};

// Each node must exist, be a block device and be a whole disk: the kernel
// refuses partitions (ENODEV), so a partition is an error naming its disk.
// Two paths of one device are an error too. `sysfs_dev_block` is
// /sys/dev/block, replaceable in tests.
Result<std::vector<IoThrottle>> resolve_io_devices(
    const std::vector<config::IoDeviceLimit>& devices,
    const std::string& sysfs_dev_block = "/sys/dev/block");

// The devices named at the start of each line of io.max ("8:0 rbps=max ...")
// or of a blkio.throttle.*_device file ("8:0 1048576"); other lines are ignored.
std::set<DeviceNumber> throttled_devices(std::string_view file_contents);

}  // namespace bulkhead::cgroup
