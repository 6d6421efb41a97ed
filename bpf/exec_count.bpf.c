// Counts execs per cgroup2 id, only for the cgroups listed in `exec_counts`
// (tenant workload cgroups, inserted by the loader with a count of 0); host
// processes cost one map lookup.
//
// raw_tp rather than tp/: it attaches by tracepoint name through bpf(), so it
// needs neither tracefs mounted nor BTF, and it runs on every kernel since 4.17.
// The hook fires once per successful execve/execveat, in the new image's task.

// vmlinux.h must come first: libbpf's helpers rely on its types.
// clang-format off
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>

#include "exec_count.h"
// clang-format on

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, BULKHEAD_MAX_TRACKED_CGROUPS);
  __type(key, __u64);    // cgroup2 id (kernfs id of the directory)
  __type(value, __u64);  // successful execs since the cgroup was tracked
} exec_counts SEC(".maps");

SEC("raw_tp/sched_process_exec")
int count_exec(void* ctx) {
  __u64 cgid = bpf_get_current_cgroup_id();
  __u64* count = bpf_map_lookup_elem(&exec_counts, &cgid);
  if (count) {
    __sync_fetch_and_add(count, 1);
  }
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
