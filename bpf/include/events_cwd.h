/* The current directory of the exec'ing task, without d_path (which tracing
 * programs may not call): walk the dentries up to the task's root, crossing
 * mount points, and store the component names innermost first. The root is
 * the task's own (fs->root), so a tenant's cwd reads as the tenant sees it.
 * Bounded: BH_CWD_DEPTH components; deeper paths are reported incomplete.
 *
 * The walk runs under bpf_loop (5.17+): the verifier checks the step once
 * instead of every unrolled path through a plain loop, which exceeds its
 * budget with the mount-crossing branch. */
#ifndef BULKHEAD_BPF_EVENTS_CWD_H
#define BULKHEAD_BPF_EVENTS_CWD_H

#include "events_common.h"

struct bh_cwd_walk {
  struct bh_exec_record* rec;
  struct dentry* dentry;
  struct vfsmount* vfsmnt;
  struct mount* mnt;
  struct dentry* root_dentry;
  struct vfsmount* root_mnt;
  __u32 depth;
  __u32 complete;
};

/* One step: names one component or crosses one mount; 1 stops the loop. */
static long bh_cwd_step(__u32 index, void* data) {
  struct bh_cwd_walk* w = data;
  /* Locals, not w->x inside BPF_CORE_READ: CO-RE would try to relocate the
   * access to this program's own struct. */
  struct dentry* dentry = w->dentry;
  struct vfsmount* vfsmnt = w->vfsmnt;
  struct mount* mnt = w->mnt;
  if (dentry == w->root_dentry && vfsmnt == w->root_mnt) {
    w->complete = 1;
    return 1;
  }
  if (dentry == BPF_CORE_READ(vfsmnt, mnt_root)) {
    struct mount* parent = BPF_CORE_READ(mnt, mnt_parent);
    if (parent == mnt) {
      w->complete = 1; /* the top of this mount tree */
      return 1;
    }
    w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
    w->mnt = parent;
    w->vfsmnt = (struct vfsmount*)((void*)parent + bpf_core_field_offset(struct mount, mnt));
    return 0;
  }
  struct dentry* up = BPF_CORE_READ(dentry, d_parent);
  if (up == dentry) {
    w->complete = 1;
    return 1;
  }
  __u32 depth = w->depth;
  if (depth >= BH_CWD_DEPTH) {
    return 1;
  }
  const unsigned char* name = BPF_CORE_READ(dentry, d_name.name);
  bpf_probe_read_kernel_str(w->rec->cwd[depth], BH_CWD_NAME_MAX, name);
  w->depth = depth + 1;
  w->dentry = up;
  return 0;
}

static __always_inline void bh_walk_cwd(struct bh_exec_record* rec, struct task_struct* task) {
  struct fs_struct* fs = BPF_CORE_READ(task, fs);
  struct bh_cwd_walk w = {
      .rec = rec,
      .dentry = BPF_CORE_READ(fs, pwd.dentry),
      .vfsmnt = BPF_CORE_READ(fs, pwd.mnt),
      .root_dentry = BPF_CORE_READ(fs, root.dentry),
      .root_mnt = BPF_CORE_READ(fs, root.mnt),
  };
  w.mnt = (struct mount*)((void*)w.vfsmnt - bpf_core_field_offset(struct mount, mnt));
  bpf_loop(BH_CWD_DEPTH * 2, bh_cwd_step, &w, 0);
  rec->cwd_depth = w.depth;
  rec->cwd_complete = w.complete;
}

#endif
