// A sink's bounded queue and writer thread. offer() is called by the publisher
// and never blocks for longer than a short critical section: when the queue
// holds `capacity` events (waiting plus the batch being written) the event is
// dropped and counted. The writer takes everything waiting in one swap and
// hands it to the sink as one batch.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "events/event_filter.h"
#include "events/sink.h"

namespace bulkhead::events {

struct SinkStats {
  std::string name;
  uint64_t accepted = 0;  // queued for the sink
  uint64_t written = 0;   // handed to the sink and returned (minus `failed`)
  uint64_t dropped = 0;   // refused: the queue was full
  uint64_t failed = 0;    // the sink could not deliver them
  size_t queued = 0;      // waiting now
  size_t capacity = 0;
  uint64_t cpu_ns = 0;  // CPU time the writer thread spent writing (its cost per event)
};

class SinkWorker {
 public:
  SinkWorker(std::string name, std::unique_ptr<Sink> sink, EventFilter filter, size_t capacity);
  // Writes what is queued (the sink gives up on waits), then joins the thread.
  ~SinkWorker();
  SinkWorker(const SinkWorker&) = delete;
  SinkWorker& operator=(const SinkWorker&) = delete;

  [[nodiscard]] const EventFilter& filter() const { return filter_; }
  [[nodiscard]] const std::string& name() const { return name_; }
  // Queues the event, or drops it when the queue is full; true when queued.
  bool offer(const EventPtr& event);
  [[nodiscard]] SinkStats stats() const;
  // Blocks until everything accepted so far was written or failed, or the
  // timeout passed (tests and the benchmark); true when drained.
  bool wait_idle(std::chrono::milliseconds timeout) const;

 private:
  void run(const std::stop_token& stop);

  std::string name_;
  std::unique_ptr<Sink> sink_;
  EventFilter filter_;
  size_t capacity_;

  mutable std::mutex mu_;
  mutable std::condition_variable_any cv_;       // the writer waits for events
  mutable std::condition_variable_any idle_cv_;  // wait_idle waits for the writer
  std::vector<EventPtr> pending_;                // guarded by mu_
  size_t in_flight_ = 0;                         // guarded by mu_
  bool writer_waiting_ = false;                  // guarded by mu_
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> cpu_ns_{0};
  std::jthread thread_;  // last: started after everything above exists
};

}  // namespace bulkhead::events
