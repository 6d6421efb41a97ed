// A ring buffer too small for the load: every record the kernel could not
// queue is counted, and the reader reports the loss as an event. Nothing is
// lost silently: records received plus records counted as dropped is exactly
// what the workload did.
#include <fcntl.h>
#include <unistd.h>

#include "events_test_support.h"

namespace bulkhead::testing {
namespace {

using events::Event;
using events::EventType;
using namespace std::chrono_literals;

TEST_F(EventsTest, OverloadedRingBufferReportsDropsWithTheRightCount) {
  events::KernelSourceOptions options;
  options.ring_bytes = static_cast<uint32_t>(::sysconf(_SC_PAGESIZE));  // room for ~1 exec
  options.seed_processes = false;
  start_source(options);
  auto t = tracked_tenant("evdrop");
  ASSERT_TRUE(t);

  constexpr int kWrites = 300;
  // Nothing reads the ring buffer while the workload runs.
  auto ran = SandboxHost::run(
      *t, {"/helpers/event_actions", "writes", std::to_string(kWrites), "/tmp/flood"});
  ASSERT_TRUE(ran.ok()) << ran.error().to_string();
  ASSERT_EQ(ran->status.shell_code(), 0) << ran->out;

  auto consumed = source_->consume();
  ASSERT_TRUE(consumed.ok()) << consumed.error().to_string();
  auto opens = select(received_, EventType::kFileOpen,
                      [](const Event& e) { return field_string(e, "path") == "/tmp/flood"; });
  const auto& dropped = source_->dropped();
  auto it = dropped.find(EventType::kFileOpen);
  ASSERT_NE(it, dropped.end());
  EXPECT_GT(it->second, 0u);
  EXPECT_EQ(opens.size() + it->second, static_cast<size_t>(kWrites));

  // One drop event carries the loss, and it matches the counters.
  auto drops = select(received_, EventType::kDrop);
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_EQ(drops[0].fields["lost"].get<uint64_t>(), source_->dropped_total());
  EXPECT_EQ(drops[0].fields["source"], "kernel");

  // A second read with nothing new dropped reports nothing more.
  received_.clear();
  ASSERT_TRUE(source_->consume().ok());
  EXPECT_TRUE(select(received_, EventType::kDrop).empty());
}

TEST_F(EventsTest, RingBufferSizeMustBeAPowerOfTwo) {
  events::KernelSourceOptions options;
  options.ring_bytes = 5000;
  auto created = events::KernelEventSource::create(options, [](Event&&) {});
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, EINVAL);
  EXPECT_NE(created.error().message.find("power of two"), std::string::npos);
}

}  // namespace
}  // namespace bulkhead::testing
