// The agent's facade: start-up (options, state directory, profiles, cgroup
// tree, tenants), the queries and commands of the control API, reload and
// shutdown. The work itself is in TenantSet, ManagedTenant and Supervisor.
#include "daemon/agent.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bpf/kernel_features.h"
#include "cgroup/layout.h"
#include "cgroup/placement.h"
#include "cgroup/tree.h"
#include "common/file_util.h"
#include "common/unix_time.h"
#include "daemon/agent_check.h"
#include "daemon/profile_validation.h"
#include "daemon/tenant_set.h"
#include "daemon/timer_set.h"
#include "daemon/version.h"
#include "detect/rule_loader.h"
#include "events/kernel_source.h"
#include "net/network_host.h"

namespace bulkhead::daemon {
namespace {

Status make_state_dirs(const std::string& state_dir) {
  // 0711: tenants must traverse it to reach the staging dir (see
  // check_staging_dir), but have no business listing it.
  BULKHEAD_TRY_CTX(make_dirs(state_dir, 0711), "state directory");
  BULKHEAD_TRY_CTX(make_dirs(state_dir + "/rootfs", 0755), "state directory");
  BULKHEAD_TRY_CTX(make_dirs(state_dir + "/logs", 0750), "state directory");
  return {};
}

Error no_agent() { return Error{ESHUTDOWN, "the agent is shutting down"}; }

// No directory configured: no rules, which is valid.
detect::RuleLoadResult load_rules(const std::string& dir) {
  if (dir.empty()) {
    return detect::RuleLoadResult{std::make_shared<const detect::RuleSet>(), {}};
  }
  return detect::load_rule_dir(dir);
}

}  // namespace

Agent::Agent(const AgentOptions& options, EventLoop& loop)
    : options_(options), loop_(loop), timers_(std::make_unique<TimerSet>(loop)) {}

std::string Agent::staging_dir() const { return options_.state_dir + "/rootfs"; }
std::string Agent::ids_file() const { return options_.state_dir + "/ids.json"; }
std::string Agent::addresses_file() const { return options_.state_dir + "/addresses.json"; }

Result<std::unique_ptr<Agent>> Agent::create(const AgentOptions& options, EventLoop& loop) {
  BULKHEAD_TRY_CTX(check_agent_options(options), "agent options");
  std::unique_ptr<Agent> agent(new Agent(options, loop));
  agent->started_unix_ms_ = unix_ms_now();
  BULKHEAD_TRY(make_state_dirs(options.state_dir));

  ValidatedProfiles profiles =
      validate_profiles(options.profiles_dir, agent->staging_dir(), agent->ids_file());
  for (const auto& w : profiles.warnings) {
    spdlog::warn("{}", w);
  }
  if (!profiles.ok()) {
    return make_error("invalid profiles in " + options.profiles_dir + ":\n" +
                      profiles.errors_text());
  }

  detect::RuleLoadResult rules = load_rules(options.rules_dir);
  if (!rules.ok()) {
    return make_error("invalid detection rules in " + options.rules_dir + ":\n" +
                      rules.errors_text());
  }

  auto host = cgroup::detect_host_cgroups();
  if (!host.ok()) {
    return host.error().context("detecting cgroups");
  }
  // Without BPF the agent still runs and says so; tenants then fail to start,
  // each with the reason: their network policy is BPF (fail closed).
  auto features = bpf::probe_kernel_features();
  agent->kernel_features_ = features.ok() ? bpf::describe(*features)
                                          : "bpf: unavailable: " + features.error().to_string();

  // Sinks open files and sockets: only once the profiles are known to be good.
  auto bus = events::EventBus::create(events::BusOptions{}, options.event_sinks);
  if (!bus.ok()) {
    return bus.error();
  }
  agent->events_ = std::move(*bus);
  agent->schedule_drop_report();
  agent->detector_ = std::make_unique<detect::Detector>(std::move(rules.rules));
  agent->subscribe_detection();
  auto marker = RunMarker::start(options.state_dir + "/agent-run.json", agent->started_unix_ms_);
  if (!marker.ok()) {
    return marker.error();
  }
  if (auto gap = unclean_stop_event(marker->previous(), agent->started_unix_ms_)) {
    spdlog::warn(
        "the previous agent (pid {}) did not stop cleanly: events of its last moments "
        "are lost (reported as agent.drop)",
        marker->previous()->pid);
    agent->events_->publish(std::move(*gap));
  }
  agent->run_marker_ = std::move(*marker);
  agent->schedule_heartbeat();

  // Under systemd with Delegate=, this moves the agent into a leaf of its unit's
  // cgroup; the tree then goes beside it.
  auto placement = cgroup::place_agent(*cgroup::parse_parent_mode(options.cgroup_parent), *host);
  if (!placement.ok()) {
    return placement.error().context("placing the cgroup tree");
  }
  agent->cgroup_layout_ =
      cgroup::describe(*host) + "\n" + cgroup::describe(*placement, options.cgroup_name);
  auto tree = cgroup::CgroupTree::create(*host, options.cgroup_name, placement->v2_parent);
  if (!tree.ok()) {
    return tree.error().context("cgroup tree " + options.cgroup_name);
  }
  agent->tree_ = std::move(*tree);
  BULKHEAD_TRY(agent->start_kernel_events());

  // Reads the address assignments; the bridge is made with the first isolated tenant.
  net::NetworkHostConfig net_config;
  net_config.bridge = options.bridge;
  net_config.pool = *net::parse_pool_config(options.pool_ipv4, options.pool_ipv6);  // checked
  net_config.state_file = agent->addresses_file();
  auto network = net::NetworkHost::open(net_config);
  if (!network.ok()) {
    return network.error().context("tenant networking");
  }
  agent->network_ = std::move(*network);

  TenantContext context;
  context.loop = &loop;
  context.tree = agent->tree_.get();
  context.staging_dir = agent->staging_dir();
  context.logs_dir = options.state_dir + "/logs";
  context.log_max_bytes = options.log_max_bytes;
  context.log_keep = options.log_keep;
  context.stop_grace = options.stop_grace;
  context.restart_reset_after = options.restart_reset_after;
  // One pin root per agent tree: agents with different trees (tests) never
  // meet each other's pins.
  context.net_pin_root = "/sys/fs/bpf/" + options.cgroup_name;
  // The policy's deny records join the event stream like any other event.
  context.on_net_event = agent->events_->handler();
  context.events = agent->kernel_events_.get();
  context.network = agent->network_.get();
  agent->tenants_ = std::make_unique<TenantSet>(context, host->layout == cgroup::Layout::kUnified);
  // On failure the set and the tree unwind: tenants destroyed, cgroups removed.
  BULKHEAD_TRY(agent->tenants_->create_all(profiles.profiles));
  agent->log_startup_report();
  agent->tenants_->start_all();
  return agent;
}

Agent::~Agent() {
  timers_->cancel_all();
  // Normally shutdown() has emptied everything; otherwise the grace period is
  // waited for here, without the loop.
  tenants_.reset();
  mark_clean_stop();
  if (kernel_events_) {
    loop_.remove_fd(kernel_events_->fd());
    kernel_events_.reset();
  }
  network_.reset();
  tree_.reset();
  if (detection_subscription_ != 0) {
    events_->unsubscribe(detection_subscription_);
  }
  // Each tenant removed its own pins; the root goes when it is empty.
  ::rmdir(("/sys/fs/bpf/" + options_.cgroup_name).c_str());
}

void Agent::schedule_drop_report() {
  timers_->add(options_.event_drop_report, [this] {
    events_->report_drops();
    schedule_drop_report();
  });
}

void Agent::schedule_heartbeat() {
  // How stale "last seen" can be in the report of a crash.
  constexpr std::chrono::seconds kHeartbeat{10};
  timers_->add(kHeartbeat, [this] {
    if (auto st = run_marker_->heartbeat(unix_ms_now()); !st.ok()) {
      spdlog::warn("{}", st.error().to_string());
    }
    schedule_heartbeat();
  });
}

void Agent::mark_clean_stop() {
  if (!run_marker_) {
    return;
  }
  if (auto st = run_marker_->mark_clean_stop(unix_ms_now()); !st.ok()) {
    spdlog::warn("{}", st.error().to_string());
  }
  run_marker_.reset();
}

void Agent::subscribe_detection() {
  if (detection_subscription_ != 0) {
    events_->unsubscribe(detection_subscription_);
    detection_subscription_ = 0;
  }
  // Only the types some rule names reach the detector: the bus's filter
  // keeps every other event (and every alert) away from it at no cost.
  const uint64_t mask = detector_->rules().type_mask();
  if (mask == 0) {
    return;
  }
  events::EventFilter filter;
  filter.types = mask;
  detection_subscription_ = events_->subscribe(filter, [this](const events::Event& e) {
    const bool idle = pending_alerts_.empty();
    detector_->evaluate(e, detect::Detector::Clock::now(), pending_alerts_);
    if (idle && !pending_alerts_.empty()) {
      timers_->post([this] { flush_alerts(); });
    }
  });
}

void Agent::flush_alerts() {
  std::vector<events::Event> alerts = std::move(pending_alerts_);
  pending_alerts_.clear();
  for (auto& a : alerts) {
    events_->publish(std::move(a));
  }
}

Status Agent::start_kernel_events() {
  if (!options_.kernel_events) {
    spdlog::warn("kernel event stream: off (kernel_events disabled)");
    return {};
  }
  events::KernelSourceOptions source_options;
  source_options.host_wide = options_.kernel_events_host_wide;
  // Kernel events go to the bus (sinks and API subscribers) unless a caller
  // (a test) takes them itself.
  events::EventHandler handler = options_.event_handler;
  if (!handler) {
    handler = events_->handler();
  }
  auto source = events::KernelEventSource::create(source_options, std::move(handler));
  if (!source.ok()) {
    return source.error().context("starting the kernel event stream (it can be turned off)");
  }
  kernel_events_ = std::move(*source);
  auto added = loop_.add_fd(kernel_events_->fd(), EPOLLIN, [this](uint32_t) {
    if (auto n = kernel_events_->consume(); !n.ok()) {
      spdlog::warn("{}", n.error().to_string());
    }
  });
  if (!added.ok()) {
    kernel_events_.reset();
    return added.error().context("kernel event stream");
  }
  return {};
}

void Agent::log_startup_report() const {
  spdlog::info("bulkheadd {}: state {}, profiles {}, cgroup tree {}", kAgentVersion,
               options_.state_dir, options_.profiles_dir, options_.cgroup_name);
  spdlog::info("detection: {} rule(s) from {}", detector_->rules().rules().size(),
               options_.rules_dir.empty() ? "nowhere (no rules directory)" : options_.rules_dir);
  for (const auto& sink : events_->stats().sinks) {
    spdlog::info("event sink {} (queue {})", sink.name, sink.capacity);
  }
  for (const std::string* text : {&cgroup_layout_, &kernel_features_}) {
    size_t start = 0;
    while (start < text->size()) {
      size_t end = text->find('\n', start);
      if (end == std::string::npos) {
        end = text->size();
      }
      spdlog::info("{}", text->substr(start, end - start));
      start = end + 1;
    }
  }
  for (const TenantInfo& t : tenants_->infos()) {
    const ManagedTenant* mt = tenants_->find(t.name);
    std::string v1;
    if (mt != nullptr) {
      for (const auto& p : mt->tenant().cgroup().v1_paths()) {
        v1 += (v1.empty() ? "" : ", ") + p;
      }
    }
    std::string net = "network " + t.network_mode;
    for (const std::string* a : {&t.ipv4, &t.ipv6}) {
      net += a->empty() ? "" : " " + *a;
    }
    spdlog::info("tenant {} ({}): host ids {}..{} ({}), cgroup {}{}{}, {}, {} declared workload(s)",
                 t.name, t.profile_file, t.id_base,
                 static_cast<uint64_t>(t.id_base) + t.id_count - 1, t.id_count, t.cgroup_path,
                 v1.empty() ? "" : ", v1 ", v1, net,
                 mt != nullptr ? mt->profile().workloads.size() : 0);
  }
}

std::vector<TenantInfo> Agent::tenants() const {
  return tenants_ ? tenants_->infos() : std::vector<TenantInfo>{};
}

std::vector<WorkloadInfo> Agent::workloads(const std::optional<std::string>& tenant) const {
  return tenants_ ? tenants_->workloads(tenant) : std::vector<WorkloadInfo>{};
}

AgentStatus Agent::status() const {
  AgentStatus s;
  s.version = kAgentVersion;
  s.pid = ::getpid();
  s.started_unix_ms = started_unix_ms_;
  s.cgroup_layout = cgroup_layout_;
  s.kernel_features = kernel_features_;
  s.tenants = tenants_ ? tenants_->size() : 0;
  s.workloads_running = tenants_ ? tenants_->running() : 0;
  s.events = events_->stats();
  s.detection.rules_dir = options_.rules_dir;
  s.detection.rules = detector_->stats();
  return s;
}

Result<StartedRun> Agent::run(const AdhocRun& run, ExitCallback on_exit) {
  if (!tenants_ || shutting_down_) {
    return no_agent();
  }
  ManagedTenant* mt = tenants_->find(run.tenant);
  if (mt == nullptr) {
    return Error{ENOENT, "no tenant " + run.tenant};
  }
  return mt->run(run, std::move(on_exit));
}

Status Agent::signal(const std::string& tenant, const std::string& workload, int sig) {
  if (!tenants_) {
    return no_agent();
  }
  ManagedTenant* mt = tenants_->find(tenant);
  if (mt == nullptr) {
    return Error{ENOENT, "no tenant " + tenant};
  }
  return mt->signal(workload, sig);
}

Status Agent::stop(const std::string& tenant, const std::string& workload) {
  if (!tenants_) {
    return no_agent();
  }
  ManagedTenant* mt = tenants_->find(tenant);
  if (mt == nullptr) {
    return Error{ENOENT, "no tenant " + tenant};
  }
  return mt->stop(workload);
}

Status Agent::start(const std::string& tenant, const std::string& workload) {
  if (!tenants_ || shutting_down_) {
    return no_agent();
  }
  ManagedTenant* mt = tenants_->find(tenant);
  if (mt == nullptr) {
    return Error{ENOENT, "no tenant " + tenant};
  }
  return mt->start(workload);
}

ReloadReport Agent::reload() {
  ReloadReport report;
  if (!tenants_ || shutting_down_) {
    report.errors.push_back(config::ProfileError{"", 0, 0, "", no_agent().to_string()});
    return report;
  }
  spdlog::info("reload: reading {}", options_.profiles_dir);
  ValidatedProfiles profiles = validate_profiles(options_.profiles_dir, staging_dir(), ids_file());
  for (const auto& w : profiles.warnings) {
    spdlog::warn("{}", w);
  }
  detect::RuleLoadResult rules = load_rules(options_.rules_dir);
  if (!profiles.ok() || !rules.ok()) {
    report.errors = std::move(profiles.errors);
    report.errors.insert(report.errors.end(), rules.errors.begin(), rules.errors.end());
    for (const auto& e : report.errors) {
      spdlog::error("reload refused: {}", e.to_string());
    }
    return report;
  }
  detector_->replace(std::move(rules.rules));
  subscribe_detection();
  spdlog::info("reload: {} detection rule(s) from {}", detector_->rules().rules().size(),
               options_.rules_dir.empty() ? "nowhere" : options_.rules_dir);
  report = tenants_->apply(profiles.profiles);
  for (const auto& e : report.errors) {
    spdlog::error("reload: {}", e.to_string());
  }
  spdlog::info("reload {}: {} added, {} removed, {} updated, {} unchanged, {} failed",
               report.ok ? "done" : "partly applied", report.added.size(), report.removed.size(),
               report.updated.size(), report.unchanged.size(), report.failed.size());
  return report;
}

void Agent::shutdown(std::function<void()> done) {
  if (shut_down_) {
    if (done) {
      timers_->post(std::move(done));
    }
    return;
  }
  if (done) {
    shutdown_waiters_.push_back(std::move(done));
  }
  if (shutting_down_) {
    return;
  }
  shutting_down_ = true;
  spdlog::info("shutting down: stopping {} workload(s)", tenants_->running());
  tenants_->shutdown(options_.stop_grace, [this] {
    // Runs as the set's last act: it may be destroyed now.
    tenants_.reset();
    tree_.reset();
    mark_clean_stop();
    shut_down_ = true;
    spdlog::info("shutdown complete");
    auto waiters = std::move(shutdown_waiters_);
    shutdown_waiters_.clear();
    for (auto& w : waiters) {
      w();  // the first may destroy the agent; the rest must not need it
    }
  });
}

}  // namespace bulkhead::daemon
