// One tenant as the agent runs it: the isolation::Tenant (namespaces, cgroup,
// sandbox plan), a Supervisor per declared workload and the ad-hoc runs started
// through the API. Changes to the tenant's workloads and limits on reload land
// here; whether the tenant is kept at all is TenantSet's decision.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cgroup/tree.h"
#include "common/result.h"
#include "config/profile.h"
#include "daemon/agent.h"
#include "daemon/event_loop.h"
#include "daemon/supervisor.h"
#include "daemon/timer_set.h"
#include "daemon/watched_workload.h"
#include "events/event.h"
#include "events/kernel_source.h"
#include "isolation/tenant.h"
#include "net/policy_compiler.h"
#include "net/tenant_policy.h"

namespace bulkhead::daemon {

// What every tenant of one agent shares.
struct TenantContext {
  EventLoop* loop = nullptr;
  cgroup::CgroupTree* tree = nullptr;
  std::string staging_dir;  // <state_dir>/rootfs
  std::string logs_dir;     // <state_dir>/logs
  uint64_t log_max_bytes = 0;
  int log_keep = 0;
  std::chrono::milliseconds stop_grace{0};
  std::chrono::milliseconds restart_reset_after{0};
  // The eBPF network policy: pins under <net_pin_root>/<tenant>/, the ranges
  // the agent protects (pool, host, gateway), where deny events go.
  std::string net_pin_root = net::kDefaultPinRoot;
  net::PolicyContext net_context;
  events::EventHandler on_net_event;
  // The kernel event stream, when the agent runs one: tenants are tracked from
  // creation to destruction and every workload launch is named in it.
  events::KernelEventSource* events = nullptr;
  net::NetworkHost* network = nullptr;  // bridge and address pool for isolated tenants
};

class ManagedTenant {
 public:
  // Creates the tenant (namespaces, cgroup with limits, data dir) and a
  // supervisor per declared workload; starts nothing.
  static Result<std::unique_ptr<ManagedTenant>> create(const TenantContext& context,
                                                       const config::Profile& profile);
  // Whatever still runs is killed (the destructors of the runs).
  ~ManagedTenant();
  ManagedTenant(const ManagedTenant&) = delete;
  ManagedTenant& operator=(const ManagedTenant&) = delete;

  void start_declared();

  // The profile as last applied (limits and workloads follow reloads).
  [[nodiscard]] const config::Profile& profile() const { return profile_; }
  // A reload that changed only the file name.
  void set_source_file(const std::string& file) { profile_.source_file = file; }
  [[nodiscard]] const isolation::Tenant& tenant() const { return *tenant_; }
  [[nodiscard]] TenantInfo info() const;
  void list_workloads(std::vector<WorkloadInfo>& out) const;
  [[nodiscard]] size_t running() const;
  [[nodiscard]] Supervisor* supervisor(const std::string& name) const;

  Result<StartedRun> run(const AdhocRun& request, Agent::ExitCallback on_exit);
  Status signal(const std::string& workload, int sig);
  // Grace then kill; a declared workload stays stopped.
  Status stop(const std::string& workload);
  // A declared workload that is not running.
  Status start(const std::string& workload);

  Status update_limits(const config::Limits& limits);
  // Swaps in the new rules atomically (the mode did not change).
  Status update_network(const config::NetworkSpec& network);
  [[nodiscard]] Result<net::NetCounters> network_counters() const;
  // What the tenant's eBPF policy protects and owns (docs/network.md).
  [[nodiscard]] net::PolicyContext policy_context() const;
  // Starts new workloads, stops removed ones, restarts changed ones.
  void update_workloads(const std::vector<config::WorkloadSpec>& wanted);

  // Stops every workload: SIGTERM to all now; cgroup.kill after kill_after, or
  // by the caller (kill_all) when nullopt. New runs are refused from here on.
  // done runs once nothing runs (at once if nothing did).
  void stop_all(std::optional<std::chrono::milliseconds> kill_after, std::function<void()> done);
  void kill_all();
  // For the agent's destructor, which cannot run the loop: reaps the runs that
  // ended. True when nothing runs any more.
  bool reap_ended();
  // The pidfds of what runs, to wait on outside the loop.
  [[nodiscard]] std::vector<int> running_pidfds() const;

 private:
  struct Adhoc {
    std::unique_ptr<WatchedWorkload> run;
    WorkloadInfo info;
    Agent::ExitCallback on_exit;
    std::vector<std::function<void()>> stop_waiters;
  };

  explicit ManagedTenant(const TenantContext& context)
      : context_(context), timers_(*context.loop) {}
  Result<std::unique_ptr<Supervisor>> make_supervisor(const config::WorkloadSpec& spec);
  void on_adhoc_exit(const std::string& name, const isolation::ExitStatus& status);
  void retire(const std::string& name);
  Status attach_network();
  void drain_net_events();
  [[nodiscard]] std::string workload_of_cgroup(uint64_t cgroup_id) const;

  TenantContext context_;
  config::Profile profile_;
  std::unique_ptr<isolation::Tenant> tenant_;
  std::unique_ptr<net::TenantNetPolicy> net_policy_;  // attached before any workload starts
  bool tracked_ = false;                              // by context_.events
  std::map<std::string, std::unique_ptr<Supervisor>> supervisors_;
  std::set<std::string> retiring_;  // removed from the profile, stopping
  std::map<std::string, Adhoc> adhoc_;
  uint64_t next_run_ = 1;
  bool stopping_all_ = false;
  TimerSet timers_;  // last: cancelled before the members their callbacks use go
};

}  // namespace bulkhead::daemon
