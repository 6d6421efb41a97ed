// Looks up the kernel names a profile may spell: capabilities (through libcap),
// system calls (through libseccomp), errno names and resource limits. Using the
// libraries' own tables means a name is accepted exactly when the code that
// later applies it understands it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace bulkhead::config {

// "net_bind_service", "CAP_NET_BIND_SERVICE" and "Cap_Net_Bind_Service" all give
// "CAP_NET_BIND_SERVICE". Numbers are refused: they mean different things on
// different kernels.
Result<std::string> canonical_capability(std::string_view name);

enum class SyscallKind {
  kNative,       // a system call of the native architecture
  kForeignOnly,  // libseccomp knows it, but only on another ABI (e.g. socketcall on x86_64)
  kUnknown,
};
SyscallKind classify_syscall(std::string_view name);

// "EPERM" or "1" -> 1. Numbers must be in 1..4095, the range a seccomp errno action can return.
Result<int> parse_errno(std::string_view text);

struct RlimitInfo {
  std::string_view name;  // "nofile"
  int resource;           // RLIMIT_NOFILE
  bool bytes;             // whether size suffixes ("64Mi") make sense
  uint64_t max;           // largest finite value the kernel accepts (UINT64_MAX = no bound here)
  bool may_be_unlimited;
};
// nullptr for names that are not resource limits.
const RlimitInfo* find_rlimit(std::string_view name);
// "as, core, cpu, ..." for error messages.
std::string rlimit_names();

}  // namespace bulkhead::config
