// A sink writes events somewhere (a file, syslog). Each runs on its own writer
// thread behind a bounded queue (SinkWorker), so a sink may block: the
// publisher, on the agent's event loop, never waits for it.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <stop_token>

#include "events/event.h"

namespace bulkhead::events {

using EventPtr = std::shared_ptr<const Event>;

class Sink {
 public:
  virtual ~Sink() = default;
  // Writes a batch, in order; called on the writer thread only. A sink that
  // waits (reconnect backoff) must return soon once `stop` is requested:
  // the agent is shutting down and what cannot be written then is lost.
  virtual void write(std::span<const EventPtr> batch, std::stop_token stop) = 0;
  // Events the sink took but could not deliver (write or send failures).
  [[nodiscard]] uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }

 protected:
  void count_failed(uint64_t n) { failed_.fetch_add(n, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> failed_{0};
};

}  // namespace bulkhead::events
