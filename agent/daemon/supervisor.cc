#include "daemon/supervisor.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include "common/unix_time.h"
#include "daemon/restart_policy.h"

namespace bulkhead::daemon {

Result<std::unique_ptr<Supervisor>> Supervisor::create(EventLoop& loop, isolation::Tenant& tenant,
                                                       config::WorkloadSpec spec,
                                                       const SupervisorOptions& options) {
  std::unique_ptr<Supervisor> s(new Supervisor(loop, tenant, std::move(spec), options));
  auto log = WorkloadLog::create(loop, options.log_path, options.log_max_bytes, options.log_keep);
  if (!log.ok()) {
    return log.error().context("workload " + s->spec_.name);
  }
  s->log_ = std::move(*log);
  return s;
}

Supervisor::~Supervisor() {
  cancel_backoff();
  // The run goes first: its exit callback points here. The log then drains
  // what the run wrote last.
  run_.reset();
  log_.reset();
}

const char* Supervisor::state_name(State state) {
  switch (state) {
    case State::kIdle:
      return "idle";
    case State::kRunning:
      return "running";
    case State::kStopping:
      return "stopping";
    case State::kBackoff:
      return "backoff";
    case State::kExited:
      return "exited";
    case State::kFailed:
      return "failed";
    case State::kStopped:
      return "stopped";
  }
  return "?";
}

void Supervisor::cancel_backoff() {
  if (backoff_timer_) {
    loop_.cancel_timer(*backoff_timer_);
    backoff_timer_.reset();
  }
}

void Supervisor::start() {
  if (run_) {
    return;
  }
  cancel_backoff();
  consecutive_ = 0;
  launch();
}

void Supervisor::launch() {
  const std::string& tenant = tenant_.profile().name;
  isolation::LaunchRequest request;
  request.name = spec_.name;
  request.argv = spec_.command;
  request.env = spec_.env;
  request.cwd = spec_.cwd;
  UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  request.stdin_fd = devnull.get();
  request.stdout_fd = log_->write_fd();
  request.stderr_fd = log_->write_fd();
  // If the agent dies, its workloads die with it: the next agent can then take
  // the tenant's cgroup over (it refuses one that still holds processes).
  request.die_with_parent = true;

  started_ = std::chrono::steady_clock::now();
  started_unix_ms_ = unix_ms_now();
  auto launched = devnull ? tenant_.launch(request)
                          : Result<std::unique_ptr<isolation::Workload>>(
                                errno_error("open /dev/null for workload " + spec_.name));
  if (launched.ok()) {
    if (options_.on_launch) {
      options_.on_launch(**launched);
    }
    auto watched = WatchedWorkload::create(loop_, std::move(*launched),
                                           [this](const isolation::ExitStatus& s) { on_exit(s); });
    if (watched.ok()) {
      run_ = std::move(*watched);
      state_ = State::kRunning;
      last_error_.clear();
      spdlog::info("tenant {}: workload {} started, pid {}", tenant, spec_.name, run_->pid());
      return;
    }
    launched = watched.error();
  }
  last_error_ = launched.error().to_string();
  spdlog::error("tenant {}: workload {} could not start: {}", tenant, spec_.name, last_error_);
  after_run(false, std::chrono::steady_clock::duration::zero());
}

void Supervisor::on_exit(const isolation::ExitStatus& status) {
  auto ran_for = std::chrono::steady_clock::now() - started_;
  last_exit_ = status;
  // Destroying the run reaps nothing more (already reaped) but removes the
  // workload's cgroup, so the next run can make it again.
  run_.reset();
  spdlog::info("tenant {}: workload {} {}", tenant_.profile().name, spec_.name, status.to_string());
  if (state_ == State::kStopping) {
    if (start_after_stop_) {
      start_after_stop_ = false;
      state_ = State::kIdle;
      start();
    } else {
      state_ = State::kStopped;
    }
    notify_stopped();
    return;
  }
  after_run(!status.signaled && status.code == 0, ran_for);
}

void Supervisor::after_run(bool succeeded, std::chrono::steady_clock::duration ran_for) {
  const std::string& tenant = tenant_.profile().name;
  if (ran_for >= options_.restart_reset_after) {
    consecutive_ = 0;
  }
  switch (decide_restart(spec_.restart, succeeded, consecutive_, spec_.restart_limit)) {
    case RestartAction::kDone:
      state_ = succeeded ? State::kExited : State::kFailed;
      return;
    case RestartAction::kGiveUp:
      state_ = State::kFailed;
      spdlog::error("tenant {}: workload {} gave up after {} consecutive restart(s) (limit {})",
                    tenant, spec_.name, consecutive_, spec_.restart_limit);
      return;
    case RestartAction::kRestart:
      break;
  }
  ++consecutive_;
  auto delay = restart_delay(spec_.restart_backoff_ms, consecutive_);
  state_ = State::kBackoff;
  spdlog::info("tenant {}: workload {} restarts in {} ms (restart {} of {}, policy {})", tenant,
               spec_.name, delay.count(), consecutive_, spec_.restart_limit,
               policy_name(spec_.restart));
  backoff_timer_ = loop_.add_timer(delay, [this] {
    backoff_timer_.reset();
    ++restarts_;
    launch();
  });
}

void Supervisor::stop(std::optional<std::chrono::milliseconds> kill_after,
                      std::function<void()> on_stopped) {
  start_after_stop_ = false;
  cancel_backoff();
  if (!run_) {
    if (state_ != State::kExited && state_ != State::kFailed) {
      state_ = State::kStopped;
    }
    if (on_stopped) {
      on_stopped();
    }
    return;
  }
  state_ = State::kStopping;
  if (on_stopped) {
    stop_waiters_.push_back(std::move(on_stopped));
  }
  run_->stop(kill_after);
}

void Supervisor::kill() {
  if (run_) {
    run_->kill();
  }
}

Status Supervisor::signal(int sig) {
  if (!run_) {
    return make_error("workload " + spec_.name + " is not running (" + state_name(state_) + ")");
  }
  return run_->signal(sig);
}

void Supervisor::replace(config::WorkloadSpec spec) {
  spec_ = std::move(spec);
  restarts_ = 0;
  if (run_) {
    state_ = State::kStopping;
    start_after_stop_ = true;
    run_->stop(options_.stop_grace);
    return;
  }
  cancel_backoff();
  start();
}

void Supervisor::update_restart(const config::WorkloadSpec& spec) {
  spec_.restart = spec.restart;
  spec_.restart_limit = spec.restart_limit;
  spec_.restart_backoff_ms = spec.restart_backoff_ms;
}

void Supervisor::notify_stopped() {
  auto waiters = std::move(stop_waiters_);
  stop_waiters_.clear();
  for (auto& w : waiters) {
    w();
  }
}

WorkloadInfo Supervisor::info(const std::string& tenant) const {
  WorkloadInfo info;
  info.tenant = tenant;
  info.name = spec_.name;
  info.kind = WorkloadKind::kDeclared;
  info.state = state_name(state_);
  info.pid = run_ ? run_->pid() : 0;
  info.command = spec_.command;
  info.restarts = restarts_;
  info.last_exit = last_exit_;
  info.last_error = last_error_;
  info.started_unix_ms = started_unix_ms_;
  return info;
}

}  // namespace bulkhead::daemon
