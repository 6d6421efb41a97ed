// The stdout and stderr of a declared workload: a pipe whose write end every
// run of the workload gets as fds 1 and 2, and whose read end the loop drains
// into a rotating LogFile. The pipe outlives the runs, so output written just
// before an exit is not lost when the workload restarts.
//
// The read end is non-blocking and each wake-up reads at most one buffer, so a
// chatty workload cannot hold the loop; a workload that writes faster than the
// disk takes it blocks on its own full pipe, never the agent.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"
#include "daemon/event_loop.h"
#include "daemon/log_file.h"

namespace bulkhead::daemon {

class WorkloadLog {
 public:
  static Result<std::unique_ptr<WorkloadLog>> create(EventLoop& loop, const std::string& path,
                                                     uint64_t max_bytes, int keep);
  // Writes what is still buffered in the pipe (bounded), then unregisters.
  ~WorkloadLog();
  WorkloadLog(const WorkloadLog&) = delete;
  WorkloadLog& operator=(const WorkloadLog&) = delete;

  // For LaunchRequest::stdout_fd / stderr_fd.
  [[nodiscard]] int write_fd() const { return write_.get(); }
  [[nodiscard]] const LogFile& file() const { return file_; }

  // Reads once from the pipe; false when it was empty. Public for the final drain and tests.
  bool pump();

 private:
  WorkloadLog(EventLoop& loop, LogFile file) : loop_(loop), file_(std::move(file)) {}

  EventLoop& loop_;
  LogFile file_;
  UniqueFd read_;
  UniqueFd write_;
  bool registered_ = false;
};

}  // namespace bulkhead::daemon
