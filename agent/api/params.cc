#include "api/params.h"

#include <string.h>  // sigabbrev_np

#include <csignal>
#include <set>

#include "events/event_filter.h"

namespace bulkhead::api {
namespace {

using nlohmann::json;

// Reads the members of one params object, remembering which keys it used so
// that finish() can refuse the rest. The first error wins; later reads are no-ops.
class FieldReader {
 public:
  explicit FieldReader(const json& params) : params_(params) {}

  // A required or optional string; strings reach execve and paths, so NUL is refused.
  std::optional<std::string> string(const std::string& key, bool required) {
    const json* v = take(key, required);
    if (v == nullptr) {
      return std::nullopt;
    }
    if (!v->is_string()) {
      fail(path(key), "must be a string");
      return std::nullopt;
    }
    auto s = v->get<std::string>();
    if (s.find('\0') != std::string::npos) {
      fail(path(key), "must not contain a NUL character");
      return std::nullopt;
    }
    if (s.empty()) {
      fail(path(key), "must not be empty");
      return std::nullopt;
    }
    return s;
  }

  std::optional<std::vector<std::string>> string_list(const std::string& key, bool required) {
    const json* v = take(key, required);
    if (v == nullptr) {
      return std::nullopt;
    }
    if (!v->is_array()) {
      fail(path(key), "must be an array of strings");
      return std::nullopt;
    }
    std::vector<std::string> out;
    for (size_t i = 0; i < v->size(); ++i) {
      const std::string item = path(key) + "[" + std::to_string(i) + "]";
      const json& e = (*v)[i];
      if (!e.is_string()) {
        fail(item, "must be a string");
        return std::nullopt;
      }
      auto s = e.get<std::string>();
      if (s.find('\0') != std::string::npos) {
        fail(item, "must not contain a NUL character");
        return std::nullopt;
      }
      out.push_back(std::move(s));
    }
    return out;
  }

  std::optional<std::map<std::string, std::string>> string_map(const std::string& key) {
    const json* v = take(key, false);
    if (v == nullptr) {
      return std::nullopt;
    }
    if (!v->is_object()) {
      fail(path(key), "must be an object of strings");
      return std::nullopt;
    }
    std::map<std::string, std::string> out;
    for (const auto& [k, value] : v->items()) {
      const std::string item = path(key) + "." + k;
      if (k.empty() || k.find('=') != std::string::npos || k.find('\0') != std::string::npos) {
        fail(item, "variable names must be non-empty and contain neither '=' nor NUL");
        return std::nullopt;
      }
      if (!value.is_string()) {
        fail(item, "must be a string");
        return std::nullopt;
      }
      auto s = value.get<std::string>();
      if (s.find('\0') != std::string::npos) {
        fail(item, "must not contain a NUL character");
        return std::nullopt;
      }
      out.emplace(k, std::move(s));
    }
    return out;
  }

  std::optional<bool> boolean(const std::string& key) {
    const json* v = take(key, false);
    if (v == nullptr) {
      return std::nullopt;
    }
    if (!v->is_boolean()) {
      fail(path(key), "must be true or false");
      return std::nullopt;
    }
    return v->get<bool>();
  }

  // The raw member, for fields with more than one accepted type.
  const json* raw(const std::string& key, bool required) { return take(key, required); }

  void fail(const std::string& field, const std::string& message) {
    fail(ApiError::field(field, message));
  }
  void fail(ApiError error) {
    if (!error_) {
      error_ = std::move(error);
    }
  }

  static std::string path(const std::string& key) { return "params." + key; }

  // Call last: refuses keys nobody asked for, and returns the first error.
  std::optional<ApiError> finish() {
    if (!error_) {
      for (const auto& [key, value] : params_.items()) {
        if (used_.count(key) == 0) {
          std::string known;
          for (const auto& k : used_) {
            known += (known.empty() ? "" : ", ") + k;
          }
          fail(path(key), known.empty() ? "unknown key (this method takes no parameters)"
                                        : "unknown key (expected " + known + ")");
          break;
        }
      }
    }
    return error_;
  }

 private:
  const json* take(const std::string& key, bool required) {
    used_.insert(key);
    if (error_) {
      return nullptr;
    }
    auto it = params_.find(key);
    if (it == params_.end() || (it->is_null() && !required)) {
      if (required) {
        fail(path(key), "missing");
      }
      return nullptr;
    }
    return &*it;
  }

  const json& params_;
  std::set<std::string> used_;
  std::optional<ApiError> error_;
};

// {"rows": R, "cols": C}, each 0..65535 (0: unknown), and nothing else.
ApiResult<isolation::TerminalSize> parse_terminal_size(const json& v, const std::string& field) {
  if (!v.is_object()) {
    return ApiError::field(field, "must be an object {\"rows\": N, \"cols\": N}");
  }
  for (const auto& [key, value] : v.items()) {
    if (key != "rows" && key != "cols") {
      return ApiError::field(field + "." + key, "unknown key (expected rows, cols)");
    }
  }
  isolation::TerminalSize size;
  for (auto [key, slot] : {std::pair<const char*, uint16_t*>{"rows", &size.rows},
                           std::pair<const char*, uint16_t*>{"cols", &size.cols}}) {
    auto it = v.find(key);
    if (it == v.end()) {
      return ApiError::field(field + "." + key, "missing");
    }
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 65535) {
      return ApiError::field(field + "." + key, "must be an integer 0..65535");
    }
    *slot = it->get<uint16_t>();
  }
  return size;
}

}  // namespace

ApiResult<NoParams> parse_no_params(const json& params) {
  FieldReader r(params);
  if (auto e = r.finish()) {
    return *e;
  }
  return NoParams{};
}

ApiResult<PsParams> parse_ps_params(const json& params) {
  FieldReader r(params);
  PsParams p;
  p.tenant = r.string("tenant", false);
  if (auto e = r.finish()) {
    return *e;
  }
  return p;
}

ApiResult<RunParams> parse_run_params(const json& params) {
  FieldReader r(params);
  RunParams p;
  p.tenant = r.string("tenant", true).value_or("");
  p.name = r.string("name", false).value_or("");
  p.argv = r.string_list("argv", true).value_or(std::vector<std::string>{});
  p.env = r.string_map("env").value_or(std::map<std::string, std::string>{});
  p.cwd = r.string("cwd", false);
  p.tty = r.boolean("tty").value_or(false);
  if (const json* size = r.raw("tty_size", false)) {
    if (!p.tty) {
      r.fail(FieldReader::path("tty_size"), "only with \"tty\": true");
    } else {
      auto s = parse_terminal_size(*size, FieldReader::path("tty_size"));
      if (s.ok()) {
        p.tty_size = s.value();
      } else {
        r.fail(s.error());
      }
    }
  }
  if (auto e = r.finish()) {
    return *e;
  }
  if (p.argv.empty()) {
    return ApiError::field("params.argv", "must name a command (at least one element)");
  }
  if (p.argv[0].empty()) {
    return ApiError::field("params.argv[0]", "must not be empty");
  }
  if (p.cwd && p.cwd->front() != '/') {
    return ApiError::field("params.cwd", "must be an absolute path");
  }
  return p;
}

ApiResult<SignalParams> parse_signal_params(const json& params) {
  FieldReader r(params);
  SignalParams p;
  p.tenant = r.string("tenant", true).value_or("");
  p.workload = r.string("workload", true).value_or("");
  const json* sig = r.raw("signal", true);
  if (sig != nullptr) {
    std::optional<int> n;
    if (sig->is_string()) {
      n = parse_signal(sig->get<std::string>());
    } else if (sig->is_number_integer()) {
      auto v = sig->get<int64_t>();
      if (v >= 1 && v <= SIGRTMAX) {
        n = static_cast<int>(v);
      }
    }
    if (!n) {
      r.fail(FieldReader::path("signal"),
             "must be a signal name (\"SIGTERM\", \"TERM\") or a number 1.." +
                 std::to_string(SIGRTMAX));
    } else {
      p.signal = *n;
    }
  }
  if (auto e = r.finish()) {
    return *e;
  }
  return p;
}

ApiResult<StopParams> parse_stop_params(const json& params) {
  FieldReader r(params);
  StopParams p;
  p.tenant = r.string("tenant", true).value_or("");
  p.workload = r.string("workload", true).value_or("");
  if (auto e = r.finish()) {
    return *e;
  }
  return p;
}

ApiResult<CheckParams> parse_check_params(const json& params) {
  FieldReader r(params);
  CheckParams p;
  p.content = r.string("content", true).value_or("");
  p.name = r.string("name", false).value_or("profile");
  if (auto e = r.finish()) {
    return *e;
  }
  return p;
}

std::optional<int> parse_signal(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  if (text.find_first_not_of("0123456789") == std::string_view::npos) {
    if (text.size() > 3) {
      return std::nullopt;
    }
    int n = std::stoi(std::string(text));
    return n >= 1 && n <= SIGRTMAX ? std::optional<int>(n) : std::nullopt;
  }
  std::string upper;
  for (char c : text) {
    upper += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  }
  if (upper.rfind("SIG", 0) == 0) {
    upper.erase(0, 3);
  }
  for (int sig = 1; sig < SIGRTMIN; ++sig) {
    const char* name = sigabbrev_np(sig);
    if (name != nullptr && upper == name) {
      return sig;
    }
  }
  return std::nullopt;
}

std::string signal_name(int sig) {
  const char* name = sigabbrev_np(sig);
  return name != nullptr ? std::string("SIG") + name : std::to_string(sig);
}

}  // namespace bulkhead::api

namespace bulkhead::api {

ApiResult<EventsParams> parse_events_params(const json& params) {
  FieldReader r(params);
  EventsParams p;
  p.tenant = r.string("tenant", false);
  p.types = r.string_list("types", false).value_or(std::vector<std::string>{});
  p.follow = r.boolean("follow").value_or(false);
  if (auto e = r.finish()) {
    return *e;
  }
  for (size_t i = 0; i < p.types.size(); ++i) {
    auto bits = events::parse_type_filter({p.types[i]});
    if (!bits.ok()) {
      ApiError e = ApiError::field("params.types[" + std::to_string(i) + "]", bits.error().message);
      json valid = json::array();
      for (events::EventType t : events::all_types()) {
        valid.push_back(events::type_name(t));
      }
      e.details[0]["valid"] = valid;
      return e;
    }
    p.type_bits |= *bits;
  }
  return p;
}

}  // namespace bulkhead::api
