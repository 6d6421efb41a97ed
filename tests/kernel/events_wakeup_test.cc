// Batched wakeups (KernelSourceOptions::wakeup_interval_ms): the kernel wakes
// the reader only for some records, so a reader that acts on fd() readiness
// alone, as the agent's event loop does, must still get every record within
// the bound the issue sets (1 s), including the last ones of a stream, which
// no later record wakes the reader for.
#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <optional>

#include "events_test_support.h"

namespace bulkhead::testing {
namespace {

using events::Event;
using events::EventType;
using namespace std::chrono_literals;

int64_t realtime_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

TEST_F(EventsTest, BatchedWakeupsStillDeliverEveryRecordThroughTheFd) {
  auto t = tracked_tenant("evwake");
  ASSERT_TRUE(t);
  // One unlink every millisecond for 0.3 s: most records come less than an
  // interval after the last wakeup and are committed silently.
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  UniqueFd rd(p[0]);
  UniqueFd wr(p[1]);
  UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  isolation::LaunchRequest req;
  req.name = "paced";
  req.argv = {"/helpers/syscall_loop", "unlink-rate", "1000", "0.3", std::to_string(realtime_ns())};
  req.stdin_fd = devnull.get();
  req.stdout_fd = wr.get();
  req.stderr_fd = wr.get();
  req.die_with_parent = true;
  auto launched = t->launch(req);
  wr.reset();
  ASSERT_TRUE(launched.ok()) << launched.error().to_string();
  auto unlinks = [&] {
    return select(received_, EventType::kFileUnlink,
                  [](const Event& e) { return field_string(e, "path") == "/tmp/missing"; })
        .size();
  };
  auto exited = [&] {
    return !select(received_, EventType::kProcessExit, [](const Event& e) {
              return e.process.comm == "syscall_loop";
            }).empty();
  };
  // The agent's loop in small: read the ring only when fd() is readable, the
  // helper's output until it ends. Then every call and the helper's exit
  // must arrive within 1 s of that end.
  std::string out;
  std::optional<std::chrono::steady_clock::time_point> ended;
  unsigned long long calls = 0;
  const auto limit = std::chrono::steady_clock::now() + 3s;  // the helper's run, bounded
  while (!(ended && unlinks() == calls && exited())) {
    const auto deadline = ended ? *ended + 1s : limit;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      break;
    }
    pollfd fds[2] = {{source_->fd(), POLLIN, 0}, {ended ? -1 : rd.get(), POLLIN, 0}};
    ASSERT_GE(::poll(fds, 2, static_cast<int>(left.count())), 0);
    if ((fds[0].revents & POLLIN) != 0) {
      auto n = source_->consume();
      ASSERT_TRUE(n.ok()) << n.error().to_string();
    }
    if (fds[1].revents != 0) {
      char buf[256];
      ssize_t n = ::read(rd.get(), buf, sizeof(buf));
      if (n > 0) {
        out.append(buf, static_cast<size_t>(n));
        continue;
      }
      ended = std::chrono::steady_clock::now();
      long long ns = 0;
      ASSERT_EQ(std::sscanf(out.c_str(), "%llu %lld", &calls, &ns), 2) << out;
      ASSERT_GT(calls, 100U);
    }
  }
  ASSERT_TRUE(ended) << "the helper did not end within 3 s";
  EXPECT_EQ(unlinks(), calls);
  EXPECT_TRUE(exited());
  auto status = (*launched)->wait();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->shell_code(), 0) << out;
  EXPECT_EQ(source_->dropped_total(), 0U);
}

TEST_F(EventsTest, WakeupIntervalAboveTheLatencyBoundIsRefused) {
  events::KernelSourceOptions options;
  options.wakeup_interval_ms = events::kMaxWakeupIntervalMs + 1;
  auto created = events::KernelEventSource::create(options, [](Event&&) {});
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, EINVAL);
  EXPECT_NE(created.error().message.find("wakeup interval"), std::string::npos);
}

}  // namespace
}  // namespace bulkhead::testing
