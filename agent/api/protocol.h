// The control API wire format, "bulkhead.api/v1" (docs/api.md): newline-delimited
// JSON over a Unix stream socket. One request object per line; the agent answers
// each with one response line carrying the same id, and `run` later adds an
// event line with that id. Both the server and the client use these helpers, so
// the two sides cannot drift apart.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace bulkhead::api {

inline constexpr std::string_view kApiVersion = "bulkhead.api/v1";
inline constexpr std::string_view kDefaultSocket = "/run/bulkhead/bulkhead.sock";
// A request line longer than this is refused and the client disconnected: it
// bounds what one client can make the agent buffer.
inline constexpr size_t kMaxRequestLine = size_t{1024} * 1024;
// Responses can be larger (ps of a busy host); the client bounds them too.
inline constexpr size_t kMaxResponseLine = size_t{16} * 1024 * 1024;

enum class ErrorCode {
  kTenantUnknown,
  kInvalidRequest,
  kPermissionDenied,
  kInvalidProfile,
  kLaunchFailed,
  kNotFound,
  kInternal,
};

std::string_view error_code_name(ErrorCode code);
std::optional<ErrorCode> parse_error_code(std::string_view name);

// An error as the protocol carries it: a code for programs, a message for
// people, and details (field errors, profile errors) for both.
struct ApiError {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  nlohmann::json details = nlohmann::json::array();

  // invalid_request naming the offending field ("params.argv[2]").
  static ApiError field(const std::string& field, const std::string& message);
  [[nodiscard]] nlohmann::json to_json() const;
  static ApiError from_json(const nlohmann::json& j);
};

// A value or an ApiError: the result type of everything that decodes requests.
template <typename T>
class [[nodiscard]] ApiResult {
 public:
  ApiResult(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  ApiResult(ApiError error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)
  [[nodiscard]] bool ok() const { return std::holds_alternative<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T& operator*() & { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  [[nodiscard]] const ApiError& error() const { return std::get<ApiError>(v_); }

 private:
  std::variant<T, ApiError> v_;
};

enum class Method { kStatus, kTenants, kPs, kRun, kSignal, kStop, kReload, kCheck, kEvents };

std::string_view method_name(Method m);
std::optional<Method> parse_method(std::string_view name);

struct Request {
  int64_t id = 0;
  Method method = Method::kStatus;
  nlohmann::json params = nlohmann::json::object();  // always an object
};

// The outcome of decoding one request line. A line that is not a JSON object
// is `fatal`: the server answers and then drops the connection, because it can
// no longer trust the framing. A well-formed object with a bad field is not.
struct ParsedLine {
  std::optional<int64_t> id;  // when the line carried a usable id (echoed in the error)
  std::optional<Request> request;
  std::optional<ApiError> error;
  bool fatal = false;
};

ParsedLine parse_request_line(std::string_view line);

// Encoders: each returns one complete line, '\n' included. Strings that are not
// valid UTF-8 (a workload's argv, an errno message) are replaced, not thrown on.
std::string encode_request(int64_t id, Method method, const nlohmann::json& params);
std::string encode_result(int64_t id, const nlohmann::json& result);
std::string encode_error(std::optional<int64_t> id, const ApiError& error);
std::string encode_event(int64_t id, std::string_view event, const nlohmann::json& body);

// A message the client reads: exactly one of result, error or event is set.
// (Its moves are noexcept, as a static_assert in protocol.cc checks; clang-tidy
// cannot see through nlohmann::json's.)
struct Message {              // NOLINT(bugprone-exception-escape)
  std::optional<int64_t> id;  // absent only on errors about unparseable requests
  std::optional<nlohmann::json> result;
  std::optional<ApiError> error;
  std::string event;    // "exit" when an event
  nlohmann::json body;  // the event's other members (e.g. "status")
  [[nodiscard]] bool is_event() const { return !event.empty(); }
};

// Decodes a line sent by the agent; an error names what was wrong with it.
ApiResult<Message> parse_message_line(std::string_view line);

// json::dump that never throws on bad UTF-8.
std::string dump_json(const nlohmann::json& j);

}  // namespace bulkhead::api
