// Decoding of the kernel's deny records (bpf/shared/net_policy.h) into the
// agent's event model: one kNetDeny event per record, its fields in schema
// form (docs/network.md lists them).
#pragma once

#include <linux/bpf.h>

#include <string>

#include "events/event.h"
#include "net_policy.h"

namespace bulkhead::net {

// `workload` is the name the caller resolved from rec.cgroup_id ("" unknown).
events::Event decode_deny_record(const bh_net_deny_record& rec, const std::string& tenant,
                                 const std::string& workload);

// CLOCK_BOOTTIME nanoseconds (what the kernel stamps) to CLOCK_REALTIME.
uint64_t boot_to_realtime_ns(uint64_t boot_ns);

}  // namespace bulkhead::net
