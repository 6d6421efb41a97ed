#include "isolation/workload.h"

#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>

namespace bulkhead::isolation {

std::string ExitStatus::to_string() const {
  if (signaled) {
    const char* name = sigabbrev_np(code);
    return std::string("killed by SIG") + (name != nullptr ? name : std::to_string(code));
  }
  return "exited with " + std::to_string(code);
}

Workload::Workload(std::string name, pid_t init_pid, UniqueFd pidfd, UniqueFd status_fd,
                   std::unique_ptr<cgroup::WorkloadCgroup> cgroup, UniqueFd terminal)
    : name_(std::move(name)),
      init_pid_(init_pid),
      pidfd_(std::move(pidfd)),
      status_fd_(std::move(status_fd)),
      cgroup_(std::move(cgroup)),
      terminal_(std::move(terminal)) {}

Workload::~Workload() {
  if (!exit_) {
    if (auto s = kill(); !s.ok()) {
      spdlog::warn("workload {}: {}", name_, s.error().to_string());
    }
    if (auto r = reap(0); !r.ok()) {
      spdlog::warn("workload {}: {}", name_, r.error().to_string());
    }
  }
  // cgroup_'s destructor removes the (now empty) cgroup directories.
}

Result<std::optional<ExitStatus>> Workload::reap(int options) {
  if (exit_) {
    return exit_;
  }
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(init_pid_, &status, options);
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    return errno_error("waitpid " + std::to_string(init_pid_));
  }
  if (r == 0) {
    return std::optional<ExitStatus>();
  }
  // init reports the workload's own wait status; without it (init itself was
  // killed) the init's status is the best there is.
  int workload_status = 0;
  if (::read(status_fd_.get(), &workload_status, sizeof(workload_status)) ==
      sizeof(workload_status)) {
    status = workload_status;
  }
  ExitStatus e;
  if (WIFSIGNALED(status)) {
    e.signaled = true;
    e.code = WTERMSIG(status);
  } else {
    e.code = WEXITSTATUS(status);
  }
  exit_ = e;
  return exit_;
}

Result<ExitStatus> Workload::wait() {
  auto r = reap(0);
  if (!r.ok()) {
    return r.error();
  }
  return **r;
}

Result<std::optional<ExitStatus>> Workload::poll() { return reap(WNOHANG); }

Status Workload::signal(int sig) {
  if (exit_) {
    return make_error("workload " + name_ + " has already ended");
  }
  if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0) != 0) {
    return errno_error("signal workload " + name_);
  }
  return {};
}

Status Workload::kill() {
  if (exit_) {
    return {};
  }
  return cgroup_->kill_all();
}

}  // namespace bulkhead::isolation
