// A single-threaded epoll loop: the agent does all of its work here (signals via
// signalfd, workload exits via pidfds, restarts via timers, API connections), so
// its state needs no locks.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>

#include "common/result.h"
#include "common/unique_fd.h"

namespace bulkhead::daemon {

class EventLoop {
 public:
  using FdCallback = std::function<void(uint32_t events)>;  // EPOLLIN, EPOLLOUT, EPOLLHUP, ...
  using TimerCallback = std::function<void()>;
  using TimerId = uint64_t;

  static Result<std::unique_ptr<EventLoop>> create();

  // The callback may add or remove fds and timers, including its own.
  // Level-triggered. Remove an fd before closing it.
  Status add_fd(int fd, uint32_t events, FdCallback callback);
  Status modify_fd(int fd, uint32_t events);
  void remove_fd(int fd);
  // Timers with the same due time run in the order they were added. A timer
  // added by a callback never runs in the same dispatch round, even with a zero
  // delay, so a callback that re-arms itself cannot starve the fds.
  TimerId add_timer(std::chrono::milliseconds delay, TimerCallback callback);
  // Unknown or already run ids are ignored.
  void cancel_timer(TimerId id);

  // Runs until stop() is called (from a callback). A stop() that comes before
  // run() makes the next run() return after one round; run() can be called
  // again after it returned.
  Status run();
  void stop() { stopping_ = true; }

  // How many fds and timers are registered (tests check that owners clean up).
  [[nodiscard]] size_t fd_count() const { return fds_.size(); }
  [[nodiscard]] size_t timer_count() const { return timers_.size(); }

 private:
  using Clock = std::chrono::steady_clock;
  using TimerMap = std::multimap<Clock::time_point, std::pair<TimerId, TimerCallback>>;

  // An fd's registration; `generation` tells an event for this registration
  // from a stale one for an fd number that was removed and reused in one batch.
  struct FdEntry {
    uint32_t generation = 0;
    std::shared_ptr<FdCallback> callback;
  };

  EventLoop() = default;
  void dispatch_fd(uint64_t data, uint32_t events);
  void run_due_timers();
  [[nodiscard]] int next_timeout_ms() const;

  UniqueFd epoll_;
  std::map<int, FdEntry> fds_;
  uint32_t next_generation_ = 1;
  TimerMap timers_;
  std::map<TimerId, TimerMap::iterator> timer_index_;
  TimerId next_timer_ = 1;
  bool stopping_ = false;
};

}  // namespace bulkhead::daemon
