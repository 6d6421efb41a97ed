#include "api/protocol.h"

#include <array>
#include <limits>
#include <type_traits>

namespace bulkhead::api {

static_assert(std::is_nothrow_move_constructible_v<Message> &&
              std::is_nothrow_move_assignable_v<Message>);

namespace {

using nlohmann::json;

constexpr std::array<std::pair<ErrorCode, std::string_view>, 7> kErrorCodes{{
    {ErrorCode::kTenantUnknown, "tenant_unknown"},
    {ErrorCode::kInvalidRequest, "invalid_request"},
    {ErrorCode::kPermissionDenied, "permission_denied"},
    {ErrorCode::kInvalidProfile, "invalid_profile"},
    {ErrorCode::kLaunchFailed, "launch_failed"},
    {ErrorCode::kNotFound, "not_found"},
    {ErrorCode::kInternal, "internal"},
}};

constexpr std::array<std::pair<Method, std::string_view>, 9> kMethods{{
    {Method::kStatus, "status"},
    {Method::kTenants, "tenants"},
    {Method::kPs, "ps"},
    {Method::kRun, "run"},
    {Method::kSignal, "signal"},
    {Method::kStop, "stop"},
    {Method::kReload, "reload"},
    {Method::kCheck, "check"},
    {Method::kEvents, "events"},
}};

// Ids are integers; doubles and numbers beyond int64 are refused rather than
// rounded, so the echoed id always equals the one sent.
std::optional<int64_t> as_id(const json& j) {
  if (j.is_number_integer() && !j.is_number_unsigned()) {
    return j.get<int64_t>();
  }
  if (j.is_number_unsigned()) {
    auto u = j.get<uint64_t>();
    if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return static_cast<int64_t>(u);
    }
  }
  return std::nullopt;
}

std::string line_of(const json& j) { return dump_json(j) + "\n"; }

}  // namespace

std::string_view error_code_name(ErrorCode code) {
  for (const auto& [c, name] : kErrorCodes) {
    if (c == code) {
      return name;
    }
  }
  return "internal";
}

std::optional<ErrorCode> parse_error_code(std::string_view name) {
  for (const auto& [c, n] : kErrorCodes) {
    if (n == name) {
      return c;
    }
  }
  return std::nullopt;
}

std::string_view method_name(Method m) {
  for (const auto& [method, name] : kMethods) {
    if (method == m) {
      return name;
    }
  }
  return "?";
}

std::optional<Method> parse_method(std::string_view name) {
  for (const auto& [method, n] : kMethods) {
    if (n == name) {
      return method;
    }
  }
  return std::nullopt;
}

ApiError ApiError::field(const std::string& field, const std::string& message) {
  ApiError e;
  e.code = ErrorCode::kInvalidRequest;
  e.message = field + ": " + message;
  e.details = json::array({json{{"field", field}, {"message", message}}});
  return e;
}

json ApiError::to_json() const {
  return json{{"code", error_code_name(code)}, {"message", message}, {"details", details}};
}

ApiError ApiError::from_json(const json& j) {
  ApiError e;
  if (!j.is_object()) {
    e.message = "malformed error from the agent";
    return e;
  }
  if (auto c = j.find("code"); c != j.end() && c->is_string()) {
    // A code this client does not know (a newer agent) degrades to internal.
    e.code = parse_error_code(c->get<std::string>()).value_or(ErrorCode::kInternal);
  }
  if (auto m = j.find("message"); m != j.end() && m->is_string()) {
    e.message = m->get<std::string>();
  }
  if (auto d = j.find("details"); d != j.end() && d->is_array()) {
    e.details = *d;
  }
  return e;
}

ParsedLine parse_request_line(std::string_view line) {
  ParsedLine out;
  json j = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    out.error = ApiError::field("request", "not valid JSON");
    out.fatal = true;
    return out;
  }
  if (!j.is_object()) {
    out.error = ApiError::field("request", "must be a JSON object");
    out.fatal = true;
    return out;
  }
  // The id first, so that every later error can be matched to its request.
  auto id_it = j.find("id");
  if (id_it == j.end()) {
    out.error = ApiError::field("id", "missing");
    return out;
  }
  out.id = as_id(*id_it);
  if (!out.id) {
    out.error = ApiError::field("id", "must be an integer (int64)");
    return out;
  }
  for (const auto& [key, value] : j.items()) {
    if (key != "id" && key != "method" && key != "params" && key != "api") {
      out.error = ApiError::field(key, "unknown key (expected id, method, params, api)");
      return out;
    }
  }
  if (auto api = j.find("api"); api != j.end()) {
    if (!api->is_string() || api->get<std::string>() != kApiVersion) {
      out.error = ApiError::field(
          "api", "unsupported version (this agent speaks " + std::string(kApiVersion) + ")");
      return out;
    }
  }
  auto method_it = j.find("method");
  if (method_it == j.end()) {
    out.error = ApiError::field("method", "missing");
    return out;
  }
  if (!method_it->is_string()) {
    out.error = ApiError::field("method", "must be a string");
    return out;
  }
  auto method = parse_method(method_it->get<std::string>());
  if (!method) {
    out.error = ApiError::field(
        "method", "unknown method '" + method_it->get<std::string>() +
                      "' (expected status, tenants, ps, run, signal, stop, reload, check, events)");
    return out;
  }
  Request req;
  req.id = *out.id;
  req.method = *method;
  if (auto params = j.find("params"); params != j.end()) {
    if (!params->is_object()) {
      out.error = ApiError::field("params", "must be an object");
      return out;
    }
    req.params = std::move(*params);
  }
  out.request = std::move(req);
  return out;
}

std::string dump_json(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string encode_request(int64_t id, Method method, const json& params) {
  return line_of(json{{"id", id}, {"method", method_name(method)}, {"params", params}});
}

std::string encode_result(int64_t id, const json& result) {
  return line_of(json{{"id", id}, {"result", result}});
}

std::string encode_error(std::optional<int64_t> id, const ApiError& error) {
  json j{{"error", error.to_json()}};
  j["id"] = id ? json(*id) : json(nullptr);
  return line_of(j);
}

std::string encode_event(int64_t id, std::string_view event, const json& body) {
  json j = body.is_object() ? body : json::object();
  j["id"] = id;
  j["event"] = event;
  return line_of(j);
}

ApiResult<Message> parse_message_line(std::string_view line) {
  json j = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return ApiError::field("response", "not a JSON object");
  }
  Message m;
  if (auto id = j.find("id"); id != j.end() && !id->is_null()) {
    m.id = as_id(*id);
    if (!m.id) {
      return ApiError::field("response.id", "must be an integer");
    }
  }
  if (auto r = j.find("result"); r != j.end()) {
    m.result = std::move(*r);
  } else if (auto e = j.find("error"); e != j.end()) {
    m.error = ApiError::from_json(*e);
  } else if (auto ev = j.find("event"); ev != j.end() && ev->is_string()) {
    m.event = ev->get<std::string>();
    if (m.event.empty()) {
      return ApiError::field("response.event", "empty");
    }
    j.erase("event");
    j.erase("id");
    m.body = std::move(j);
  } else {
    return ApiError::field("response", "has none of result, error, event");
  }
  if (!m.id && !m.error) {
    return ApiError::field("response.id", "missing");
  }
  return m;
}

}  // namespace bulkhead::api
