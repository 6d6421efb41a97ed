// The cgroup2 limits writer: how config::Limits (profile keys in brackets) maps
// onto cgroup2 interface files.
//   memory_max      [limits.memory.max]  -> memory.max
//   memory_high     [limits.memory.high] -> memory.high
//   memory_swap_max [limits.memory.swap] -> memory.swap.max
//   pids_max        [limits.pids]        -> pids.max
//   cpu.quota_us    [limits.cpu.quota]   -> cpu.max "QUOTA PERIOD" ("max PERIOD" when unset)
//   cpu.weight      [limits.cpu.weight]  -> cpu.weight
//   io_weight       [limits.io.weight]   -> io.weight "default N" (blk-iocost), else
//                                           io.bfq.weight (BFQ scale, see below)
// An unset limit is written as the kernel default ("max", weight 100), so removing
// a limit from a profile on reload really removes it.
#pragma once

#include <cstdint>
#include <vector>

#include "cgroup/limits.h"
#include "config/profile.h"

namespace bulkhead::cgroup {

// cgroup2 weight (1..10000, default 100) to the BFQ scale (1..1000, default 100):
// identity up to the default, then linear so 10000 maps to 1000.
uint32_t io_weight_to_bfq_weight(uint32_t weight);

//   io_devices      [limits.io.devices]  -> io.max, one "MAJ:MIN rbps=.. wbps=.. riops=..
//                                           wiops=.." line per device ("max" unset);
//                                           devices in io.current not wanted are reset
std::vector<LimitWrite> render_v2_limits(const config::Limits& limits,
                                         const IoDeviceState& io = {});

}  // namespace bulkhead::cgroup
