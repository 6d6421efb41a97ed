// Counts execs per cgroup2 id, only for the cgroups listed in `tracked`
// (tenant workload cgroups); host processes cost one map lookup.
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

#include "exec_count.h"

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, BULKHEAD_MAX_TRACKED_CGROUPS);
  __type(key, __u64);   // cgroup2 id
  __type(value, __u64); // exec count
} exec_counts SEC(".maps");

SEC("tp/sched/sched_process_exec")
int count_exec(void* ctx) {
  __u64 cgid = bpf_get_current_cgroup_id();
  __u64* count = bpf_map_lookup_elem(&exec_counts, &cgid);
  if (count) {
    __sync_fetch_and_add(count, 1);
  }
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
