#include <gtest/gtest.h>

#include "events/syslog_format.h"

namespace bulkhead::events {
namespace {

Event sample(EventType type) {
  Event e;
  e.time_ns = 1700000000ULL * 1000000000ULL + 123456789;
  e.type = type;
  e.tenant = "alpha";
  e.fields = {{"path", "/etc/shadow"}};
  return e;
}

TEST(SyslogFormat, Rfc5424Header) {
  SyslogHeader h;
  h.facility = 16;  // local0
  h.hostname = "node1";
  h.procid = 812;
  std::string out;
  append_syslog_message(out, sample(EventType::kFileOpen), h, "node1");
  // PRI = 16 * 8 + 6; version 1; microseconds; APP-NAME bulkhead; MSGID the type; no SD.
  EXPECT_EQ(out, R"(<134>1 2023-11-14T22:13:20.123456Z node1 bulkhead 812 file.open - )"
                 R"({"schema":1,"time":"2023-11-14T22:13:20.123456789Z","host":"node1",)"
                 R"("type":"file.open","tenant":"alpha","fields":{"path":"/etc/shadow"}})");
}

TEST(SyslogFormat, SeverityAndFacility) {
  SyslogHeader h;
  h.facility = 4;  // auth
  h.hostname = "n";
  std::string out;
  append_syslog_message(out, sample(EventType::kAlert), h, "n");
  EXPECT_EQ(out.substr(0, 5), "<36>1");  // 4*8 + warning
  out.clear();
  append_syslog_message(out, sample(EventType::kNetDeny), h, "n");
  EXPECT_EQ(out.substr(0, 5), "<37>1");  // notice
}

TEST(SyslogFormat, UnprintableHostnameIsNil) {
  SyslogHeader h;
  h.hostname = "bad host";
  std::string out;
  append_syslog_message(out, sample(EventType::kFileOpen), h, "bad host");
  EXPECT_NE(out.find("Z - bulkhead "), std::string::npos) << out;
}

TEST(SyslogFormat, OctetCounting) {
  std::string out;
  append_octet_counted(out, "hello");
  append_octet_counted(out, "<134>1 caf\xC3\xA9");  // bytes, not characters
  EXPECT_EQ(out, "5 hello12 <134>1 caf\xC3\xA9");
}

}  // namespace
}  // namespace bulkhead::events
