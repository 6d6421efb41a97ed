// The agent: owns every tenant of this host (from the profile directory), their
// declared workloads with restart policies, and ad-hoc runs started through the
// control API. Everything runs on one EventLoop thread.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/profile_loader.h"
#include "daemon/event_loop.h"
#include "daemon/run_marker.h"
#include "detect/detector.h"
#include "events/event.h"
#include "events/event_bus.h"
#include "events/sink_spec.h"
#include "isolation/terminal.h"
#include "isolation/workload.h"

namespace bulkhead::cgroup {
class CgroupTree;
}  // namespace bulkhead::cgroup
namespace bulkhead::events {
class KernelEventSource;
}  // namespace bulkhead::events
namespace bulkhead::net {
class NetworkHost;
}  // namespace bulkhead::net

namespace bulkhead::daemon {

class TenantSet;
class TimerSet;

struct AgentOptions {
  std::string profiles_dir = "/etc/bulkhead/tenants.d";
  std::string socket_path = "/run/bulkhead/bulkhead.sock";
  std::string state_dir = "/var/lib/bulkhead";
  std::string cgroup_name = "bulkhead";
  // Where the cgroup tree goes: "auto" (the unit's cgroup when systemd delegated
  // it on a unified host, else the root of each hierarchy), "root" or
  // "delegated" (see cgroup/placement.h).
  std::string cgroup_parent = "auto";
  std::string log_level = "info";
  std::chrono::milliseconds stop_grace{10000};          // SIGTERM, then SIGKILL after this
  uint64_t log_max_bytes = uint64_t{10} * 1024 * 1024;  // per workload log file before rotation
  int log_keep = 3;                                     // rotated files kept
  // A declared workload that ran at least this long was healthy: its count of
  // consecutive restarts (restart.limit) and its backoff start over.
  std::chrono::milliseconds restart_reset_after{60000};
  // Where kernel events go (docs/events.md); none: only API subscribers see them.
  std::vector<events::SinkSpec> event_sinks;
  // Detection rules (docs/detection.md): every *.yaml in this directory, loaded
  // at start and on reload; empty: no rules. Rules see what reaches the bus.
  std::string rules_dir;
  // How often sinks' losses are reported as agent.drop events.
  std::chrono::milliseconds event_drop_report{10000};
  // The kernel event stream (docs/events-sources.md). On by default: the agent
  // then refuses to start when its programs cannot load. Events go to
  // event_handler, on the loop thread; without one they go to the bus (sinks, API).
  // The handler must outlive the agent: destroying a tenant delivers what is
  // still queued for it.
  bool kernel_events = true;
  bool kernel_events_host_wide = false;  // also report processes outside tenants
  events::EventHandler event_handler;
  // Network mode isolated (docs/network-modes.md): the host bridge and the
  // address pools; an empty pool_ipv6 gives tenants IPv4 only.
  std::string bridge = "bh0";
  std::string pool_ipv4 = "10.200.0.0/16";
  std::string pool_ipv6 = "fd00:b0b0::/64";
};

enum class WorkloadKind { kDeclared, kAdhoc };

struct WorkloadInfo {
  std::string tenant;
  std::string name;
  WorkloadKind kind = WorkloadKind::kDeclared;
  // "idle" (not started yet), "running", "stopping" (SIGTERM sent), "backoff"
  // (restart pending), "exited" (ended with 0, not restarted), "failed" (ended
  // otherwise and not restarted, or the restart limit was reached), "stopped"
  // (stopped by request). Ad-hoc runs are listed while they run.
  std::string state;
  pid_t pid = 0;  // host pid of the sandbox init, 0 when not running
  std::vector<std::string> command;
  uint32_t restarts = 0;
  std::optional<isolation::ExitStatus> last_exit;
  int64_t started_unix_ms = 0;
  std::string last_error;  // why the last launch failed; empty when it did not
};

struct TenantInfo {
  std::string name;
  std::string profile_file;
  uint32_t id_base = 0;
  uint32_t id_count = 0;
  uint64_t cgroup_id = 0;
  std::string cgroup_path;
  size_t workloads_running = 0;
  // Network policy counters per hook: {"connect4": {"allowed": n, "denied": m}, ...}.
  nlohmann::json network_counters = nlohmann::json::object();
  std::string network_mode;  // "none", "isolated", "host"
  std::string ipv4;          // isolated only: "10.200.0.2"; empty otherwise
  std::string ipv6;
};

struct ReloadReport {
  bool ok = false;
  // Validation errors (a profile, a sandbox plan, the id ranges): nothing was
  // changed and `failed` is empty. Otherwise host-side failures while applying
  // (a cgroup refused a limit, a tenant could not be created); the tenants they
  // name are in `failed` and everything else was applied.
  std::vector<config::ProfileError> errors;
  std::vector<std::string> added, removed, updated, unchanged;  // tenant names
  std::vector<std::string> failed;
};

struct AgentStatus {
  std::string version;
  pid_t pid = 0;
  int64_t started_unix_ms = 0;
  std::string cgroup_layout;    // describe(HostCgroups) and, below it, describe(Placement)
  std::string kernel_features;  // describe(KernelFeatures)
  size_t tenants = 0;
  size_t workloads_running = 0;
  events::BusStats events;
  detect::DetectionStats detection;
};

// Ad-hoc runs. The workload never gets the caller's own descriptors: it gets a
// terminal of its own (`tty`) or three pipes, and the caller gets their other
// ends back to relay (StartedRun::stdio).
struct AdhocRun {
  std::string tenant;
  std::string name;  // empty: the agent picks "run-<n>"
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
  std::optional<std::string> cwd;
  std::optional<isolation::TerminalSize> tty;  // unset: pipes
};

struct StartedRun {
  WorkloadInfo info;
  // The caller's ends: with a terminal, its master; with pipes, the write end
  // of the workload's stdin and the read ends of its stdout and stderr.
  std::vector<UniqueFd> stdio;
};

class Agent {
 public:
  // Validates the options and every profile, creates the cgroup tree, each
  // tenant and starts the declared workloads. Fails (changing nothing that it
  // does not undo) if any profile is invalid.
  static Result<std::unique_ptr<Agent>> create(const AgentOptions& options, EventLoop& loop);
  ~Agent();  // stops every workload (grace, then kill) and removes what it made

  [[nodiscard]] std::vector<TenantInfo> tenants() const;
  [[nodiscard]] std::vector<WorkloadInfo> workloads(const std::optional<std::string>& tenant) const;
  [[nodiscard]] AgentStatus status() const;

  // Starts an ad-hoc workload; on_exit runs on the loop when it ends.
  using ExitCallback = std::function<void(const isolation::ExitStatus&)>;
  Result<StartedRun> run(const AdhocRun& run, ExitCallback on_exit);
  Status signal(const std::string& tenant, const std::string& workload, int sig);
  // Stops a workload (grace then kill); a declared one is not restarted until
  // start() or a reload that changes its spec.
  Status stop(const std::string& tenant, const std::string& workload);
  // Starts a declared workload that is not running (stopped, exited, failed),
  // with its restart count at zero. Running: nothing to do.
  Status start(const std::string& tenant, const std::string& workload);

  // Validates all profiles and the detection rules first; a bad one changes
  // nothing (the running rules stay). Then swaps the rules and applies
  // tenant by tenant: limits updated in place, removed tenants stopped, new ones created.
  ReloadReport reload();

  // Begins a clean shutdown; calls done() on the loop when everything is stopped.
  // Afterwards the agent refuses new work; destroying it is then instant.
  void shutdown(std::function<void()> done);

  // The event bus sources publish into (on the loop thread): its handler()
  // is what an event source is given. Exists for the agent's whole life.
  events::EventBus& events() { return *events_; }

 private:
  Agent(const AgentOptions& options, EventLoop& loop);
  [[nodiscard]] std::string staging_dir() const;
  [[nodiscard]] std::string ids_file() const;
  [[nodiscard]] std::string addresses_file() const;
  void log_startup_report() const;
  void schedule_drop_report();
  void schedule_heartbeat();
  // Records a clean stop: every workload was stopped, nothing went unreported.
  void mark_clean_stop();
  // Loads the event programs and reads their ring buffer on the loop.
  Status start_kernel_events();
  // Runs the detector on the bus's events of the types its rules name; the
  // alerts are published from the loop, outside the publish that raised them.
  void subscribe_detection();
  void flush_alerts();

  AgentOptions options_;
  EventLoop& loop_;
  int64_t started_unix_ms_ = 0;
  std::string cgroup_layout_;
  std::string kernel_features_;
  std::optional<RunMarker> run_marker_;  // after a crash, the next agent reports the gap
  // Before the tenants: destroyed after them, so that events published while
  // they are torn down still reach the sinks, which write what they hold.
  std::unique_ptr<events::EventBus> events_;
  std::unique_ptr<detect::Detector> detector_;
  events::EventBus::SubscriberId detection_subscription_ = 0;
  std::vector<events::Event> pending_alerts_;
  std::unique_ptr<cgroup::CgroupTree> tree_;
  std::unique_ptr<events::KernelEventSource> kernel_events_;  // tenants untrack on destruction
  std::unique_ptr<net::NetworkHost> network_;                 // the tenants' links hold its bridge
  // After tree_, kernel_events_ and network_: destroyed first.
  std::unique_ptr<TenantSet> tenants_;
  bool shutting_down_ = false;
  bool shut_down_ = false;
  std::vector<std::function<void()>> shutdown_waiters_;
  std::unique_ptr<TimerSet> timers_;
};

}  // namespace bulkhead::daemon
