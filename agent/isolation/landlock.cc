#include "isolation/landlock.h"

#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/unique_fd.h"

// Debian 12's headers stop at ABI 2; the later filesystem bits are ABI and
// fixed, so define them here.
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)  // ABI 3
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)  // ABI 5
#endif

namespace bulkhead::isolation {
namespace {

constexpr uint64_t kAbi1Access =
    LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE |
    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
    LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
    LANDLOCK_ACCESS_FS_MAKE_SYM;

constexpr uint64_t kReadExecute =
    LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;

constexpr uint64_t kFileAccess = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
                                 LANDLOCK_ACCESS_FS_IOCTL_DEV;

void add_unique(std::vector<std::string>* list, const std::string& path) {
  if (std::find(list->begin(), list->end(), path) == list->end()) {
    list->push_back(path);
  }
}

Status check_paths(const std::vector<std::string>& paths, const char* field) {
  for (const std::string& p : paths) {
    if (p.empty() || p[0] != '/' || p.find('\0') != std::string::npos) {
      return make_error(std::string(field) + ": '" + p + "' is not an absolute path");
    }
  }
  return {};
}

// Adds one rule; 0, a skip (see the header), or -errno.
int add_path_rule(int ruleset_fd, const char* path, uint64_t access) noexcept {
  UniqueFd fd(::open(path, O_PATH | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT || errno == ENOTDIR || errno == EACCES) {
      return 0;
    }
    return -errno;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return -errno;
  }
  if (!S_ISDIR(st.st_mode)) {
    access &= kFileAccess;
  }
  if (access == 0) {
    return 0;  // nothing to allow (the kernel would say ENOMSG)
  }
  landlock_path_beneath_attr attr{};
  attr.allowed_access = access;
  attr.parent_fd = fd.get();
  if (::syscall(SYS_landlock_add_rule, ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &attr, 0) != 0) {
    return -errno;
  }
  return 0;
}

}  // namespace

int landlock_abi_version() noexcept {
  long v = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (v < 0) {
    return -errno;
  }
  return static_cast<int>(v);
}

uint64_t landlock_fs_access_for_abi(int abi) {
  if (abi <= 0) {
    return 0;
  }
  uint64_t access = kAbi1Access;
  if (abi >= 2) {
    // Reparenting (rename/link across directories) is always denied unless
    // handled and allowed; handling it lets read-write trees allow it.
    access |= LANDLOCK_ACCESS_FS_REFER;
  }
  if (abi >= 3) {
    access |= LANDLOCK_ACCESS_FS_TRUNCATE;
  }
  // ABI 4 added network rules and ABI 6 scopes; neither are filesystem bits.
  if (abi >= 5) {
    access |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  }
  return access;
}

uint64_t landlock_file_access() { return kFileAccess; }

Result<LandlockPlan> plan_landlock(const config::LandlockSpec& spec,
                                   const config::FilesystemView& fs) {
  if (!spec.enabled) {
    return plan_landlock(spec, fs, 0);
  }
  return plan_landlock(spec, fs, landlock_abi_version());
}

Result<LandlockPlan> plan_landlock(const config::LandlockSpec& spec,
                                   const config::FilesystemView& fs, int abi) {
  LandlockPlan plan;
  if (!spec.enabled) {
    return plan;
  }
  if (abi <= 0) {
    return make_error(
        "landlock.enabled is true but this kernel has no Landlock (not built in, or not in the "
        "lsm= boot list); set landlock.enabled: false in the profile to run on such hosts");
  }
  BULKHEAD_TRY(check_paths(spec.read_only, "landlock.read_only"));
  BULKHEAD_TRY(check_paths(spec.read_write, "landlock.read_write"));

  plan.enabled = true;
  plan.abi = abi;
  plan.handled = landlock_fs_access_for_abi(abi);
  plan.ro_access = kReadExecute & plan.handled;
  plan.rw_access = plan.handled;

  std::vector<std::string> ro;
  std::vector<std::string> rw;
  if (spec.read_only.empty() && spec.read_write.empty()) {
    for (const config::BindMount& b : fs.binds) {
      add_unique(b.read_only ? &ro : &rw, b.target);
    }
    for (const config::TmpfsMount& t : fs.tmpfs) {
      add_unique(&rw, t.target);
    }
    if (!fs.data.target.empty()) {
      add_unique(&rw, fs.data.target);
    }
    // The sandbox builds these itself (procfs mount, minimal /dev with null,
    // zero, urandom, tty, pts); the workload needs to write to some of them.
    add_unique(&rw, "/proc");
    add_unique(&rw, "/dev");
    plan.list_everything = true;
    BULKHEAD_TRY_CTX(check_paths(ro, "filesystem.binds"), "deriving landlock rules");
    BULKHEAD_TRY_CTX(check_paths(rw, "filesystem"), "deriving landlock rules");
  } else {
    for (const std::string& p : spec.read_only) {
      add_unique(&ro, p);
    }
    for (const std::string& p : spec.read_write) {
      add_unique(&rw, p);
    }
  }
  // A path listed read-write needs no read-only rule as well.
  std::erase_if(
      ro, [&rw](const std::string& p) { return std::find(rw.begin(), rw.end(), p) != rw.end(); });
  plan.ro_paths = std::move(ro);
  plan.rw_paths = std::move(rw);
  return plan;
}

int apply_landlock(const LandlockPlan& plan) noexcept {
  if (!plan.enabled) {
    return 0;
  }
  // The ABI 6 layout of struct landlock_ruleset_attr, which this system's
  // headers predate. The kernel reads only `size` bytes, so the short form is
  // passed unless a scope is requested.
  struct {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
  } attr{plan.handled, 0, plan.scoped};
  const size_t size = plan.scoped != 0 ? sizeof(attr) : sizeof(landlock_ruleset_attr);
  UniqueFd ruleset(static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, size, 0)));
  if (!ruleset) {
    return -errno;
  }
  if (plan.list_everything) {
    if (int rc = add_path_rule(ruleset.get(), "/", LANDLOCK_ACCESS_FS_READ_DIR & plan.handled);
        rc != 0) {
      return rc;
    }
  }
  for (const std::string& p : plan.ro_paths) {
    if (int rc = add_path_rule(ruleset.get(), p.c_str(), plan.ro_access & plan.handled); rc != 0) {
      return rc;
    }
  }
  for (const std::string& p : plan.rw_paths) {
    if (int rc = add_path_rule(ruleset.get(), p.c_str(), plan.rw_access & plan.handled); rc != 0) {
      return rc;
    }
  }
  if (::syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0) {
    return -errno;
  }
  return 0;
}

}  // namespace bulkhead::isolation
