// Runs `done` once every stop handed out by hold() has reported back. The
// counter starts held by its creator, who calls release() after issuing every
// stop, so stops that finish on the spot cannot fire `done` early.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

namespace bulkhead::daemon {

class StopCounter {
 public:
  static std::shared_ptr<StopCounter> create(std::function<void()> done) {
    return std::shared_ptr<StopCounter>(new StopCounter(std::move(done)));
  }
  // A callback for one stop; call it exactly once.
  static std::function<void()> hold(const std::shared_ptr<StopCounter>& counter) {
    ++counter->pending_;
    return [counter] { counter->release(); };
  }
  void release() {
    if (--pending_ == 0 && done_) {
      auto done = std::move(done_);
      done_ = nullptr;
      done();
    }
  }

 private:
  explicit StopCounter(std::function<void()> done) : done_(std::move(done)) {}
  size_t pending_ = 1;
  std::function<void()> done_;
};

}  // namespace bulkhead::daemon
