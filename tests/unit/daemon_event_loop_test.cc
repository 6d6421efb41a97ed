// EventLoop: timer order, cancellation, and fds or timers changed by the
// callbacks of the batch being dispatched.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "daemon/event_loop.h"

namespace bulkhead::daemon {
namespace {

using std::chrono::milliseconds;

struct Pipe {
  UniqueFd r, w;
  Pipe() {
    int fds[2];
    EXPECT_EQ(::pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
    r.reset(fds[0]);
    w.reset(fds[1]);
  }
  void poke() const { EXPECT_EQ(::write(w.get(), "x", 1), 1); }
};

class EventLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = EventLoop::create();
    ASSERT_TRUE(l.ok()) << l.error().to_string();
    loop_ = std::move(*l);
  }
  // Runs the loop; fails the test if it has not stopped after `limit`.
  void run_bounded(milliseconds limit = milliseconds(2000)) {
    bool hit = false;
    auto guard = loop_->add_timer(limit, [&] {
      hit = true;
      loop_->stop();
    });
    ASSERT_TRUE(loop_->run().ok());
    loop_->cancel_timer(guard);
    EXPECT_FALSE(hit) << "the loop did not stop in time";
  }
  std::unique_ptr<EventLoop> loop_;
};

TEST_F(EventLoopTest, TimersRunInDueOrderThenInsertionOrder) {
  std::vector<std::string> order;
  loop_->add_timer(milliseconds(30), [&] { order.emplace_back("30"); });
  loop_->add_timer(milliseconds(10), [&] { order.emplace_back("10a"); });
  loop_->add_timer(milliseconds(0), [&] { order.emplace_back("0"); });
  loop_->add_timer(milliseconds(10), [&] { order.emplace_back("10b"); });
  loop_->add_timer(milliseconds(40), [&] { loop_->stop(); });
  auto start = std::chrono::steady_clock::now();
  run_bounded();
  EXPECT_EQ(order, (std::vector<std::string>{"0", "10a", "10b", "30"}));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(40));
  EXPECT_EQ(loop_->timer_count(), 0U);
}

TEST_F(EventLoopTest, CancelledTimersDoNotRun) {
  bool ran = false;
  auto id = loop_->add_timer(milliseconds(5), [&] { ran = true; });
  loop_->cancel_timer(id);
  loop_->cancel_timer(id);      // twice: ignored
  loop_->cancel_timer(999999);  // unknown: ignored
  loop_->add_timer(milliseconds(20), [&] { loop_->stop(); });
  run_bounded();
  EXPECT_FALSE(ran);
}

TEST_F(EventLoopTest, ATimerCanCancelAnotherDueInTheSameRound) {
  bool second_ran = false;
  EventLoop::TimerId second = 0;
  loop_->add_timer(milliseconds(5), [&] { loop_->cancel_timer(second); });
  second = loop_->add_timer(milliseconds(5), [&] { second_ran = true; });
  loop_->add_timer(milliseconds(30), [&] { loop_->stop(); });
  run_bounded();
  EXPECT_FALSE(second_ran);
}

TEST_F(EventLoopTest, ZeroDelayTimerAddedByACallbackWaitsForTheNextRound) {
  Pipe p;
  p.poke();
  int rearmed = 0;
  int fd_events = 0;
  std::function<void()> rearm = [&] {
    if (++rearmed < 100) {
      loop_->add_timer(milliseconds(0), rearm);
    } else {
      loop_->stop();
    }
  };
  ASSERT_TRUE(loop_->add_fd(p.r.get(), EPOLLIN, [&](uint32_t) { ++fd_events; }).ok());
  loop_->add_timer(milliseconds(0), rearm);
  run_bounded();
  // The fd was served between the rounds: the timer chain did not starve it.
  EXPECT_GE(fd_events, 50);
  loop_->remove_fd(p.r.get());
}

TEST_F(EventLoopTest, FdRemovedEarlierInTheBatchIsSkipped) {
  Pipe a;
  Pipe b;
  a.poke();
  b.poke();
  int calls = 0;
  // Whichever runs first removes the other; the other's event of this batch is dropped.
  ASSERT_TRUE(loop_
                  ->add_fd(a.r.get(), EPOLLIN,
                           [&](uint32_t) {
                             ++calls;
                             loop_->remove_fd(a.r.get());
                             loop_->remove_fd(b.r.get());
                           })
                  .ok());
  ASSERT_TRUE(loop_
                  ->add_fd(b.r.get(), EPOLLIN,
                           [&](uint32_t) {
                             ++calls;
                             loop_->remove_fd(a.r.get());
                             loop_->remove_fd(b.r.get());
                           })
                  .ok());
  loop_->add_timer(milliseconds(20), [&] { loop_->stop(); });
  run_bounded();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(loop_->fd_count(), 0U);
}

TEST_F(EventLoopTest, StaleEventForAReusedFdNumberIsSkipped) {
  Pipe a;
  Pipe b;
  a.poke();
  b.poke();
  int a_calls = 0;
  int b_calls = 0;
  int replaced_calls = 0;
  const int b_fd = b.r.get();
  // a's callback replaces b's registration with a new one on the same fd
  // number; b's pending event belongs to the old registration.
  auto on_a = [&](uint32_t) {
    ++a_calls;
    loop_->remove_fd(a.r.get());
    if (b_calls == 0) {
      loop_->remove_fd(b_fd);
      ASSERT_TRUE(loop_
                      ->add_fd(b_fd, EPOLLIN,
                               [&](uint32_t) {
                                 ++replaced_calls;
                                 loop_->remove_fd(b_fd);
                               })
                      .ok());
    }
  };
  auto on_b = [&](uint32_t) {
    ++b_calls;
    loop_->remove_fd(b_fd);
    loop_->remove_fd(a.r.get());
  };
  ASSERT_TRUE(loop_->add_fd(a.r.get(), EPOLLIN, on_a).ok());
  ASSERT_TRUE(loop_->add_fd(b_fd, EPOLLIN, on_b).ok());
  loop_->add_timer(milliseconds(30), [&] { loop_->stop(); });
  run_bounded();
  // Either b ran first (and removed a), or a replaced b: then only the new
  // registration ran, in a later batch.
  if (b_calls == 1) {
    EXPECT_EQ(a_calls, 0);
    EXPECT_EQ(replaced_calls, 0);
  } else {
    EXPECT_EQ(a_calls, 1);
    EXPECT_EQ(replaced_calls, 1);
  }
}

TEST_F(EventLoopTest, CallbackCanRemoveItselfAndAddTimers) {
  Pipe p;
  p.poke();
  int calls = 0;
  bool timer_ran = false;
  ASSERT_TRUE(loop_
                  ->add_fd(p.r.get(), EPOLLIN,
                           [&](uint32_t events) {
                             EXPECT_TRUE(events & EPOLLIN);
                             ++calls;
                             loop_->remove_fd(
                                 p.r.get());  // destroys the stored callback: still safe
                             loop_->add_timer(milliseconds(1), [&] {
                               timer_ran = true;
                               loop_->stop();
                             });
                           })
                  .ok());
  run_bounded();
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(timer_ran);
}

TEST_F(EventLoopTest, AddingAnFdTwiceIsAnError) {
  Pipe p;
  ASSERT_TRUE(loop_->add_fd(p.r.get(), EPOLLIN, [](uint32_t) {}).ok());
  auto again = loop_->add_fd(p.r.get(), EPOLLIN, [](uint32_t) {});
  EXPECT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, EEXIST);
  EXPECT_FALSE(loop_->modify_fd(12345, EPOLLIN).ok());
  EXPECT_TRUE(loop_->modify_fd(p.r.get(), EPOLLIN | EPOLLOUT).ok());
  loop_->remove_fd(p.r.get());
  loop_->remove_fd(p.r.get());  // unknown now: ignored
}

TEST_F(EventLoopTest, StopBeforeRunAndRunAgain) {
  loop_->stop();
  ASSERT_TRUE(loop_->run().ok());  // returns at once
  int ran = 0;
  loop_->add_timer(milliseconds(1), [&] {
    ++ran;
    loop_->stop();
  });
  run_bounded();
  EXPECT_EQ(ran, 1);
}

}  // namespace
}  // namespace bulkhead::daemon
