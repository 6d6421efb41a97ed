// The timers of one owner, cancelled together when the owner goes: no callback
// ever runs on a destroyed object. post() runs a callback on the next loop round,
// outside the call chain that asked for it (e.g. to destroy the object whose
// callback is running).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <set>

#include "daemon/event_loop.h"

namespace bulkhead::daemon {

class TimerSet {
 public:
  explicit TimerSet(EventLoop& loop) : loop_(loop) {}
  ~TimerSet() { cancel_all(); }
  TimerSet(const TimerSet&) = delete;
  TimerSet& operator=(const TimerSet&) = delete;

  EventLoop::TimerId add(std::chrono::milliseconds delay, std::function<void()> callback) {
    auto id = std::make_shared<EventLoop::TimerId>(0);
    *id = loop_.add_timer(delay, [this, id, callback = std::move(callback)] {
      ids_.erase(*id);
      callback();
    });
    ids_.insert(*id);
    return *id;
  }
  void post(std::function<void()> callback) {
    add(std::chrono::milliseconds(0), std::move(callback));
  }
  void cancel(EventLoop::TimerId id) {
    if (ids_.erase(id) != 0) {
      loop_.cancel_timer(id);
    }
  }
  void cancel_all() {
    for (auto id : ids_) {
      loop_.cancel_timer(id);
    }
    ids_.clear();
  }
  [[nodiscard]] EventLoop& loop() const { return loop_; }

 private:
  EventLoop& loop_;
  std::set<EventLoop::TimerId> ids_;
};

}  // namespace bulkhead::daemon
