/* Maps, the tenant filter, record headers and drop accounting shared by the
 * programs of bpf/events.bpf.c. Include after vmlinux.h and the libbpf headers. */
#ifndef BULKHEAD_BPF_EVENTS_COMMON_H
#define BULKHEAD_BPF_EVENTS_COMMON_H

#include "events.h"

/* Host-wide mode: processes outside tenant cgroups produce events too. */
const volatile bool host_wide = false;

/* cgroup2 level of the tenant cgroups (<root>/<tree>/<tenant> is level 2),
 * written by the loader before it tracks the first tenant. 0 matches nothing:
 * level 0 is the root cgroup, which is never tracked. */
__u32 tenant_level = 0;

/* How many tracked tenants want read-only opens too (all_opens or sensitive
 * paths), kept by the loader. While it is 0 a read-only open is dismissed on
 * its flags alone, before the cgroup filter: opens are the most frequent
 * watched call, and most are reads. */
__u32 read_opens_wanted = 0;

/* Tenant cgroup2 id -> its slot and options. Keyed by the tenant, not the
 * workload: the tenant's cgroup exists before a workload starts, so the
 * workload's first instructions are already covered (a workload's cgroup is
 * created and entered inside the launch, before the agent could insert it). */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, BH_MAX_TENANTS);
  __type(key, __u64);
  __type(value, struct bh_tenant);
} tenants SEC(".maps");

/* Workload cgroups in which tenant code has started (a first exec). Before it,
 * only the agent's own sandbox set-up runs there (setns, mounts, setresuid of
 * the launch), which is not the tenant's doing and is not reported. LRU so
 * ids of removed cgroups the agent did not delete can never fill it. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, BH_MAX_ARMED);
  __type(key, __u64);
  __type(value, __u8);
} armed SEC(".maps");

/* Path prefixes a tenant's profile marks sensitive (see bh_sensitive_key). */
struct {
  __uint(type, BPF_MAP_TYPE_LPM_TRIE);
  __uint(max_entries, BH_MAX_SENSITIVE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, struct bh_sensitive_key);
  __type(value, __u8);
} sensitive_paths SEC(".maps");

/* Scratch for building an LPM key (too big for the 512-byte stack). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct bh_sensitive_key);
} lpm_scratch SEC(".maps");

/* The loader may shrink or grow it before load (bpf_map__set_max_entries). */
struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, BH_DEFAULT_RING_BYTES);
} events SEC(".maps");

/* Where bh_sys_exit builds its record before bh_output copies the used part
 * (too big for the 512-byte stack). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct bh_syscall_record);
} syscall_scratch SEC(".maps");

/* Records the ring buffer had no room for, per CPU and per event type. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, BH_DROP_SLOTS);
  __type(key, __u32);
  __type(value, __u64);
} drops SEC(".maps");

/* Who the current task is, as far as the filter is concerned. */
struct bh_who {
  __u64 workload;
  __u32 slot;
  __u32 flags;
};

/* The cgroup filter every program runs before anything else costs a reader:
 * one helper call and one hash lookup for a host process. `arm` (exec only)
 * marks the workload as running tenant code. */
static __always_inline bool bh_admit(struct bh_who* who, bool arm) {
  __u64 tenant_cg = bpf_get_current_ancestor_cgroup_id(tenant_level);
  struct bh_tenant* t = bpf_map_lookup_elem(&tenants, &tenant_cg);
  if (!t) {
    who->workload = 0;
    who->slot = 0;
    who->flags = 0;
    return host_wide;
  }
  who->slot = t->slot;
  who->flags = t->flags;
  who->workload = bpf_get_current_ancestor_cgroup_id(tenant_level + 1);
  if (arm) {
    __u8 one = 1;
    bpf_map_update_elem(&armed, &who->workload, &one, BPF_NOEXIST);
    return true;
  }
  return bpf_map_lookup_elem(&armed, &who->workload) != NULL;
}

/* Wakeup policy of the reader (docs/events-sources.md, "Reading").
 *
 * Waking the reader costs the producing task an interrupt (irq_work, an IPI:
 * in a virtual machine a trap to the hypervisor) plus, on the reader's side, a
 * context switch; with the ring buffer's default policy that happens for every
 * record the reader has not yet caught up with, which at a few microseconds
 * per syscall doubled the cost of an open that becomes an event. Instead a
 * record wakes the reader only when
 *   - no wakeup was sent in the last wakeup_interval_ns (so the first record
 *     after a quiet spell still wakes it at once), or
 *   - the unread data crosses wakeup_bytes (a burst is read before it fills
 *     the ring).
 * Every other record is committed silently; the reader, once woken, keeps
 * reading on a wakeup_interval_ns timer while records keep coming, so none
 * waits longer than about that interval. wakeup_interval_ns = 0 restores a
 * wakeup for every record. Written by the loader before load. */
const volatile __u64 wakeup_interval_ns = 0;
const volatile __u64 wakeup_bytes = 0;

/* bpf_ktime_get_boot_ns() of the last wakeup (the clock the record headers
 * already read); racy across CPUs by design: two
 * CPUs that both decide to wake cost one extra wakeup, nothing is lost. */
__u64 last_wakeup_ns = 0;

/* The wakeup flag for a record of `size` bytes written at boot time `now`
 * (its header's boot_ns); `in_ring`: already reserved in the ring. */
static __always_inline __u64 bh_wakeup_flag(__u64 size, __u64 now, bool in_ring) {
  if (wakeup_interval_ns == 0) {
    return 0;
  }
  /* Unread bytes, this record (8-byte header, 8-byte rounding) included. */
  __u64 mine = (size + 8 + 7) & ~7ULL;
  __u64 avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + (in_ring ? 0 : mine);
  bool crossed = avail >= wakeup_bytes && avail < wakeup_bytes + mine;
  if (crossed || now - last_wakeup_ns >= wakeup_interval_ns) {
    last_wakeup_ns = now;
    return BPF_RB_FORCE_WAKEUP;
  }
  return BPF_RB_NO_WAKEUP;
}

/* Commits a record from bh_reserve(size, ...) under the wakeup policy above. */
static __always_inline void bh_submit(void* rec, __u64 size) {
  __u64 now = ((struct bh_event_header*)rec)->boot_ns;
  bpf_ringbuf_submit(rec, bh_wakeup_flag(size, now, true));
}

/* Reserves a record or counts it as dropped; never silent. */
static __always_inline void* bh_reserve(__u64 size, __u32 type) {
  void* rec = bpf_ringbuf_reserve(&events, size, 0);
  if (!rec) {
    __u32 key = type < BH_DROP_SLOTS ? type : BH_DROP_SLOTS - 1;
    __u64* count = bpf_map_lookup_elem(&drops, &key);
    if (count) {
      __sync_fetch_and_add(count, 1);
    }
  }
  return rec;
}

/* Copies a record built elsewhere into the ring buffer, or counts it as
 * dropped; the wakeup is decided as for bh_submit. */
static __always_inline void bh_output(void* rec, __u64 size, __u32 type) {
  __u64 now = ((struct bh_event_header*)rec)->boot_ns;
  __u64 flag = bh_wakeup_flag(size, now, false);
  if (bpf_ringbuf_output(&events, rec, size, flag) != 0) {
    __u32 key = type < BH_DROP_SLOTS ? type : BH_DROP_SLOTS - 1;
    __u64* count = bpf_map_lookup_elem(&drops, &key);
    if (count) {
      __sync_fetch_and_add(count, 1);
    }
  }
}

static __always_inline void bh_fill_header(struct bh_event_header* h, const struct bh_who* who,
                                           __u16 kind, __u16 type) {
  /* A BTF pointer: its fields are plain loads, not one helper call each. */
  struct task_struct* task = bpf_get_current_task_btf();
  const struct cred* cred = task->cred;
  h->boot_ns = bpf_ktime_get_boot_ns();
  h->workload_cgroup = who->workload;
  h->tenant_slot = who->slot;
  h->kind = kind;
  h->type = type;
  h->pid = task->tgid;
  h->tid = task->pid;
  h->ppid = task->real_parent->tgid;
  h->uid = cred->uid.val;
  h->gid = cred->gid.val;
  h->euid = cred->euid.val;
  h->egid = cred->egid.val;
  __builtin_memcpy(h->comm, task->comm, sizeof(h->comm));
}

/* The struct file behind `fd` of the current task, or NULL. */
static __always_inline struct file* bh_fd_file(__u64 fd) {
  struct task_struct* task = (struct task_struct*)bpf_get_current_task();
  struct fdtable* fdt = BPF_CORE_READ(task, files, fdt);
  unsigned int max = BPF_CORE_READ(fdt, max_fds);
  if (fd >= max) {
    return NULL;
  }
  struct file** fds = BPF_CORE_READ(fdt, fd);
  struct file* file = NULL;
  bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
  return file;
}

/* The last component of the file behind `fd` ("memfd:x", "module.ko"); the
 * bytes copied, NUL included, or 0. */
static __always_inline long bh_fd_name(__u64 fd, char* out) {
  struct file* file = bh_fd_file(fd);
  if (!file) {
    return 0;
  }
  const unsigned char* name = BPF_CORE_READ(file, f_path.dentry, d_name.name);
  long n = bpf_probe_read_kernel_str(out, BH_PATH_MAX, name);
  return n > 0 ? n : 0;
}

#endif
