/* Records of bpf/events.bpf.c, read by agent/events: plain C, fixed widths.
 *
 * Every record starts with bh_event_header; `kind` says which struct follows.
 * The kernel decides what is worth a record and copies raw values (syscall
 * arguments, user strings); agent/events/record_decoder.cc turns them into
 * events::Event (names of flags, addresses, tenant names, inside ids).
 */
#ifndef BULKHEAD_SHARED_EVENTS_H
#define BULKHEAD_SHARED_EVENTS_H

#define BH_MAX_TENANTS 1024      /* tracked tenant cgroups */
#define BH_MAX_ARMED 8192        /* workload cgroups that have exec'd tenant code */
#define BH_PATH_MAX 256          /* one user path, NUL included */
#define BH_EXTRA_MAX 128         /* sockaddr, fstype, capset data, open_how */
#define BH_ARGS_MAX 1024         /* argv, NUL-separated */
#define BH_CWD_DEPTH 16          /* cwd components */
#define BH_CWD_NAME_MAX 64       /* one cwd component, NUL included */
#define BH_SENSITIVE_KEY_MAX 256 /* LPM key data: 4-byte tenant slot + path */
#define BH_MAX_SENSITIVE 4096    /* sensitive path prefixes, all tenants */
#define BH_DROP_SLOTS 32         /* per-CPU drop counters, indexed by event type */
#define BH_DEFAULT_RING_BYTES (4u << 20)

/* Record kinds. */
#define BH_REC_EXEC 1
#define BH_REC_FORK 2
#define BH_REC_EXIT 3
#define BH_REC_SYSCALL 4

/* Tenant flags (bh_tenant.flags). */
#define BH_TENANT_ALL_OPENS 1u /* report every open, not only writes */
#define BH_TENANT_SENSITIVE 2u /* has entries in sensitive_paths */

/* bh_event_header.type: the value of events::EventType (agent/events/event.h);
 * record_decoder.cc checks the two agree at compile time. */
#define BH_EV_PROCESS_EXEC 0
#define BH_EV_PROCESS_FORK 1
#define BH_EV_PROCESS_EXIT 2
#define BH_EV_FILE_OPEN 3
#define BH_EV_FILE_UNLINK 4
#define BH_EV_FILE_RENAME 5
#define BH_EV_FILE_CHMOD 6
#define BH_EV_FILE_CHOWN 7
#define BH_EV_NET_CONNECT 8
#define BH_EV_NET_BIND 9
#define BH_EV_NET_LISTEN 10
#define BH_EV_NET_ACCEPT 11
#define BH_EV_PRIV_SETUID 13
#define BH_EV_PRIV_SETGID 14
#define BH_EV_PRIV_CAPSET 15
#define BH_EV_PTRACE 16
#define BH_EV_MOUNT 17
#define BH_EV_UMOUNT 18
#define BH_EV_UNSHARE 19
#define BH_EV_SETNS 20
#define BH_EV_BPF 21
#define BH_EV_MODULE_LOAD 22
#define BH_EV_MEMFD_CREATE 23

struct bh_tenant {
  __u32 slot;  /* the agent's index of the tenant, never 0 */
  __u32 flags; /* BH_TENANT_* */
};

/* Key of the sensitive_paths LPM trie: the tenant's slot (big-endian, so the
 * trie compares it first) then the path prefix, both counted in prefixlen. */
struct bh_sensitive_key {
  __u32 prefixlen; /* bits */
  __u8 data[BH_SENSITIVE_KEY_MAX];
};

struct bh_sensitive_value {
  __u32 path_len; /* bytes of the prefix path, without NUL */
};

struct bh_event_header {
  __u64 boot_ns;         /* bpf_ktime_get_boot_ns() */
  __u64 workload_cgroup; /* cgroup2 id at the workload level, 0 for host processes */
  __u32 tenant_slot;     /* 0: a host process (host-wide mode) */
  __u16 kind;            /* BH_REC_* */
  __u16 type;            /* BH_EV_* */
  __u32 pid;             /* host tgid */
  __u32 tid;
  __u32 ppid;                 /* real parent's tgid */
  __u32 uid, gid, euid, egid; /* host ids */
  char comm[16];
};

struct bh_exec_record {
  struct bh_event_header h;
  __u32 args_len; /* bytes copied into args */
  __u8 args_truncated;
  __u8 fileless;     /* the executed file has no link left (memfd, deleted) */
  __u8 cwd_complete; /* the walk reached the root */
  __u8 cwd_depth;    /* components in cwd[], innermost first */
  __u32 by_fd;       /* execveat of a file descriptor (linux_binprm.fdpath set) */
  __u32 pad;
  char filename[BH_PATH_MAX]; /* as passed to exec (linux_binprm.filename) */
  char args[BH_ARGS_MAX];
  char cwd[BH_CWD_DEPTH][BH_CWD_NAME_MAX];
};

struct bh_fork_record {
  struct bh_event_header h; /* the parent */
  __u64 clone_flags;
  __u32 child_pid;
  __s32 syscall_nr; /* clone, clone3, fork or vfork */
};

struct bh_exit_record {
  struct bh_event_header h;
  __u32 exit_code; /* task->exit_code: (status << 8) | core_dump_bit | signal */
  __u32 pad;
};

/* One watched system call, taken at its exit. Which argument went into path[0],
 * path[1] and extra depends on the call (record_decoder.cc, docs/events-sources.md). */
struct bh_syscall_record {
  struct bh_event_header h;
  __s64 nr;
  __s64 ret;
  __u64 args[6];
  __u32 extra_len; /* bytes valid in extra */
  __u32 pad;
  char path[2][BH_PATH_MAX];
  __u8 extra[BH_EXTRA_MAX];
};

#endif
