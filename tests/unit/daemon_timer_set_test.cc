// TimerSet (timers cancelled with their owner) and StopCounter (one `done`
// after every stop reported back).
#include <gtest/gtest.h>

#include "daemon/stop_counter.h"
#include "daemon/timer_set.h"

namespace bulkhead::daemon {
namespace {

using std::chrono::milliseconds;

TEST(TimerSet, DestroyingTheSetCancelsItsTimers) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop.ok());
  EventLoop& l = **loop;
  bool ran = false;
  bool posted = false;
  {
    TimerSet timers(l);
    timers.add(milliseconds(1), [&] { ran = true; });
    timers.post([&] { posted = true; });
    EXPECT_EQ(l.timer_count(), 2U);
  }
  EXPECT_EQ(l.timer_count(), 0U);
  l.add_timer(milliseconds(10), [&] { l.stop(); });
  ASSERT_TRUE(l.run().ok());
  EXPECT_FALSE(ran);
  EXPECT_FALSE(posted);
}

TEST(TimerSet, ACallbackMayDestroyItsOwner) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop.ok());
  EventLoop& l = **loop;
  auto timers = std::make_unique<TimerSet>(l);
  bool later_ran = false;
  timers->add(milliseconds(20), [&] { later_ran = true; });
  timers->post([&] {
    timers.reset();  // cancels the 20 ms timer
    l.add_timer(milliseconds(40), [&] { l.stop(); });
  });
  ASSERT_TRUE(l.run().ok());
  EXPECT_FALSE(later_ran);
  EXPECT_EQ(l.timer_count(), 0U);
}

TEST(StopCounter, DoneRunsOnceAfterTheLastStop) {
  int done = 0;
  auto counter = StopCounter::create([&] { ++done; });
  auto a = StopCounter::hold(counter);
  auto b = StopCounter::hold(counter);
  a();
  counter->release();  // the creator's hold
  EXPECT_EQ(done, 0);
  b();
  EXPECT_EQ(done, 1);
}

TEST(StopCounter, StopsThatEndAtOnceDoNotFireEarly) {
  int done = 0;
  auto counter = StopCounter::create([&] { ++done; });
  for (int i = 0; i < 3; ++i) {
    StopCounter::hold(counter)();  // finished on the spot
    EXPECT_EQ(done, 0);
  }
  counter->release();
  EXPECT_EQ(done, 1);
}

TEST(StopCounter, NothingToStop) {
  int done = 0;
  StopCounter::create([&] { ++done; })->release();
  EXPECT_EQ(done, 1);
}

}  // namespace
}  // namespace bulkhead::daemon
