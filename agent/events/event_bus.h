// The event bus: sources publish events (on the agent's event loop thread);
// the bus stamps them, keeps the most recent in a small ring, hands them to the
// loop-thread subscribers (API streams) and queues them for every sink whose
// filter matches. publish() never blocks: each sink has its own bounded queue
// and writer thread (SinkWorker) and drops, counting, when it is full.
//
// Drops are reported by report_drops(), which the agent calls periodically:
// one `agent.drop` event per sink that lost events since the last report
// (docs/events.md), and through stats() in the API's status.
//
// Thread: everything but stats() and wait_idle() on the publishing thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "events/event.h"
#include "events/event_filter.h"
#include "events/sink.h"
#include "events/sink_spec.h"
#include "events/sink_worker.h"

namespace bulkhead::events {

struct BusOptions {
  std::string host;      // "host" of every event; default: gethostname()
  size_t recent = 1024;  // events kept for `bulkheadctl events` without --follow
};

struct BusStats {
  uint64_t published = 0;
  std::vector<SinkStats> sinks;
};

class EventBus {
 public:
  using SubscriberId = uint64_t;
  using Subscriber = std::function<void(const Event&)>;

  explicit EventBus(BusOptions options = {});
  // Builds a sink for every spec (files opened, addresses resolved); fails
  // naming the spec, with nothing left running.
  static Result<std::unique_ptr<EventBus>> create(BusOptions options,
                                                  const std::vector<SinkSpec>& sinks);
  ~EventBus();  // sinks write what they hold, then their threads end
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  void add_sink(std::string name, std::unique_ptr<Sink> sink, EventFilter filter, size_t capacity);

  // Stamps time_ns (when 0) and delivers. Never blocks.
  void publish(Event&& event);
  // What sources are given.
  EventHandler handler() {
    return [this](Event&& e) { publish(std::move(e)); };
  }

  // Subscribers run inside publish() and must not block (they queue and return).
  // A subscriber may unsubscribe itself or others while being called.
  SubscriberId subscribe(EventFilter filter, Subscriber subscriber);
  void unsubscribe(SubscriberId id);
  [[nodiscard]] size_t subscriber_count() const { return subscribers_.size(); }

  // The most recent events that match, oldest first.
  [[nodiscard]] std::vector<EventPtr> recent(const EventFilter& filter) const;

  // Publishes one agent.drop event per sink whose drop or failure count grew.
  void report_drops();

  [[nodiscard]] BusStats stats() const;
  [[nodiscard]] const std::string& host() const { return options_.host; }
  // Until every sink wrote what it accepted (tests, benchmark); true when done.
  bool wait_idle(std::chrono::milliseconds timeout) const;

 private:
  struct SubscriberEntry {
    EventFilter filter;
    std::shared_ptr<Subscriber> callback;
  };

  BusOptions options_;
  std::atomic<uint64_t> published_{0};
  std::vector<std::unique_ptr<SinkWorker>> sinks_;
  std::vector<uint64_t> reported_;  // per sink: dropped + failed at the last report
  std::map<SubscriberId, SubscriberEntry> subscribers_;
  SubscriberId next_subscriber_ = 1;
  std::deque<EventPtr> recent_;
};

}  // namespace bulkhead::events
