// A running Workload on the event loop: its pidfd is watched, and when init
// exits the workload is reaped and `on_exit` runs (once). Stopping is SIGTERM
// through init, then, if it is still running after the grace period,
// cgroup.kill of everything in the workload's cgroup.
//
// on_exit may destroy this object.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>

#include "common/result.h"
#include "daemon/event_loop.h"
#include "isolation/workload.h"

namespace bulkhead::daemon {

class WatchedWorkload {
 public:
  using ExitFn = std::function<void(const isolation::ExitStatus&)>;

  static Result<std::unique_ptr<WatchedWorkload>> create(
      EventLoop& loop, std::unique_ptr<isolation::Workload> workload, ExitFn on_exit);
  // Unregisters; a workload still running is killed and reaped (Workload's destructor).
  ~WatchedWorkload();
  WatchedWorkload(const WatchedWorkload&) = delete;
  WatchedWorkload& operator=(const WatchedWorkload&) = delete;

  [[nodiscard]] pid_t pid() const { return workload_->pid(); }
  [[nodiscard]] int pidfd() const { return workload_->pidfd(); }
  [[nodiscard]] bool stopping() const { return stopping_; }

  Status signal(int sig);
  // SIGTERM now; with kill_after, cgroup.kill when it has not ended by then.
  // Without, the caller kills (several workloads sharing one grace timer).
  void stop(std::optional<std::chrono::milliseconds> kill_after);
  void kill();

  // Checks for the exit without waiting for the loop (the agent's destructor,
  // which cannot run the loop). True when it ended; on_exit has then run.
  bool check_exit();

 private:
  WatchedWorkload(EventLoop& loop, std::unique_ptr<isolation::Workload> workload, ExitFn on_exit)
      : loop_(loop), workload_(std::move(workload)), on_exit_(std::move(on_exit)) {}
  void unregister();

  EventLoop& loop_;
  std::unique_ptr<isolation::Workload> workload_;
  ExitFn on_exit_;
  bool registered_ = false;
  bool stopping_ = false;
  std::optional<EventLoop::TimerId> kill_timer_;
};

}  // namespace bulkhead::daemon
