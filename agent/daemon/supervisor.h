// One declared workload of a tenant and its life:
//
//   start ─▶ running ──exit──▶ decide_restart ─▶ backoff ──timer──▶ running ...
//                │                     ├──────▶ exited  (policy done, exit 0)
//                │                     └──────▶ failed  (policy done after a failure,
//                │                                       or the restart limit is used up)
//                └──stop──▶ stopping ──exit──▶ stopped  (never restarted until start/replace)
//
// A launch error (command missing, sandbox setup refused) is a failed run. The
// output of every run goes to the workload's WorkloadLog. See restart_policy.h
// for the limit and backoff rules.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/profile.h"
#include "daemon/agent.h"
#include "daemon/event_loop.h"
#include "daemon/watched_workload.h"
#include "daemon/workload_log.h"
#include "isolation/tenant.h"

namespace bulkhead::daemon {

struct SupervisorOptions {
  std::string log_path;
  uint64_t log_max_bytes = 0;
  int log_keep = 0;
  std::chrono::milliseconds stop_grace{10000};
  std::chrono::milliseconds restart_reset_after{60000};
  // Called after each successful launch, before the workload runs on the loop
  // (the kernel event stream names the workload's cgroup here).
  std::function<void(const isolation::Workload&)> on_launch;
};

class Supervisor {
 public:
  enum class State { kIdle, kRunning, kStopping, kBackoff, kExited, kFailed, kStopped };

  // Opens the log; does not start anything.
  static Result<std::unique_ptr<Supervisor>> create(EventLoop& loop, isolation::Tenant& tenant,
                                                    config::WorkloadSpec spec,
                                                    const SupervisorOptions& options);
  ~Supervisor();  // a run still going is killed (WatchedWorkload)
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Starts from any state but running/stopping, with the restart count at zero.
  void start();
  // Stops for good: SIGTERM, cgroup.kill after kill_after (the caller kills when
  // nullopt). on_stopped runs once nothing runs any more, at once if nothing did.
  void stop(std::optional<std::chrono::milliseconds> kill_after, std::function<void()> on_stopped);
  void kill();
  Status signal(int sig);
  // A new command/env/cwd: the current run is stopped (grace, kill) and the new
  // spec started fresh. Restart settings alone are taken in place by update_restart.
  void replace(config::WorkloadSpec spec);
  void update_restart(const config::WorkloadSpec& spec);

  [[nodiscard]] const config::WorkloadSpec& spec() const { return spec_; }
  [[nodiscard]] State state() const { return state_; }
  [[nodiscard]] bool running() const { return run_ != nullptr; }
  // The pidfd of the current run, -1 when none.
  [[nodiscard]] int pidfd() const { return run_ ? run_->pidfd() : -1; }
  // Reaps the run if it ended, without the loop (see WatchedWorkload::check_exit).
  void check_exit() {
    if (run_) {
      run_->check_exit();
    }
  }
  [[nodiscard]] WorkloadInfo info(const std::string& tenant) const;
  [[nodiscard]] const WorkloadLog& log() const { return *log_; }

  static const char* state_name(State state);

 private:
  Supervisor(EventLoop& loop, isolation::Tenant& tenant, config::WorkloadSpec spec,
             SupervisorOptions options)
      : loop_(loop), tenant_(tenant), spec_(std::move(spec)), options_(std::move(options)) {}

  void launch();
  void on_exit(const isolation::ExitStatus& status);
  // After a run (or a failed launch) that nobody asked to stop.
  void after_run(bool succeeded, std::chrono::steady_clock::duration ran_for);
  void cancel_backoff();
  void notify_stopped();

  EventLoop& loop_;
  isolation::Tenant& tenant_;
  config::WorkloadSpec spec_;
  SupervisorOptions options_;
  std::unique_ptr<WorkloadLog> log_;
  std::unique_ptr<WatchedWorkload> run_;
  State state_ = State::kIdle;
  bool start_after_stop_ = false;  // replace(): start the new spec once the old run ended
  uint32_t restarts_ = 0;          // all restarts made since start()
  uint32_t consecutive_ = 0;       // restarts since the last healthy run
  std::optional<isolation::ExitStatus> last_exit_;
  std::string last_error_;
  std::chrono::steady_clock::time_point started_;
  int64_t started_unix_ms_ = 0;
  std::optional<EventLoop::TimerId> backoff_timer_;
  std::vector<std::function<void()>> stop_waiters_;
};

}  // namespace bulkhead::daemon
