#include "daemon/run_stdio.h"

#include <fcntl.h>
#include <unistd.h>

namespace bulkhead::daemon {

Result<RunStdio> RunStdio::create(bool terminal) {
  RunStdio s;
  if (terminal) {
    for (auto& fd : s.workload) {
      fd.reset(::open("/dev/null", O_RDWR | O_CLOEXEC));
      if (!fd) {
        return errno_error("open /dev/null");
      }
    }
    return s;
  }
  for (size_t i = 0; i < 3; ++i) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
      return errno_error("pipe for the workload's stdio");
    }
    UniqueFd read_end(p[0]);
    UniqueFd write_end(p[1]);
    // stdin: the workload reads; stdout and stderr: it writes.
    s.workload[i] = std::move(i == 0 ? read_end : write_end);
    s.caller.push_back(std::move(i == 0 ? write_end : read_end));
  }
  return s;
}

}  // namespace bulkhead::daemon
