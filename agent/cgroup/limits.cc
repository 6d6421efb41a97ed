#include "cgroup/limits.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/file_util.h"

namespace bulkhead::cgroup {
namespace {

// Kernel bounds of CFS bandwidth control (kernel/sched/core.c).
constexpr uint64_t kMinCpuPeriodUs = 1000;
constexpr uint64_t kMaxCpuPeriodUs = 1000000;
constexpr uint64_t kMinCpuQuotaUs = 1000;

struct Resolved {
  const LimitWrite* write;
  const ControllerDir* dir;
  std::string file;
  std::string value;
};

Result<bool> file_exists_at(int dirfd, const std::string& path, const std::string& name) {
  if (::faccessat(dirfd, name.c_str(), F_OK, 0) == 0) {
    return true;
  }
  if (errno == ENOENT) {
    return false;
  }
  return errno_error("checking " + path + "/" + name);
}

}  // namespace

std::string v1_controller_name(std::string_view controller) {
  if (controller == "io") {
    return "blkio";
  }
  return std::string(controller);
}

std::string io_device_limit_key(size_t index) {
  return "limits.io.devices[" + std::to_string(index) + "]";
}

Status validate_limits(const config::Limits& limits) {
  const config::CpuLimit& cpu = limits.cpu;
  if (cpu.period_us < kMinCpuPeriodUs || cpu.period_us > kMaxCpuPeriodUs) {
    return make_error("limits.cpu.period " + std::to_string(cpu.period_us) +
                      " us is outside 1000..1000000");
  }
  if (cpu.quota_us && *cpu.quota_us < kMinCpuQuotaUs) {
    return make_error("limits.cpu.quota " + std::to_string(*cpu.quota_us) + " us is below 1000");
  }
  if (cpu.weight && (*cpu.weight < 1 || *cpu.weight > kMaxWeight)) {
    return make_error("limits.cpu.weight " + std::to_string(*cpu.weight) + " is outside 1..10000");
  }
  if (limits.io_weight && (*limits.io_weight < 1 || *limits.io_weight > kMaxWeight)) {
    return make_error("limits.io.weight " + std::to_string(*limits.io_weight) +
                      " is outside 1..10000");
  }
  return {};
}

Status apply_limit_writes(const std::vector<LimitWrite>& writes,
                          const std::map<std::string, ControllerDir>& dirs) {
  std::vector<Resolved> plan;
  for (const LimitWrite& w : writes) {
    const bool required = !w.limit.empty();
    auto it = dirs.find(w.controller);
    if (it == dirs.end() || !it->second.unavailable.empty() || it->second.fd < 0) {
      if (!required) {
        continue;
      }
      std::string why = it == dirs.end() ? std::string("not present") : it->second.unavailable;
      return make_error("limit " + w.limit + " needs the '" + w.controller +
                        "' cgroup controller, which is not available: " + why);
    }
    const ControllerDir& dir = it->second;
    auto has_file = file_exists_at(dir.fd, dir.path, w.file);
    if (!has_file) {
      return has_file.error();
    }
    if (*has_file) {
      plan.push_back({&w, &dir, w.file, w.value});
      continue;
    }
    if (!w.alt_file.empty()) {
      auto has_alt = file_exists_at(dir.fd, dir.path, w.alt_file);
      if (!has_alt) {
        return has_alt.error();
      }
      if (*has_alt) {
        plan.push_back({&w, &dir, w.alt_file, w.alt_value});
        continue;
      }
    }
    if (!required) {
      continue;
    }
    std::string files = dir.path + "/" + w.file;
    if (!w.alt_file.empty()) {
      files += " or " + w.alt_file;
    }
    return make_error("limit " + w.limit + " of the '" + w.controller + "' controller needs " +
                      files + ", which does not exist" +
                      (w.missing_hint.empty() ? "" : ": " + w.missing_hint));
  }

  for (const Resolved& r : plan) {
    Status st = write_file_at(r.dir->fd, r.file, r.value);
    if (!st) {
      std::string what =
          r.write->limit.empty() ? "resetting " + r.file : "setting " + r.write->limit;
      return st.error().context(what + " in " + r.dir->path);
    }
  }
  return {};
}

}  // namespace bulkhead::cgroup
