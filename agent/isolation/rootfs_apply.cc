// apply_rootfs: runs in the init process between fork and execve, so it only
// makes syscalls: no allocation, no logging, no locks. Every path inside the new
// root is resolved with openat2(RESOLVE_IN_ROOT) relative to the root's fd, and
// mounts are attached to the resolved fd (move_mount T_EMPTY_PATH): a symlink
// inside a bound host tree, planted by the tenant or not, cannot redirect a
// mount point or a created directory outside the new root.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "common/unique_fd.h"
#include "isolation/rootfs.h"

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif

namespace bulkhead::isolation {
namespace {

// The new mount API through syscall(): glibc wraps it only since 2.36, and
// <linux/mount.h> clashes with <sys/mount.h>, so the constants come from the latter.
int sys_open_tree(int dfd, const char* path, unsigned flags) noexcept {
  return static_cast<int>(::syscall(SYS_open_tree, dfd, path, flags));
}
int sys_move_mount(int from_dfd, const char* from, int to_dfd, const char* to,
                   unsigned flags) noexcept {
  return static_cast<int>(::syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags));
}
int sys_mount_setattr(int dfd, const char* path, unsigned flags, uint64_t attr_set) noexcept {
  struct mount_attr attr {};
  attr.attr_set = attr_set;
  return static_cast<int>(::syscall(SYS_mount_setattr, dfd, path, flags, &attr, sizeof(attr)));
}
int sys_fsopen(const char* fs, unsigned flags) noexcept {
  return static_cast<int>(::syscall(SYS_fsopen, fs, flags));
}
int sys_fsconfig(int fd, unsigned cmd, const char* key, const void* value, int aux) noexcept {
  return static_cast<int>(::syscall(SYS_fsconfig, fd, cmd, key, value, aux));
}
int sys_fsmount(int fd, unsigned flags, unsigned attrs) noexcept {
  return static_cast<int>(::syscall(SYS_fsmount, fd, flags, attrs));
}
int open_in_root(int root, const char* path, uint64_t flags) noexcept {
  struct open_how how {};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, root, path, &how, sizeof(how)));
}

// Per-apply state: the root's fd and which syscall failed last.
struct Applier {
  UniqueFd root;
  RootfsOp op = RootfsOp::kNone;

  int fail(RootfsOp failed) noexcept {
    op = failed;
    return -errno;
  }

  // Opens rel[0..len) beneath the new root as O_PATH, resolving symlinks as if
  // the new root were "/". With `create`, missing directories are made (0755)
  // and a missing last component becomes an empty file when !directory.
  int resolve(const char* rel, size_t len, bool create, bool directory, UniqueFd* out) noexcept {
    char path[PATH_MAX];
    if (len >= sizeof(path)) {
      errno = ENAMETOOLONG;
      return fail(RootfsOp::kCreateTarget);
    }
    std::memcpy(path, rel, len);
    path[len] = '\0';
    if (len == 0) {
      out->reset(open_in_root(root.get(), ".", O_PATH | O_DIRECTORY));
      return out->valid() ? 0 : fail(RootfsOp::kCreateTarget);
    }
    UniqueFd parent(open_in_root(root.get(), ".", O_PATH | O_DIRECTORY));
    if (!parent) {
      return fail(RootfsOp::kCreateTarget);
    }
    size_t start = 0;
    for (;;) {
      size_t end = start;
      while (end < len && path[end] != '/') {
        ++end;
      }
      const bool last = end == len;
      const bool want_dir = !last || directory;
      path[end] = '\0';  // `path` is now the prefix up to this component
      const uint64_t flags = O_PATH | (want_dir ? O_DIRECTORY : 0);
      UniqueFd fd(open_in_root(root.get(), path, flags));
      if (!fd && errno == ENOENT && create) {
        const char* name = path + start;
        int rc = 0;
        if (want_dir) {
          rc = ::mkdirat(parent.get(), name, 0755);
        } else {
          rc = ::openat(parent.get(), name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOCTTY,
                        0644);
          if (rc >= 0) {
            ::close(rc);
          }
        }
        // EEXIST: a concurrent creation, or a dangling symlink (the retry fails).
        if (rc < 0 && errno != EEXIST) {
          return fail(RootfsOp::kCreateTarget);
        }
        fd.reset(open_in_root(root.get(), path, flags));
      }
      if (!fd) {
        return fail(RootfsOp::kCreateTarget);
      }
      if (last) {
        *out = std::move(fd);
        return 0;
      }
      path[end] = '/';
      parent = std::move(fd);
      start = end + 1;
    }
  }

  int resolve(const std::string& rel, bool create, bool directory, UniqueFd* out) noexcept {
    return resolve(rel.c_str(), rel.size(), create, directory, out);
  }

  // fsopen + fsconfig + fsmount; options marked optional are left out unless `with_optional`.
  int make_fs(const char* type, const std::vector<FsOption>& options, uint64_t attrs,
              bool with_optional, bool* optional_rejected, UniqueFd* out) noexcept {
    UniqueFd fs(sys_fsopen(type, FSOPEN_CLOEXEC));
    if (!fs) {
      return fail(RootfsOp::kCreateFs);
    }
    for (const auto& o : options) {
      if (o.optional && !with_optional) {
        continue;
      }
      int rc = o.value.empty()
                   ? sys_fsconfig(fs.get(), FSCONFIG_SET_FLAG, o.key.c_str(), nullptr, 0)
                   : sys_fsconfig(fs.get(), FSCONFIG_SET_STRING, o.key.c_str(), o.value.c_str(), 0);
      if (rc < 0) {
        *optional_rejected = o.optional && errno == EINVAL;
        return fail(RootfsOp::kCreateFs);
      }
    }
    if (sys_fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) {
      // Kernels before 6.x accept an option such as devpts gid=5 and only
      // refuse it here, when the gid is not mapped in the user namespace.
      bool any_optional = false;
      for (const auto& o : options) {
        any_optional = any_optional || (o.optional && with_optional);
      }
      *optional_rejected = any_optional && errno == EINVAL;
      return fail(RootfsOp::kCreateFs);
    }
    out->reset(sys_fsmount(fs.get(), FSMOUNT_CLOEXEC, static_cast<unsigned>(attrs)));
    return out->valid() ? 0 : fail(RootfsOp::kCreateFs);
  }

  // A detached mount of a new `type` filesystem. An optional option the kernel
  // rejects with EINVAL is dropped and the filesystem configured again.
  int new_fs(const char* type, const std::vector<FsOption>& options, uint64_t attrs,
             UniqueFd* mnt) noexcept {
    bool optional_rejected = false;
    int rc = make_fs(type, options, attrs, true, &optional_rejected, mnt);
    if (rc < 0 && optional_rejected) {
      rc = make_fs(type, options, attrs, false, &optional_rejected, mnt);
    }
    return rc;
  }

  static int attach(int tree, int target) noexcept {
    return sys_move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  }

  int private_propagation() noexcept {
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      return fail(RootfsOp::kPropagation);
    }
    return 0;
  }

  int root_tmpfs(const RootfsStep& s) noexcept {
    UniqueFd mnt;
    if (int rc = new_fs("tmpfs", s.options, s.attrs, &mnt); rc < 0) {
      return rc;
    }
    // The staging dir is the agent's own host path; after the move the mount fd
    // is the root of the attached tmpfs and every later path is resolved from it.
    if (sys_move_mount(mnt.get(), "", AT_FDCWD, s.source.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0) {
      return fail(RootfsOp::kAttach);
    }
    root = std::move(mnt);
    return 0;
  }

  int bind(const RootfsStep& s) noexcept {
    UniqueFd tree(sys_open_tree(AT_FDCWD, s.source.c_str(),
                                OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
    if (!tree) {
      return fail(RootfsOp::kOpenSource);
    }
    if (sys_mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, s.attrs) < 0) {
      return fail(RootfsOp::kSetAttributes);
    }
    UniqueFd target;
    if (int rc = resolve(s.target, true, s.directory, &target); rc < 0) {
      return rc;
    }
    return attach(tree.get(), target.get()) < 0 ? fail(RootfsOp::kAttach) : 0;
  }

  int mount_new_fs(const RootfsStep& s) noexcept {
    UniqueFd mnt;
    if (int rc = new_fs(s.source.c_str(), s.options, s.attrs, &mnt); rc < 0) {
      return rc;
    }
    UniqueFd target;
    if (int rc = resolve(s.target, true, true, &target); rc < 0) {
      return rc;
    }
    return attach(mnt.get(), target.get()) < 0 ? fail(RootfsOp::kAttach) : 0;
  }

  // Opens an existing target; 1 when it is missing and the step allows that.
  int existing(const RootfsStep& s, UniqueFd* target) noexcept {
    int rc = resolve(s.target, false, false, target);
    if (rc == -ENOENT && s.skip_if_missing) {
      op = RootfsOp::kNone;
      return 1;
    }
    return rc;
  }

  int read_only(const RootfsStep& s) noexcept {
    UniqueFd target;
    if (int rc = existing(s, &target); rc != 0) {
      return rc < 0 ? rc : 0;
    }
    UniqueFd tree(sys_open_tree(
        target.get(), "", AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
    if (!tree) {
      return fail(RootfsOp::kOpenSource);
    }
    if (sys_mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, s.attrs) < 0) {
      return fail(RootfsOp::kSetAttributes);
    }
    return attach(tree.get(), target.get()) < 0 ? fail(RootfsOp::kAttach) : 0;
  }

  int mask(const RootfsStep& s) noexcept {
    UniqueFd target;
    if (int rc = existing(s, &target); rc != 0) {
      return rc < 0 ? rc : 0;
    }
    struct stat sb {};
    if (::fstat(target.get(), &sb) != 0) {
      return fail(RootfsOp::kCreateTarget);
    }
    UniqueFd cover;
    if (S_ISDIR(sb.st_mode)) {
      if (int rc = new_fs("tmpfs", s.options, s.attrs, &cover); rc < 0) {
        return rc;
      }
    } else {
      // /dev/null keeps working as a device (no nodev): reads see an empty file.
      cover.reset(sys_open_tree(AT_FDCWD, s.source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
      if (!cover) {
        return fail(RootfsOp::kOpenSource);
      }
      if (sys_mount_setattr(cover.get(), "", AT_EMPTY_PATH, s.attrs & ~MOUNT_ATTR_NODEV) < 0) {
        return fail(RootfsOp::kSetAttributes);
      }
    }
    return attach(cover.get(), target.get()) < 0 ? fail(RootfsOp::kAttach) : 0;
  }

  int symlink(const RootfsStep& s) noexcept {
    const size_t slash = s.target.rfind('/');
    const size_t parent_len = slash == std::string::npos ? 0 : slash;
    const char* name = s.target.c_str() + (slash == std::string::npos ? 0 : slash + 1);
    UniqueFd parent;
    if (int rc = resolve(s.target.c_str(), parent_len, true, true, &parent); rc < 0) {
      return rc;
    }
    return ::symlinkat(s.source.c_str(), parent.get(), name) < 0 ? fail(RootfsOp::kSymlink) : 0;
  }

  // pivot_root(".", "."): the old root ends up stacked on the new one and is
  // detached right away, with everything of the host below it.
  int pivot() noexcept {
    if (::fchdir(root.get()) != 0 || ::syscall(SYS_pivot_root, ".", ".") != 0 ||
        ::umount2(".", MNT_DETACH) != 0 || ::chdir("/") != 0) {
      return fail(RootfsOp::kPivotRoot);
    }
    return 0;
  }

  int seal_root(const RootfsStep& s) noexcept {
    return sys_mount_setattr(AT_FDCWD, "/", 0, s.attrs) < 0 ? fail(RootfsOp::kSetAttributes) : 0;
  }

  int run(const RootfsStep& s) noexcept {
    switch (s.kind) {
      case RootfsStepKind::kPrivatePropagation:
        return private_propagation();
      case RootfsStepKind::kRootTmpfs:
        return root_tmpfs(s);
      case RootfsStepKind::kBind:
        return bind(s);
      case RootfsStepKind::kNewFs:
        return mount_new_fs(s);
      case RootfsStepKind::kReadOnly:
        return read_only(s);
      case RootfsStepKind::kMask:
        return mask(s);
      case RootfsStepKind::kSymlink:
        return symlink(s);
      case RootfsStepKind::kPivot:
        return pivot();
      case RootfsStepKind::kSealRoot:
        return seal_root(s);
    }
    errno = EINVAL;
    return -EINVAL;
  }
};

}  // namespace

int apply_rootfs(const RootfsPlan& plan, RootfsFailure* failure) noexcept {
  // Mount points and symlink parents get exactly 0755 (files 0644), whatever
  // umask the agent runs with: a workload running as a non-root tenant uid
  // must be able to traverse them.
  struct RestoreUmask {
    mode_t old = ::umask(0);
    ~RestoreUmask() { ::umask(old); }
  } restore_umask;
  Applier a;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const RootfsStep& s = plan.steps[i];
    a.op = RootfsOp::kNone;
    int rc = 0;
    // Every step after the root tmpfs resolves its paths from the root's fd.
    const bool needs_root =
        s.kind != RootfsStepKind::kPrivatePropagation && s.kind != RootfsStepKind::kRootTmpfs;
    if (needs_root && !a.root) {
      rc = -EBADF;
    } else {
      rc = a.run(s);
    }
    if (rc < 0) {
      if (failure != nullptr) {
        *failure = RootfsFailure{-rc, static_cast<int>(i), static_cast<int>(a.op)};
      }
      return rc;
    }
  }
  return 0;
}

}  // namespace bulkhead::isolation
