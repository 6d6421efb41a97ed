#include "cgroup/io_devices.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <charconv>
#include <climits>

#include "common/file_util.h"

namespace bulkhead::cgroup {
namespace {

bool parse_u32(std::string_view s, uint32_t& out) {
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size() && !s.empty();
}

// "254:0" (possibly followed by a newline) -> the device number.
bool parse_device_number(std::string_view s, DeviceNumber& out) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
    s.remove_suffix(1);
  }
  size_t colon = s.find(':');
  return colon != std::string_view::npos && parse_u32(s.substr(0, colon), out.major) &&
         parse_u32(s.substr(colon + 1), out.minor);
}

// A partition's sysfs directory sits inside its disk's: /sys/dev/block/259:1
// links to .../nvme0n1/nvme0n1p1, whose parent holds the disk's own `dev`.
std::string describe_parent_disk(const std::string& partition_dir) {
  char resolved[PATH_MAX];
  if (::realpath(partition_dir.c_str(), resolved) == nullptr) {
    return "its disk";
  }
  std::string path = resolved;
  size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) {
    return "its disk";
  }
  std::string disk_dir = path.substr(0, slash);
  std::string name = disk_dir.substr(disk_dir.rfind('/') + 1);
  auto dev = read_file(disk_dir + "/dev");
  return "/dev/" + name + (dev ? " (" + trim(*dev) + ")" : std::string());
}

}  // namespace

std::string DeviceNumber::text() const {
  return std::to_string(major) + ":" + std::to_string(minor);
}

Result<std::vector<IoThrottle>> resolve_io_devices(
    const std::vector<config::IoDeviceLimit>& devices, const std::string& sysfs_dev_block) {
  std::vector<IoThrottle> out;
  for (size_t i = 0; i < devices.size(); ++i) {
    const config::IoDeviceLimit& d = devices[i];
    const std::string field = "limits.io.devices[" + std::to_string(i) + "].device";
    struct stat sb {};
    if (::stat(d.device.c_str(), &sb) != 0) {
      return errno_error(field + ": " + d.device);
    }
    if (!S_ISBLK(sb.st_mode)) {
      return make_error(field + ": " + d.device + " is not a block device");
    }
    IoThrottle t{{::major(sb.st_rdev), ::minor(sb.st_rdev)}, d};
    const std::string sys_dir = sysfs_dev_block + "/" + t.device.text();
    if (::access((sys_dir + "/partition").c_str(), F_OK) == 0) {
      return make_error(field + ": " + d.device + " (" + t.device.text() +
                        ") is a partition; the kernel throttles whole disks only: name " +
                        describe_parent_disk(sys_dir));
    }
    for (size_t j = 0; j < out.size(); ++j) {
      if (out[j].device == t.device) {
        return make_error(field + ": " + d.device + " is the same device (" + t.device.text() +
                          ") as limits.io.devices[" + std::to_string(j) + "] (" +
                          out[j].limit.device + ")");
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::set<DeviceNumber> throttled_devices(std::string_view file_contents) {
  std::set<DeviceNumber> out;
  while (!file_contents.empty()) {
    size_t eol = file_contents.find('\n');
    std::string_view line = file_contents.substr(0, eol);
    file_contents =
        eol == std::string_view::npos ? std::string_view() : file_contents.substr(eol + 1);
    DeviceNumber d;
    if (parse_device_number(line.substr(0, line.find(' ')), d)) {
      out.insert(d);
    }
  }
  return out;
}

}  // namespace bulkhead::cgroup
