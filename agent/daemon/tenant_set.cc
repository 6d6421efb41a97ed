#include "daemon/tenant_set.h"

#include <poll.h>
#include <spdlog/spdlog.h>

#include "daemon/profile_diff.h"
#include "daemon/stop_counter.h"
#include "net/network_host.h"

namespace bulkhead::daemon {
namespace {

config::ProfileError apply_error(const config::Profile& p, const std::string& message) {
  return config::ProfileError{p.source_file, 0, 0, "", message};
}

}  // namespace

TenantSet::~TenantSet() {
  timers_.cancel_all();
  if (running() > 0) {
    terminate_blocking(context_.stop_grace);
  }
  slots_.clear();
}

Status TenantSet::create_in(Slot& slot) {
  auto mt = ManagedTenant::create(context_, slot.wanted);
  if (!mt.ok()) {
    return mt.error();
  }
  slot.tenant = std::move(*mt);
  return {};
}

Status TenantSet::create_all(const std::vector<config::Profile>& profiles) {
  for (const auto& p : profiles) {
    Slot slot;
    slot.wanted = p;
    BULKHEAD_TRY(create_in(slot));
    slots_[p.name] = std::move(slot);
  }
  return {};
}

void TenantSet::start_all() {
  for (auto& [name, slot] : slots_) {
    if (slot.tenant && !slot.draining) {
      slot.tenant->start_declared();
    }
  }
}

void TenantSet::drain(const std::string& name) {
  Slot& slot = slots_.at(name);
  if (slot.draining) {
    return;
  }
  if (!slot.tenant) {
    after_drain(name);
    return;
  }
  slot.draining = true;
  slot.tenant->stop_all(context_.stop_grace, [this, name] {
    // Next round: this runs inside the last workload's exit callback.
    timers_.post([this, name] { after_drain(name); });
  });
}

void TenantSet::after_drain(const std::string& name) {
  auto it = slots_.find(name);
  if (it == slots_.end() || shutting_down_) {
    return;
  }
  Slot& slot = it->second;
  slot.tenant.reset();
  slot.draining = false;
  if (slot.remove) {
    // Gone for good: its address may go to another tenant (ids never are).
    if (context_.network != nullptr) {
      if (auto s = context_.network->forget(name); !s.ok()) {
        spdlog::warn("tenant {}: releasing its address: {}", name, s.error().to_string());
      }
    }
    spdlog::info("tenant {}: removed", name);
    slots_.erase(it);
    return;
  }
  if (auto s = create_in(slot); !s.ok()) {
    spdlog::error("tenant {}: could not be created again: {}", name, s.error().to_string());
    return;
  }
  spdlog::info("tenant {}: recreated", name);
  slot.tenant->start_declared();
}

void TenantSet::apply_change(const std::string& name, Slot& slot, const config::Profile& profile,
                             ReloadReport& report) {
  if (slot.draining) {
    // Being stopped: the new profile is what it will be recreated from.
    bool changed = slot.remove || !same_profile(slot.wanted, profile);
    slot.remove = false;
    slot.wanted = profile;
    (changed ? report.updated : report.unchanged).push_back(name);
    return;
  }
  if (!slot.tenant) {
    // Its creation failed before: try again.
    slot.wanted = profile;
    if (auto s = create_in(slot); !s.ok()) {
      report.errors.push_back(apply_error(profile, s.error().to_string()));
      report.failed.push_back(name);
      return;
    }
    slot.tenant->start_declared();
    report.updated.push_back(name);
    return;
  }
  ManagedTenant& mt = *slot.tenant;
  ProfileDiff diff = diff_profiles(mt.profile(), profile);
  if (!diff.any()) {
    mt.set_source_file(profile.source_file);
    slot.wanted = mt.profile();
    report.unchanged.push_back(name);
    return;
  }
  std::string how = diff.to_string();
  bool recreate = diff.needs_recreate();
  if (diff.limits && !io_in_place_ && !config::has_io_limit(mt.profile().limits) &&
      config::has_io_limit(profile.limits)) {
    recreate = true;
    how += "; an io limit added on a hybrid host";
  }
  report.updated.push_back(name);
  if (recreate) {
    spdlog::info("tenant {}: {}: recreating it", name, how);
    slot.wanted = profile;
    drain(name);
    return;
  }
  spdlog::info("tenant {}: {}: updating in place", name, how);
  if (diff.limits) {
    // On failure the running limits stay, and so does the old value in the
    // tenant's profile: the next reload tries again.
    if (auto s = mt.update_limits(profile.limits); !s.ok()) {
      report.errors.push_back(apply_error(profile, s.error().to_string()));
      report.failed.push_back(name);
    }
  }
  if (diff.network_policy) {
    // Atomic swap; on failure the running policy stays, and so does the old
    // value in the tenant's profile: the next reload tries again.
    if (auto s = mt.update_network(profile.network); !s.ok()) {
      report.errors.push_back(apply_error(profile, s.error().to_string()));
      report.failed.push_back(name);
    }
  }
  if (!diff.workloads.empty()) {
    mt.update_workloads(profile.workloads);
  }
  mt.set_source_file(profile.source_file);
  slot.wanted = mt.profile();
}

ReloadReport TenantSet::apply(const std::vector<config::Profile>& wanted) {
  ReloadReport report;
  if (shutting_down_) {
    report.errors.push_back(config::ProfileError{"", 0, 0, "", "the agent is shutting down"});
    return report;
  }
  std::map<std::string, const config::Profile*> by_name;
  for (const auto& p : wanted) {
    by_name[p.name] = &p;
  }
  std::vector<std::string> gone;
  for (auto& [name, slot] : slots_) {
    if (by_name.count(name) == 0 && !slot.remove) {
      gone.push_back(name);
    }
  }
  for (const auto& name : gone) {
    spdlog::info("tenant {}: no longer in the profiles: stopping and removing it", name);
    slots_.at(name).remove = true;
    report.removed.push_back(name);
    drain(name);  // may erase the slot at once when nothing was created
  }
  for (const auto& p : wanted) {
    auto it = slots_.find(p.name);
    if (it != slots_.end()) {
      apply_change(p.name, it->second, p, report);
      continue;
    }
    Slot slot;
    slot.wanted = p;
    if (auto s = create_in(slot); !s.ok()) {
      report.errors.push_back(apply_error(p, s.error().to_string()));
      report.failed.push_back(p.name);
      continue;
    }
    spdlog::info("tenant {}: added", p.name);
    slot.tenant->start_declared();
    slots_[p.name] = std::move(slot);
    report.added.push_back(p.name);
  }
  report.ok = report.errors.empty();
  return report;
}

void TenantSet::shutdown(std::chrono::milliseconds grace, std::function<void()> done) {
  shutting_down_ = true;
  auto counter = StopCounter::create([this, done = std::move(done)] {
    timers_.post([this, done] {
      if (shutdown_kill_timer_) {
        timers_.cancel(*shutdown_kill_timer_);
        shutdown_kill_timer_.reset();
      }
      slots_.clear();
      done();  // may destroy this set
    });
  });
  for (auto& [name, slot] : slots_) {
    if (slot.tenant) {
      slot.tenant->stop_all(std::nullopt, StopCounter::hold(counter));
    }
  }
  // One grace period for everything.
  if (!shutdown_kill_timer_) {
    shutdown_kill_timer_ = timers_.add(grace, [this] {
      shutdown_kill_timer_.reset();
      size_t left = running();
      if (left > 0) {
        spdlog::info("{} workload(s) still running after the stop grace period: killing them",
                     left);
      }
      for (auto& [name, slot] : slots_) {
        if (slot.tenant) {
          slot.tenant->kill_all();
        }
      }
    });
  }
  counter->release();
}

void TenantSet::terminate_blocking(std::chrono::milliseconds grace) {
  shutting_down_ = true;
  for (auto& [name, slot] : slots_) {
    if (slot.tenant) {
      slot.tenant->stop_all(std::nullopt, nullptr);
    }
  }
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (running() > 0) {
    auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      break;
    }
    std::vector<pollfd> fds;
    for (auto& [name, slot] : slots_) {
      if (slot.tenant) {
        for (int fd : slot.tenant->running_pidfds()) {
          fds.push_back(pollfd{fd, POLLIN, 0});
        }
      }
    }
    (void)::poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    for (auto& [name, slot] : slots_) {
      if (slot.tenant) {
        slot.tenant->reap_ended();
      }
    }
  }
  // What is left is killed and reaped by the destructors.
  for (auto& [name, slot] : slots_) {
    slot.tenant.reset();
  }
}

ManagedTenant* TenantSet::find(const std::string& name) const {
  auto it = slots_.find(name);
  if (it == slots_.end() || it->second.draining) {
    return nullptr;
  }
  return it->second.tenant.get();
}

std::vector<TenantInfo> TenantSet::infos() const {
  std::vector<TenantInfo> out;
  for (const auto& [name, slot] : slots_) {
    if (slot.tenant) {
      out.push_back(slot.tenant->info());
    } else {
      TenantInfo info;
      info.name = name;
      info.profile_file = slot.wanted.source_file;
      out.push_back(info);
    }
  }
  return out;
}

std::vector<WorkloadInfo> TenantSet::workloads(const std::optional<std::string>& tenant) const {
  std::vector<WorkloadInfo> out;
  for (const auto& [name, slot] : slots_) {
    if ((!tenant || *tenant == name) && slot.tenant) {
      slot.tenant->list_workloads(out);
    }
  }
  return out;
}

size_t TenantSet::running() const {
  size_t n = 0;
  for (const auto& [name, slot] : slots_) {
    n += slot.tenant ? slot.tenant->running() : 0;
  }
  return n;
}

}  // namespace bulkhead::daemon
