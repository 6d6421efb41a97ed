// bulkheadd: the host agent. Reads its options from the command line and a
// config file, creates every tenant of the profile directory, supervises their
// declared workloads and serves the control API, all on one event loop.
//
// It always runs in the foreground (systemd Type=notify supervises it; there
// is no daemonizing) and logs to stderr, which journald collects.
//
// Signals (through a signalfd on the loop): SIGTERM/SIGINT shut down cleanly
// (workloads get SIGTERM, SIGKILL after --stop-grace) and exit 0; SIGHUP
// reloads the profiles. Workload exits come from pidfds, not SIGCHLD: every
// sandbox init is reaped by its Workload and stage-1 processes by the launcher.
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "api/agent_backend.h"
#include "api/server.h"
#include "common/log.h"
#include "config/units.h"
#include "daemon/agent.h"
#include "daemon/agent_check.h"
#include "daemon/config_file.h"
#include "daemon/event_loop.h"
#include "daemon/test_event_fifo.h"
#include "events/sink_spec.h"

namespace po = boost::program_options;
using namespace bulkhead;  // NOLINT(google-build-using-namespace): a main

namespace {

constexpr const char* kDefaultConfig = "/etc/bulkhead/bulkheadd.conf";
constexpr const char* kDefaultRulesDir = "/etc/bulkhead/rules.d";
constexpr int kExitUsage = 2;

struct Settings {
  daemon::AgentOptions agent;
  std::string config_path;
  bool check = false;
  std::string test_event_fifo;
  bool no_default_rules = false;  // the default rules directory does not exist
};

// Option values that are parsed further after program_options is done.
struct RawOptions {
  std::string stop_grace;
  std::string log_max_size;
  std::string restart_reset;
  std::string event_drop_report;
  std::vector<std::string> event_sinks;
};

// The options both the command line and the config file accept.
po::options_description shared_options(Settings& s, RawOptions& raw) {
  const daemon::AgentOptions d;
  po::options_description o("Options (command line, or `name = value` in the config file)", 100);
  o.add_options()  //
      ("profiles", po::value(&s.agent.profiles_dir)->default_value(d.profiles_dir),
       "directory of tenant profiles (*.yaml, *.yml)")  //
      ("rules", po::value(&s.agent.rules_dir)->default_value(kDefaultRulesDir),
       "directory of detection rules (*.yaml, *.yml; docs/detection.md), loaded at start and "
       "on reload; when the default directory does not exist, no rules run")  //
      ("socket", po::value(&s.agent.socket_path)->default_value(d.socket_path),
       "path of the control API socket")  //
      ("state-dir", po::value(&s.agent.state_dir)->default_value(d.state_dir),
       "agent state: ids.json (uid/gid ranges), addresses.json (tenant addresses), rootfs/ "
       "(staging), logs/<tenant>/<workload>.log")  //
      ("cgroup-name", po::value(&s.agent.cgroup_name)->default_value(d.cgroup_name),
       "name of the agent's cgroup subtree in every hierarchy; one agent per name")  //
      ("cgroup-parent", po::value(&s.agent.cgroup_parent)->default_value(d.cgroup_parent),
       "where the subtree goes: auto (below the agent's own cgroup when systemd delegated it "
       "on a unified host, the agent moving itself into <that cgroup>/agent; otherwise the "
       "root of each hierarchy), root, or delegated (below its own cgroup, or fail)")  //
      ("log-level", po::value(&s.agent.log_level)->default_value(d.log_level),
       "trace, debug, info, warn, error, critical or off")  //
      ("foreground", po::bool_switch(),
       "log to stderr and stay in the foreground; accepted for clarity and compatibility: "
       "bulkheadd always does both (journald collects stderr under systemd)")  //
      ("stop-grace", po::value(&raw.stop_grace)->default_value("10s"),
       "how long a workload gets between SIGTERM and SIGKILL when stopped (e.g. 10s, 500ms)")  //
      ("log-max-size", po::value(&raw.log_max_size)->default_value("10Mi"),
       "size at which a workload's log file is rotated (e.g. 10Mi)")  //
      ("log-keep", po::value(&s.agent.log_keep)->default_value(d.log_keep),
       "rotated log files kept per workload (.1 .. .N)")  //
      ("restart-reset-after", po::value(&raw.restart_reset)->default_value("60s"),
       "a declared workload that ran this long starts its restart count and backoff over")  //
      ("event-sink", po::value(&raw.event_sinks)->composing(),
       "where kernel events go, repeatable (docs/events.md): stdout | "
       "file:PATH[,max=10Mi][,keep=3] | syslog+unix:PATH | syslog+udp:HOST:PORT | "
       "syslog+tcp:HOST:PORT [,facility=local0]; any of them "
       "[,tenant=T][,type=NAME]...[,queue=N]")  //
      ("event-drop-report", po::value(&raw.event_drop_report)->default_value("10s"),
       "how often events lost by a sink (full queue, failed writes) are reported as an "
       "agent.drop event")  //
      ("bridge", po::value(&s.agent.bridge)->default_value(d.bridge),
       "host bridge of network mode isolated; created if missing, removed if the agent made it")  //
      ("address-pool", po::value(&s.agent.pool_ipv4)->default_value(d.pool_ipv4),
       "IPv4 prefix isolated tenants get addresses from (the first address is the bridge's)")  //
      ("address-pool6", po::value(&s.agent.pool_ipv6)->default_value(d.pool_ipv6),
       "IPv6 prefix for isolated tenants (same host index as IPv4); empty for IPv4 only");
  return o;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "file:line: message" for an error program_options raised on a config file.
std::string config_error(const std::string& path, const po::error& e) {
  std::string where = path;
  if (const auto* named = dynamic_cast<const po::error_with_option_name*>(&e)) {
    if (int line = daemon::find_option_line(read_text(path), named->get_option_name())) {
      where += ":" + std::to_string(line);
    }
  }
  return where + ": " + e.what();
}

Result<std::chrono::milliseconds> parse_ms(const std::string& option, const std::string& text) {
  auto us = config::parse_duration_us(text);
  if (!us.ok()) {
    return us.error().context("--" + option);
  }
  return std::chrono::milliseconds(*us / 1000);
}

// Parses every --event-sink; an error names the config file line when it came from there.
bool parse_event_sinks(const RawOptions& raw, const std::string& config_path, Settings& s) {
  for (const std::string& text : raw.event_sinks) {
    auto spec = events::parse_sink_spec(text);
    if (spec.ok()) {
      s.agent.event_sinks.push_back(std::move(*spec));
      continue;
    }
    std::string where = "--event-sink";
    if (int line = daemon::find_option_value_line(read_text(config_path), "event-sink", text)) {
      where = config_path + ":" + std::to_string(line) + ": event-sink";
    }
    std::cerr << "bulkheadd: " << where << " '" << text << "': " << spec.error().to_string()
              << "\n";
    return false;
  }
  return true;
}

// Parses argv and the config file into `s`. Returns the exit code to leave
// with (0 after --help), or -1 to go on.
int parse_settings(int argc, char** argv, Settings& s) {
  RawOptions raw;
  po::options_description shared = shared_options(s, raw);
  po::options_description cli_only("Command line only", 100);
  cli_only.add_options()                     //
      ("help,h", "show this help and exit")  //
      ("config", po::value(&s.config_path)->default_value(kDefaultConfig),
       "config file; a missing default file is fine, a missing file given here is an error")  //
      ("check",
       "validate the options and every profile, including each tenant's sandbox plan (seccomp "
       "files, Landlock, rlimits) and the id ranges; print every error; exit 0 when the agent "
       "would start, 1 otherwise. Creates nothing on the host (only a temporary directory, "
       "removed before it exits).")  //
      ("test-event-fifo", po::value(&s.test_event_fifo),
       "for tests only: publish the events written as JSON lines to this FIFO (created if "
       "missing) into the event bus, as if a source had produced them");
  po::options_description all(100);
  all.add(cli_only).add(shared);

  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, all), vm);
  } catch (const po::error& e) {
    std::cerr << "bulkheadd: " << e.what() << " (see --help)\n";
    return kExitUsage;
  }
  if (vm.count("help") != 0U) {
    std::cout << "Usage: bulkheadd [options]\n\n" << all << "\n";
    return 0;
  }
  const std::string config_path =
      vm.count("config") != 0U ? vm["config"].as<std::string>() : kDefaultConfig;
  const bool explicit_config = !vm["config"].defaulted();
  std::ifstream file(config_path);
  if (file) {
    try {
      // Values from the command line win: store() keeps the first value it sees.
      po::store(po::parse_config_file(file, shared), vm);
    } catch (const po::error& e) {
      std::cerr << "bulkheadd: " << config_error(config_path, e) << "\n";
      return kExitUsage;
    }
  } else if (explicit_config) {
    std::cerr << "bulkheadd: cannot read config file " << config_path << ": "
              << std::strerror(errno) << "\n";
    return kExitUsage;
  }
  try {
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "bulkheadd: " << e.what() << "\n";
    return kExitUsage;
  }
  s.check = vm.count("check") != 0U;
  // A directory named on purpose must exist; the default one is optional so
  // that an agent without detection configured still starts.
  std::error_code ec;
  if (vm["rules"].defaulted() && !std::filesystem::exists(s.agent.rules_dir, ec)) {
    s.agent.rules_dir.clear();
    s.no_default_rules = true;
  }

  auto grace = parse_ms("stop-grace", raw.stop_grace);
  auto reset = parse_ms("restart-reset-after", raw.restart_reset);
  auto drop_report = parse_ms("event-drop-report", raw.event_drop_report);
  auto max_size = config::parse_size(raw.log_max_size);
  for (const Error* e :
       {grace.ok() ? nullptr : &grace.error(), reset.ok() ? nullptr : &reset.error(),
        drop_report.ok() ? nullptr : &drop_report.error()}) {
    if (e != nullptr) {
      std::cerr << "bulkheadd: " << e->to_string() << "\n";
      return kExitUsage;
    }
  }
  if (!max_size.ok()) {
    std::cerr << "bulkheadd: --log-max-size: " << max_size.error().to_string() << "\n";
    return kExitUsage;
  }
  s.agent.stop_grace = *grace;
  s.agent.restart_reset_after = *reset;
  s.agent.log_max_bytes = *max_size;
  s.agent.event_drop_report = *drop_report;
  if (!parse_event_sinks(raw, config_path, s)) {
    return kExitUsage;
  }
  return -1;
}

int run_check(const Settings& s) {
  std::vector<std::string> problems = daemon::check_configuration(s.agent);
  for (const auto& p : problems) {
    std::cerr << p << "\n";
  }
  if (!problems.empty()) {
    std::cerr << "bulkheadd: " << problems.size() << " problem(s) found\n";
    return 1;
  }
  std::cout << "bulkheadd: configuration and profiles in " << s.agent.profiles_dir
            << " are valid\n";
  return 0;
}

uint64_t monotonic_usec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000U + static_cast<uint64_t>(ts.tv_nsec) / 1000U;
}

std::string status_line(const daemon::Agent& agent) {
  auto st = agent.status();
  return std::to_string(st.tenants) + " tenant(s), " + std::to_string(st.workloads_running) +
         " workload(s) running";
}

// sd_notify is a no-op outside systemd (no NOTIFY_SOCKET).
void notify(const std::string& state) { (void)sd_notify(0, state.c_str()); }

// WATCHDOG=1 at half the interval systemd expects, for as long as the loop runs.
void arm_watchdog(daemon::EventLoop& loop, std::chrono::milliseconds every) {
  loop.add_timer(every, [&loop, every] {
    notify("WATCHDOG=1");
    arm_watchdog(loop, every);
  });
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  if (int rc = parse_settings(argc, argv, settings); rc >= 0) {
    return rc;
  }
  if (auto s = init_logging(settings.agent.log_level); !s.ok()) {
    std::cerr << "bulkheadd: " << s.error().to_string() << "\n";
    return kExitUsage;
  }
  bridge_libbpf_logging();
  if (settings.no_default_rules) {
    spdlog::warn("detection: {} does not exist; no rules run", kDefaultRulesDir);
  }
  if (settings.check) {
    return run_check(settings);
  }

  // Blocked before anything starts, so none is lost; the loop reads them.
  // Workloads start with a clean signal mask (the launcher resets it).
  sigset_t handled;
  sigemptyset(&handled);
  sigaddset(&handled, SIGTERM);
  sigaddset(&handled, SIGINT);
  sigaddset(&handled, SIGHUP);
  if (::sigprocmask(SIG_BLOCK, &handled, nullptr) != 0) {
    spdlog::critical("sigprocmask: {}", std::strerror(errno));
    return 1;
  }
  // A client that hangs up must not kill the agent.
  ::signal(SIGPIPE, SIG_IGN);

  auto loop = daemon::EventLoop::create();
  if (!loop.ok()) {
    spdlog::critical("{}", loop.error().to_string());
    return 1;
  }
  auto agent = daemon::Agent::create(settings.agent, **loop);
  if (!agent.ok()) {
    spdlog::critical("cannot start: {}", agent.error().to_string());
    notify("STATUS=failed to start: " + agent.error().to_string());
    return 1;
  }

  // ---- Control API ---------------------------------------------------------
  // After the agent (its backend) and before READY=1; destroyed first (it is
  // declared last), while the agent and the loop still exist.
  api::AgentBackend backend(**agent);
  auto server = api::Server::create(settings.agent.socket_path, backend, **loop);
  if (!server.ok()) {
    spdlog::critical("control API: {}", server.error().to_string());
    return 1;
  }
  spdlog::info("control API listening on {}", (*server)->socket_path());
  // ---------------------------------------------------------------------------

  std::unique_ptr<daemon::TestEventFifo> test_events;
  if (!settings.test_event_fifo.empty()) {
    auto fifo =
        daemon::TestEventFifo::open(**loop, settings.test_event_fifo, (*agent)->events().handler());
    if (!fifo.ok()) {
      spdlog::critical("--test-event-fifo: {}", fifo.error().to_string());
      return 1;
    }
    test_events = std::move(*fifo);
    spdlog::warn("test hook: publishing events written to {}", settings.test_event_fifo);
  }

  UniqueFd sigfd(::signalfd(-1, &handled, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!sigfd) {
    spdlog::critical("signalfd: {}", std::strerror(errno));
    return 1;
  }
  daemon::Agent& a = **agent;
  daemon::EventLoop& l = **loop;
  bool stopping = false;
  auto on_signal = [&](uint32_t) {
    signalfd_siginfo info{};
    while (::read(sigfd.get(), &info, sizeof(info)) == sizeof(info)) {
      int sig = static_cast<int>(info.ssi_signo);
      if (sig == SIGHUP) {
        if (stopping) {
          continue;
        }
        notify("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()));
        daemon::ReloadReport r = a.reload();
        notify(
            "READY=1\nSTATUS=" + status_line(a) +
            (r.ok ? "" : "; last reload failed: " + std::to_string(r.errors.size()) + " error(s)"));
        continue;
      }
      if (stopping) {
        spdlog::info("signal {}: already shutting down", sigabbrev_np(sig));
        continue;
      }
      stopping = true;
      spdlog::info("signal SIG{}: shutting down", sigabbrev_np(sig));
      notify("STOPPING=1\nSTATUS=stopping");
      a.shutdown([&l] { l.stop(); });
    }
  };
  if (auto s = l.add_fd(sigfd.get(), EPOLLIN, on_signal); !s.ok()) {
    spdlog::critical("{}", s.error().to_string());
    return 1;
  }

  uint64_t watchdog_usec = 0;
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0) {
    arm_watchdog(l, std::chrono::milliseconds(std::max<uint64_t>(watchdog_usec / 2000, 1)));
  }
  notify("READY=1\nSTATUS=" + status_line(a));
  spdlog::info("ready: {}", status_line(a));

  auto ran = l.run();
  l.remove_fd(sigfd.get());
  if (!ran.ok()) {
    spdlog::critical("{}", ran.error().to_string());
    return 1;
  }
  return 0;
}
