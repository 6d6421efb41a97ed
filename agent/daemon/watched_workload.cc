#include "daemon/watched_workload.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>

#include <csignal>

namespace bulkhead::daemon {

Result<std::unique_ptr<WatchedWorkload>> WatchedWorkload::create(
    EventLoop& loop, std::unique_ptr<isolation::Workload> workload, ExitFn on_exit) {
  std::unique_ptr<WatchedWorkload> w(
      new WatchedWorkload(loop, std::move(workload), std::move(on_exit)));
  WatchedWorkload* self = w.get();
  BULKHEAD_TRY_CTX(loop.add_fd(w->pidfd(), EPOLLIN, [self](uint32_t) { self->check_exit(); }),
                   "watching workload " + w->workload_->name());
  w->registered_ = true;
  return w;
}

WatchedWorkload::~WatchedWorkload() { unregister(); }

void WatchedWorkload::unregister() {
  if (registered_) {
    loop_.remove_fd(workload_->pidfd());
    registered_ = false;
  }
  if (kill_timer_) {
    loop_.cancel_timer(*kill_timer_);
    kill_timer_.reset();
  }
}

Status WatchedWorkload::signal(int sig) {
  if (!registered_) {
    return make_error("workload " + workload_->name() + " has already ended");
  }
  return workload_->signal(sig);
}

void WatchedWorkload::stop(std::optional<std::chrono::milliseconds> kill_after) {
  if (!registered_) {
    return;
  }
  stopping_ = true;
  // Fails only when init is already gone; the pidfd then reports the exit.
  if (auto s = workload_->signal(SIGTERM); !s.ok()) {
    spdlog::debug("{}", s.error().to_string());
  }
  if (kill_after && !kill_timer_) {
    kill_timer_ = loop_.add_timer(*kill_after, [this] {
      kill_timer_.reset();
      spdlog::info("workload {} (pid {}) did not stop within the grace period: killing it",
                   workload_->name(), workload_->pid());
      kill();
    });
  }
}

void WatchedWorkload::kill() {
  if (!registered_) {
    return;
  }
  stopping_ = true;
  if (auto s = workload_->kill(); !s.ok()) {
    spdlog::warn("{}", s.error().to_string());
  }
}

bool WatchedWorkload::check_exit() {
  if (!registered_) {
    return true;
  }
  auto polled = workload_->poll();
  isolation::ExitStatus status;
  if (!polled.ok()) {
    // Not ours to reap any more (ECHILD): report it ended, status unknown.
    spdlog::error("workload {}: {}", workload_->name(), polled.error().to_string());
    status = isolation::ExitStatus{false, 255};
  } else if (!polled->has_value()) {
    return false;
  } else {
    status = **polled;
  }
  unregister();
  // Moved out first: the callback may destroy this object.
  ExitFn on_exit = std::move(on_exit_);
  on_exit_ = nullptr;
  if (on_exit) {
    on_exit(status);
  }
  return true;
}

}  // namespace bulkhead::daemon
