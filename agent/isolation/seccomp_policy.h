// The seccomp layer of the tenant sandbox: a profile's seccomp section (the built-in
// allowlist or an imported OCI/Docker JSON file, plus the profile's allow/deny lists)
// is compiled with libseccomp into a classic-BPF program ahead of time, so the child
// can install it after fork without allocating.
//
// Pipeline: source (seccomp_default / seccomp_oci) -> SeccompPolicy -> profile
// allow/deny lists -> libseccomp -> exported sock_filter array.
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/profile.h"

namespace bulkhead::isolation {

// A compiled classic-BPF filter, ready to install in a child process without allocating.
struct SeccompProgram {
  std::vector<struct sock_filter> instructions;
  // Non-fatal notes from compiling, e.g. syscall names of an imported file that this
  // libseccomp does not know and that therefore stay denied. The caller logs them.
  std::vector<std::string> warnings;
};

// One rule before it is handed to libseccomp. All comparisons must hold (AND).
struct SeccompRule {
  std::string name;  // syscall name, for messages
  int nr = 0;        // libseccomp's number; negative pseudo numbers for calls of other ABIs
  uint32_t action = SCMP_ACT_ALLOW;
  std::vector<scmp_arg_cmp> args;
  std::string origin;  // where the rule came from, e.g. "x.json: syscalls[3]"
};

// One comparison of a rule: for SCMP_CMP_MASKED_EQ, a is the mask and b the value.
inline scmp_arg_cmp arg_cmp(unsigned arg, scmp_compare op, uint64_t a, uint64_t b = 0) {
  return scmp_arg_cmp{arg, op, a, b};
}

// A filter described as data: what the built-in profile and the OCI importer produce.
struct SeccompPolicy {
  uint32_t default_action = SCMP_ACT_ERRNO(1);
  std::vector<SeccompRule> rules;
  std::vector<std::string> warnings;
  // Native syscalls newer than any this libseccomp can name return ENOSYS instead of
  // the default action, so programs take their "old kernel" fallback instead of failing
  // on EPERM (the clone3/faccessat2 breakage containers saw). Only for deny defaults.
  bool enosys_for_unknown_syscalls = false;
};

// Compiles a profile's seccomp section. kept_caps are the capabilities the workload keeps
// ("CAP_SYS_PTRACE" form), used by Docker-style includes/excludes. profile_file is used in
// error messages.
Result<SeccompProgram> compile_seccomp(const config::SeccompSpec& spec,
                                       const std::vector<std::string>& kept_caps,
                                       const std::string& profile_file);

// Installs the filter on the calling thread. Async-signal-safe: no allocation, no logging
// (called after fork). Requires PR_SET_NO_NEW_PRIVS already set (or CAP_SYS_ADMIN).
// Returns 0 or -errno.
int install_seccomp(const SeccompProgram& program) noexcept;

// --- Building blocks, exposed for the sources and for tests. ---

// The libseccomp action that denies a call under `spec` (errno, kill or log).
Result<uint32_t> seccomp_deny_action(const config::SeccompSpec& spec);

// Resolves a syscall name for the native ABI; __NR_SCMP_ERROR (-1) when libseccomp does
// not know the name at all. Names of other ABIs' calls ("mmap2") resolve
// to negative pseudo numbers, which libseccomp maps per architecture.
int resolve_syscall(const std::string& name);

// Applies the profile's allow and deny lists on top of a policy: every rule for a listed
// name is replaced by an unconditional allow, or by `deny_action`.
Status apply_allow_deny(SeccompPolicy& policy, const config::SeccompSpec& spec,
                        uint32_t deny_action, const std::string& profile_file);

// Turns a policy into BPF. foreign_abi adds the 32-bit x86 and x32 ABIs with the same
// rules; calls from an ABI not in the filter get bad_arch_action.
Result<SeccompProgram> build_seccomp_program(const SeccompPolicy& policy, bool foreign_abi,
                                             uint32_t bad_arch_action);

// A (mask, value) pair for SCMP_CMP_MASKED_EQ.
struct MaskedValue {
  uint32_t mask = 0;
  uint32_t value = 0;
};
// Masked comparisons whose union is exactly "every 32-bit value except `excluded`".
// libseccomp refuses a conditional rule with the default action, so "allow ioctl unless
// cmd == TIOCSTI" must be written as allow rules; and the kernel reads `int` arguments as
// their low 32 bits, so a 64-bit SCMP_CMP_NE would let 0x1_00005412 through as TIOCSTI.
std::vector<MaskedValue> masked_complement(std::vector<uint32_t> excluded);

// Runs a compiled program in user space over one syscall, the way the kernel would, and
// returns the SECCOMP_RET_* value. For tests and for explaining a decision without
// installing anything.
Result<uint32_t> evaluate_seccomp(const SeccompProgram& program, const struct seccomp_data& call);

}  // namespace bulkhead::isolation
