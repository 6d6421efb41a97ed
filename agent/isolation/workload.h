// A running workload: the init process of its pid namespace (a direct child of
// the agent), its cgroup, and the pipe that carries the workload's exit status.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include "cgroup/tree.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace bulkhead::isolation {

// How a workload ended, as a shell reports it.
struct ExitStatus {
  bool signaled = false;
  int code = 0;  // exit code, or the signal number when signaled
  [[nodiscard]] int shell_code() const { return signaled ? 128 + code : code; }
  [[nodiscard]] std::string to_string() const;
};

class Workload {
 public:
  Workload(std::string name, pid_t init_pid, UniqueFd pidfd, UniqueFd status_fd,
           std::unique_ptr<cgroup::WorkloadCgroup> cgroup, UniqueFd terminal = UniqueFd());
  Workload(const Workload&) = delete;
  Workload& operator=(const Workload&) = delete;
  // Kills whatever is still running in the workload's cgroup, reaps init and
  // removes the cgroup.
  ~Workload();

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] pid_t pid() const { return init_pid_; }  // host pid of the sandbox init
  // Readable (poll) when init has exited.
  [[nodiscard]] int pidfd() const { return pidfd_.get(); }
  [[nodiscard]] const cgroup::WorkloadCgroup& cgroup() const { return *cgroup_; }
  // The master of the workload's terminal when the launch asked for one (once;
  // afterwards invalid). Whoever holds it relays the workload's stdio; closing
  // the last copy hangs the terminal up.
  UniqueFd take_terminal() { return std::move(terminal_); }

  // Blocks until the workload ends.
  Result<ExitStatus> wait();
  // Non-blocking: nullopt while it runs.
  Result<std::optional<ExitStatus>> poll();
  // Delivered to init, which forwards it to the workload.
  Status signal(int sig);
  // SIGKILL to every process of the workload (cgroup.kill).
  Status kill();

 private:
  Result<std::optional<ExitStatus>> reap(int options);

  std::string name_;
  pid_t init_pid_;
  UniqueFd pidfd_;
  UniqueFd status_fd_;
  std::unique_ptr<cgroup::WorkloadCgroup> cgroup_;
  UniqueFd terminal_;
  std::optional<ExitStatus> exit_;
};

}  // namespace bulkhead::isolation
