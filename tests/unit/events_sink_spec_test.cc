#include <gtest/gtest.h>

#include "events/event_filter.h"
#include "events/sink_spec.h"

namespace bulkhead::events {
namespace {

TEST(SinkSpec, Kinds) {
  auto s = parse_sink_spec("stdout");
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s->kind, SinkKind::kStdout);

  s = parse_sink_spec("file:/var/log/ev.jsonl,max=1Mi,keep=5");
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s->kind, SinkKind::kFile);
  EXPECT_EQ(s->path, "/var/log/ev.jsonl");
  EXPECT_EQ(s->max_bytes, 1024U * 1024U);
  EXPECT_EQ(s->keep, 5);
  EXPECT_EQ(s->text, "file:/var/log/ev.jsonl,max=1Mi,keep=5");

  s = parse_sink_spec("syslog+unix:/dev/log,facility=auth");
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s->kind, SinkKind::kSyslogUnix);
  EXPECT_EQ(s->facility, 4);

  s = parse_sink_spec("syslog+udp:127.0.0.1:514");
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s->host, "127.0.0.1");
  EXPECT_EQ(s->port, 514);
  EXPECT_EQ(s->facility, 16);

  s = parse_sink_spec("syslog+tcp:[::1]:6514,queue=100");
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s->kind, SinkKind::kSyslogTcp);
  EXPECT_EQ(s->host, "::1");
  EXPECT_EQ(s->port, 6514);
  EXPECT_EQ(s->queue, 100U);
}

TEST(SinkSpec, Filters) {
  auto s = parse_sink_spec("stdout,tenant=alpha,type=process.exec,type=network.*");
  ASSERT_TRUE(s.ok()) << s.error().to_string();
  EXPECT_EQ(s->filter.tenant, "alpha");
  EXPECT_EQ(s->filter.type_names(),
            (std::vector<std::string>{"process.exec", "network.connect", "network.bind",
                                      "network.listen", "network.accept", "network.deny"}));
  Event e;
  e.tenant = "alpha";
  e.type = EventType::kNetBind;
  EXPECT_TRUE(s->filter.matches(e));
  e.type = EventType::kFileOpen;
  EXPECT_FALSE(s->filter.matches(e));
  e.type = EventType::kProcessExec;
  e.tenant = "beta";
  EXPECT_FALSE(s->filter.matches(e));
}

TEST(SinkSpec, ErrorsSayWhatIsWrong) {
  auto msg = [](std::string_view text) {
    auto s = parse_sink_spec(text);
    return s.ok() ? std::string("(accepted)") : s.error().message;
  };
  EXPECT_EQ(msg("kafka:x"),
            "unknown sink kind 'kafka' (expected stdout, file, syslog+unix, syslog+udp, "
            "syslog+tcp)");
  EXPECT_EQ(msg("file:relative.log"), "'relative.log': the path must be absolute");
  EXPECT_EQ(msg("file"),
            "'file' needs a target (file:PATH, syslog+unix:PATH, syslog+udp:HOST:PORT, "
            "syslog+tcp:HOST:PORT)");
  EXPECT_EQ(msg("stdout:x"), "stdout takes no target");
  EXPECT_EQ(msg("syslog+udp:localhost"), "'localhost': expected HOST:PORT");
  EXPECT_EQ(msg("syslog+tcp:h:99999"), "'h:99999': the port must be 1..65535");
  EXPECT_EQ(msg("stdout,max=1Mi"), "max: only for file sinks");
  EXPECT_EQ(msg("file:/x,facility=local0"), "facility: only for syslog sinks");
  EXPECT_EQ(msg("file:/x,max=12"), "max=12: at least 4096 bytes");
  EXPECT_EQ(msg("stdout,colour=red"),
            "unknown option 'colour' (expected max, keep, facility, tenant, type, queue)");
  EXPECT_EQ(msg("stdout,queue"), "'queue': expected key=value");
  EXPECT_EQ(msg("stdout,queue=0"), "queue=0: a count from 1 to 16777216");
  EXPECT_NE(msg("syslog+unix:/dev/log,facility=local9").find("unknown facility"),
            std::string::npos);
  EXPECT_NE(msg("stdout,type=proc.exec")
                .find("type: unknown event type 'proc.exec' (valid types: "
                      "process.exec, process.fork"),
            std::string::npos);
}

TEST(TypeFilter, UnknownNamesListTheValidOnes) {
  auto bits = parse_type_filter({"file.open", "nosuch"});
  ASSERT_FALSE(bits.ok());
  EXPECT_NE(bits.error().message.find("unknown event type 'nosuch'"), std::string::npos);
  EXPECT_NE(bits.error().message.find("agent.drop"), std::string::npos);
  EXPECT_FALSE(parse_type_filter({"nosuch.*"}).ok());
  EXPECT_FALSE(parse_type_filter({".*"}).ok());
  auto all = parse_type_filter({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(*all, 0U);  // no names: every type
}

}  // namespace
}  // namespace bulkhead::events
