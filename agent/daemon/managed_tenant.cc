#include "daemon/managed_tenant.h"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "bpf/exec_counter.h"
#include "common/file_util.h"
#include "common/unix_time.h"
#include "daemon/profile_diff.h"
#include "daemon/run_stdio.h"
#include "daemon/stop_counter.h"
#include "net/network_host.h"
#include "net/tenant_network.h"

namespace bulkhead::daemon {
namespace {

// Same rule as profile workload names: the name becomes a cgroup directory.
bool valid_run_name(const std::string& name) {
  if (name.empty() || name.size() > 32) {
    return false;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0);
    if (!ok) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<ManagedTenant>> ManagedTenant::create(const TenantContext& context,
                                                             const config::Profile& profile) {
  std::unique_ptr<ManagedTenant> mt(new ManagedTenant(context));
  mt->profile_ = profile;
  const std::string where = "tenant " + profile.name;
  // Logs are the operator's: not readable by tenants (whose ids own nothing here).
  BULKHEAD_TRY_CTX(make_dirs(context.logs_dir + "/" + profile.name, 0750), where + ": log dir");
  auto tenant = isolation::Tenant::create(
      profile, *context.tree, isolation::TenantOptions{context.staging_dir, context.network});
  if (!tenant.ok()) {
    return tenant.error().context(where);
  }
  mt->tenant_ = std::move(*tenant);
  if (context.events != nullptr) {
    const auto& view = mt->tenant_->profile();
    events::TenantTracking tracking{profile.name, mt->tenant_->cgroup().v2_path(),
                                    mt->tenant_->namespaces().ids(), view.events.all_opens,
                                    view.events.sensitive_paths};
    BULKHEAD_TRY_CTX(context.events->track_tenant(tracking), where);
    mt->tracked_ = true;
  }
  for (const auto& w : mt->tenant_->plan().warnings) {
    spdlog::warn("{}: {}", where, w);
  }
  // Fail closed: no supervisor (so no workload) exists without the policy.
  BULKHEAD_TRY(mt->attach_network());
  for (const auto& spec : profile.workloads) {
    auto sup = mt->make_supervisor(spec);
    if (!sup.ok()) {
      return sup.error().context(where);
    }
    mt->supervisors_[spec.name] = std::move(*sup);
  }
  return mt;
}

ManagedTenant::~ManagedTenant() {
  timers_.cancel_all();
  // Runs before the tenant: their cgroups live inside the tenant's.
  adhoc_.clear();
  supervisors_.clear();
  if (net_policy_) {
    context_.loop->remove_fd(net_policy_->deny_events_fd());
    net_policy_.reset();  // detached before the cgroup goes
  }
  if (tracked_) {
    context_.events->untrack_tenant(profile_.name);
  }
  tenant_.reset();
}

Result<std::unique_ptr<Supervisor>> ManagedTenant::make_supervisor(
    const config::WorkloadSpec& spec) {
  SupervisorOptions options;
  options.log_path = context_.logs_dir + "/" + profile_.name + "/" + spec.name + ".log";
  options.log_max_bytes = context_.log_max_bytes;
  options.log_keep = context_.log_keep;
  options.stop_grace = context_.stop_grace;
  options.restart_reset_after = context_.restart_reset_after;
  if (context_.events != nullptr) {
    options.on_launch = [events = context_.events](const isolation::Workload& w) {
      events->name_workload(w.cgroup().v2_id(), w.name());
    };
  }
  return Supervisor::create(*context_.loop, *tenant_, spec, options);
}

void ManagedTenant::start_declared() {
  if (stopping_all_) {
    return;
  }
  for (auto& [name, sup] : supervisors_) {
    if (retiring_.count(name) == 0) {
      sup->start();
    }
  }
}

TenantInfo ManagedTenant::info() const {
  TenantInfo info;
  info.name = profile_.name;
  info.profile_file = profile_.source_file;
  if (profile_.ids) {
    info.id_base = profile_.ids->base;
    info.id_count = profile_.ids->count;
  }
  info.cgroup_id = tenant_->cgroup().v2_id();
  info.cgroup_path = tenant_->cgroup().v2_path();
  info.workloads_running = running();
  if (auto counters = network_counters(); counters.ok()) {
    info.network_counters = net::counters_to_json(*counters);
  }
  const net::TenantNetwork& net = tenant_->network();
  info.network_mode = net.mode == config::NetworkMode::kIsolated ? "isolated"
                      : net.mode == config::NetworkMode::kHost   ? "host"
                                                                 : "none";
  if (net.addresses) {
    info.ipv4 = net.addresses->ipv4.address();
    info.ipv6 = net.addresses->ipv6 ? net.addresses->ipv6->address() : "";
  }
  return info;
}

void ManagedTenant::list_workloads(std::vector<WorkloadInfo>& out) const {
  for (const auto& [name, sup] : supervisors_) {
    out.push_back(sup->info(profile_.name));
  }
  for (const auto& [name, run] : adhoc_) {
    out.push_back(run.info);
  }
}

size_t ManagedTenant::running() const {
  size_t n = adhoc_.size();
  for (const auto& [name, sup] : supervisors_) {
    n += sup->running() ? 1 : 0;
  }
  return n;
}

Supervisor* ManagedTenant::supervisor(const std::string& name) const {
  auto it = supervisors_.find(name);
  return it == supervisors_.end() ? nullptr : it->second.get();
}

Result<StartedRun> ManagedTenant::run(const AdhocRun& request, Agent::ExitCallback on_exit) {
  const std::string where = "tenant " + profile_.name;
  if (stopping_all_) {
    return Error{ESHUTDOWN, where + " is stopping"};
  }
  if (request.argv.empty()) {
    return Error{EINVAL, where + ": run: empty command"};
  }
  std::string name = request.name;
  if (name.empty()) {
    do {
      name = "run-" + std::to_string(next_run_++);
    } while (supervisors_.count(name) != 0 || adhoc_.count(name) != 0);
  }
  if (!valid_run_name(name)) {
    return Error{EINVAL,
                 where + ": run name \"" + name +
                     "\" must be 1-32 characters of a-z, 0-9 and '-', not starting with '-'"};
  }
  if (supervisors_.count(name) != 0 || adhoc_.count(name) != 0) {
    return Error{EEXIST, where + ": a workload named " + name + " exists"};
  }
  isolation::LaunchRequest launch;
  launch.name = name;
  launch.argv = request.argv;
  launch.env = request.env;
  launch.cwd = request.cwd;
  launch.die_with_parent = true;
  // The workload's stdio is of the agent's making: its terminal, or pipes whose
  // other ends go to the caller. The caller's own descriptors never come here.
  auto stdio = RunStdio::create(request.tty.has_value());
  if (!stdio.ok()) {
    return stdio.error().context(where);
  }
  launch.terminal = request.tty;
  launch.stdin_fd = stdio->workload[0].get();
  launch.stdout_fd = stdio->workload[1].get();
  launch.stderr_fd = stdio->workload[2].get();
  int64_t started = unix_ms_now();
  auto workload = tenant_->launch(launch);
  if (!workload.ok()) {
    return workload.error();
  }
  StartedRun result;
  if (request.tty) {
    result.stdio.push_back((*workload)->take_terminal());
  } else {
    result.stdio = std::move(stdio->caller);
  }
  if (context_.events != nullptr) {
    context_.events->name_workload((*workload)->cgroup().v2_id(), name);
  }
  auto watched = WatchedWorkload::create(
      *context_.loop, std::move(*workload),
      [this, name](const isolation::ExitStatus& s) { on_adhoc_exit(name, s); });
  if (!watched.ok()) {
    return watched.error().context(where);
  }
  Adhoc& a = adhoc_[name];
  a.run = std::move(*watched);
  a.on_exit = std::move(on_exit);
  a.info.tenant = profile_.name;
  a.info.name = name;
  a.info.kind = WorkloadKind::kAdhoc;
  a.info.state = "running";
  a.info.pid = a.run->pid();
  a.info.command = request.argv;
  a.info.started_unix_ms = started;
  spdlog::info("tenant {}: run {} started, pid {}{}", profile_.name, name, a.info.pid,
               request.tty ? " (terminal)" : "");
  result.info = a.info;
  return result;
}

void ManagedTenant::on_adhoc_exit(const std::string& name, const isolation::ExitStatus& status) {
  auto node = adhoc_.extract(name);
  if (node.empty()) {
    return;
  }
  spdlog::info("tenant {}: run {} {}", profile_.name, name, status.to_string());
  Adhoc a = std::move(node.mapped());
  // The run's cgroup goes now, so its name can be used again from on_exit.
  a.run.reset();
  if (a.on_exit) {
    a.on_exit(status);
  }
  for (auto& w : a.stop_waiters) {
    w();
  }
}

Status ManagedTenant::signal(const std::string& workload, int sig) {
  if (auto it = supervisors_.find(workload); it != supervisors_.end()) {
    return it->second->signal(sig);
  }
  if (auto it = adhoc_.find(workload); it != adhoc_.end()) {
    return it->second.run->signal(sig);
  }
  return Error{ENOENT, "tenant " + profile_.name + " has no workload " + workload};
}

Status ManagedTenant::stop(const std::string& workload) {
  if (auto it = supervisors_.find(workload); it != supervisors_.end()) {
    it->second->stop(context_.stop_grace, nullptr);
    return {};
  }
  if (auto it = adhoc_.find(workload); it != adhoc_.end()) {
    it->second.run->stop(context_.stop_grace);
    return {};
  }
  return Error{ENOENT, "tenant " + profile_.name + " has no workload " + workload};
}

Status ManagedTenant::start(const std::string& workload) {
  const std::string where = "tenant " + profile_.name;
  if (stopping_all_) {
    return Error{ESHUTDOWN, where + " is stopping"};
  }
  Supervisor* sup = supervisor(workload);
  if (sup == nullptr || retiring_.count(workload) != 0) {
    if (adhoc_.count(workload) != 0) {
      return Error{EINVAL, where + ": " + workload + " is an ad-hoc run, not a declared workload"};
    }
    return Error{ENOENT, where + " declares no workload " + workload};
  }
  sup->start();
  return {};
}

Status ManagedTenant::update_limits(const config::Limits& limits) {
  BULKHEAD_TRY_CTX(tenant_->update_limits(limits), "tenant " + profile_.name);
  profile_.limits = limits;
  return {};
}

net::PolicyContext ManagedTenant::policy_context() const {
  return net::tenant_policy_context(context_.net_context, context_.network, tenant_->network());
}

Status ManagedTenant::attach_network() {
  auto policy = net::attach_tenant_network(profile_, tenant_->cgroup().v2_path(),
                                           context_.net_pin_root, policy_context());
  if (!policy.ok()) {
    return policy.error();
  }
  net_policy_ = std::move(*policy);
  BULKHEAD_TRY_CTX(context_.loop->add_fd(net_policy_->deny_events_fd(), EPOLLIN,
                                         [this](uint32_t /*events*/) { drain_net_events(); }),
                   "tenant " + profile_.name + ": watching network deny events");
  return {};
}

void ManagedTenant::drain_net_events() {
  events::EventHandler deliver = context_.on_net_event;
  if (!deliver) {
    deliver = [](events::Event&& e) {
      spdlog::info("tenant {}: network.deny {}", e.tenant, e.fields.dump());
    };
  }
  auto r = net_policy_->poll_deny_events(deliver, 0,
                                         [this](uint64_t id) { return workload_of_cgroup(id); });
  if (!r.ok()) {
    spdlog::warn("tenant {}: {}", profile_.name, r.error().to_string());
  }
}

// Workload cgroups are the tenant cgroup's subdirectories, named after the
// workload; deny events are rate-limited, so a directory scan is cheap enough.
std::string ManagedTenant::workload_of_cgroup(uint64_t cgroup_id) const {
  const std::string& root = tenant_->cgroup().v2_path();
  std::string found;
  if (DIR* d = ::opendir(root.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (e->d_type != DT_DIR || n == "." || n == "..") {
        continue;
      }
      auto id = bpf::cgroup2_id(root + "/" + n);
      if (id.ok() && *id == cgroup_id) {
        found = n;
        break;
      }
    }
    ::closedir(d);
  }
  return found;
}

Status ManagedTenant::update_network(const config::NetworkSpec& network) {
  config::Profile next = profile_;
  next.network = network;
  BULKHEAD_TRY(net::replace_tenant_network(*net_policy_, next, policy_context()));
  profile_.network = network;
  return {};
}

Result<net::NetCounters> ManagedTenant::network_counters() const { return net_policy_->counters(); }

void ManagedTenant::retire(const std::string& name) {
  Supervisor* sup = supervisor(name);
  if (sup == nullptr || !retiring_.insert(name).second) {
    return;
  }
  spdlog::info("tenant {}: workload {} removed from the profile, stopping it", profile_.name, name);
  sup->stop(context_.stop_grace, [this, name] {
    // Destroyed on the next round, outside the supervisor's own callback.
    timers_.post([this, name] {
      if (retiring_.erase(name) != 0) {
        supervisors_.erase(name);
      }
    });
  });
}

void ManagedTenant::update_workloads(const std::vector<config::WorkloadSpec>& wanted) {
  WorkloadChanges changes = diff_workloads(profile_.workloads, wanted);
  profile_.workloads = wanted;
  for (const auto& name : changes.removed) {
    retire(name);
  }
  for (const auto& spec : wanted) {
    auto it = supervisors_.find(spec.name);
    if (it == supervisors_.end()) {
      auto sup = make_supervisor(spec);
      if (!sup.ok()) {
        spdlog::error("tenant {}: {}", profile_.name, sup.error().to_string());
        continue;
      }
      it = supervisors_.emplace(spec.name, std::move(*sup)).first;
      if (!stopping_all_) {
        it->second->start();
      }
      continue;
    }
    if (retiring_.erase(spec.name) != 0) {
      // Removed by an earlier reload and back before its run had ended.
      it->second->replace(spec);
      continue;
    }
    WorkloadChanges one = diff_workloads({it->second->spec()}, {spec});
    if (!one.replaced.empty()) {
      spdlog::info("tenant {}: workload {} changed, restarting it", profile_.name, spec.name);
      it->second->replace(spec);
    } else if (!one.restart_only.empty()) {
      it->second->update_restart(spec);
    }
  }
}

void ManagedTenant::stop_all(std::optional<std::chrono::milliseconds> kill_after,
                             std::function<void()> done) {
  stopping_all_ = true;
  auto counter = StopCounter::create(std::move(done));
  for (auto& [name, sup] : supervisors_) {
    sup->stop(kill_after, StopCounter::hold(counter));
  }
  for (auto& [name, a] : adhoc_) {
    a.stop_waiters.push_back(StopCounter::hold(counter));
    a.run->stop(kill_after);
  }
  counter->release();
}

void ManagedTenant::kill_all() {
  for (auto& [name, sup] : supervisors_) {
    sup->kill();
  }
  for (auto& [name, a] : adhoc_) {
    a.run->kill();
  }
}

bool ManagedTenant::reap_ended() {
  for (auto& [name, sup] : supervisors_) {
    (void)name;
    if (sup->running()) {
      sup->check_exit();
    }
  }
  std::vector<std::string> names;
  for (auto& [name, a] : adhoc_) {
    names.push_back(name);
  }
  for (const auto& name : names) {
    if (auto it = adhoc_.find(name); it != adhoc_.end()) {
      it->second.run->check_exit();
    }
  }
  return running() == 0;
}

std::vector<int> ManagedTenant::running_pidfds() const {
  std::vector<int> out;
  for (const auto& [name, sup] : supervisors_) {
    if (int fd = sup->pidfd(); fd >= 0) {
      out.push_back(fd);
    }
  }
  for (const auto& [name, a] : adhoc_) {
    out.push_back(a.run->pidfd());
  }
  return out;
}

}  // namespace bulkhead::daemon
