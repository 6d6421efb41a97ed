// The kernel event source: loads bpf/events.bpf.c, tells it which cgroups are
// tenants, reads its ring buffer and hands decoded events to an EventHandler.
//
// Single-threaded: create, track, poll and destroy from one thread (the
// agent's event loop). fd() is an epoll fd, readable when records wait or the
// batching timer is due (KernelSourceOptions::wakeup_interval_ms); then call
// consume().
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/profile.h"
#include "events/event.h"
#include "events/process_table.h"

namespace bulkhead::events {

struct KernelSourceOptions {
  // Also report processes outside tenant cgroups (tenant and workload empty).
  bool host_wide = false;
  // Ring buffer size: a power of two, at least one page. Tests shrink it to
  // force drops.
  uint32_t ring_bytes = 4U << 20;
  // Seed the process table from /proc (processes that existed before start).
  bool seed_processes = true;
  // Batching of reader wakeups (docs/events-sources.md, "Reading"): a record
  // wakes the reader only if none did in the last wakeup_interval_ms or the
  // unread data crosses a quarter of the ring; while records keep coming the
  // reader also reads every wakeup_interval_ms, so a record waits at most about
  // that long. 0: wake the reader for every record (the ring buffer's default).
  uint32_t wakeup_interval_ms = 10;
};

// A record may wait about one interval before it is read: at most half the
// event stream's latency bound (1 s), to leave room for scheduling delays.
inline constexpr uint32_t kMaxWakeupIntervalMs = 500;

struct TenantTracking {
  std::string name;
  std::string cgroup2_dir;  // the tenant's cgroup2 directory (workloads are its children)
  config::IdRange ids;
  bool all_opens = false;                    // report reads too, not only writes
  std::vector<std::string> sensitive_paths;  // absolute; reads of these (and below) are reported
};

class KernelEventSource {
 public:
  // Fails (closed) when the programs cannot load or attach, with the reason.
  static Result<std::unique_ptr<KernelEventSource>> create(const KernelSourceOptions& options,
                                                           EventHandler handler);
  ~KernelEventSource();
  KernelEventSource(const KernelEventSource&) = delete;
  KernelEventSource& operator=(const KernelEventSource&) = delete;

  // Starts reporting the tenant's processes. All tenants must sit at the same
  // depth of the cgroup2 tree (they do: <tree>/<tenant>); EEXIST for a name
  // already tracked.
  Status track_tenant(const TenantTracking& tenant);
  // Delivers what is pending, then stops; unknown names are a no-op.
  void untrack_tenant(const std::string& name);
  // Names the workload whose cgroup2 directory has this id (a child of a
  // tracked tenant's) in the events of its processes.
  void name_workload(uint64_t cgroup_id, const std::string& workload);
  // Delivers what is pending, then forgets the workload.
  void forget_workload(uint64_t cgroup_id);

  [[nodiscard]] int fd() const;
  // Delivers every pending record; returns how many events were delivered.
  Result<int> consume();
  // Waits up to timeout_ms for records, then delivers them.
  Result<int> poll(int timeout_ms);

  // Records the kernel could not queue since start, per event type (summed
  // over CPUs). Each increase is also delivered as one kDrop event.
  [[nodiscard]] const std::map<EventType, uint64_t>& dropped() const { return dropped_; }
  [[nodiscard]] uint64_t dropped_total() const;
  // Records that did not decode (a mismatched BPF object); logged, counted.
  [[nodiscard]] uint64_t malformed() const { return malformed_; }

  [[nodiscard]] ProcessTable& processes();

 private:
  struct Impl;
  explicit KernelEventSource(std::unique_ptr<Impl> impl);
  Status check_drops();
  Status rearm_timer(bool timer_fired, int records);

  std::unique_ptr<Impl> impl_;
  std::map<EventType, uint64_t> dropped_;
  uint64_t malformed_ = 0;
};

// Depth of a cgroup2 directory below the hierarchy's root (the root is 0),
// as bpf_get_current_ancestor_cgroup_id counts levels.
Result<int> cgroup2_level(const std::string& dir);

}  // namespace bulkhead::events
