// How the processes between fork and execve tell the agent what failed. They
// cannot allocate or log, so they write one fixed-size record to a CLOEXEC pipe:
// a successful execve closes the pipe with nothing written.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>

namespace bulkhead::isolation {

// The launch steps, in order; the name of each is what the agent reports.
enum class LaunchStep : int32_t {
  kStdio = 1,
  kJoinUserNamespace,
  kJoinNetNamespace,
  kJoinIpcNamespace,
  kJoinUtsNamespace,
  kTenantRoot,
  kUnsharePidCgroup,
  kForkInit,
  kUnshareMount,
  kRootfs,
  kInitSignals,
  kTerminal,
  kForkWorkload,
  kWorkdir,
  kRlimits,
  kCredentials,
  kCapabilities,
  kNoNewPrivs,
  kLandlock,
  kSeccomp,
  kExec,
};

struct ChildReport {
  int32_t step = 0;
  int32_t err = 0;     // errno
  int32_t detail = 0;  // step-specific, e.g. the failing rootfs plan step
  int32_t extra = 0;
};

const char* step_name(LaunchStep step);

// Child side: records the failure and exits. Async-signal-safe.
[[noreturn]] inline void report_and_exit(int fd, LaunchStep step, int err, int detail = 0,
                                         int extra = 0) {
  ChildReport r{static_cast<int32_t>(step), err, detail, extra};
  (void)!::write(fd, &r, sizeof(r));
  _exit(127);
}

}  // namespace bulkhead::isolation
