#include <gtest/gtest.h>

#include "daemon/config_file.h"
#include "daemon/test_event_fifo.h"

namespace bulkhead::daemon {
namespace {

TEST(TestEventLine, Parses) {
  auto e =
      parse_test_event(R"({"type":"network.deny","tenant":"a","workload":"w","time_ns":5,)"
                       R"("process":{"pid":3,"uid":1000,"args":["nc","x"]},"fields":{"port":1}})");
  ASSERT_TRUE(e.ok()) << e.error().to_string();
  EXPECT_EQ(e->type, events::EventType::kNetDeny);
  EXPECT_EQ(e->tenant, "a");
  EXPECT_EQ(e->workload, "w");
  EXPECT_EQ(e->time_ns, 5U);
  EXPECT_EQ(e->process.pid, 3);
  EXPECT_EQ(e->process.uid, 1000U);
  EXPECT_EQ(e->process.args, (std::vector<std::string>{"nc", "x"}));
  EXPECT_EQ(e->fields["port"], 1);
}

TEST(TestEventLine, ErrorsNameTheMember) {
  EXPECT_EQ(parse_test_event("[]").error().message, "not a JSON object");
  EXPECT_EQ(parse_test_event(R"({"type":"x"})").error().message, "type: unknown event type 'x'");
  EXPECT_EQ(parse_test_event(R"({"type":"alert","pid":1})").error().message, "pid: unknown member");
  EXPECT_EQ(parse_test_event(R"({"type":"alert","process":{"pid":"1"}})").error().message,
            "pid: wrong type");
}

TEST(ConfigFile, RepeatedOptionLineByValue) {
  const std::string text =
      "# sinks\n"
      "event-sink = stdout\n"
      "log-level = info\n"
      "event-sink = file:/x,max=1\n";
  EXPECT_EQ(find_option_value_line(text, "event-sink", "file:/x,max=1"), 4);
  EXPECT_EQ(find_option_value_line(text, "--event-sink", "stdout"), 2);
  EXPECT_EQ(find_option_value_line(text, "event-sink", "syslog+unix:/dev/log"), 0);
  EXPECT_EQ(find_option_line(text, "log-level"), 3);
}

}  // namespace
}  // namespace bulkhead::daemon
