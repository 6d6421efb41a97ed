// Every tenant of the agent by name, and how a new set of profiles is brought
// in: created, removed, updated in place or recreated (profile_diff.h says
// which change needs what).
//
// Removing and recreating take time (workloads get their stop grace), so a
// tenant being stopped stays in its slot, draining, until its workloads ended;
// then the slot is erased or the tenant created again from the slot's latest
// profile. A reload during a drain just updates that profile.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/profile.h"
#include "daemon/agent.h"
#include "daemon/managed_tenant.h"
#include "daemon/timer_set.h"

namespace bulkhead::daemon {

class TenantSet {
 public:
  // io_in_place: false on hybrid hosts, where a tenant created without an io
  // limit (limits.io) has no blkio cgroup to set one in (recreated instead).
  TenantSet(TenantContext context, bool io_in_place)
      : context_(std::move(context)), io_in_place_(io_in_place), timers_(*context_.loop) {}
  // Whatever still runs is killed.
  ~TenantSet();
  TenantSet(const TenantSet&) = delete;
  TenantSet& operator=(const TenantSet&) = delete;

  // Start-up: all or nothing. The error names the tenant that failed.
  Status create_all(const std::vector<config::Profile>& profiles);
  void start_all();

  // Applies a validated profile set. Host-side failures past validation (a
  // cgroup write refused, a tenant that cannot be created) are returned in the
  // report's errors and `failed`; everything else is applied.
  ReloadReport apply(const std::vector<config::Profile>& wanted);

  // Stops every workload of every tenant (SIGTERM all at once, cgroup.kill of
  // what is left after `grace`, one timer), destroys the tenants, then done().
  void shutdown(std::chrono::milliseconds grace, std::function<void()> done);

  [[nodiscard]] ManagedTenant* find(const std::string& name) const;
  [[nodiscard]] std::vector<TenantInfo> infos() const;
  [[nodiscard]] std::vector<WorkloadInfo> workloads(const std::optional<std::string>& tenant) const;
  [[nodiscard]] size_t size() const { return slots_.size(); }
  [[nodiscard]] size_t running() const;

  // For the agent's destructor: SIGTERM everything, wait up to `grace` without
  // the loop, then destroy (which kills what is left).
  void terminate_blocking(std::chrono::milliseconds grace);

 private:
  struct Slot {
    std::unique_ptr<ManagedTenant> tenant;  // null while draining is done or creation failed
    config::Profile wanted;                 // what the slot should end up running
    bool draining = false;                  // stopping `tenant` to recreate or remove it
    bool remove = false;                    // after draining: erase the slot
  };

  Status create_in(Slot& slot);
  void drain(const std::string& name);
  void after_drain(const std::string& name);
  void apply_change(const std::string& name, Slot& slot, const config::Profile& profile,
                    ReloadReport& report);

  TenantContext context_;
  bool io_in_place_;
  std::map<std::string, Slot> slots_;
  bool shutting_down_ = false;
  std::optional<EventLoop::TimerId> shutdown_kill_timer_;
  TimerSet timers_;  // last: destroyed (cancelled) first
};

}  // namespace bulkhead::daemon
