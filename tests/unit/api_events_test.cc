// The events method's parameters and bulkheadctl's rendering of a record.
#include <gtest/gtest.h>

#include "api/ctl_format.h"
#include "api/params.h"
#include "events/event.h"

namespace bulkhead::api {
namespace {

using nlohmann::json;

TEST(EventsParams, Defaults) {
  auto p = parse_events_params(json::object());
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(p->tenant);
  EXPECT_FALSE(p->follow);
  EXPECT_EQ(p->type_bits, 0U);
}

TEST(EventsParams, TypesAndCategories) {
  auto p = parse_events_params(
      json{{"tenant", "alpha"}, {"types", {"process.exec", "network.*"}}, {"follow", true}});
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->tenant, "alpha");
  EXPECT_TRUE(p->follow);
  // process.exec and the five network types.
  EXPECT_EQ(__builtin_popcountll(p->type_bits), 6);
}

TEST(EventsParams, UnknownTypeListsTheValidOnes) {
  auto p = parse_events_params(json{{"types", {"file.open", "file.opne"}}});
  ASSERT_FALSE(p.ok());
  const ApiError& e = p.error();
  EXPECT_EQ(e.code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(e.message.rfind("params.types[1]: unknown event type 'file.opne' (valid types: ", 0),
            0U)
      << e.message;
  ASSERT_EQ(e.details.size(), 1U);
  EXPECT_EQ(e.details[0]["field"], "params.types[1]");
  ASSERT_EQ(e.details[0]["valid"].size(), events::all_types().size());
  EXPECT_EQ(e.details[0]["valid"][0], "process.exec");
}

TEST(EventsParams, StrictFields) {
  EXPECT_EQ(parse_events_params(json{{"follow", "yes"}}).error().message,
            "params.follow: must be true or false");
  EXPECT_EQ(parse_events_params(json{{"types", "file.open"}}).error().message,
            "params.types: must be an array of strings");
  EXPECT_EQ(parse_events_params(json{{"type", {"file.open"}}}).error().message,
            "params.type: unknown key (expected follow, tenant, types)");
}

TEST(EventsMethod, IsKnown) {
  EXPECT_EQ(parse_method("events"), Method::kEvents);
  EXPECT_EQ(method_name(Method::kEvents), "events");
}

TEST(FormatEvent, OneLineWithFieldsAndNoTerminalEscapes) {
  json record = json::parse(
      R"({"schema":1,"time":"2026-11-23T18:22:15.000000042Z","host":"h","type":"file.open",)"
      R"("tenant":"alpha","workload":"web","process":{"pid":42,"exe":"/bin/cat"},)"
      R"("fields":{"path":"/etc/\u001b[31mshadow","flags":["O_RDONLY"]}})");
  EXPECT_EQ(ctl::format_event(record),
            "2026-11-23T18:22:15.000000042Z file.open alpha/web pid=42 exe=/bin/cat "
            "flags=[\"O_RDONLY\"] path=/etc/\\x1b[31mshadow\n");
  json host = json::parse(R"({"time":"t","type":"agent.drop","fields":{"lost":3}})");
  EXPECT_EQ(ctl::format_event(host), "t agent.drop host lost=3\n");
}

}  // namespace
}  // namespace bulkhead::api
