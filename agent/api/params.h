// Typed parameters of each method, decoded strictly from a request's "params":
// unknown keys, missing required keys and wrong types are invalid_request errors
// naming the field ("params.env.PATH"), so a typo never silently means "default".
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/protocol.h"
#include "isolation/terminal.h"

namespace bulkhead::api {

// status, tenants, reload: no parameters at all.
struct NoParams {};

struct PsParams {
  std::optional<std::string> tenant;
};

struct RunParams {
  std::string tenant;
  std::string name;  // empty: the agent picks one
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
  std::optional<std::string> cwd;
  bool tty = false;                  // a terminal for the workload; otherwise pipes
  isolation::TerminalSize tty_size;  // 0x0: unknown
};

struct SignalParams {
  std::string tenant;
  std::string workload;
  int signal = 0;
};

struct StopParams {
  std::string tenant;
  std::string workload;
};

// The profile travels as text: the agent never opens a path a client names
// (it runs as root; the client may not be allowed to read that file).
struct CheckParams {
  std::string content;
  std::string name;  // shown in error locations; default "profile"
};

// events: which events, and whether to stream them (docs/api.md).
struct EventsParams {
  std::optional<std::string> tenant;
  std::vector<std::string> types;  // as given; empty: every type
  uint64_t type_bits = 0;          // the validated filter (events::EventFilter::types)
  bool follow = false;
};

ApiResult<NoParams> parse_no_params(const nlohmann::json& params);
ApiResult<PsParams> parse_ps_params(const nlohmann::json& params);
ApiResult<RunParams> parse_run_params(const nlohmann::json& params);
ApiResult<SignalParams> parse_signal_params(const nlohmann::json& params);
ApiResult<StopParams> parse_stop_params(const nlohmann::json& params);
ApiResult<CheckParams> parse_check_params(const nlohmann::json& params);
// An unknown type is an invalid_request naming params.types[i] whose detail
// also lists the valid types ("valid": [...]).
ApiResult<EventsParams> parse_events_params(const nlohmann::json& params);

// "SIGTERM", "TERM", "term", "15": a signal number in [1, SIGRTMAX], or nullopt.
std::optional<int> parse_signal(std::string_view text);
// "SIGTERM" for 15; the number as text for signals without a name.
std::string signal_name(int sig);

}  // namespace bulkhead::api
