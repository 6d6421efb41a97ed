#include "events/sink_worker.h"

#include <time.h>

namespace bulkhead::events {
namespace {

// After a small batch the writer waits this long before taking the next one,
// so that a steady trickle is written in batches: one wake-up and one write()
// per millisecond instead of one per event (at 200,000 events/s that is the
// difference between keeping up and not). It bounds the added latency.
constexpr std::chrono::milliseconds kLinger{1};
constexpr size_t kSmallBatch = 512;

uint64_t thread_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

}  // namespace

SinkWorker::SinkWorker(std::string name, std::unique_ptr<Sink> sink, EventFilter filter,
                       size_t capacity)
    : name_(std::move(name)),
      sink_(std::move(sink)),
      filter_(std::move(filter)),
      capacity_(std::max<size_t>(capacity, 1)),
      thread_([this](const std::stop_token& stop) { run(stop); }) {}

SinkWorker::~SinkWorker() {
  thread_.request_stop();
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

bool SinkWorker::offer(const EventPtr& event) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (pending_.size() + in_flight_ >= capacity_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    pending_.push_back(event);
    wake = writer_waiting_;
    writer_waiting_ = false;
  }
  accepted_.fetch_add(1, std::memory_order_relaxed);
  // Only a sleeping writer needs the (comparatively costly) wake-up; a busy
  // one finds the event when it comes back for the next batch.
  if (wake) {
    cv_.notify_one();
  }
  return true;
}

void SinkWorker::run(const std::stop_token& stop) {
  std::vector<EventPtr> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      in_flight_ = 0;
      idle_cv_.notify_all();
      writer_waiting_ = true;
      // On stop, whatever is still queued is written before the thread ends.
      cv_.wait(lock, stop, [this] { return !pending_.empty(); });
      writer_waiting_ = false;
      if (pending_.empty()) {
        return;  // stop requested and nothing left
      }
      batch.swap(pending_);
      in_flight_ = batch.size();
    }
    const uint64_t cpu_start = thread_cpu_ns();
    sink_->write(batch, stop);
    written_.fetch_add(batch.size(), std::memory_order_relaxed);
    const bool small = batch.size() < kSmallBatch;
    batch.clear();  // the last reference to most events: freeing them is part of the cost
    cpu_ns_.fetch_add(thread_cpu_ns() - cpu_start, std::memory_order_relaxed);
    if (small && !stop.stop_requested()) {
      std::unique_lock lock(mu_);
      in_flight_ = 0;
      idle_cv_.notify_all();
      // Not marked as waiting: publishers do not wake it; only stop does.
      cv_.wait_for(lock, stop, kLinger, [] { return false; });
    }
  }
}

SinkStats SinkWorker::stats() const {
  SinkStats s;
  s.name = name_;
  s.accepted = accepted_.load(std::memory_order_relaxed);
  s.dropped = dropped_.load(std::memory_order_relaxed);
  s.failed = sink_->failed();
  const uint64_t handled = written_.load(std::memory_order_relaxed);
  s.written = handled >= s.failed ? handled - s.failed : 0;
  s.capacity = capacity_;
  s.cpu_ns = cpu_ns_.load(std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  s.queued = pending_.size() + in_flight_;
  return s;
}

bool SinkWorker::wait_idle(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, timeout, [this] { return pending_.empty() && in_flight_ == 0; });
}

}  // namespace bulkhead::events
