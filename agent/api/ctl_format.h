// bulkheadctl's human-readable output: aligned tables and key/value blocks
// built from the API's JSON results. Pure functions, so they are unit-tested.
//
// Everything shown comes from tenants (workload names, argv): control
// characters are escaped so that a hostile argv cannot drive the operator's
// terminal.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "api/protocol.h"

namespace bulkhead::api::ctl {

// Columns separated by two spaces, each as wide as its widest cell; the last
// column is not padded. Cells are escaped (escape_cell).
std::string render_table(const std::vector<std::string>& headers,
                         const std::vector<std::vector<std::string>>& rows);

// C0 and C1 control characters and DEL as \xNN (\u00NN for C1), backslash untouched.
std::string escape_cell(std::string_view s);
// argv as a shell would need it typed: words with spaces or quotes single-quoted.
std::string join_command(const nlohmann::json& argv);
// 42s, 5m12s, 3h04m, 2d05h.
std::string format_duration_ms(int64_t ms);

std::string format_status(const nlohmann::json& status, int64_t now_unix_ms);
std::string format_tenants(const nlohmann::json& result);
std::string format_ps(const nlohmann::json& result, int64_t now_unix_ms);
std::string format_reload(const nlohmann::json& result);
// "exited 3", "killed by SIGKILL".
std::string format_exit(const nlohmann::json& status);

// One event record (docs/events.md) as one line: time, type, tenant/workload,
// the process (pid, exe), then the type's fields as key=value.
std::string format_event(const nlohmann::json& record);

// An agent error as lines for stderr (no prefix): the message, then for
// invalid_profile one "file:line:col: field: message" line per detail.
std::vector<std::string> format_error(const ApiError& error);

}  // namespace bulkhead::api::ctl
