#include "cgroup/limits_v1.h"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <set>

#include "cgroup/limits_v2.h"
#include "common/file_util.h"

namespace bulkhead::cgroup {
namespace {

constexpr uint64_t kMinShares = 2;
constexpr uint64_t kMaxShares = 262144;
constexpr uint32_t kMinBlkioWeight = 10;
constexpr uint32_t kDefaultBlkioWeight = 500;
constexpr uint32_t kMaxBlkioWeight = 1000;
// Page counters saturate at PAGE_COUNTER_MAX pages; anything at or above 2^62
// bytes is "unlimited" whatever the page size.
constexpr uint64_t kV1UnlimitedThreshold = uint64_t{1} << 62;

std::string bytes_or_unlimited(uint64_t v) {
  return v == kV1Unlimited ? std::string("-1") : std::to_string(v);
}

LimitWrite make(const char* controller, const char* file, std::string value, bool set,
                const char* limit) {
  LimitWrite w;
  w.controller = controller;
  w.file = file;
  w.value = std::move(value);
  if (set) {
    w.limit = limit;
  }
  return w;
}

}  // namespace

uint64_t weight_to_shares(uint32_t weight) {
  return std::clamp<uint64_t>(uint64_t{weight} * 1024 / 100, kMinShares, kMaxShares);
}

uint32_t io_weight_to_blkio_weight(uint32_t weight) {
  weight = std::clamp<uint32_t>(weight, 1, kMaxWeight);
  if (weight <= kDefaultWeight) {
    return kMinBlkioWeight +
           (weight - 1) * (kDefaultBlkioWeight - kMinBlkioWeight) / (kDefaultWeight - 1);
  }
  return kDefaultBlkioWeight + (weight - kDefaultWeight) * (kMaxBlkioWeight - kDefaultBlkioWeight) /
                                   (kMaxWeight - kDefaultWeight);
}

Result<uint64_t> parse_v1_bytes(const std::string& text) {
  std::string t = trim(text);
  if (t == "-1" || t == "max") {
    return kV1Unlimited;
  }
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || ptr != t.data() + t.size() || t.empty()) {
    return make_error("not a byte count: '" + t + "'");
  }
  return v >= kV1UnlimitedThreshold ? kV1Unlimited : v;
}

Result<std::vector<LimitWrite>> render_v1_limits(const config::Limits& limits,
                                                 uint64_t current_memsw, const IoDeviceState& io) {
  std::vector<LimitWrite> out;

  // memory: memsw (memory+swap) must never be below the memory limit.
  const uint64_t mem = limits.memory_max.value_or(kV1Unlimited);
  uint64_t memsw = kV1Unlimited;
  if (limits.memory_swap_max) {
    if (!limits.memory_max) {
      return make_error(
          "limit limits.memory.swap needs limits.memory.max on cgroup v1 "
          "(memory.memsw.limit_in_bytes "
          "limits memory and swap together)");
    }
    memsw =
        *limits.memory_swap_max > kV1Unlimited - mem ? kV1Unlimited : mem + *limits.memory_swap_max;
  }
  LimitWrite w_mem = make("memory", "memory.limit_in_bytes", bytes_or_unlimited(mem),
                          limits.memory_max.has_value(), "limits.memory.max");
  LimitWrite w_memsw = make("memory", "memory.memsw.limit_in_bytes", bytes_or_unlimited(memsw),
                            limits.memory_swap_max.has_value(), "limits.memory.swap");
  w_memsw.missing_hint =
      "no swap accounting (kernel without CONFIG_MEMCG_SWAP or booted with "
      "swapaccount=0)";
  if (mem <= current_memsw) {
    out.push_back(std::move(w_mem));  // fits under the old memsw: lower/raise memory first
    out.push_back(std::move(w_memsw));
  } else {
    out.push_back(std::move(w_memsw));  // raising memory above the old memsw: memsw first
    out.push_back(std::move(w_mem));
  }
  out.push_back(make("memory", "memory.soft_limit_in_bytes",
                     bytes_or_unlimited(limits.memory_high.value_or(kV1Unlimited)),
                     limits.memory_high.has_value(), "limits.memory.high"));

  out.push_back(make("pids", "pids.max",
                     limits.pids_max ? std::to_string(*limits.pids_max) : std::string("max"),
                     limits.pids_max.has_value(), "limits.pids"));

  const config::CpuLimit& cpu = limits.cpu;
  LimitWrite w_period = make("cpu", "cpu.cfs_period_us", std::to_string(cpu.period_us),
                             cpu.quota_us.has_value(), "limits.cpu.quota");
  LimitWrite w_quota = make("cpu", "cpu.cfs_quota_us",
                            cpu.quota_us ? std::to_string(*cpu.quota_us) : std::string("-1"),
                            cpu.quota_us.has_value(), "limits.cpu.quota");
  if (cpu.quota_us) {
    out.push_back(std::move(w_period));
    out.push_back(std::move(w_quota));
  } else {
    out.push_back(std::move(w_quota));
    out.push_back(std::move(w_period));
  }
  out.push_back(make("cpu", "cpu.shares",
                     std::to_string(weight_to_shares(cpu.weight.value_or(kDefaultWeight))),
                     cpu.weight.has_value(), "limits.cpu.weight"));

  const uint32_t weight = limits.io_weight.value_or(kDefaultWeight);
  LimitWrite w_io = make("io", "blkio.weight", std::to_string(io_weight_to_blkio_weight(weight)),
                         limits.io_weight.has_value(), "limits.io.weight");
  w_io.alt_file = "blkio.bfq.weight";
  w_io.alt_value = std::to_string(io_weight_to_bfq_weight(weight));
  w_io.missing_hint = "no io weight support: neither CFQ (blkio.weight) nor BFQ (blkio.bfq.weight)";
  out.push_back(std::move(w_io));

  // One rule per device and file; 0 is "no limit" (it removes the rule).
  std::set<DeviceNumber> kept;
  for (size_t i = 0; i < io.wanted.size(); ++i) {
    const IoThrottle& t = io.wanted[i];
    const std::string key = io_device_limit_key(i);
    // In the order of kV1ThrottleFiles.
    const std::optional<uint64_t>* values[] = {&t.limit.read_bps, &t.limit.write_bps,
                                               &t.limit.read_iops, &t.limit.write_iops};
    static_assert(std::size(values) == std::size(kV1ThrottleFiles));
    for (size_t f = 0; f < std::size(values); ++f) {
      LimitWrite w =
          make("io", kV1ThrottleFiles[f],
               t.device.text() + " " + std::to_string(values[f]->value_or(0)), true, key.c_str());
      w.missing_hint = "the kernel has no block I/O throttling (CONFIG_BLK_DEV_THROTTLING)";
      out.push_back(std::move(w));
    }
    kept.insert(t.device);
  }
  for (const DeviceNumber& d : io.current) {
    if (kept.count(d) != 0) {
      continue;
    }
    for (const char* file : kV1ThrottleFiles) {
      out.push_back(make("io", file, d.text() + " 0", false, ""));
    }
  }
  return out;
}

}  // namespace bulkhead::cgroup
