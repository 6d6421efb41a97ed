// Turns the raw records of bpf/events.bpf.c into events::Event: names the
// tenant and workload, adds the ids as the tenant sees them, names flags and
// errors, and keeps the process table current (exec, fork, exit).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/profile.h"
#include "events/event.h"
#include "events/process_table.h"

struct bh_event_header;
struct bh_exec_record;
struct bh_fork_record;
struct bh_exit_record;
struct bh_syscall_record;

namespace bulkhead::events {

struct TenantAttribution {
  std::string name;
  config::IdRange ids;  // host ids base..base+count-1 are tenant ids 0..count-1
};

class RecordDecoder {
 public:
  explicit RecordDecoder(ProcessTable& processes) : processes_(processes) {}

  void set_tenant(uint32_t slot, TenantAttribution tenant) { tenants_[slot] = std::move(tenant); }
  void remove_tenant(uint32_t slot) { tenants_.erase(slot); }
  // Bounded: past kMaxWorkloadNames the oldest names go (cgroup ids only grow,
  // so the smallest ids are the workloads that ended longest ago).
  void set_workload(uint64_t cgroup_id, std::string name);
  static constexpr size_t kMaxWorkloadNames = 8192;
  void remove_workload(uint64_t cgroup_id) { workloads_.erase(cgroup_id); }
  // CLOCK_REALTIME minus CLOCK_BOOTTIME, to date records stamped with the boot clock.
  void set_clock_offset(int64_t realtime_minus_boot_ns) { clock_offset_ = realtime_minus_boot_ns; }

  // An error for a record that is too short or of an unknown kind (a build of
  // the BPF object that does not match this decoder).
  Result<Event> decode(const void* data, size_t size);

 private:
  Event header_event(const bh_event_header& h) const;
  Event decode_exec(const bh_exec_record& r);
  Event decode_fork(const bh_fork_record& r);
  Event decode_exit(const bh_exit_record& r);
  Event decode_syscall(const bh_syscall_record& r);

  ProcessTable& processes_;
  std::map<uint32_t, TenantAttribution> tenants_;
  std::map<uint64_t, std::string> workloads_;
  int64_t clock_offset_ = 0;
  // A whole bh_syscall_record to widen the cut records the kernel sends into.
  std::vector<uint64_t> syscall_scratch_;
};

// Tenant id for a host id: host − base inside the tenant's range; outside it
// the tenant sees the overflow id 65534, as the kernel shows unmapped ids.
uint32_t inside_id(const config::IdRange& ids, uint32_t host_id);

}  // namespace bulkhead::events
