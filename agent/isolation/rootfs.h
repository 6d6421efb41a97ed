// The tenant's filesystem view: a new root built on a small tmpfs from the
// profile's binds, tmpfs mounts and symlinks, the data directory, a fresh /proc
// and a minimal /dev. Nothing of the host is visible unless a profile grants it.
//
// Two halves, because the second runs between fork and execve:
//   plan_rootfs  (agent)  validates the view against the host and computes every
//                         path, option string and flag as a list of steps;
//   apply_rootfs (PID 1 of the workload's pid namespace, in a fresh mount
//                         namespace owned by the tenant's user namespace) only
//                         makes syscalls: no allocation, no logging. It reports
//                         the index of the step that failed, and the agent turns
//                         that into a message with describe_failure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/profile.h"

namespace bulkhead::isolation {

enum class RootfsStepKind : uint8_t {
  kPrivatePropagation,  // "/" MS_REC|MS_PRIVATE: nothing propagates back to the host
  kRootTmpfs,           // the new root: a tmpfs on the staging dir (host path in `source`)
  kBind,                // clone the host tree `source` onto `target`, then set `attrs`
  kNewFs,               // a new filesystem `source` (tmpfs, proc, devpts) with `options`
  kReadOnly,            // re-bind `target` onto itself read-only (/proc/sys, ...)
  kMask,                // hide `target`: /dev/null over a file, an empty ro tmpfs over a dir
  kSymlink,             // a symlink at `target` whose contents are `source`
  kPivot,               // pivot_root into the new root and detach the old one
  kSealRoot,            // make the root tmpfs read-only (mounts below it keep their flags)
};

// One fsconfig(FSCONFIG_SET_*) call. An empty value sets a flag ("newinstance").
struct FsOption {
  std::string key;
  std::string value;
  // Dropped, and the filesystem configured again without it, when the kernel
  // rejects it with EINVAL (devpts gid=5 when gid 5 is not mapped).
  bool optional = false;
};

struct RootfsStep {
  RootfsStepKind kind = RootfsStepKind::kBind;
  std::string description;  // for the agent's message: "bind /srv/alpha on /srv read-only (...)"
  std::string source;       // host path (kBind, kRootTmpfs, kMask), fs type (kNewFs), link contents
  std::string target;       // inside the new root without the leading '/': "usr/lib"
  std::vector<FsOption> options;
  uint64_t attrs = 0;            // MOUNT_ATTR_* flags of the new mount (recursively for kBind)
  bool directory = true;         // kBind: the target is created as a directory, else an empty file
  bool skip_if_missing = false;  // kReadOnly, kMask: a target that does not exist is not an error
};

struct RootfsPlan {
  std::string staging_dir;
  std::vector<RootfsStep> steps;
  std::vector<std::string> skipped;  // optional binds whose source is missing, for the agent's log
};

// Which syscall of a step failed; 0 when the failure did not get that far.
enum class RootfsOp : int32_t {
  kNone = 0,
  kPropagation,    // mount(MS_PRIVATE)
  kOpenSource,     // open_tree of the source
  kSetAttributes,  // mount_setattr
  kCreateTarget,   // resolving or creating the mount point / symlink parent
  kCreateFs,       // fsopen/fsconfig/fsmount
  kAttach,         // move_mount
  kSymlink,        // symlinkat
  kPivotRoot,      // chdir/pivot_root/umount2 of the old root
};

// What apply_rootfs writes on failure; plain ints so the init process can pass
// it through a pipe. Aggregate-initialisable as RootfsFailure{err, step}.
struct RootfsFailure {
  int err = 0;    // errno
  int step = -1;  // index into RootfsPlan::steps
  int op = 0;     // RootfsOp, 0 when unknown
};

// Agent side. `staging_dir` is an existing host directory (empty, absolute) the
// new root is mounted on inside the private mount namespace; workloads may share
// it, each mounts over it in its own namespace. Fails, naming the profile field,
// when a required bind source or the data directory does not exist; skips
// missing optional sources. Mounts are ordered parents first (stable by depth),
// so `tmpfs: /tmp` and a bind on /tmp/cache both show whatever their order.
Result<RootfsPlan> plan_rootfs(const config::FilesystemView& fs, const std::string& staging_dir);

// Child side: PID 1 of the new pid namespace, right after unshare(CLONE_NEWNS),
// with the tenant user namespace's capabilities. On success the process has
// pivoted into the new root with cwd "/" and 0 is returned; otherwise -errno,
// with *failure saying which step (and syscall) failed. Async-signal-safe.
int apply_rootfs(const RootfsPlan& plan, RootfsFailure* failure) noexcept;

// Agent side: the failed step as text, without the errno text (the caller wraps
// it in an Error carrying failure.err): "bind /srv/alpha on /srv".
std::string describe_failure(const RootfsPlan& plan, const RootfsFailure& failure);
// The same as an Error: "bind /srv/alpha on /srv: open_tree" + strerror(err).
Error rootfs_error(const RootfsPlan& plan, const RootfsFailure& failure);

}  // namespace bulkhead::isolation
