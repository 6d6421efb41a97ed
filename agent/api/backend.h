// What the control API needs from the agent. The server talks to this interface
// only, so its protocol and access logic are tested against a fake, without
// sandboxes; AgentBackend (agent_backend.h) is the real one over daemon::Agent.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/profile_loader.h"
#include "daemon/agent.h"
#include "events/event_bus.h"
#include "isolation/workload.h"

namespace bulkhead::api {

// The outcome of validating one profile text.
struct CheckReport {
  std::string tenant;                        // when the profile parsed
  std::vector<config::ProfileError> errors;  // empty: valid
  std::vector<std::string> warnings;
  [[nodiscard]] bool ok() const { return errors.empty(); }
};

class Backend {
 public:
  using ExitCallback = std::function<void(const isolation::ExitStatus&)>;

  virtual ~Backend() = default;

  [[nodiscard]] virtual daemon::AgentStatus status() const = 0;
  [[nodiscard]] virtual std::vector<daemon::TenantInfo> tenants() const = 0;
  [[nodiscard]] virtual std::vector<daemon::WorkloadInfo> workloads(
      const std::optional<std::string>& tenant) const = 0;
  // `on_exit` is called on the event loop, once, after run() has returned.
  // The result carries the caller's ends of the workload's terminal or pipes.
  virtual Result<daemon::StartedRun> run(const daemon::AdhocRun& run, ExitCallback on_exit) = 0;
  virtual Status signal(const std::string& tenant, const std::string& workload, int sig) = 0;
  virtual Status stop(const std::string& tenant, const std::string& workload) = 0;
  virtual daemon::ReloadReport reload() = 0;
  // Validates a profile as the agent would load it; `name` is used in error locations.
  [[nodiscard]] virtual CheckReport check_profile(const std::string& yaml,
                                                  const std::string& name) const = 0;
  // The bus `events` subscribes to; nullptr when this backend has none (the
  // method then answers with an error). It must outlive the Server.
  virtual events::EventBus* event_bus() { return nullptr; }
};

// The checks both the agent and `bulkheadctl check` run: the profile's own
// validation, then planning its sandbox (paths resolved, seccomp compiled,
// capabilities and Landlock rules checked) without creating anything.
CheckReport check_profile_text(const std::string& yaml, const std::string& name);

}  // namespace bulkhead::api
