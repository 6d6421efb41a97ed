#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>

#include "events/event.h"
#include "events/event_json.h"

namespace bulkhead::events {
namespace {

// 2026-11-23T18:22:15.000000042Z
constexpr uint64_t kTime = 1795458135ULL * 1000000000ULL + 42;

Event exec_event() {
  Event e;
  e.time_ns = kTime;
  e.type = EventType::kProcessExec;
  e.tenant = "alpha";
  e.workload = "web";
  e.process.pid = 4242;
  e.process.tid = 4242;
  e.process.ppid = 4200;
  e.process.exec_id = 9007199254740993ULL;  // 2^53 + 1: a double would round it
  e.process.comm = "python3";
  e.process.exe = "/usr/bin/python3";
  e.process.args = {"python3", "-m", "http.server"};
  e.process.uid = 1879048192;
  e.process.gid = 1879048192;
  e.process.euid = 1879048192;
  e.process.egid = 1879048192;
  e.process.uid_inside = 0;
  e.process.gid_inside = 0;
  e.fields = {{"filename", "/usr/bin/python3"}};
  return e;
}

TEST(EventTypes, NamesRoundTripAndAreUnique) {
  std::set<std::string_view> seen;
  for (EventType t : all_types()) {
    EXPECT_TRUE(seen.insert(type_name(t)).second) << type_name(t);
    EXPECT_EQ(parse_type(type_name(t)), t);
  }
  EXPECT_EQ(all_types().size(), 26U);
  EXPECT_EQ(type_name(EventType::kNetDeny), "network.deny");
  EXPECT_EQ(type_name(EventType::kDrop), "agent.drop");
  EXPECT_FALSE(parse_type("process.Exec"));
  EXPECT_FALSE(parse_type(""));
}

TEST(Rfc3339, NanosecondsInUtc) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(format_rfc3339(kTime), "2026-11-23T18:22:15.000000042Z");
  EXPECT_EQ(format_rfc3339(951782400ULL * 1000000000ULL + 999999999),  // leap day 2000
            "2000-02-29T00:00:00.999999999Z");
}

TEST(Rfc3339, FewerDigitsTruncate) {
  const uint64_t t = 1700000000ULL * 1000000000ULL + 123456789;
  EXPECT_EQ(format_rfc3339(t, 6), "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(format_rfc3339(t, 0), "2023-11-14T22:13:20Z");
  // The per-thread cache must not leak one second's prefix into the next.
  EXPECT_EQ(format_rfc3339(t + 1000000000ULL, 3), "2023-11-14T22:13:21.123Z");
}

TEST(JsonString, EscapesAndStaysValid) {
  auto enc = [](std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
  };
  EXPECT_EQ(enc("plain"), R"("plain")");
  EXPECT_EQ(enc("a\"b\\c\n\t\x01"), R"("a\"b\\c\n\t\u0001")");
  EXPECT_EQ(enc("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
            "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"");  // valid UTF-8 passes
  // Invalid bytes become U+FFFD: a lone continuation, a truncated sequence,
  // an overlong encoding, a surrogate.
  EXPECT_EQ(enc("a\x80z"), "\"a\xEF\xBF\xBDz\"");
  EXPECT_EQ(enc("\xE2\x82"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(enc("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(enc("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST(JsonString, ControlCharactersUseUppercaseHex) {
  // RapidJSON writes \u001B where the hand-written writer wrote \u001b; both
  // are the same JSON string (docs/events.md says so).
  std::string out;
  append_json_string(out, "\x1b[0m\x7f");
  EXPECT_EQ(out, "\"\\u001B[0m\x7f\"");
}

TEST(JsonString, LongStringsWithEscapesAndRepairsAtEveryPosition) {
  // Runs that need no escaping are copied in one piece: check the pieces
  // join up whatever the position of the escaped or repaired byte.
  for (size_t pos = 0; pos < 40; ++pos) {
    for (const std::string_view special : {"\"", "\n", "\xff", "\xC3\xA9"}) {
      std::string s(40, 'x');
      s.insert(pos, special);
      std::string out;
      append_json_string(out, s);
      const std::string back = nlohmann::json::parse(out).get<std::string>();
      std::string expected = s;
      if (special == "\xff") {
        expected.replace(pos, 1, "\xEF\xBF\xBD");
      }
      EXPECT_EQ(back, expected) << pos;
    }
  }
}

TEST(JsonString, EmbeddedNulIsEscaped) {
  std::string out;
  append_json_string(out, std::string_view("a\0b", 3));
  EXPECT_EQ(out, R"("a\u0000b")");
}

TEST(JsonString, EveryByteParsesBack) {
  std::string all;
  for (int c = 0; c < 256; ++c) {
    all.push_back(static_cast<char>(c));
  }
  std::string out;
  append_json_string(out, all);
  auto j = nlohmann::json::parse(out);  // throws if invalid
  std::string back = j.get<std::string>();
  EXPECT_EQ(back.substr(0, 128), all.substr(0, 128));
}

TEST(EventJson, GoldenExec) {
  EXPECT_EQ(event_json_line(exec_event(), "node1"),
            R"({"schema":1,"time":"2026-11-23T18:22:15.000000042Z","host":"node1",)"
            R"("type":"process.exec","tenant":"alpha","workload":"web","process":{"pid":4242,)"
            R"("tid":4242,"ppid":4200,"exec_id":"9007199254740993","comm":"python3",)"
            R"("exe":"/usr/bin/python3","args":["python3","-m","http.server"],)"
            R"("uid":1879048192,"gid":1879048192,"euid":1879048192,"egid":1879048192,)"
            R"("inside":{"uid":0,"gid":0}},"fields":{"filename":"/usr/bin/python3"}})"
            "\n");
}

TEST(EventJson, GoldenNetworkDenyWithoutWorkload) {
  Event e;
  e.time_ns = kTime;
  e.type = EventType::kNetDeny;
  e.tenant = "beta";
  e.process.pid = 77;
  e.process.uid = 0;  // root is written, not omitted
  e.fields = {{"protocol", "tcp"}, {"address", "10.0.0.1"}, {"port", 443}};
  EXPECT_EQ(event_json_line(e, "h"),
            R"({"schema":1,"time":"2026-11-23T18:22:15.000000042Z","host":"h",)"
            R"("type":"network.deny","tenant":"beta","process":{"pid":77,"uid":0,"gid":0,)"
            R"("euid":0,"egid":0},"fields":{"address":"10.0.0.1","port":443,"protocol":"tcp"}})"
            "\n");
}

TEST(EventJson, GoldenAgentDropHasNoProcess) {
  Event e;
  e.time_ns = kTime;
  e.type = EventType::kDrop;
  e.fields = {{"sink", "stdout"}, {"lost", 12}};
  EXPECT_EQ(event_json_line(e, "h"),
            R"({"schema":1,"time":"2026-11-23T18:22:15.000000042Z","host":"h",)"
            R"("type":"agent.drop","fields":{"lost":12,"sink":"stdout"}})"
            "\n");
}

TEST(EventJson, GoldenForkWithAncestryAndTruncatedArgs) {
  Event e;
  e.time_ns = kTime;
  e.type = EventType::kProcessFork;
  e.tenant = "alpha";
  e.process.pid = 10;
  e.process.args = {"sh"};
  e.process.args_truncated = true;
  e.process.cwd = "/data";
  e.process.ancestry = {5, 3};
  EXPECT_EQ(event_json_line(e, "h"),
            R"({"schema":1,"time":"2026-11-23T18:22:15.000000042Z","host":"h",)"
            R"("type":"process.fork","tenant":"alpha","process":{"pid":10,"args":["sh"],)"
            R"("args_truncated":true,"cwd":"/data","uid":0,"gid":0,"euid":0,"egid":0,)"
            R"("ancestry":["5","3"]}})"
            "\n");
}

TEST(EventJson, FieldsAreWrittenAsNlohmannWouldDumpThem) {
  Event e;
  e.time_ns = kTime;
  e.type = EventType::kAlert;
  e.fields = nlohmann::json::parse(
      R"({"rule":"shell in container","score":0.75,"n":-3,"big":18446744073709551615,)"
      R"("ok":true,"none":null,"list":[1,"two",[3],{"four":4}],"nested":{"b":{},"a":[]}})");
  e.fields["bytes"] = std::string("\x01\xff\"");
  const std::string line = event_json_line(e, "h");
  const std::string expected =
      e.fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  EXPECT_NE(line.find(R"("fields":)" + expected + "}"), std::string::npos) << line;
}

TEST(EventJson, FloatsKeepNlohmannsFormAndNonFiniteBecomesNull) {
  Event e;
  e.time_ns = kTime;
  e.type = EventType::kAlert;
  e.fields = {{"big", 1e20},
              {"small", 1.5e-7},
              {"one", 1.0},
              {"nan", std::numeric_limits<double>::quiet_NaN()},
              {"inf", std::numeric_limits<double>::infinity()}};
  const std::string line = event_json_line(e, "h");
  EXPECT_NE(line.find(R"("fields":{"big":1e+20,"inf":null,"nan":null,"one":1.0,"small":1.5e-07}})"),
            std::string::npos)
      << line;
}

TEST(EventJson, InvalidUtf8InFieldKeysIsRepaired) {
  Event e;
  e.time_ns = kTime;
  e.type = EventType::kAlert;
  e.fields = nlohmann::json::object();
  e.fields[std::string("k\xff")] = nullptr;
  const std::string line = event_json_line(e, "h");
  auto j = nlohmann::json::parse(line);
  EXPECT_TRUE(j["fields"].contains("k\xEF\xBF\xBD")) << line;
  EXPECT_TRUE(j["fields"]["k\xEF\xBF\xBD"].is_null());
}

TEST(EventJson, ManyLinesIntoOneBufferStayIntact) {
  // The serialiser keeps a per-thread buffer; appending many events to one
  // string (as the file sink does) must give each line whole, in order.
  std::string out;
  Event e = exec_event();
  e.process.args.assign(50, std::string(100, 'a'));  // lines larger than the buffer's first size
  for (int i = 0; i < 20; ++i) {
    e.process.pid = 1000 + i;
    append_event_json(out, e, "h");
    out.push_back('\n');
  }
  size_t start = 0;
  for (int i = 0; i < 20; ++i) {
    const size_t nl = out.find('\n', start);
    ASSERT_NE(nl, std::string::npos);
    auto j = nlohmann::json::parse(out.substr(start, nl - start));
    EXPECT_EQ(j["process"]["pid"], 1000 + i);
    EXPECT_EQ(j["process"]["args"].size(), 50U);
    start = nl + 1;
  }
  EXPECT_EQ(start, out.size());
}

TEST(EventJson, HostileStringsStayOneValidLine) {
  Event e = exec_event();
  e.process.args = {"a\nb", "\xff\xfe", "\"}{"};
  e.fields = {{"path", std::string("/tmp/\xff")}};
  std::string line = event_json_line(e, "h");
  ASSERT_EQ(line.find('\n'), line.size() - 1);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["process"]["args"][0], "a\nb");
  EXPECT_EQ(j["process"]["args"][1], "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(j["fields"]["path"], "/tmp/\xEF\xBF\xBD");
}

}  // namespace
}  // namespace bulkhead::events
