// Kernel-to-sink throughput: how many events per second the whole pipeline
// carries from the kernel to a JSON-lines file with nothing lost, and what
// happens above that rate.
//
// The pipeline is the agent's own (Agent::start_kernel_events): the
// KernelEventSource (BPF programs, ring buffer, decoder) publishes into an
// EventBus with one file sink, in an "agent" process of its own. Generators
// are syscall_loop processes inside a tenant, each calling unlink(2) on a
// missing file at a paced rate: the cheapest call that yields one event (it
// fails with ENOENT, and the event program reports failed calls too). For
// every target rate, split across the generators:
//
//   generated/s  calls the generators made per second (below the target when
//                they cannot keep up: on 2 cores they share the CPUs with
//                the agent)
//   written/s    events the sink wrote to the file, per second from the
//                generators' start until the sink had written everything
//   ring drops   records the kernel could not queue (its drop counters)
//   sink drops   events the sink's queue refused
//   CPU %        CPU time of the agent process (all threads) per second of the
//                step, in % of one core, and in brackets the part of it spent
//                by the sink's writer thread (serialising and writing); the
//                rest is the reader (ring buffer, decoder, bus). The BPF
//                programs run in the generators' time, not in it
//
// The peer, in the same run: auditd with rules for the same calls, limited to
// the tenant's uids, writing its log (auditd_peer.h). For it, written/s counts
// the SYSCALL records of the benchmark's key in the log; lost is the growth of
// the kernel's audit lost counter and backlog its queue at the end of the
// generators' run; CPU is auditd's plus the kernel's kauditd thread.
//
//   sudo scripts/bench-kernel-sink.sh [--seconds S] [--generators N] [--rates R1,R2,...]
//                                     [--log-dir DIR] [--agent-nice N] [--no-auditd]
//   (a rate of 0: as fast as the generators can go; --log-dir puts the event
//   file and auditd's log in a directory under DIR instead of /tmp, e.g. a
//   tmpfs to take the disk out of the figure; --agent-nice runs the
//   agent at that nice value, as a service manager could, to show what CPU
//   priority over the generators changes on a machine with few cores)
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "auditd_peer.h"
#include "bench_tenant.h"
#include "cgroup/tree.h"
#include "config/profile_loader.h"
#include "events/event_bus.h"
#include "events/kernel_source.h"
#include "events/sink_spec.h"
#include "isolation/tenant.h"

namespace {

using namespace bulkhead;  // NOLINT(google-build-using-namespace): a main
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kIdBase = 1862270976 + 0x30000;
constexpr const char* kWorkDir = "/tmp/bulkhead-kernel-sink-bench";

std::string profile_yaml() { return bench::bench_tenant_yaml("sinkbench", kIdBase); }

int64_t realtime_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

// utime + stime of a process (all its threads), in seconds.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) {
    return 0;
  }
  std::istringstream rest(stat.substr(paren + 2));
  std::string field;
  double ticks = 0;
  // Fields after the command: state is field 3; utime and stime are 14 and 15.
  for (int f = 3; f <= 15 && rest >> field; ++f) {
    if (f >= 14) {
      ticks += std::atof(field.c_str());
    }
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

pid_t kauditd_pid() {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream comm(entry.path() / "comm");
    std::string name;
    if (comm && std::getline(comm, name) && name == "kauditd") {
      return static_cast<pid_t>(std::atoi(entry.path().filename().c_str()));
    }
  }
  return 0;
}

struct PipelineStats {
  uint64_t ring_drops = 0;
  uint64_t published = 0;
  uint64_t written = 0;
  uint64_t sink_drops = 0;
  uint64_t sink_failed = 0;
  uint64_t sink_cpu_ns = 0;  // the sink's writer thread
  int64_t drained_ns = 0;    // 'D': CLOCK_MONOTONIC when the sink had written everything
};

// The agent's pipeline in a process of its own, as bulkheadd runs it: the
// launcher forks, and a forked child of a multi-threaded process (the sink
// has a writer thread) must not call glibc's set*id wrappers. Commands over a
// pipe: 'S' reports PipelineStats; 'D' first reads everything the kernel
// queued and waits until the sink wrote what it accepted.
class AgentProcess {
 public:
  bool start(const isolation::Tenant& tenant, const std::string& file, int nice) {
    int cmd[2];
    int rep[2];
    if (::pipe2(cmd, O_CLOEXEC) != 0 || ::pipe2(rep, O_CLOEXEC) != 0) {
      return false;
    }
    UniqueFd cmd_rd(cmd[0]);
    UniqueFd rep_rd(rep[0]);
    UniqueFd rep_wr(rep[1]);
    cmd_.reset(cmd[1]);
    pid_ = ::fork();
    if (pid_ < 0) {
      return false;
    }
    if (pid_ == 0) {
      cmd_.reset();
      rep_rd.reset();
      // Before the sink's thread exists, so that it inherits the priority.
      if (nice != 0 && ::setpriority(PRIO_PROCESS, 0, nice) != 0) {
        ::_exit(1);
      }
      ::_exit(serve(tenant, file, cmd_rd.get(), rep_wr.get()));
    }
    report_ = std::move(rep_rd);
    char ready = 0;
    return ::read(report_.get(), &ready, 1) == 1;
  }
  ~AgentProcess() {
    if (pid_ > 0) {
      cmd_.reset();  // EOF: the agent ends
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  AgentProcess() = default;
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  bool ask(char command, PipelineStats& out) {
    return ::write(cmd_.get(), &command, 1) == 1 &&
           ::read(report_.get(), &out, sizeof(out)) == sizeof(out);
  }

 private:
  static int serve(const isolation::Tenant& tenant, const std::string& file, int cmd, int report) {
    auto spec = events::parse_sink_spec("file:" + file + ",max=64Mi,keep=1");
    if (!spec.ok()) {
      (void)std::fprintf(stderr, "%s\n", spec.error().to_string().c_str());
      return 1;
    }
    auto bus = events::EventBus::create({}, {*spec});
    if (!bus.ok()) {
      (void)std::fprintf(stderr, "%s\n", bus.error().to_string().c_str());
      return 1;
    }
    auto source = events::KernelEventSource::create({}, (*bus)->handler());
    if (!source.ok()) {
      (void)std::fprintf(stderr, "%s\n", source.error().to_string().c_str());
      return 1;
    }
    events::TenantTracking t{
        tenant.profile().name, tenant.cgroup().v2_path(), *tenant.profile().ids, false, {}};
    if (auto tracked = (*source)->track_tenant(t); !tracked.ok()) {
      (void)std::fprintf(stderr, "%s\n", tracked.error().to_string().c_str());
      return 1;
    }
    if (::write(report, "R", 1) != 1) {
      return 1;
    }
    auto stats = [&] {
      PipelineStats s;
      s.ring_drops = (*source)->dropped_total();
      auto bs = (*bus)->stats();
      s.published = bs.published;
      s.written = bs.sinks.at(0).written;
      s.sink_drops = bs.sinks.at(0).dropped;
      s.sink_failed = bs.sinks.at(0).failed;
      s.sink_cpu_ns = bs.sinks.at(0).cpu_ns;
      return s;
    };
    std::chrono::nanoseconds drained{0};
    // The agent's event loop, reduced to its two fds.
    pollfd fds[2] = {{(*source)->fd(), POLLIN, 0}, {cmd, POLLIN, 0}};
    for (;;) {
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
        return 1;
      }
      if ((fds[0].revents & POLLIN) != 0) {
        (void)(*source)->consume();
      }
      if (fds[1].revents == 0) {
        continue;
      }
      char c = 0;
      if (::read(cmd, &c, 1) != 1) {
        return 0;
      }
      if (c == 'D') {
        // Records committed without a wakeup are read within the batching
        // interval; read until two intervals bring nothing more. The sink
        // is done when the last records read are written.
        auto last_read = Clock::now();
        for (int idle = 0; idle < 2;) {
          auto n = (*source)->poll(20);
          idle = n.ok() && *n == 0 ? idle + 1 : 0;
          if (idle == 0) {
            last_read = Clock::now();
          }
        }
        const auto before_wait = Clock::now();
        (void)(*bus)->wait_idle(30s);
        // Either the sink was done by the last read, or when the wait ended.
        const auto done = Clock::now() - before_wait > 1ms ? Clock::now() : last_read;
        drained = std::chrono::duration_cast<std::chrono::nanoseconds>(done.time_since_epoch());
      }
      PipelineStats s = stats();
      s.drained_ns = drained.count();
      if (::write(report, &s, sizeof(s)) != sizeof(s)) {
        return 1;
      }
    }
  }

  pid_t pid_ = -1;
  UniqueFd cmd_;
  UniqueFd report_;
};

// Runs the generators in the tenant; the calls they made and the longest
// time one of them ran, or nullopt.
struct Generated {
  uint64_t calls = 0;
  double seconds = 0;
};
std::optional<Generated> generate(isolation::Tenant& tenant, int generators, double rate,
                                  double seconds) {
  const int64_t start = realtime_ns() + 100'000'000;  // after every launch
  struct Running {
    std::unique_ptr<isolation::Workload> workload;
    UniqueFd out;
  };
  std::vector<Running> running;
  UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  for (int g = 0; g < generators; ++g) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
      return std::nullopt;
    }
    UniqueFd rd(p[0]);
    UniqueFd wr(p[1]);
    isolation::LaunchRequest req;
    req.name = "gen" + std::to_string(g);
    req.argv = {"/helpers/syscall_loop", "unlink-rate", std::to_string(rate / generators),
                std::to_string(seconds), std::to_string(start)};
    req.stdin_fd = devnull.get();
    req.stdout_fd = wr.get();
    req.stderr_fd = wr.get();
    auto w = tenant.launch(req);
    if (!w.ok()) {
      (void)std::fprintf(stderr, "%s\n", w.error().to_string().c_str());
      return std::nullopt;
    }
    running.push_back({std::move(*w), std::move(rd)});
  }
  Generated total;
  for (auto& r : running) {
    std::string out;
    char buf[256];
    ssize_t n;
    while ((n = ::read(r.out.get(), buf, sizeof(buf))) > 0) {
      out.append(buf, static_cast<size_t>(n));
    }
    auto status = r.workload->wait();
    unsigned long long calls = 0;
    long long ns = 0;
    if (!status.ok() || status->shell_code() != 0 ||
        std::sscanf(out.c_str(), "%llu %lld", &calls, &ns) != 2) {
      (void)std::fprintf(stderr, "generator failed: %s\n", out.c_str());
      return std::nullopt;
    }
    total.calls += calls;
    total.seconds = std::max(total.seconds, static_cast<double>(ns) / 1e9);
  }
  return total;
}

std::string rate_name(double rate) {
  return rate > 0 ? std::to_string(static_cast<long>(rate)) : std::string("max");
}

void print_header(const char* peer, const char* cpu) {
  (void)std::printf("%10s %13s %13s %12s %12s %16s\n", "target/s", "generated/s", "written/s", peer,
                    "sink drops", cpu);
}

// The agent's pipeline at each rate; true when every step ran.
bool run_events(isolation::Tenant& tenant, const std::vector<double>& rates, int generators,
                double seconds, int nice, const std::string& log_dir) {
  AgentProcess agent;
  if (!agent.start(tenant, log_dir + "/events.jsonl", nice)) {
    (void)std::fprintf(stderr, "the agent's pipeline did not start\n");
    return false;
  }
  (void)std::printf(
      "\nagent (nice %d): kernel -> ring buffer -> decoder -> bus -> JSON file sink\n", nice);
  print_header("ring drops", "CPU % (sink)");
  for (double rate : rates) {
    PipelineStats before;
    PipelineStats after;
    if (!agent.ask('S', before)) {
      return false;
    }
    const double cpu0 = cpu_seconds(agent.pid());
    const auto t0 = Clock::now();
    auto gen = generate(tenant, generators, rate, seconds);
    if (!gen || !agent.ask('D', after)) {
      return false;
    }
    // From the generators' start (100 ms after t0) until the sink was done.
    const double wall = std::chrono::duration<double>(
                            Clock::time_point(std::chrono::nanoseconds(after.drained_ns)) - t0)
                            .count() -
                        0.1;
    const double cpu = cpu_seconds(agent.pid()) - cpu0;
    const uint64_t written = after.written - before.written;
    const double sink_cpu = static_cast<double>(after.sink_cpu_ns - before.sink_cpu_ns) / 1e9;
    const std::string cpu_text = std::to_string(std::lround(100.0 * cpu / wall)) + "% (" +
                                 std::to_string(std::lround(100.0 * sink_cpu / wall)) + "%)";
    (void)std::printf("%10s %13.0f %13.0f %12llu %12llu %16s\n", rate_name(rate).c_str(),
                      static_cast<double>(gen->calls) / gen->seconds,
                      static_cast<double>(written) / wall,
                      static_cast<unsigned long long>(after.ring_drops - before.ring_drops),
                      static_cast<unsigned long long>(after.sink_drops - before.sink_drops +
                                                      after.sink_failed - before.sink_failed),
                      cpu_text.c_str());
    (void)std::fflush(stdout);
    std::error_code ec;  // rotated copies: only the step's own file matters
    std::filesystem::remove(log_dir + "/events.jsonl.1", ec);
  }
  return true;
}

// SYSCALL records of the benchmark's key in the log, which is then emptied.
uint64_t take_audit_records(const std::string& log) {
  uint64_t count = 0;
  std::ifstream in(log);
  std::string line;
  const std::string key = std::string("key=\"") + bench::Auditd::kKey + "\"";
  while (std::getline(in, line)) {
    if (line.compare(0, 12, "type=SYSCALL") == 0 && line.find(key) != std::string::npos) {
      ++count;
    }
  }
  // auditd appends (O_APPEND), so emptying the file under it is safe.
  (void)::truncate(log.c_str(), 0);
  return count;
}

// Until the log stops growing: auditd has written what the kernel queued.
// Returns when it last grew (or now, if it had stopped already).
Clock::time_point wait_audit_quiet(const std::string& log) {
  std::error_code ec;
  uintmax_t last = std::filesystem::file_size(log, ec);
  auto grew = Clock::now();
  const auto limit = grew + 30s;
  for (int quiet = 0; quiet < 20 && Clock::now() < limit;) {
    std::this_thread::sleep_for(10ms);
    uintmax_t now = std::filesystem::file_size(log, ec);
    quiet = now == last ? quiet + 1 : 0;
    if (now != last) {
      grew = Clock::now();
    }
    last = now;
  }
  return grew;
}

bool run_auditd(isolation::Tenant& tenant, const std::vector<double>& rates, int generators,
                double seconds, const std::string& log_dir) {
  bench::Auditd auditd(log_dir + "/audit", kIdBase, 65536);
  if (!auditd.start()) {
    (void)std::fprintf(stderr, "auditd: could not start it or add the rules\n");
    return false;
  }
  const pid_t kauditd = kauditd_pid();
  (void)std::printf("\nauditd 'RAW' log, flush = NONE, backlog limit 8192 (peer)\n");
  print_header("lost/backlog", "CPU %");
  std::this_thread::sleep_for(200ms);
  (void)take_audit_records(auditd.log_path());
  for (double rate : rates) {
    const uint64_t lost0 = bench::audit_status()["lost"];
    const double cpu0 = cpu_seconds(auditd.pid()) + (kauditd > 0 ? cpu_seconds(kauditd) : 0);
    const auto t0 = Clock::now();
    auto gen = generate(tenant, generators, rate, seconds);
    if (!gen) {
      return false;
    }
    auto status = bench::audit_status();
    const auto done = wait_audit_quiet(auditd.log_path());
    const double wall = std::chrono::duration<double>(done - t0).count() - 0.1;
    const double cpu = cpu_seconds(auditd.pid()) + (kauditd > 0 ? cpu_seconds(kauditd) : 0) - cpu0;
    const uint64_t written = take_audit_records(auditd.log_path());
    const std::string lost =
        std::to_string(status["lost"] - lost0) + "/" + std::to_string(status["backlog"]);
    (void)std::printf("%10s %13.0f %13.0f %12s %12s %15.0f%%\n", rate_name(rate).c_str(),
                      static_cast<double>(gen->calls) / gen->seconds,
                      static_cast<double>(written) / wall, lost.c_str(), "-", 100.0 * cpu / wall);
    (void)std::fflush(stdout);
  }
  return true;
}

std::vector<double> parse_rates(const std::string& text) {
  std::vector<double> rates;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    rates.push_back(std::atof(item.c_str()));
  }
  return rates;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 2;
  int generators = 2;
  bool with_auditd = true;
  int agent_nice = 0;
  std::string log_dir = kWorkDir;
  std::vector<double> rates = parse_rates("25000,50000,100000,150000,200000,300000,500000,0");
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--seconds" && has_value) {
      seconds = std::atof(argv[++i]);
    } else if (arg == "--generators" && has_value) {
      generators = std::atoi(argv[++i]);
    } else if (arg == "--rates" && has_value) {
      rates = parse_rates(argv[++i]);
    } else if (arg == "--log-dir" && has_value) {
      log_dir = std::string(argv[++i]) + "/bulkhead-kernel-sink-bench";
    } else if (arg == "--agent-nice" && has_value) {
      agent_nice = std::atoi(argv[++i]);
    } else if (arg == "--no-auditd") {
      with_auditd = false;
    } else {
      (void)std::fprintf(stderr,
                         "usage: kernel_sink_bench [--seconds S] [--generators N] "
                         "[--rates R1,R2,...] [--log-dir DIR] [--agent-nice N] [--no-auditd]\n");
      return 2;
    }
  }
  if (seconds <= 0 || generators < 1 || rates.empty()) {
    (void)std::fprintf(stderr, "--seconds, --generators and --rates must be positive\n");
    return 2;
  }
  if (with_auditd &&
      bench::sh("command -v auditd >/dev/null && command -v auditctl >/dev/null") != 0) {
    (void)std::fprintf(stderr, "auditd is not installed (scripts/setup.sh installs it)\n");
    return 1;
  }
  auto loaded = config::load_profile_string(profile_yaml(), "kernel-sink-bench-profile");
  if (!loaded.ok()) {
    (void)std::fprintf(stderr, "%s\n", loaded.errors.front().to_string().c_str());
    return 1;
  }
  std::filesystem::create_directories(kWorkDir);
  const std::string staging = std::string(kWorkDir) + "/staging";
  std::filesystem::create_directories(staging);
  auto host = cgroup::detect_host_cgroups();
  auto tree = host.ok() ? cgroup::CgroupTree::create(*host, "bulkhead-kernel-sink-bench")
                        : Result<std::unique_ptr<cgroup::CgroupTree>>(host.error());
  if (!tree.ok()) {
    (void)std::fprintf(stderr, "%s\n", tree.error().to_string().c_str());
    return 1;
  }
  auto tenant = isolation::Tenant::create(*loaded.profile, **tree, {staging});
  if (!tenant.ok()) {
    (void)std::fprintf(stderr, "%s\n", tenant.error().to_string().c_str());
    return 1;
  }
  (void)std::printf("%ld cores, %d generator processes, %.1f s per step\n",
                    ::sysconf(_SC_NPROCESSORS_ONLN), generators, seconds);
  std::filesystem::create_directories(log_dir);
  (void)std::printf("event file and audit log in %s\n", log_dir.c_str());
  bool ok = run_events(**tenant, rates, generators, seconds, agent_nice, log_dir);
  if (ok && with_auditd) {
    ok = run_auditd(**tenant, rates, generators, seconds, log_dir);
  }
  tenant->reset();
  tree->reset();
  std::error_code ec;
  std::filesystem::remove_all(kWorkDir, ec);
  std::filesystem::remove_all(log_dir, ec);
  return ok ? 0 : 1;
}
