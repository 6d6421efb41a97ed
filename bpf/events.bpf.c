// The kernel event stream: process exec/fork/exit and the security-relevant
// system calls of tenant processes, as records in one BPF ring buffer
// (layouts in bpf/shared/events.h; agent/events decodes them).
//
// Hooks, all raw tracepoints: they attach through bpf() (by name, or by BTF id
// for tp_btf/), need neither tracefs nor the perf trace buffer the tp/ flavour
// fills before the program runs, and exist on every kernel this agent supports.
//   raw_tp/sched_process_exec  exe, argv, cwd, fileless and by-fd markers (new image's task)
//   raw_tp/sched_process_fork  child pid, clone flags from the caller's registers
//   raw_tp/sched_process_exit  exit code and signal, once per process (last thread)
//   tp_btf/sys_exit            every other event, dispatched on the syscall number
// sys_exit runs after every system call of every task, so it is the BTF-typed
// flavour of the same raw tracepoint: its registers argument is a typed kernel
// pointer whose fields are plain loads instead of one probe-read helper call
// each (the same BTF the CO-RE relocations already need).
//
// System calls are taken at sys_exit only, with their arguments re-read from
// the saved user registers (the kernel does not clobber them). One program
// instead of an enter/exit pair: no per-task scratch map to fill and clean up,
// nothing leaked when a task dies inside a call, and calls that seccomp refused
// are still seen: seccomp runs before the sys_enter tracepoint, so an
// enter-based design never sees a denied mount or ptrace, while sys_exit fires
// with the -EPERM the filter returned. The price is that user strings are read
// after the call rather than before; both are a copy of memory the caller
// controls, so both are open to the same time-of-check race (docs/events-sources.md).
//
// Cost: the filter (bh_admit: one helper call, one hash lookup) is the first
// thing every program does. The sys_exit program alone first compares the
// syscall number with the watched set, because for the many calls nobody
// watches (read, write, futex...) that comparison is cheaper than the lookup
// and makes them cost nothing more than reading one register; and it dismisses
// read-only opens on their flags while no tenant asked for reads.

// vmlinux.h must come first: libbpf's helpers rely on its types.
// clang-format off
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "events.h"
#include "events_common.h"
#include "events_cwd.h"
#include "events_sock.h"
// clang-format on

#ifndef __TARGET_ARCH_x86
#error "syscall numbers below are x86_64's; add the table for this architecture"
#endif

// x86_64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl).
#define NR_open 2
#define NR_connect 42
#define NR_accept 43
#define NR_bind 49
#define NR_listen 50
#define NR_clone 56
#define NR_fork 57
#define NR_vfork 58
#define NR_execve 59
#define NR_rename 82
#define NR_creat 85
#define NR_unlink 87
#define NR_chmod 90
#define NR_fchmod 91
#define NR_chown 92
#define NR_fchown 93
#define NR_lchown 94
#define NR_ptrace 101
#define NR_setuid 105
#define NR_setgid 106
#define NR_setreuid 113
#define NR_setregid 114
#define NR_setresuid 117
#define NR_setresgid 119
#define NR_setfsuid 122
#define NR_setfsgid 123
#define NR_capset 126
#define NR_mount 165
#define NR_umount2 166
#define NR_init_module 175
#define NR_openat 257
#define NR_fchownat 260
#define NR_unlinkat 263
#define NR_renameat 264
#define NR_fchmodat 268
#define NR_unshare 272
#define NR_accept4 288
#define NR_setns 308
#define NR_finit_module 313
#define NR_renameat2 316
#define NR_memfd_create 319
#define NR_bpf 321
#define NR_execveat 322
#define NR_clone3 435
#define NR_openat2 437
#define NR_fchmodat2 452

#define BH_O_WRONLY 01
#define BH_O_RDWR 02
#define BH_O_CREAT 0100
#define BH_O_TRUNC 01000
#define BH_WRITE_OPEN (BH_O_WRONLY | BH_O_RDWR | BH_O_CREAT | BH_O_TRUNC)
#define BH_CLONE_THREAD 0x00010000
#define BH_CLONE_VM 0x00000100
#define BH_CLONE_VFORK 0x00004000

// The event type of a watched call, or -1.
static __always_inline int watched_type(long nr) {
  switch (nr) {
    case NR_open:
    case NR_openat:
    case NR_openat2:
    case NR_creat:
      return BH_EV_FILE_OPEN;
    case NR_unlink:
    case NR_unlinkat:
      return BH_EV_FILE_UNLINK;
    case NR_rename:
    case NR_renameat:
    case NR_renameat2:
      return BH_EV_FILE_RENAME;
    case NR_chmod:
    case NR_fchmod:
    case NR_fchmodat:
    case NR_fchmodat2:
      return BH_EV_FILE_CHMOD;
    case NR_chown:
    case NR_fchown:
    case NR_lchown:
    case NR_fchownat:
      return BH_EV_FILE_CHOWN;
    case NR_connect:
      return BH_EV_NET_CONNECT;
    case NR_bind:
      return BH_EV_NET_BIND;
    case NR_listen:
      return BH_EV_NET_LISTEN;
    case NR_accept:
    case NR_accept4:
      return BH_EV_NET_ACCEPT;
    case NR_setuid:
    case NR_setreuid:
    case NR_setresuid:
    case NR_setfsuid:
      return BH_EV_PRIV_SETUID;
    case NR_setgid:
    case NR_setregid:
    case NR_setresgid:
    case NR_setfsgid:
      return BH_EV_PRIV_SETGID;
    case NR_capset:
      return BH_EV_PRIV_CAPSET;
    case NR_ptrace:
      return BH_EV_PTRACE;
    case NR_mount:
      return BH_EV_MOUNT;
    case NR_umount2:
      return BH_EV_UMOUNT;
    case NR_unshare:
      return BH_EV_UNSHARE;
    case NR_setns:
      return BH_EV_SETNS;
    case NR_bpf:
      return BH_EV_BPF;
    case NR_init_module:
    case NR_finit_module:
      return BH_EV_MODULE_LOAD;
    case NR_memfd_create:
      return BH_EV_MEMFD_CREATE;
    default:
      return -1;
  }
}

// Whether an open is reported: writes always; reads when the tenant asked for
// all opens or the path is under one of its sensitive prefixes. The path of a
// sensitive read is left in the per-CPU scratch key (data + 4) for the record.
static __always_inline bool want_open(const struct bh_who* who, __u64 flags, __u64 path_ptr,
                                      struct bh_sensitive_key** matched) {
  *matched = NULL;
  if ((flags & BH_WRITE_OPEN) || (who->flags & BH_TENANT_ALL_OPENS)) {
    return true;
  }
  if (!(who->flags & BH_TENANT_SENSITIVE)) {
    return false;
  }
  __u32 zero = 0;
  struct bh_sensitive_key* key = bpf_map_lookup_elem(&lpm_scratch, &zero);
  if (!key) {
    return false;
  }
  // Slot big-endian first, then the path with its NUL: entries are "P\0"
  // (exactly P) and "P/" (under P), so the longest-prefix match never takes
  // "/etc/sshd" for "/etc/ssh".
  key->data[0] = who->slot >> 24;
  key->data[1] = who->slot >> 16;
  key->data[2] = who->slot >> 8;
  key->data[3] = who->slot;
  long len = bpf_probe_read_user_str(key->data + 4, BH_SENSITIVE_KEY_MAX - 4, (void*)path_ptr);
  if (len <= 0) {
    return false;
  }
  key->prefixlen = (__u32)(4 + len) * 8;
  if (!bpf_map_lookup_elem(&sensitive_paths, key)) {
    return false;
  }
  *matched = key;
  return true;
}

// The bytes copied, NUL included; 0 when nothing could be read.
static __always_inline long read_path(char* dst, __u64 ptr) {
  long n = bpf_probe_read_user_str(dst, BH_PATH_MAX, (const void*)ptr);
  return n > 0 ? n : 0;
}

static __always_inline void read_extra_str(struct bh_syscall_record* rec, __u64 ptr) {
  long n = bpf_probe_read_user_str(rec->extra, BH_EXTRA_MAX, (const void*)ptr);
  rec->extra_len = n > 0 ? n : 0;
}

static __always_inline void read_extra(struct bh_syscall_record* rec, __u64 ptr, __u64 len) {
  __u32 n = len > BH_EXTRA_MAX ? BH_EXTRA_MAX : (__u32)len;
  if (n > 0 && bpf_probe_read_user(rec->extra, n, (const void*)ptr) == 0) {
    rec->extra_len = n;
  }
}

SEC("tp_btf/sys_exit")
int BPF_PROG(bh_sys_exit, struct pt_regs* regs, long ret) {
  long nr = regs->orig_ax;
  int type = watched_type(nr);
  if (type < 0) {
    return 0;
  }
  if (type == BH_EV_FILE_OPEN && read_opens_wanted == 0) {
    __u64 flags = BH_WRITE_OPEN;  // creat; openat2 keeps its flags in user memory
    if (nr == NR_openat) {
      flags = regs->dx;
    } else if (nr == NR_open) {
      flags = regs->si;
    }
    if (!(flags & BH_WRITE_OPEN)) {
      return 0;
    }
  }
  struct bh_who who;
  if (!bh_admit(&who, false)) {
    return 0;
  }
  // The x86_64 syscall ABI's argument registers.
  __u64 a[6] = {regs->di, regs->si, regs->dx, regs->r10, regs->r8, regs->r9};

  struct bh_sensitive_key* sensitive = NULL;
  __u64 open_how[3] = {};
  if (type == BH_EV_FILE_OPEN) {
    __u64 flags = 0;
    __u64 path = a[1];
    if (nr == NR_open) {
      flags = a[1];
      path = a[0];
    } else if (nr == NR_creat) {
      flags = BH_O_CREAT | BH_O_WRONLY | BH_O_TRUNC;
      path = a[0];
    } else if (nr == NR_openat) {
      flags = a[2];
    } else {
      bpf_probe_read_user(open_how, sizeof(open_how), (const void*)a[2]);
      flags = open_how[0];
    }
    if (!want_open(&who, flags, path, &sensitive)) {
      return 0;
    }
  }

  // Built in a per-CPU scratch record, then copied into the ring buffer cut
  // after its last used byte (see bh_syscall_record).
  __u32 zero = 0;
  struct bh_syscall_record* rec = bpf_map_lookup_elem(&syscall_scratch, &zero);
  if (!rec) {
    return 0;
  }
  bh_fill_header(&rec->h, &who, BH_REC_SYSCALL, type);
  rec->nr = nr;
  rec->ret = ret;
  for (int i = 0; i < 6; i++) {
    rec->args[i] = a[i];
  }
  rec->extra_len = 0;
  rec->pad = 0;
  rec->path[0][0] = 0;
  rec->path[1][0] = 0;
  long len0 = 0;  // bytes in path[0] and path[1], NUL included
  long len1 = 0;

  switch (nr) {
    case NR_open:
    case NR_creat:
    case NR_openat:
    case NR_openat2:
      if (sensitive) {
        len0 = bpf_probe_read_kernel_str(rec->path[0], BH_PATH_MAX, sensitive->data + 4);
      } else {
        len0 = read_path(rec->path[0], (nr == NR_open || nr == NR_creat) ? a[0] : a[1]);
      }
      if (nr == NR_openat2) {
        __builtin_memcpy(rec->extra, open_how, sizeof(open_how));
        rec->extra_len = sizeof(open_how);
      }
      break;
    case NR_unlink:
    case NR_chmod:
    case NR_chown:
    case NR_lchown:
    case NR_umount2:
    case NR_memfd_create:
      len0 = read_path(rec->path[0], a[0]);
      break;
    case NR_unlinkat:
    case NR_fchmodat:
    case NR_fchmodat2:
    case NR_fchownat:
      len0 = read_path(rec->path[0], a[1]);
      break;
    case NR_fchmod:
    case NR_fchown:
      len0 = bh_fd_name(a[0], rec->path[0]);
      break;
    case NR_rename:
      len0 = read_path(rec->path[0], a[0]);
      len1 = read_path(rec->path[1], a[1]);
      break;
    case NR_renameat:
    case NR_renameat2:
      len0 = read_path(rec->path[0], a[1]);
      len1 = read_path(rec->path[1], a[3]);
      break;
    case NR_connect:
    case NR_bind:
      read_extra(rec, a[1], a[2]);
      break;
    case NR_listen: {
      struct sock* sk = bh_fd_sock(a[0]);
      if (sk) {
        bh_sock_addrs(sk, rec->extra);
        rec->extra_len = 64;
      }
      break;
    }
    case NR_accept:
    case NR_accept4: {
      struct sock* sk = ret >= 0 ? bh_fd_sock(ret) : NULL;
      if (sk) {
        bh_sock_addrs(sk, rec->extra);
        rec->extra_len = 64;
      }
      break;
    }
    case NR_capset:
      // cap_user_header_t (8 bytes) then two cap_user_data_t (12 bytes each).
      if (bpf_probe_read_user(rec->extra, 8, (const void*)a[0]) == 0 &&
          bpf_probe_read_user(rec->extra + 8, 24, (const void*)a[1]) == 0) {
        rec->extra_len = 32;
      }
      break;
    case NR_mount:
      len0 = read_path(rec->path[0], a[0]);
      len1 = read_path(rec->path[1], a[1]);
      read_extra_str(rec, a[2]);
      break;
    case NR_init_module:
      len1 = read_path(rec->path[1], a[2]);
      break;
    case NR_finit_module:
      len0 = bh_fd_name(a[0], rec->path[0]);
      len1 = read_path(rec->path[1], a[1]);
      break;
    default:
      break;
  }
  // Most records carry one short path: sending the whole 700-byte record would
  // fill the ring buffer five times as fast.
  __u64 size = offsetof(struct bh_syscall_record, path[0]);
  if (rec->extra_len > 0) {
    size = offsetof(struct bh_syscall_record, extra) + (rec->extra_len & (BH_EXTRA_MAX * 2 - 1));
  } else if (len1 > 0) {
    size = offsetof(struct bh_syscall_record, path[1]) + (len1 & (BH_PATH_MAX * 2 - 1));
  } else if (len0 > 0) {
    size = offsetof(struct bh_syscall_record, path[0]) + (len0 & (BH_PATH_MAX * 2 - 1));
  }
  if (size > sizeof(*rec)) {
    size = sizeof(*rec);
  }
  bh_output(rec, size, type);
  return 0;
}

// The syscall that is running in the current task (its saved orig_ax), and
// its registers for the argument values.
static __always_inline struct pt_regs* current_regs(void) {
  return (struct pt_regs*)bpf_task_pt_regs(bpf_get_current_task_btf());
}

SEC("raw_tp/sched_process_exec")
int bh_exec(struct bpf_raw_tracepoint_args* ctx) {
  struct bh_who who;
  if (!bh_admit(&who, true)) {
    return 0;
  }
  struct linux_binprm* bprm = (struct linux_binprm*)ctx->args[2];
  struct bh_exec_record* rec = bh_reserve(sizeof(*rec), BH_EV_PROCESS_EXEC);
  if (!rec) {
    return 0;
  }
  bh_fill_header(&rec->h, &who, BH_REC_EXEC, BH_EV_PROCESS_EXEC);
  struct task_struct* task = (struct task_struct*)bpf_get_current_task();
  rec->pad = 0;
  // execveat(fd, "", ..., AT_EMPTY_PATH) and execveat(dirfd, "relative"): the
  // kernel names the file "/dev/fd/N[/path]" and keeps that name in fdpath.
  rec->by_fd = bpf_core_field_exists(bprm->fdpath) && BPF_CORE_READ(bprm, fdpath) != NULL;
  rec->fileless = BPF_CORE_READ(bprm, file, f_inode, i_nlink) == 0;
  bpf_probe_read_kernel_str(rec->filename, sizeof(rec->filename), BPF_CORE_READ(bprm, filename));

  // argv as the new image holds it: NUL-separated strings in its memory.
  unsigned long start = BPF_CORE_READ(task, mm, arg_start);
  unsigned long end = BPF_CORE_READ(task, mm, arg_end);
  __u64 len = end > start ? end - start : 0;
  rec->args_truncated = len > BH_ARGS_MAX;
  if (len > BH_ARGS_MAX) {
    len = BH_ARGS_MAX;
  }
  rec->args_len = 0;
  if (len > 0 && bpf_probe_read_user(rec->args, len, (const void*)start) == 0) {
    rec->args_len = len;
  }
  bh_walk_cwd(rec, task);
  bh_submit(rec, sizeof(*rec));
  return 0;
}

SEC("raw_tp/sched_process_fork")
int bh_fork(struct bpf_raw_tracepoint_args* ctx) {
  struct bh_who who;
  if (!bh_admit(&who, false)) {
    return 0;
  }
  struct task_struct* parent = (struct task_struct*)ctx->args[0];
  struct task_struct* child = (struct task_struct*)ctx->args[1];
  if (BPF_CORE_READ(child, tgid) == BPF_CORE_READ(parent, tgid)) {
    return 0;  // a new thread, not a new process
  }
  // Runs in the caller, inside clone/clone3/fork/vfork: the flags are the
  // syscall's argument (clone3: the first field of struct clone_args).
  struct pt_regs* regs = current_regs();
  long nr = BPF_CORE_READ(regs, orig_ax);
  __u64 flags = 0;
  if (nr == NR_clone) {
    flags = BPF_CORE_READ(regs, di);
  } else if (nr == NR_clone3) {
    bpf_probe_read_user(&flags, sizeof(flags), (const void*)BPF_CORE_READ(regs, di));
  } else if (nr == NR_vfork) {
    flags = BH_CLONE_VM | BH_CLONE_VFORK;
  }
  struct bh_fork_record* rec = bh_reserve(sizeof(*rec), BH_EV_PROCESS_FORK);
  if (!rec) {
    return 0;
  }
  bh_fill_header(&rec->h, &who, BH_REC_FORK, BH_EV_PROCESS_FORK);
  rec->clone_flags = flags;
  rec->child_pid = BPF_CORE_READ(child, tgid);
  rec->syscall_nr = nr;
  bh_submit(rec, sizeof(*rec));
  return 0;
}

SEC("raw_tp/sched_process_exit")
int bh_exit(struct bpf_raw_tracepoint_args* ctx) {
  struct bh_who who;
  if (!bh_admit(&who, false)) {
    return 0;
  }
  struct task_struct* task = (struct task_struct*)bpf_get_current_task();
  // signal->live is decremented before the tracepoint: 0 means the last
  // thread of the process is leaving, the moment the process ends.
  if (BPF_CORE_READ(task, signal, live.counter) != 0) {
    return 0;
  }
  struct bh_exit_record* rec = bh_reserve(sizeof(*rec), BH_EV_PROCESS_EXIT);
  if (!rec) {
    return 0;
  }
  bh_fill_header(&rec->h, &who, BH_REC_EXIT, BH_EV_PROCESS_EXIT);
  rec->exit_code = BPF_CORE_READ(task, exit_code);
  rec->pad = 0;
  bh_submit(rec, sizeof(*rec));
  return 0;
}

char LICENSE[] SEC("license") = "GPL";
