// A workload's own terminal: a pty of the devpts instance its sandbox mounts
// (newinstance, inside the tenant's user namespace), made by the sandbox's init
// before the workload starts. The workload gets the slave as its controlling
// terminal and stdio; the master goes to the agent over a socket and from there
// to whoever relays it (bulkheadctl). Nothing of the host's terminals, and no
// descriptor of the operator's, ever enters the sandbox; when the last master
// descriptor is closed the kernel hangs the slave up for every holder.
#pragma once

#include <sys/types.h>

#include <cstdint>

#include "common/result.h"
#include "common/unique_fd.h"

namespace bulkhead::isolation {

// Rows and columns; 0 leaves the kernel's default (0x0, "unknown").
struct TerminalSize {
  uint16_t rows = 0;
  uint16_t cols = 0;
};

// init, in the new root, before the workload is forked: opens the devpts
// instance's ptmx, unlocks it, sets `size`, opens the slave through the master
// (TIOCGPTPEER: no path lookup), gives it to the workload's uid, and sends the
// master over `console_fd`. Returns the slave (CLOEXEC) or -errno. Only system
// calls: runs between fork and execve.
int open_workload_terminal(int console_fd, TerminalSize size, uid_t uid) noexcept;

// The workload, after setsid(): makes `slave` its controlling terminal (so
// Ctrl-C and window changes reach its foreground process group) and its
// stdin, stdout and stderr, then closes `slave`. Returns 0 or -errno.
int attach_workload_terminal(int slave) noexcept;

// The agent: takes the master init sent on `console_fd`, and checks that it is
// one (a single descriptor, a pty master).
Result<UniqueFd> receive_workload_terminal(int console_fd);

}  // namespace bulkhead::isolation
