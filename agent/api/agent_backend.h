// The control API's Backend over the real daemon::Agent: a pass-through, kept
// apart so that the server and its tests never need a live agent.
#pragma once

#include "api/backend.h"
#include "daemon/agent.h"

namespace bulkhead::api {

class AgentBackend final : public Backend {
 public:
  explicit AgentBackend(daemon::Agent& agent) : agent_(agent) {}

  [[nodiscard]] daemon::AgentStatus status() const override { return agent_.status(); }
  [[nodiscard]] std::vector<daemon::TenantInfo> tenants() const override {
    return agent_.tenants();
  }
  [[nodiscard]] std::vector<daemon::WorkloadInfo> workloads(
      const std::optional<std::string>& tenant) const override {
    return agent_.workloads(tenant);
  }
  Result<daemon::StartedRun> run(const daemon::AdhocRun& run, ExitCallback on_exit) override {
    return agent_.run(run, std::move(on_exit));
  }
  Status signal(const std::string& tenant, const std::string& workload, int sig) override {
    return agent_.signal(tenant, workload, sig);
  }
  Status stop(const std::string& tenant, const std::string& workload) override {
    return agent_.stop(tenant, workload);
  }
  daemon::ReloadReport reload() override { return agent_.reload(); }
  [[nodiscard]] CheckReport check_profile(const std::string& yaml,
                                          const std::string& name) const override {
    return check_profile_text(yaml, name);
  }
  events::EventBus* event_bus() override { return &agent_.events(); }

 private:
  daemon::Agent& agent_;
};

}  // namespace bulkhead::api
