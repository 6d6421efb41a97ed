#include "cgroup/limits_v2.h"

#include <algorithm>
#include <set>
#include <string>

namespace bulkhead::cgroup {
namespace {

constexpr uint32_t kMaxBfqWeight = 1000;
constexpr const char* kNoThrottleHint =
    "the kernel has no block I/O throttling (CONFIG_BLK_DEV_THROTTLING)";

std::string max_or(const std::optional<uint64_t>& v) {
  return v ? std::to_string(*v) : std::string("max");
}

}  // namespace

uint32_t io_weight_to_bfq_weight(uint32_t weight) {
  weight = std::clamp<uint32_t>(weight, 1, kMaxWeight);
  if (weight <= kDefaultWeight) {
    return weight;
  }
  return kDefaultWeight + (weight - kDefaultWeight) * (kMaxBfqWeight - kDefaultWeight) /
                              (kMaxWeight - kDefaultWeight);
}

std::vector<LimitWrite> render_v2_limits(const config::Limits& limits, const IoDeviceState& io) {
  std::vector<LimitWrite> out;
  auto add = [&out](const char* controller, const char* file, std::string value, bool set,
                    const char* limit) -> LimitWrite& {
    LimitWrite w;
    w.controller = controller;
    w.file = file;
    w.value = std::move(value);
    if (set) {
      w.limit = limit;
    }
    out.push_back(std::move(w));
    return out.back();
  };

  add("memory", "memory.max", max_or(limits.memory_max), limits.memory_max.has_value(),
      "limits.memory.max");
  add("memory", "memory.high", max_or(limits.memory_high), limits.memory_high.has_value(),
      "limits.memory.high");
  add("memory", "memory.swap.max", max_or(limits.memory_swap_max),
      limits.memory_swap_max.has_value(), "limits.memory.swap")
      .missing_hint =
      "no swap accounting (kernel without CONFIG_MEMCG_SWAP or booted with "
      "swapaccount=0)";
  add("pids", "pids.max", max_or(limits.pids_max), limits.pids_max.has_value(), "limits.pids");

  const config::CpuLimit& cpu = limits.cpu;
  add("cpu", "cpu.max", max_or(cpu.quota_us) + " " + std::to_string(cpu.period_us),
      cpu.quota_us.has_value(), "limits.cpu.quota");
  add("cpu", "cpu.weight", std::to_string(cpu.weight.value_or(kDefaultWeight)),
      cpu.weight.has_value(), "limits.cpu.weight");

  const uint32_t weight = limits.io_weight.value_or(kDefaultWeight);
  LimitWrite& w = add("io", "io.weight", "default " + std::to_string(weight),
                      limits.io_weight.has_value(), "limits.io.weight");
  w.alt_file = "io.bfq.weight";
  w.alt_value = std::to_string(io_weight_to_bfq_weight(weight));
  w.missing_hint = "no io weight support: neither blk-iocost (io.weight) nor BFQ (io.bfq.weight)";

  std::set<DeviceNumber> kept;
  for (size_t i = 0; i < io.wanted.size(); ++i) {
    const IoThrottle& t = io.wanted[i];
    const std::string key = io_device_limit_key(i);
    add("io", "io.max",
        t.device.text() + " rbps=" + max_or(t.limit.read_bps) +
            " wbps=" + max_or(t.limit.write_bps) + " riops=" + max_or(t.limit.read_iops) +
            " wiops=" + max_or(t.limit.write_iops),
        true, key.c_str())
        .missing_hint = kNoThrottleHint;
    kept.insert(t.device);
  }
  for (const DeviceNumber& d : io.current) {
    if (kept.count(d) == 0) {
      add("io", "io.max", d.text() + " rbps=max wbps=max riops=max wiops=max", false, "");
    }
  }
  return out;
}

}  // namespace bulkhead::cgroup
