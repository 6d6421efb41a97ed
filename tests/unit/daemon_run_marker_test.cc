// RunMarker: what the previous agent left decides whether its end is reported.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "daemon/run_marker.h"
#include "events/event_json.h"

namespace bulkhead::daemon {
namespace {

class RunMarkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bulkhead-run-marker-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "agent-run.json").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(RunMarkerTest, FirstStartHasNoPreviousRunAndReportsNothing) {
  auto m = RunMarker::start(path_, 1000);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_FALSE(m->previous().has_value());
  EXPECT_FALSE(unclean_stop_event(m->previous(), 2000).has_value());
}

TEST_F(RunMarkerTest, ACleanStopIsNotReported) {
  {
    auto m = RunMarker::start(path_, 1000);
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(m->mark_clean_stop(5000).ok());
  }
  auto next = RunMarker::start(path_, 9000);
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(next->previous().has_value());
  EXPECT_TRUE(next->previous()->clean_stop);
  EXPECT_EQ(next->previous()->last_seen_ms, 5000);
  EXPECT_FALSE(unclean_stop_event(next->previous(), 9000).has_value());
}

TEST_F(RunMarkerTest, ARunWithoutCleanStopIsReportedWithItsLastHeartbeat) {
  {
    auto m = RunMarker::start(path_, 1000);
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE(m->heartbeat(1700000000123).ok());
    // No mark_clean_stop: the agent was killed.
  }
  auto next = RunMarker::start(path_, 1700000010000);
  ASSERT_TRUE(next.ok());
  ASSERT_TRUE(next->previous().has_value());
  EXPECT_FALSE(next->previous()->clean_stop);
  EXPECT_EQ(next->previous()->pid, ::getpid());
  EXPECT_EQ(next->previous()->started_ms, 1000);
  auto e = unclean_stop_event(next->previous(), 1700000010000);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, events::EventType::kDrop);
  EXPECT_EQ(e->fields["source"], "agent");
  EXPECT_EQ(e->fields["reason"], "unclean_stop");
  EXPECT_EQ(e->fields["previous_pid"], ::getpid());
  EXPECT_EQ(e->fields["last_seen"], "2023-11-14T22:13:20.123Z");
  // The new run is recorded as running, not cleanly stopped, until it says so.
  auto third = RunMarker::start(path_, 1700000020000);
  ASSERT_TRUE(third.ok());
  EXPECT_FALSE(third->previous()->clean_stop);
  EXPECT_EQ(third->previous()->started_ms, 1700000010000);
}

TEST_F(RunMarkerTest, AnUnreadableFileIsReportedAsAnUncleanStop) {
  std::ofstream(path_) << "{torn";
  auto m = RunMarker::start(path_, 1000);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m->previous().has_value());
  EXPECT_TRUE(m->previous()->unreadable);
  auto e = unclean_stop_event(m->previous(), 2000);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->fields["reason"], "unclean_stop_unknown");
  EXPECT_FALSE(e->fields.contains("previous_pid"));
}

TEST_F(RunMarkerTest, AnUnwritableStateDirectoryIsAnErrorNamingTheFile) {
  auto m = RunMarker::start((dir_ / "missing" / "agent-run.json").string(), 1000);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("agent-run.json"), std::string::npos) << m.error().message;
}

}  // namespace
}  // namespace bulkhead::daemon
