// The cgroup v1 limits writer (hybrid hosts): how config::Limits (profile keys in
// brackets) maps onto the v1 memory, pids, cpu and blkio hierarchies.
//   memory_max      [limits.memory.max]  -> memory.limit_in_bytes
//   memory_high     [limits.memory.high] -> memory.soft_limit_in_bytes. An
//                      approximation: v1 has no throttling limit; the soft limit only
//                      makes the group the first target of reclaim under global
//                      memory pressure, it never throttles or stops the group.
//   memory_swap_max [limits.memory.swap] -> memory.memsw.limit_in_bytes = max + swap
//                      (v1 limits memory+swap together, so limits.memory.max is
//                      required; a missing memsw file means no swap accounting: an
//                      error).
//   pids_max        [limits.pids]        -> pids.max
//   cpu.quota_us    [limits.cpu.quota]   -> cpu.cfs_period_us, cpu.cfs_quota_us (-1 unset)
//   cpu.weight      [limits.cpu.weight]  -> cpu.shares = weight * 1024 / 100, clamped
//                                           to 2..262144 (100 -> 1024, both defaults)
//   io_weight       [limits.io.weight]   -> blkio.weight (10..1000, CFQ kernels before
//                                           5.0) or blkio.bfq.weight (1..1000)
// An unset limit is written as the kernel default (-1, "max", 1024 shares, ...).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cgroup/limits.h"
#include "common/result.h"
#include "config/profile.h"

namespace bulkhead::cgroup {

// The blkio files that hold per-device throttles, read back to find current rules.
inline constexpr const char* kV1ThrottleFiles[] = {
    "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
    "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};

// Value of an unlimited v1 memory counter when written (-1 reads back as a huge number).
inline constexpr uint64_t kV1Unlimited = UINT64_MAX;

uint64_t weight_to_shares(uint32_t weight);
// cgroup2 io weight (1..10000, default 100) to blkio.weight (10..1000, default 500):
// piecewise linear so minimum, default and maximum map onto each other.
uint32_t io_weight_to_blkio_weight(uint32_t weight);
// Parses a v1 byte counter as read ("9223372036854771712" = unlimited -> kV1Unlimited).
Result<uint64_t> parse_v1_bytes(const std::string& text);

// `current_memsw` is the group's memory.memsw.limit_in_bytes now (kV1Unlimited
// when unlimited or absent): memsw must stay >= memory.limit_in_bytes at every
// step, so the two are written in the order that keeps that true.
//   io_devices      [limits.io.devices]  -> blkio.throttle.{read,write}_{bps,iops}_device,
//                                           "MAJ:MIN N" in each (0 removes the rule);
//                                           devices in io.current not wanted get 0
Result<std::vector<LimitWrite>> render_v1_limits(const config::Limits& limits,
                                                 uint64_t current_memsw,
                                                 const IoDeviceState& io = {});

}  // namespace bulkhead::cgroup
