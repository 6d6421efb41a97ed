// The stdio of an ad-hoc run, all of the agent's making: the caller's own
// descriptors are never handed to a tenant (a process there could keep them
// after the run, and read the operator's keyboard or write to the screen).
#pragma once

#include <array>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace bulkhead::daemon {

struct RunStdio {
  // For the sandbox, as stdin, stdout, stderr: three pipe ends, or with a
  // terminal /dev/null (only the sandbox's init has them; the workload gets
  // the terminal).
  std::array<UniqueFd, 3> workload;
  // For the caller (pipes only): the write end of the workload's stdin and the
  // read ends of its stdout and stderr.
  std::vector<UniqueFd> caller;

  // Everything close-on-exec: the launcher dups what the sandbox keeps.
  static Result<RunStdio> create(bool terminal);
};

}  // namespace bulkhead::daemon
