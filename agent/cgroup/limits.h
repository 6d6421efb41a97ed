// What the cgroup writers share: a limit is rendered into an ordered list of
// LimitWrites (pure, unit tested), then applied to the directories that enforce
// each controller. Applying checks everything first (controller present, file
// present) so a refused profile writes nothing; only a kernel refusal of a value
// (e.g. a v1 memory limit below the current usage) can stop it half-way.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cgroup/io_devices.h"
#include "common/result.h"
#include "config/profile.h"

namespace bulkhead::cgroup {

// cgroup2's weight range (cpu.weight, io.weight): 1..10000, 100 by default.
inline constexpr uint32_t kDefaultWeight = 100;
inline constexpr uint32_t kMaxWeight = 10000;

// The controllers a profile can limit, named as in cgroup2. Their cgroup v1
// hierarchies have the same names except io, which is "blkio" in v1.
inline constexpr std::array<std::string_view, 4> kLimitControllers = {"memory", "pids", "cpu",
                                                                      "io"};
std::string v1_controller_name(std::string_view controller);

struct LimitWrite {
  std::string controller;  // one of kLimitControllers
  std::string file;        // "memory.max"
  std::string value;       // what is written, e.g. "max"
  // The profile key this write enforces ("limits.memory.max"); empty when the write only
  // resets an unset limit to the kernel's default, which is skipped where the
  // controller or the file does not exist.
  std::string limit;
  std::string alt_file;  // written instead of `file` when `file` does not exist
  std::string alt_value;
  std::string missing_hint;  // why `file` can be absent, for the error message

  bool operator==(const LimitWrite&) const = default;
};

// The block device throttles to render: the profile's, resolved, and those the
// cgroup has now, so a device left out of the profile has its rule removed.
struct IoDeviceState {
  std::vector<IoThrottle> wanted;
  std::set<DeviceNumber> current;
};

// The profile key of the i-th device throttle, for messages: "limits.io.devices[0]".
std::string io_device_limit_key(size_t index);

// Range checks done again here because the kernel refuses them with a bare EINVAL.
Status validate_limits(const config::Limits& limits);

// Where a controller's files are: the directory fd and its path (for messages).
// `unavailable` non-empty means the controller cannot be used here and says why.
struct ControllerDir {
  int fd = -1;
  std::string path;
  std::string unavailable;
};

// Checks every write against `dirs` (keyed by controller) first, then writes them
// in order. A write for a set limit whose controller or file is missing is an
// error naming the limit and the controller; the default for an unset limit is
// then skipped.
Status apply_limit_writes(const std::vector<LimitWrite>& writes,
                          const std::map<std::string, ControllerDir>& dirs);

}  // namespace bulkhead::cgroup
