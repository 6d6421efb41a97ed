// The JSON shape of the agent's records in API results (docs/api.md lists them).
// Only the server encodes them; clients read the JSON as it is (bulkheadctl's
// tables pick the members they show), so a newer agent can add members freely.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "api/protocol.h"
#include "config/profile_loader.h"
#include "daemon/agent.h"
#include "isolation/workload.h"

namespace bulkhead::api {

nlohmann::json to_json(const isolation::ExitStatus& status);
nlohmann::json to_json(const daemon::WorkloadInfo& info);
nlohmann::json to_json(const daemon::TenantInfo& info);
nlohmann::json to_json(const events::BusStats& stats);
nlohmann::json to_json(const detect::DetectionStats& stats);
nlohmann::json to_json(const daemon::AgentStatus& status);
nlohmann::json to_json(const config::ProfileError& error);

// A successful reload's result: {"added": [...], "removed": [...], ...}.
nlohmann::json reload_result(const daemon::ReloadReport& report);
// The error for profile errors: invalid_profile with one detail per error.
ApiError profile_error(const std::string& what, const std::vector<config::ProfileError>& errors);

}  // namespace bulkhead::api
