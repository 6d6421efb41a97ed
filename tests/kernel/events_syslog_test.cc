// The syslog sink against a real rsyslogd on loopback (TCP with octet
// counting, UDP, a Unix datagram socket): what rsyslog parsed must be the
// RFC 5424 header we meant and the event's JSON as MSG, for every event, in
// order. Also: a TCP collector that comes up late gets the events queued
// meanwhile (reconnect with backoff).
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "events/event_bus.h"
#include "kernel_test_env.h"
#include "rsyslog_server.h"

namespace bulkhead::events {
namespace {

using nlohmann::json;
using testing::free_loopback_port;
using testing::RsyslogServer;
using namespace std::chrono_literals;

// "PRI|HOST|APP|PROCID|MSGID|SD|MSG" -> parts (MSG may contain '|').
std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (int i = 0; i < 6; ++i) {
    size_t bar = line.find('|', start);
    if (bar == std::string::npos) {
      break;
    }
    parts.push_back(line.substr(start, bar - start));
    start = bar + 1;
  }
  parts.push_back(line.substr(start));
  return parts;
}

Event sample(int n) {
  Event e;
  e.type = n % 2 == 0 ? EventType::kFileOpen : EventType::kNetDeny;
  e.tenant = "alpha";
  e.workload = "web";
  e.process.pid = 1000 + n;
  e.process.exe = "/usr/bin/caf\xC3\xA9";
  e.process.args = {"x", "a|b", "line\nbreak"};
  e.fields = {{"n", n}, {"path", "/data/f" + std::to_string(n)}};
  return e;
}

class SyslogSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BULKHEAD_REQUIRE(::access(testing::kRsyslogd, X_OK) == 0,
                     "rsyslogd not installed (scripts/setup.sh installs it)");
    port_ = free_loopback_port();
    ASSERT_NE(port_, 0);
    server_ = std::make_unique<RsyslogServer>(port_);
  }
  void TearDown() override {
    bus_.reset();
    std::string log = server_ ? server_->stop() : "";
    if (HasFailure()) {
      std::cerr << "---- rsyslogd ----\n" << log << "------------------\n";
    }
  }

  void make_bus(const std::string& spec_text) {
    auto spec = parse_sink_spec(spec_text);
    ASSERT_TRUE(spec.ok()) << spec.error().to_string();
    auto bus = EventBus::create(BusOptions{"node1", 0}, {*spec});
    ASSERT_TRUE(bus.ok()) << bus.error().to_string();
    bus_ = std::move(*bus);
  }

  // Publishes n events, waits until rsyslog wrote n lines, checks each one.
  void deliver_and_check(int n, int facility) {
    for (int i = 0; i < n; ++i) {
      bus_->publish(sample(i));
    }
    ASSERT_TRUE(bus_->wait_idle(10s));
    auto lines = server_->wait_lines(static_cast<size_t>(n));
    ASSERT_EQ(lines.size(), static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      auto f = split_fields(lines[static_cast<size_t>(i)]);
      ASSERT_EQ(f.size(), 7U) << lines[static_cast<size_t>(i)];
      const Event e = sample(i);
      EXPECT_EQ(f[0], std::to_string(facility * 8 + (i % 2 == 0 ? 6 : 5)));
      EXPECT_EQ(f[1], "node1");
      EXPECT_EQ(f[2], "bulkhead");
      EXPECT_EQ(f[3], std::to_string(::getpid()));
      EXPECT_EQ(f[4], type_name(e.type));
      EXPECT_EQ(f[5], "-");
      json msg = json::parse(f[6]);  // the whole JSON line survived, escaping and UTF-8 included
      EXPECT_EQ(msg["schema"], kEventSchemaVersion);
      EXPECT_EQ(msg["host"], "node1");
      EXPECT_EQ(msg["tenant"], "alpha");
      EXPECT_EQ(msg["process"]["pid"], 1000 + i);
      EXPECT_EQ(msg["process"]["exe"], "/usr/bin/caf\xC3\xA9");
      EXPECT_EQ(msg["process"]["args"][2], "line\nbreak");
      EXPECT_EQ(msg["fields"]["n"], i);
    }
    EXPECT_EQ(bus_->stats().sinks[0].failed, 0U);
    EXPECT_EQ(bus_->stats().sinks[0].dropped, 0U);
  }

  uint16_t port_ = 0;
  std::unique_ptr<RsyslogServer> server_;
  std::unique_ptr<EventBus> bus_;
};

TEST_F(SyslogSinkTest, TcpWithOctetCounting) {
  ASSERT_TRUE(server_->start());
  make_bus("syslog+tcp:127.0.0.1:" + std::to_string(port_) + ",facility=auth");
  deliver_and_check(200, 4);
}

TEST_F(SyslogSinkTest, Udp) {
  ASSERT_TRUE(server_->start());
  make_bus("syslog+udp:127.0.0.1:" + std::to_string(port_));
  deliver_and_check(50, 16);
}

TEST_F(SyslogSinkTest, UnixDatagramSocket) {
  ASSERT_TRUE(server_->start());
  make_bus("syslog+unix:" + server_->unix_path() + ",facility=daemon");
  deliver_and_check(50, 3);
}

TEST_F(SyslogSinkTest, TcpCollectorComingUpLateGetsTheQueuedEvents) {
  // Nobody listens yet: the sink is created anyway and keeps retrying.
  make_bus("syslog+tcp:127.0.0.1:" + std::to_string(port_));
  for (int i = 0; i < 10; ++i) {
    bus_->publish(sample(i));
  }
  std::this_thread::sleep_for(300ms);  // a few failed attempts, backoff growing
  EXPECT_FALSE(bus_->wait_idle(0ms));
  ASSERT_TRUE(server_->start());
  auto lines = server_->wait_lines(10);
  ASSERT_EQ(lines.size(), 10U);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(json::parse(split_fields(lines[static_cast<size_t>(i)])[6])["fields"]["n"], i);
  }
  EXPECT_EQ(bus_->stats().sinks[0].failed, 0U);
}

}  // namespace
}  // namespace bulkhead::events
