#include "events/event_bus.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <climits>

#include "events/sink_factory.h"

namespace bulkhead::events {
namespace {

uint64_t realtime_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::string hostname() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) {
    return "localhost";
  }
  return buf;
}

}  // namespace

EventBus::EventBus(BusOptions options) : options_(std::move(options)) {
  if (options_.host.empty()) {
    options_.host = hostname();
  }
}

EventBus::~EventBus() = default;

Result<std::unique_ptr<EventBus>> EventBus::create(BusOptions options,
                                                   const std::vector<SinkSpec>& sinks) {
  auto bus = std::make_unique<EventBus>(std::move(options));
  for (const SinkSpec& spec : sinks) {
    auto sink = make_sink(spec, bus->host());
    if (!sink.ok()) {
      return sink.error().context("event sink " + spec.text);
    }
    bus->add_sink(spec.text, std::move(*sink), spec.filter, spec.queue);
  }
  return bus;
}

void EventBus::add_sink(std::string name, std::unique_ptr<Sink> sink, EventFilter filter,
                        size_t capacity) {
  sinks_.push_back(
      std::make_unique<SinkWorker>(std::move(name), std::move(sink), std::move(filter), capacity));
  reported_.push_back(0);
}

void EventBus::publish(Event&& event) {
  if (event.time_ns == 0) {
    event.time_ns = realtime_ns();
  }
  published_.fetch_add(1, std::memory_order_relaxed);
  auto shared = std::make_shared<const Event>(std::move(event));
  if (options_.recent > 0) {
    if (recent_.size() >= options_.recent) {
      recent_.pop_front();
    }
    recent_.push_back(shared);
  }
  for (auto& sink : sinks_) {
    if (sink->filter().matches(*shared)) {
      sink->offer(shared);
    }
  }
  if (subscribers_.empty()) {
    return;
  }
  // A callback may (un)subscribe: iterate over a snapshot of the callbacks,
  // and skip those removed meanwhile.
  std::vector<std::pair<SubscriberId, std::shared_ptr<Subscriber>>> targets;
  for (const auto& [id, entry] : subscribers_) {
    if (entry.filter.matches(*shared)) {
      targets.emplace_back(id, entry.callback);
    }
  }
  for (const auto& [id, callback] : targets) {
    if (subscribers_.count(id) != 0) {
      (*callback)(*shared);
    }
  }
}

EventBus::SubscriberId EventBus::subscribe(EventFilter filter, Subscriber subscriber) {
  const SubscriberId id = next_subscriber_++;
  subscribers_.emplace(
      id, SubscriberEntry{std::move(filter), std::make_shared<Subscriber>(std::move(subscriber))});
  return id;
}

void EventBus::unsubscribe(SubscriberId id) { subscribers_.erase(id); }

std::vector<EventPtr> EventBus::recent(const EventFilter& filter) const {
  std::vector<EventPtr> out;
  for (const auto& e : recent_) {
    if (filter.matches(*e)) {
      out.push_back(e);
    }
  }
  return out;
}

void EventBus::report_drops() {
  for (size_t i = 0; i < sinks_.size(); ++i) {
    const SinkStats s = sinks_[i]->stats();
    const uint64_t lost = s.dropped + s.failed;
    if (lost == reported_[i]) {
      continue;
    }
    const uint64_t since = lost - reported_[i];
    reported_[i] = lost;
    spdlog::warn(
        "event sink {}: {} event(s) lost since the last report ({} dropped, {} failed "
        "in total)",
        s.name, since, s.dropped, s.failed);
    Event drop;
    drop.type = EventType::kDrop;
    drop.fields = nlohmann::json{{"sink", s.name},
                                 {"lost", since},
                                 {"dropped_total", s.dropped},
                                 {"failed_total", s.failed}};
    publish(std::move(drop));
  }
}

BusStats EventBus::stats() const {
  BusStats s;
  s.published = published_.load(std::memory_order_relaxed);
  for (const auto& sink : sinks_) {
    s.sinks.push_back(sink->stats());
  }
  return s;
}

bool EventBus::wait_idle(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (const auto& sink : sinks_) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (!sink->wait_idle(std::max(left, std::chrono::milliseconds(0)))) {
      return false;
    }
  }
  return true;
}

}  // namespace bulkhead::events
