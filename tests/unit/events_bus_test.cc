// The bus's promises: publish() never waits for a sink, a full queue drops
// and counts exactly, drops are reported as agent.drop events, and
// subscribers and sinks see only what their filters select.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "events/event_bus.h"

namespace bulkhead::events {
namespace {

using namespace std::chrono_literals;

// A sink that blocks in write() until released, and records what it got.
class GateSink final : public Sink {
 public:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false;
    bool entered = false;
    std::vector<Event> got;
  };
  explicit GateSink(std::shared_ptr<State> s) : s_(std::move(s)) {}
  void write(std::span<const EventPtr> batch, std::stop_token /*stop*/) override {
    std::unique_lock lock(s_->mu);
    s_->entered = true;
    s_->cv.notify_all();
    s_->cv.wait(lock, [this] { return s_->open; });
    for (const auto& e : batch) {
      s_->got.push_back(*e);
    }
  }

 private:
  std::shared_ptr<State> s_;
};

Event event(EventType type, const std::string& tenant, int n = 0) {
  Event e;
  e.type = type;
  e.tenant = tenant;
  e.process.pid = n;
  return e;
}

TEST(EventBus, FullQueueDropsAndCountsExactlyWithoutBlocking) {
  auto state = std::make_shared<GateSink::State>();
  EventBus bus(BusOptions{"h", 16});
  constexpr size_t kCapacity = 100;
  bus.add_sink("slow", std::make_unique<GateSink>(state), EventFilter{}, kCapacity);

  // The first event reaches the writer, which then blocks in the sink.
  bus.publish(event(EventType::kFileOpen, "a", 1));
  {
    std::unique_lock lock(state->mu);
    ASSERT_TRUE(state->cv.wait_for(lock, 5s, [&] { return state->entered; }));
  }
  const auto start = std::chrono::steady_clock::now();
  constexpr int kMore = 1000;
  for (int i = 2; i <= kMore + 1; ++i) {
    bus.publish(event(EventType::kFileOpen, "a", i));
  }
  // Publishing 1000 events into a stuck sink takes nowhere near its stall.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);

  BusStats st = bus.stats();
  ASSERT_EQ(st.sinks.size(), 1U);
  EXPECT_EQ(st.published, kMore + 1U);
  // The one in flight counts against the capacity: 99 more fit.
  EXPECT_EQ(st.sinks[0].accepted, kCapacity);
  EXPECT_EQ(st.sinks[0].dropped, kMore + 1 - kCapacity);
  EXPECT_EQ(st.sinks[0].queued, kCapacity);

  {
    std::lock_guard lock(state->mu);
    state->open = true;
  }
  state->cv.notify_all();
  ASSERT_TRUE(bus.wait_idle(5s));
  std::lock_guard lock(state->mu);
  ASSERT_EQ(state->got.size(), kCapacity);
  // In order, and the first ones (the later ones were dropped).
  for (size_t i = 0; i < state->got.size(); ++i) {
    EXPECT_EQ(state->got[i].process.pid, static_cast<pid_t>(i + 1));
  }
}

TEST(EventBus, DropsAreReportedAsAgentDropEvents) {
  auto state = std::make_shared<GateSink::State>();
  EventBus bus(BusOptions{"h", 16});
  bus.add_sink("slow", std::make_unique<GateSink>(state), EventFilter{}, 1);
  std::vector<Event> seen;
  bus.subscribe(EventFilter{std::nullopt, EventFilter::type_bit(EventType::kDrop)},
                [&](const Event& e) { seen.push_back(e); });
  bus.report_drops();
  EXPECT_TRUE(seen.empty());  // nothing lost yet: nothing reported
  for (int i = 0; i < 5; ++i) {
    bus.publish(event(EventType::kFileOpen, "a", i + 1));
  }
  bus.report_drops();
  ASSERT_EQ(seen.size(), 1U);
  EXPECT_EQ(seen[0].type, EventType::kDrop);
  EXPECT_EQ(seen[0].fields["sink"], "slow");
  EXPECT_EQ(seen[0].fields["lost"], 4);
  EXPECT_EQ(seen[0].fields["dropped_total"], 4);
  EXPECT_GT(seen[0].time_ns, 0U);
  // The drop event itself found the queue full: reported next time, once.
  bus.report_drops();
  ASSERT_EQ(seen.size(), 2U);
  EXPECT_EQ(seen[1].fields["lost"], 1);
  EXPECT_EQ(seen[1].fields["dropped_total"], 5);
  {
    std::lock_guard lock(state->mu);
    state->open = true;
  }
  state->cv.notify_all();
}

TEST(EventBus, SubscribersAndSinksSeeWhatTheirFiltersSelect) {
  auto state = std::make_shared<GateSink::State>();
  state->open = true;
  EventBus bus(BusOptions{"h", 16});
  bus.add_sink("alpha-net", std::make_unique<GateSink>(state),
               EventFilter{"alpha", EventFilter::type_bit(EventType::kNetConnect)}, 100);
  std::vector<std::string> all;
  std::vector<std::string> beta;
  auto a = bus.subscribe(EventFilter{}, [&](const Event& e) { all.push_back(e.tenant); });
  bus.subscribe(EventFilter{"beta", 0}, [&](const Event& e) { beta.push_back(e.tenant); });
  bus.publish(event(EventType::kNetConnect, "alpha"));
  bus.publish(event(EventType::kNetConnect, "beta"));
  bus.publish(event(EventType::kFileOpen, "alpha"));
  bus.unsubscribe(a);
  bus.publish(event(EventType::kNetConnect, "alpha"));
  EXPECT_EQ(all, (std::vector<std::string>{"alpha", "beta", "alpha"}));
  EXPECT_EQ(beta, (std::vector<std::string>{"beta"}));
  ASSERT_TRUE(bus.wait_idle(5s));
  std::lock_guard lock(state->mu);
  ASSERT_EQ(state->got.size(), 2U);
  EXPECT_EQ(state->got[0].tenant, "alpha");
  EXPECT_EQ(state->got[0].type, EventType::kNetConnect);
}

TEST(EventBus, SubscriberMayUnsubscribeItselfAndOthers) {
  EventBus bus(BusOptions{"h", 0});
  EventBus::SubscriberId first = 0;
  EventBus::SubscriberId second = 0;
  int first_calls = 0;
  int second_calls = 0;
  first = bus.subscribe(EventFilter{}, [&](const Event&) {
    ++first_calls;
    bus.unsubscribe(first);
    bus.unsubscribe(second);
  });
  second = bus.subscribe(EventFilter{}, [&](const Event&) { ++second_calls; });
  bus.publish(event(EventType::kFileOpen, "a"));
  bus.publish(event(EventType::kFileOpen, "a"));
  EXPECT_EQ(first_calls, 1);
  EXPECT_EQ(second_calls, 0);
  EXPECT_EQ(bus.subscriber_count(), 0U);
}

TEST(EventBus, RecentRingKeepsTheLastMatching) {
  EventBus bus(BusOptions{"h", 3});
  for (int i = 1; i <= 5; ++i) {
    bus.publish(event(i % 2 == 0 ? EventType::kFileOpen : EventType::kProcessExec, "a", i));
  }
  auto all = bus.recent(EventFilter{});
  ASSERT_EQ(all.size(), 3U);
  EXPECT_EQ(all[0]->process.pid, 3);
  EXPECT_EQ(all[2]->process.pid, 5);
  auto opens = bus.recent(EventFilter{std::nullopt, EventFilter::type_bit(EventType::kFileOpen)});
  ASSERT_EQ(opens.size(), 1U);
  EXPECT_EQ(opens[0]->process.pid, 4);
}

}  // namespace
}  // namespace bulkhead::events
