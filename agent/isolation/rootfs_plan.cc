// plan_rootfs: the agent side of the tenant's filesystem view. Everything the
// init process will need is computed here, so apply_rootfs only makes syscalls.
#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <utility>

#include "config/path_rules.h"
#include "isolation/rootfs.h"

namespace bulkhead::isolation {
namespace {

// The new root holds only mount points and symlinks, and is read-only once
// built: a small bound is plenty.
constexpr const char* kRootTmpfsSize = "1048576";
constexpr const char* kRootTmpfsInodes = "4096";
constexpr const char* kDevTmpfsSize = "65536";
constexpr const char* kDevTmpfsInodes = "256";
constexpr const char* kShmSize = "67108864";  // 64 MiB, and charged to the workload's memcg

constexpr uint64_t kBindAttrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
constexpr uint64_t kNoExecAttrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
constexpr uint64_t kHiddenAttrs =
    MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
// Device binds must not be nodev; they are not made read-only either (it
// would not stop writes to a device, and hides nothing).
constexpr uint64_t kDeviceAttrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC;

// The same lists as the OCI runtime spec's readonlyPaths and maskedPaths
// defaults, plus kallsyms. Entries this kernel does not have are skipped.
constexpr const char* kProcReadOnly[] = {"sys", "sysrq-trigger", "irq", "bus", "fs"};
constexpr const char* kProcMasked[] = {"kcore",         "keys",        "timer_list", "timer_stats",
                                       "latency_stats", "sched_debug", "kallsyms",   "acpi",
                                       "scsi",          "asound"};

struct HostDevice {
  const char* name;
  bool required;
};
// mknod is not allowed in a user namespace: the host's nodes are bound instead.
constexpr HostDevice kDevices[] = {{"null", true},   {"zero", true},    {"full", true},
                                   {"random", true}, {"urandom", true}, {"tty", false}};

// Symlinks every /dev has; /dev/console is deliberately not provided.
constexpr std::pair<const char*, const char*> kDevSymlinks[] = {
    {"dev/ptmx", "pts/ptmx"},          {"dev/fd", "/proc/self/fd"},
    {"dev/stdin", "/proc/self/fd/0"},  {"dev/stdout", "/proc/self/fd/1"},
    {"dev/stderr", "/proc/self/fd/2"},
};

std::string octal(uint32_t mode) {
  char buf[16];
  (void)std::snprintf(buf, sizeof(buf), "%o", mode);
  return buf;
}

size_t depth(const std::string& path) { return std::count(path.begin(), path.end(), '/'); }

// "/usr/lib" -> "usr/lib": apply_rootfs resolves every target beneath the new root.
std::string relative(const std::string& absolute) { return absolute.substr(1); }

Status check_target(const std::string& target, const std::string& field) {
  auto st = config::check_target_path(target);
  if (!st.ok()) {
    return st.error().context(field);
  }
  if (target.size() >= PATH_MAX) {
    return make_error(field + ": " + target + " is too long");
  }
  return {};
}

// The mode of a host source; on failure `missing` says whether it does not exist.
Result<mode_t> stat_source(const std::string& path, const std::string& field, bool* missing) {
  auto st = config::check_absolute_path(path);
  if (!st.ok()) {
    return st.error().context(field);
  }
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      *missing = true;
      return make_error(field + ": " + path + " does not exist");
    }
    return errno_error(field + ": " + path);
  }
  *missing = false;
  return sb.st_mode;
}

struct PendingMount {
  std::string target;  // absolute, for the overlap checks
  std::string field;
  RootfsStep step;
};

RootfsStep make_bind(const std::string& source, const std::string& target, bool directory,
                     uint64_t attrs, std::string description) {
  RootfsStep s;
  s.kind = RootfsStepKind::kBind;
  s.description = std::move(description);
  s.source = source;
  s.target = relative(target);
  s.attrs = attrs;
  s.directory = directory;
  return s;
}

RootfsStep make_fs(const char* type, const std::string& target, std::vector<FsOption> options,
                   uint64_t attrs, std::string description) {
  RootfsStep s;
  s.kind = RootfsStepKind::kNewFs;
  s.description = std::move(description);
  s.source = type;
  s.target = relative(target);
  s.options = std::move(options);
  s.attrs = attrs;
  return s;
}

RootfsStep make_symlink(const std::string& contents, const std::string& path,
                        std::string description) {
  RootfsStep s;
  s.kind = RootfsStepKind::kSymlink;
  s.description = std::move(description);
  s.source = contents;
  s.target = relative(path);
  return s;
}

Result<std::vector<PendingMount>> plan_profile_mounts(const config::FilesystemView& fs,
                                                      std::vector<std::string>* skipped) {
  std::vector<PendingMount> mounts;
  for (const auto& b : fs.binds) {
    const std::string field = b.read_only ? "filesystem.read_only" : "filesystem.read_write";
    BULKHEAD_TRY(check_target(b.target, field));
    bool missing = false;
    auto mode = stat_source(b.source, field, &missing);
    if (!mode.ok()) {
      if (missing && b.optional) {
        skipped->push_back(field + ": " + b.source + " does not exist, not mounted on " + b.target);
        continue;
      }
      return mode.error();
    }
    std::string what = "bind " + b.source + " on " + b.target + (b.read_only ? " read-only" : "") +
                       " (" + field + ")";
    mounts.push_back(
        {b.target, field,
         make_bind(b.source, b.target, S_ISDIR(*mode),
                   kBindAttrs | (b.read_only ? MOUNT_ATTR_RDONLY : 0), std::move(what))});
  }
  for (const auto& t : fs.tmpfs) {
    const std::string field = "filesystem.tmpfs";
    BULKHEAD_TRY(check_target(t.target, field));
    if (t.size_bytes == 0) {
      return make_error(field + ": " + t.target + " has no size (a tmpfs of size 0 is unlimited)");
    }
    std::vector<FsOption> options = {{"size", std::to_string(t.size_bytes)},
                                     {"mode", octal(t.mode & 07777)}};
    mounts.push_back({t.target, field,
                      make_fs("tmpfs", t.target, std::move(options), kBindAttrs,
                              "mount tmpfs on " + t.target + " (" + field + ")")});
  }
  if (!fs.data.target.empty()) {
    const std::string field = "filesystem.data";
    BULKHEAD_TRY(check_target(fs.data.target, field));
    bool missing = false;
    auto mode = stat_source(fs.data.host_path, field, &missing);
    if (!mode.ok()) {
      return mode.error();
    }
    if (!S_ISDIR(*mode)) {
      return make_error(field + ": " + fs.data.host_path + " is not a directory");
    }
    mounts.push_back({fs.data.target, field,
                      make_bind(fs.data.host_path, fs.data.target, true, kBindAttrs,
                                "bind data directory " + fs.data.host_path + " on " +
                                    fs.data.target + " (" + field + ")")});
  }

  for (size_t i = 0; i < mounts.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (mounts[i].target == mounts[j].target) {
        return make_error(mounts[i].field + ": " + mounts[i].target + " is also the target of " +
                          mounts[j].field);
      }
    }
  }
  // Parents first, so a later mount never hides an earlier one. Stable: mounts at
  // the same depth keep the profile's order.
  std::stable_sort(mounts.begin(), mounts.end(), [](const PendingMount& a, const PendingMount& b) {
    return depth(a.target) < depth(b.target);
  });
  return mounts;
}

// Symlinks are created last, after every mount: a mount point below a symlink
// would be resolved through it, so none may be.
Status check_symlinks(const config::FilesystemView& fs, const std::vector<PendingMount>& mounts) {
  const std::string field = "filesystem.symlinks";
  for (size_t i = 0; i < fs.symlinks.size(); ++i) {
    const auto& link = fs.symlinks[i];
    BULKHEAD_TRY(check_target(link.path, field));
    if (link.target.empty() || link.target.size() >= PATH_MAX ||
        link.target.find('\0') != std::string::npos) {
      return make_error(field + ": " + link.path + " has an invalid target");
    }
    for (const auto& m : mounts) {
      if (config::path_is_under(m.target, link.path)) {
        return make_error(m.field + ": " + m.target + " is at or below the symlink " + link.path);
      }
    }
    for (size_t j = 0; j < fs.symlinks.size(); ++j) {
      if (j != i && config::path_is_under(link.path, fs.symlinks[j].path)) {
        return make_error(field + ": " + link.path + " is at or below the symlink " +
                          fs.symlinks[j].path);
      }
    }
  }
  return {};
}

void plan_proc(std::vector<RootfsStep>* steps) {
  steps->push_back(make_fs("proc", "/proc", {}, kNoExecAttrs, "mount proc on /proc"));
  for (const char* name : kProcReadOnly) {
    RootfsStep s;
    s.kind = RootfsStepKind::kReadOnly;
    s.target = std::string("proc/") + name;
    s.description = "make /" + s.target + " read-only";
    s.attrs = kHiddenAttrs;
    s.skip_if_missing = true;
    steps->push_back(std::move(s));
  }
  for (const char* name : kProcMasked) {
    RootfsStep s;
    s.kind = RootfsStepKind::kMask;
    s.target = std::string("proc/") + name;
    s.description = "mask /" + s.target;
    s.source = "/dev/null";  // over files; directories get an empty read-only tmpfs
    s.options = {{"size", "4096"}, {"nr_inodes", "16"}, {"mode", "555"}};
    s.attrs = kHiddenAttrs;
    s.skip_if_missing = true;
    steps->push_back(std::move(s));
  }
}

Status plan_dev(std::vector<RootfsStep>* steps) {
  steps->push_back(make_fs(
      "tmpfs", "/dev", {{"size", kDevTmpfsSize}, {"nr_inodes", kDevTmpfsInodes}, {"mode", "755"}},
      kNoExecAttrs, "mount tmpfs on /dev"));
  for (const auto& dev : kDevices) {
    const std::string host = std::string("/dev/") + dev.name;
    struct stat sb {};
    if (::stat(host.c_str(), &sb) != 0 || !S_ISCHR(sb.st_mode)) {
      if (!dev.required) {
        continue;
      }
      return make_error("the host has no character device " + host);
    }
    steps->push_back(make_bind(host, host, false, kDeviceAttrs, "bind " + host + " on " + host));
  }
  // gid=5 (tty) only when the tenant maps it; devpts rejects an unmapped gid.
  steps->push_back(make_fs("devpts", "/dev/pts",
                           {{"newinstance", ""},
                            {"ptmxmode", "0666"},
                            {"mode", "0620"},
                            {"gid", "5", /*optional=*/true}},
                           MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, "mount devpts on /dev/pts"));
  steps->push_back(make_fs("tmpfs", "/dev/shm", {{"size", kShmSize}, {"mode", "1777"}},
                           kNoExecAttrs, "mount tmpfs on /dev/shm"));
  for (const auto& [path, contents] : kDevSymlinks) {
    steps->push_back(make_symlink(contents, std::string("/") + path,
                                  std::string("create symlink /") + path + " -> " + contents));
  }
  return {};
}

// The init process mounts the new root on the staging dir as tenant root, to
// which root-owned host directories grant only their "other" bits: every
// directory above it must be searchable by others, or the launch fails with
// EACCES long after the profile was accepted.
Status check_staging_dir(const std::string& staging_dir) {
  const std::string what = "staging directory " + staging_dir;
  if (auto st = config::check_absolute_path(staging_dir); !st.ok() || staging_dir == "/") {
    return make_error(what + " is not a canonical absolute path other than /");
  }
  if (staging_dir.size() >= PATH_MAX) {
    return make_error(what + " is too long");
  }
  struct stat sb {};
  if (::stat(staging_dir.c_str(), &sb) != 0) {
    return errno_error(what);
  }
  if (!S_ISDIR(sb.st_mode)) {
    return make_error(what + " is not a directory");
  }
  for (size_t slash = staging_dir.rfind('/'); slash != std::string::npos && slash > 0;
       slash = staging_dir.rfind('/', slash - 1)) {
    const std::string parent = staging_dir.substr(0, slash);
    if (::stat(parent.c_str(), &sb) != 0) {
      return errno_error(what + ": " + parent);
    }
    if ((sb.st_mode & S_IXOTH) == 0) {
      return make_error(what + ": " + parent +
                        " is not searchable by others (o+x), which tenants are");
    }
  }
  return {};
}

const char* op_name(int op) {
  switch (static_cast<RootfsOp>(op)) {
    case RootfsOp::kNone:
      return nullptr;
    case RootfsOp::kPropagation:
      return "mount propagation";
    case RootfsOp::kOpenSource:
      return "opening the source";
    case RootfsOp::kSetAttributes:
      return "setting mount attributes";
    case RootfsOp::kCreateTarget:
      return "creating the mount point";
    case RootfsOp::kCreateFs:
      return "creating the filesystem";
    case RootfsOp::kAttach:
      return "attaching the mount";
    case RootfsOp::kSymlink:
      return "symlinkat";
    case RootfsOp::kPivotRoot:
      return "pivot_root";
  }
  return nullptr;
}

}  // namespace

Result<RootfsPlan> plan_rootfs(const config::FilesystemView& fs, const std::string& staging_dir) {
  RootfsPlan plan;
  BULKHEAD_TRY(check_staging_dir(staging_dir));
  plan.staging_dir = staging_dir;

  auto mounts = plan_profile_mounts(fs, &plan.skipped);
  if (!mounts.ok()) {
    return mounts.error();
  }
  BULKHEAD_TRY(check_symlinks(fs, *mounts));

  auto& steps = plan.steps;
  RootfsStep priv;
  priv.kind = RootfsStepKind::kPrivatePropagation;
  priv.description = "make / private in the new mount namespace";
  steps.push_back(std::move(priv));

  RootfsStep root;
  root.kind = RootfsStepKind::kRootTmpfs;
  root.description = "mount the new root (tmpfs) on " + staging_dir;
  root.source = staging_dir;
  root.options = {{"size", kRootTmpfsSize}, {"nr_inodes", kRootTmpfsInodes}, {"mode", "755"}};
  root.attrs = kBindAttrs;
  steps.push_back(std::move(root));

  for (auto& m : *mounts) {
    steps.push_back(std::move(m.step));
  }
  // /proc is mounted while the host's /proc is still in this mount namespace:
  // the kernel allows a new proc instance in a user namespace only if a fully
  // visible one is already there (mount_too_revealing).
  plan_proc(&steps);
  BULKHEAD_TRY(plan_dev(&steps));
  for (const auto& link : fs.symlinks) {
    steps.push_back(make_symlink(
        link.target, link.path,
        "create symlink " + link.path + " -> " + link.target + " (filesystem.symlinks)"));
  }

  RootfsStep pivot;
  pivot.kind = RootfsStepKind::kPivot;
  pivot.description = "pivot_root into the new root";
  steps.push_back(std::move(pivot));
  RootfsStep seal;
  seal.kind = RootfsStepKind::kSealRoot;
  seal.description = "make the new root read-only";
  seal.attrs = MOUNT_ATTR_RDONLY;
  steps.push_back(std::move(seal));
  return plan;
}

std::string describe_failure(const RootfsPlan& plan, const RootfsFailure& failure) {
  if (failure.step < 0 || static_cast<size_t>(failure.step) >= plan.steps.size()) {
    return "building the root filesystem (step " + std::to_string(failure.step) + ")";
  }
  std::string msg = plan.steps[static_cast<size_t>(failure.step)].description;
  if (const char* op = op_name(failure.op)) {
    msg += std::string(": ") + op;
  }
  return msg;
}

Error rootfs_error(const RootfsPlan& plan, const RootfsFailure& failure) {
  return Error{failure.err, describe_failure(plan, failure)};
}

}  // namespace bulkhead::isolation
