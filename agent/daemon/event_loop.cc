#include "daemon/event_loop.h"

#include <sys/epoll.h>

#include <climits>

namespace bulkhead::daemon {
namespace {

constexpr int kMaxEvents = 64;

uint64_t pack(int fd, uint32_t generation) {
  return (uint64_t{generation} << 32) | static_cast<uint32_t>(fd);
}

}  // namespace

Result<std::unique_ptr<EventLoop>> EventLoop::create() {
  std::unique_ptr<EventLoop> loop(new EventLoop());
  loop->epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
  if (!loop->epoll_) {
    return errno_error("epoll_create1");
  }
  return loop;
}

Status EventLoop::add_fd(int fd, uint32_t events, FdCallback callback) {
  if (fds_.count(fd) != 0) {
    return Error{EEXIST, "event loop: fd " + std::to_string(fd) + " is already registered"};
  }
  uint32_t generation = next_generation_++;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = pack(fd, generation);
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    return errno_error("event loop: epoll_ctl add fd " + std::to_string(fd));
  }
  fds_[fd] = FdEntry{generation, std::make_shared<FdCallback>(std::move(callback))};
  return {};
}

Status EventLoop::modify_fd(int fd, uint32_t events) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) {
    return Error{ENOENT, "event loop: fd " + std::to_string(fd) + " is not registered"};
  }
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = pack(fd, it->second.generation);
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) != 0) {
    return errno_error("event loop: epoll_ctl mod fd " + std::to_string(fd));
  }
  return {};
}

void EventLoop::remove_fd(int fd) {
  auto it = fds_.find(fd);
  if (it == fds_.end()) {
    return;
  }
  // Failure only means the fd was closed already, which dropped it from the set.
  (void)::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  // A callback that is running keeps its own reference (see dispatch_fd).
  fds_.erase(it);
}

EventLoop::TimerId EventLoop::add_timer(std::chrono::milliseconds delay, TimerCallback callback) {
  TimerId id = next_timer_++;
  auto due = Clock::now() + std::max(delay, std::chrono::milliseconds(0));
  auto it = timers_.emplace(due, std::make_pair(id, std::move(callback)));
  timer_index_[id] = it;
  return id;
}

void EventLoop::cancel_timer(TimerId id) {
  auto it = timer_index_.find(id);
  if (it == timer_index_.end()) {
    return;
  }
  timers_.erase(it->second);
  timer_index_.erase(it);
}

int EventLoop::next_timeout_ms() const {
  if (stopping_) {
    return 0;
  }
  if (timers_.empty()) {
    return -1;
  }
  auto left = timers_.begin()->first - Clock::now();
  if (left <= Clock::duration::zero()) {
    return 0;
  }
  // Rounded up: waking a little early would only spin until the timer is due.
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

void EventLoop::dispatch_fd(uint64_t data, uint32_t events) {
  int fd = static_cast<int>(static_cast<uint32_t>(data));
  auto generation = static_cast<uint32_t>(data >> 32);
  auto it = fds_.find(fd);
  // Removed (or removed and re-added) by an earlier callback of this batch.
  if (it == fds_.end() || it->second.generation != generation) {
    return;
  }
  // Held here so the callback survives removing its own fd.
  std::shared_ptr<FdCallback> callback = it->second.callback;
  (*callback)(events);
}

void EventLoop::run_due_timers() {
  // Timers added from now on wait for the next round.
  const TimerId first_new = next_timer_;
  const auto now = Clock::now();
  while (!stopping_) {
    auto it = timers_.begin();
    while (it != timers_.end() && it->first <= now && it->second.first >= first_new) {
      ++it;
    }
    if (it == timers_.end() || it->first > now) {
      return;
    }
    TimerCallback callback = std::move(it->second.second);
    timer_index_.erase(it->second.first);
    timers_.erase(it);
    callback();
  }
}

Status EventLoop::run() {
  epoll_event events[kMaxEvents];
  Status result;
  while (!stopping_) {
    int n = ::epoll_wait(epoll_.get(), events, kMaxEvents, next_timeout_ms());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      result = errno_error("event loop: epoll_wait");
      break;
    }
    for (int i = 0; i < n && !stopping_; ++i) {
      dispatch_fd(events[i].data.u64, events[i].events);
    }
    run_due_timers();
  }
  stopping_ = false;
  return result;
}

}  // namespace bulkhead::daemon
