#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "events/event_bus.h"
#include "events/json_line_sinks.h"
#include "events/sink_factory.h"

namespace bulkhead::events {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class FileSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("bulkhead-file-sink-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::vector<std::string> lines(const fs::path& p) {
    std::ifstream in(p);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) {
      out.push_back(l);
    }
    return out;
  }

  fs::path dir_;
};

TEST_F(FileSinkTest, RotatesBySizeKeepingWholeLines) {
  auto spec = parse_sink_spec("file:" + (dir_ / "ev.jsonl").string() + ",max=4096,keep=2");
  ASSERT_TRUE(spec.ok()) << spec.error().to_string();
  auto bus = EventBus::create(BusOptions{"h", 0}, {*spec});
  ASSERT_TRUE(bus.ok()) << bus.error().to_string();
  constexpr int kEvents = 200;  // ~150 bytes each: about 30 KiB, several rotations
  for (int i = 1; i <= kEvents; ++i) {
    Event e;
    e.type = EventType::kFileOpen;
    e.tenant = "alpha";
    e.process.pid = i;
    e.fields = {{"path", "/data/file-" + std::to_string(i)}};
    (*bus)->publish(std::move(e));
  }
  ASSERT_TRUE((*bus)->wait_idle(5s));
  EXPECT_EQ((*bus)->stats().sinks[0].written, static_cast<uint64_t>(kEvents));
  bus->reset();

  // Only the current file and two rotated ones; each within the bound, every
  // line a whole event; the newest events are in the current file, in order.
  EXPECT_TRUE(fs::exists(dir_ / "ev.jsonl.1"));
  EXPECT_TRUE(fs::exists(dir_ / "ev.jsonl.2"));
  EXPECT_FALSE(fs::exists(dir_ / "ev.jsonl.3"));
  std::vector<int> pids;
  for (const char* name : {"ev.jsonl.2", "ev.jsonl.1", "ev.jsonl"}) {
    EXPECT_LE(fs::file_size(dir_ / name), 4096U) << name;
    for (const auto& l : lines(dir_ / name)) {
      auto j = nlohmann::json::parse(l);  // throws on a broken line
      pids.push_back(j["process"]["pid"].get<int>());
    }
  }
  ASSERT_FALSE(pids.empty());
  EXPECT_EQ(pids.back(), kEvents);
  for (size_t i = 1; i < pids.size(); ++i) {
    EXPECT_EQ(pids[i], pids[i - 1] + 1);
  }
}

TEST_F(FileSinkTest, UnopenablePathIsRefusedAtStart) {
  auto spec = parse_sink_spec("file:" + (dir_ / "missing" / "ev.jsonl").string());
  ASSERT_TRUE(spec.ok());
  auto bus = EventBus::create(BusOptions{"h", 0}, {*spec});
  ASSERT_FALSE(bus.ok());
  EXPECT_NE(bus.error().to_string().find("event sink file:"), std::string::npos);
  EXPECT_NE(bus.error().to_string().find("No such file or directory"), std::string::npos);
}

TEST_F(FileSinkTest, MissingSyslogSocketIsRefusedAtStart) {
  auto spec = parse_sink_spec("syslog+unix:" + (dir_ / "nolog").string());
  ASSERT_TRUE(spec.ok());
  auto bus = EventBus::create(BusOptions{"h", 0}, {*spec});
  ASSERT_FALSE(bus.ok());
  EXPECT_NE(bus.error().to_string().find("nolog: No such file"), std::string::npos)
      << bus.error().to_string();
}

}  // namespace
}  // namespace bulkhead::events
