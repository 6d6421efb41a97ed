#include "api/codec.h"

namespace bulkhead::api {

using nlohmann::json;

json to_json(const isolation::ExitStatus& status) {
  return json{
      {"code", status.code}, {"signaled", status.signaled}, {"shell_code", status.shell_code()}};
}

json to_json(const daemon::WorkloadInfo& info) {
  return json{
      {"tenant", info.tenant},
      {"name", info.name},
      {"kind", info.kind == daemon::WorkloadKind::kAdhoc ? "adhoc" : "declared"},
      {"state", info.state},
      {"pid", info.pid},
      {"command", info.command},
      {"restarts", info.restarts},
      {"last_exit", info.last_exit ? to_json(*info.last_exit) : json(nullptr)},
      {"started_unix_ms", info.started_unix_ms},
  };
}

json to_json(const daemon::TenantInfo& info) {
  return json{
      {"name", info.name},
      {"profile_file", info.profile_file},
      {"ids", {{"base", info.id_base}, {"count", info.id_count}}},
      {"cgroup_id", info.cgroup_id},
      {"cgroup_path", info.cgroup_path},
      {"workloads_running", info.workloads_running},
      {"network",
       {{"mode", info.network_mode},
        {"ipv4", info.ipv4.empty() ? json(nullptr) : json(info.ipv4)},
        {"ipv6", info.ipv6.empty() ? json(nullptr) : json(info.ipv6)},
        {"counters", info.network_counters}}},
  };
}

json to_json(const events::BusStats& stats) {
  json sinks = json::array();
  for (const auto& s : stats.sinks) {
    sinks.push_back(json{{"name", s.name},
                         {"accepted", s.accepted},
                         {"written", s.written},
                         {"dropped", s.dropped},
                         {"failed", s.failed},
                         {"queued", s.queued},
                         {"capacity", s.capacity}});
  }
  return json{{"published", stats.published}, {"sinks", sinks}};
}

json to_json(const detect::DetectionStats& stats) {
  json rules = json::array();
  for (const auto& r : stats.rules) {
    rules.push_back(json{{"name", r.name},
                         {"severity", std::string(detect::severity_name(r.severity))},
                         {"alerts", r.alerts},
                         {"suppressed", r.suppressed}});
  }
  return json{{"rules_dir", stats.rules_dir}, {"rules", rules}};
}

json to_json(const daemon::AgentStatus& status) {
  return json{
      {"api", kApiVersion},
      {"version", status.version},
      {"pid", status.pid},
      {"started_unix_ms", status.started_unix_ms},
      {"cgroup_layout", status.cgroup_layout},
      {"kernel_features", status.kernel_features},
      {"tenants", status.tenants},
      {"workloads_running", status.workloads_running},
      {"events", to_json(status.events)},
      {"detection", to_json(status.detection)},
  };
}

json to_json(const config::ProfileError& error) {
  return json{{"file", error.file},
              {"line", error.line},
              {"column", error.column},
              {"field", error.field},
              {"message", error.message}};
}

json reload_result(const daemon::ReloadReport& report) {
  return json{{"added", report.added},
              {"removed", report.removed},
              {"updated", report.updated},
              {"unchanged", report.unchanged}};
}

ApiError profile_error(const std::string& what, const std::vector<config::ProfileError>& errors) {
  ApiError e;
  e.code = ErrorCode::kInvalidProfile;
  e.message =
      what + ": " + std::to_string(errors.size()) + (errors.size() == 1 ? " error" : " errors");
  for (const auto& pe : errors) {
    e.details.push_back(to_json(pe));
  }
  return e;
}

}  // namespace bulkhead::api
