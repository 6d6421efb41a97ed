// Landlock filesystem rules for the workload: a deny-by-default allowlist of
// paths inside the tenant root, on top of the mount namespace (defence in depth:
// a mount mistake or a kernel bug in the mount code is not enough to reach
// files the profile did not list).
//
// plan_landlock() runs in the agent: it checks the kernel, picks the access bits
// of the best ABI it knows, and resolves the path lists. apply_landlock() runs in
// the forked child and only makes syscalls.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/profile.h"

namespace bulkhead::isolation {

// The highest Landlock ABI of the running kernel; <= 0 (-errno: ENOSYS when the
// kernel lacks Landlock, EOPNOTSUPP when it is built but not enabled at boot)
// when Landlock is unavailable.
int landlock_abi_version() noexcept;

// Filesystem access bits a ruleset can handle on a kernel with the given ABI
// (0 for abi <= 0). ABIs newer than this code knows get the newest set it knows.
uint64_t landlock_fs_access_for_abi(int abi);

// Access bits allowed on a rule whose path is not a directory (the kernel rejects
// directory-only bits on a file with EINVAL).
uint64_t landlock_file_access();

struct LandlockPlan {
  bool enabled = false;  // false: apply_landlock() does nothing
  int abi = 0;           // the kernel ABI the plan was made for
  uint64_t handled = 0;  // fs access bits the ruleset handles (denied unless a rule allows)
  // Absolute paths as seen INSIDE the tenant root, after pivot_root.
  std::vector<std::string> ro_paths;
  std::vector<std::string> rw_paths;
  uint64_t ro_access = 0;  // read, list, execute
  uint64_t rw_access = 0;  // everything handled
  // Derived rules let the workload list directories anywhere in its view (a
  // rule on "/" is inherited by everything below it): `ls /` must work, and the
  // view itself is what the mount namespace allows. Reading, writing and
  // executing files still follow the per-path rules.
  bool list_everything = false;
  // Landlock scopes (ABI 6): kLandlockScopeAbstractUnix keeps the workload from
  // connecting to abstract unix sockets made outside its domain. Set by the
  // sandbox plan for network mode host, where the abstract socket namespace
  // (per network namespace) is the host's.
  uint64_t scoped = 0;
};

inline constexpr uint64_t kLandlockScopeAbstractUnix = 1ULL
                                                       << 0;  // LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
inline constexpr int kLandlockScopeAbi = 6;

// If spec.enabled and the kernel has no Landlock, fails (fail closed) with a
// message that names `landlock.enabled`. When both of the spec's lists are empty
// the rules are derived from the filesystem view: read-only binds are read and
// execute; read-write binds, tmpfs mounts, the data dir target, /proc and /dev
// are read-write; symlinks need no rule (Landlock checks the path they resolve
// to, which is covered by the rule of their target).
Result<LandlockPlan> plan_landlock(const config::LandlockSpec& spec,
                                   const config::FilesystemView& fs);
// Same for a given ABI instead of the running kernel's (for tests).
Result<LandlockPlan> plan_landlock(const config::LandlockSpec& spec,
                                   const config::FilesystemView& fs, int abi);

// Child side: after pivot_root (paths are opened in the new root), after the
// capabilities are dropped and PR_SET_NO_NEW_PRIVS is set (the kernel refuses
// landlock_restrict_self with EPERM without NO_NEW_PRIVS unless the caller has
// CAP_SYS_ADMIN in its namespace; the launcher sets NO_NEW_PRIVS, this function
// does not), and before seccomp. Returns 0 or -errno; never allocates.
//
// A path of the plan that the process cannot reach (ENOENT, ENOTDIR, EACCES:
// missing, an optional bind whose source was absent, or not searchable by the
// workload uid) is skipped. Skipping only ever loses access, never grants it.
int apply_landlock(const LandlockPlan& plan) noexcept;

}  // namespace bulkhead::isolation
