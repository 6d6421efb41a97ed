// The control API's request envelope and message codec: every way a request
// line can be wrong yields invalid_request naming the field, and what the
// server encodes the client decodes back.
#include <gtest/gtest.h>

#include "api/protocol.h"

namespace bulkhead::api {
namespace {

using nlohmann::json;

std::string field_of(const ApiError& e) {
  if (!e.details.is_array() || e.details.empty()) {
    return "";
  }
  return e.details[0].value("field", "");
}

TEST(ApiProtocol, ParsesAWellFormedRequest) {
  auto p = parse_request_line(R"({"id": 7, "method": "ps", "params": {"tenant": "a"}})");
  ASSERT_TRUE(p.request.has_value());
  EXPECT_FALSE(p.error.has_value());
  EXPECT_EQ(p.request->id, 7);
  EXPECT_EQ(p.request->method, Method::kPs);
  EXPECT_EQ(p.request->params, json({{"tenant", "a"}}));
}

TEST(ApiProtocol, ParamsDefaultToAnEmptyObject) {
  auto p = parse_request_line(R"({"id": 1, "method": "status"})");
  ASSERT_TRUE(p.request.has_value());
  EXPECT_TRUE(p.request->params.is_object());
  EXPECT_TRUE(p.request->params.empty());
}

TEST(ApiProtocol, AcceptsItsOwnVersionOnly) {
  EXPECT_TRUE(
      parse_request_line(R"({"id": 1, "method": "status", "api": "bulkhead.api/v1"})").request);
  auto p = parse_request_line(R"({"id": 1, "method": "status", "api": "bulkhead.api/v2"})");
  ASSERT_TRUE(p.error.has_value());
  EXPECT_EQ(field_of(*p.error), "api");
  EXPECT_EQ(p.id, 1);
}

TEST(ApiProtocol, GarbageIsFatal) {
  for (const char* line : {"hello", "{\"id\": 1", "[1,2]", "42", "\"x\""}) {
    auto p = parse_request_line(line);
    EXPECT_FALSE(p.request.has_value()) << line;
    ASSERT_TRUE(p.error.has_value()) << line;
    EXPECT_TRUE(p.fatal) << line;
    EXPECT_EQ(p.error->code, ErrorCode::kInvalidRequest);
    EXPECT_EQ(field_of(*p.error), "request");
    EXPECT_FALSE(p.id.has_value());
  }
}

TEST(ApiProtocol, InvalidUtf8IsGarbage) {
  auto p = parse_request_line("{\"id\": 1, \"method\": \"\xff\xfe\"}");
  EXPECT_TRUE(p.fatal);
}

struct BadEnvelope {
  const char* line;
  const char* field;
  bool id_known;
};

TEST(ApiProtocol, EnvelopeErrorsNameTheField) {
  const BadEnvelope cases[] = {
      {R"({"method": "status"})", "id", false},
      {R"({"id": "1", "method": "status"})", "id", false},
      {R"({"id": 1.5, "method": "status"})", "id", false},
      {R"({"id": 18446744073709551615, "method": "status"})", "id", false},
      {R"({"id": 1})", "method", true},
      {R"({"id": 1, "method": 3})", "method", true},
      {R"({"id": 1, "method": "launch"})", "method", true},
      {R"({"id": 1, "method": "status", "params": []})", "params", true},
      {R"({"id": 1, "method": "status", "extra": true})", "extra", true},
  };
  for (const auto& c : cases) {
    auto p = parse_request_line(c.line);
    ASSERT_TRUE(p.error.has_value()) << c.line;
    EXPECT_FALSE(p.fatal) << c.line;
    EXPECT_EQ(p.error->code, ErrorCode::kInvalidRequest) << c.line;
    EXPECT_EQ(field_of(*p.error), c.field) << c.line;
    EXPECT_NE(p.error->message.find(c.field), std::string::npos) << p.error->message;
    EXPECT_EQ(p.id.has_value(), c.id_known) << c.line;
  }
}

TEST(ApiProtocol, NegativeAndLargeIdsRoundTrip) {
  for (int64_t id : {int64_t{-5}, int64_t{0}, int64_t{9007199254740993}}) {
    auto p = parse_request_line(encode_request(id, Method::kStatus, json::object()));
    ASSERT_TRUE(p.request.has_value());
    EXPECT_EQ(p.request->id, id);
  }
}

TEST(ApiProtocol, EncodedLinesEndInOneNewline) {
  for (const auto& line :
       {encode_request(1, Method::kRun, json{{"argv", {"a\nb"}}}),
        encode_result(1, json{{"x", "multi\nline"}}), encode_error(std::nullopt, ApiError{}),
        encode_event(1, "exit", json{{"status", {{"code", 0}}}})}) {
    ASSERT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  }
}

TEST(ApiProtocol, EncodingNeverThrowsOnBadUtf8) {
  std::string line;
  EXPECT_NO_THROW(line = encode_result(1, json{{"argv", std::string("a\xff")}}));
  EXPECT_TRUE(parse_message_line(line).ok());
}

TEST(ApiProtocol, MessagesRoundTrip) {
  auto r = parse_message_line(encode_result(3, json{{"tenants", json::array()}}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->id, 3);
  ASSERT_TRUE(r->result.has_value());
  EXPECT_FALSE(r->is_event());

  ApiError e;
  e.code = ErrorCode::kTenantUnknown;
  e.message = "unknown tenant 'x'";
  auto er = parse_message_line(encode_error(4, e));
  ASSERT_TRUE(er.ok());
  ASSERT_TRUE(er->error.has_value());
  EXPECT_EQ(er->error->code, ErrorCode::kTenantUnknown);
  EXPECT_EQ(er->error->message, e.message);

  auto anon = parse_message_line(encode_error(std::nullopt, e));
  ASSERT_TRUE(anon.ok());
  EXPECT_FALSE(anon->id.has_value());

  auto ev = parse_message_line(encode_event(5, "exit", json{{"status", {{"shell_code", 3}}}}));
  ASSERT_TRUE(ev.ok());
  EXPECT_TRUE(ev->is_event());
  EXPECT_EQ(ev->event, "exit");
  EXPECT_EQ(ev->id, 5);
  EXPECT_EQ(ev->body["status"]["shell_code"], 3);
  EXPECT_FALSE(ev->body.contains("id"));
}

TEST(ApiProtocol, MalformedMessagesAreErrors) {
  EXPECT_FALSE(parse_message_line("nonsense").ok());
  EXPECT_FALSE(parse_message_line(R"({"id": 1})").ok());
  EXPECT_FALSE(parse_message_line(R"({"result": {}})").ok());  // a result needs its id
  EXPECT_FALSE(parse_message_line(R"({"id": "x", "result": {}})").ok());
}

TEST(ApiProtocol, UnknownErrorCodesDegradeToInternal) {
  auto m = parse_message_line(R"({"id": 1, "error": {"code": "quota_exceeded", "message": "m"}})");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->error->code, ErrorCode::kInternal);
  EXPECT_EQ(m->error->message, "m");
}

TEST(ApiProtocol, ErrorCodeAndMethodNamesRoundTrip) {
  for (auto c : {ErrorCode::kTenantUnknown, ErrorCode::kInvalidRequest,
                 ErrorCode::kPermissionDenied, ErrorCode::kInvalidProfile, ErrorCode::kLaunchFailed,
                 ErrorCode::kNotFound, ErrorCode::kInternal}) {
    EXPECT_EQ(parse_error_code(error_code_name(c)), c);
  }
  for (auto m : {Method::kStatus, Method::kTenants, Method::kPs, Method::kRun, Method::kSignal,
                 Method::kStop, Method::kReload, Method::kCheck}) {
    EXPECT_EQ(parse_method(method_name(m)), m);
  }
}

}  // namespace
}  // namespace bulkhead::api
