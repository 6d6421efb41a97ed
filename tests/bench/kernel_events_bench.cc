// Overhead of the kernel event stream on a syscall-heavy workload inside a
// tenant, next to auditd watching the same system calls, in the same run:
//
//   off     no event programs, no audit rules
//   events  the agent's event programs attached, the tenant tracked, a reader
//           process draining the ring buffer and serialising each event's fields
//   auditd  auditd running with rules for the same calls, limited to the
//           tenant's host uid range
//   wake-each (with --compare-wakeup) events, but the ring buffer wakes the
//           reader for every record (wakeup_interval_ms = 0, the policy before
//           wakeups were batched), for a before/after in the same run
//
// Loops (tests/helpers/syscall_loop, run in the tenant): open+close read-only
// (the kernel filters these: no event), open+close for writing (one event each),
// fork+exec+wait. Rounds alternate the modes so drift hits all of them; the
// figures per mode are the minimum and the median over rounds.
//
//   sudo scripts/bench-events.sh [ROUNDS] [--compare-wakeup]
//   (removes the audit rules even when interrupted)
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "auditd_peer.h"
#include "bench_tenant.h"
#include "cgroup/tree.h"
#include "config/profile_loader.h"
#include "events/kernel_source.h"
#include "isolation/tenant.h"

namespace {

using namespace bulkhead;  // NOLINT(google-build-using-namespace): a main
using namespace std::chrono_literals;

constexpr uint32_t kIdBase = 1862270976 + 0x20000;
constexpr const char* kAuditDir = "/tmp/bulkhead-events-bench-audit";

std::string profile_yaml() {
  return bench::bench_tenant_yaml("evbench", kIdBase,
                                  "  data: {host_path: /tmp/bulkhead-events-bench-data}\n");
}

// The event source in a reader process of its own, as the agent runs it. Not
// a thread of this process: the launcher forks, and a forked child of a
// multi-threaded process must not call glibc's set*id wrappers.
volatile sig_atomic_t g_stop_reader = 0;

class EventsOn {
 public:
  bool start(const isolation::Tenant& tenant, uint32_t wakeup_interval_ms) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
      return false;
    }
    UniqueFd rd(p[0]);
    UniqueFd wr(p[1]);
    pid_ = ::fork();
    if (pid_ < 0) {
      return false;
    }
    if (pid_ == 0) {
      rd.reset();
      struct sigaction sa {};
      sa.sa_handler = [](int) { g_stop_reader = 1; };
      ::sigaction(SIGTERM, &sa, nullptr);
      ::_exit(reader(tenant, wakeup_interval_ms, wr.get()));
    }
    wr.reset();
    report_ = std::move(rd);
    char ready = 0;
    return ::read(report_.get(), &ready, 1) == 1;
  }
  ~EventsOn() { stop(); }
  // The number of events the reader delivered.
  uint64_t stop() {
    uint64_t count = 0;
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      if (::read(report_.get(), &count, sizeof(count)) != sizeof(count)) {
        count = 0;
      }
      int status = 0;
      ::waitpid(pid_, &status, 0);
      pid_ = -1;
    }
    return count;
  }

 private:
  static int reader(const isolation::Tenant& tenant, uint32_t wakeup_interval_ms, int report) {
    uint64_t count = 0;
    size_t serialised = 0;
    events::KernelSourceOptions options;
    options.wakeup_interval_ms = wakeup_interval_ms;
    auto source = events::KernelEventSource::create(options, [&](events::Event&& e) {
      serialised += e.fields.dump().size();
      ++count;
    });
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
    while (g_stop_reader == 0) {
      (void)(*source)->poll(50);
    }
    (void)(*source)->consume();
    return ::write(report, &count, sizeof(count)) == sizeof(count) ? 0 : 1;
  }

  pid_t pid_ = -1;
  UniqueFd report_;
};

// Runs syscall_loop in the tenant; its printed ns per iteration, or -1.
double run_loop(isolation::Tenant& tenant, std::vector<std::string> args) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    return -1;
  }
  UniqueFd rd(p[0]);
  UniqueFd wr(p[1]);
  UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  isolation::LaunchRequest req;
  req.name = "loop";
  req.argv = {"/helpers/syscall_loop"};
  req.argv.insert(req.argv.end(), args.begin(), args.end());
  req.stdin_fd = devnull.get();
  req.stdout_fd = wr.get();
  req.stderr_fd = wr.get();
  auto w = tenant.launch(req);
  wr.reset();
  if (!w.ok()) {
    (void)std::fprintf(stderr, "%s\n", w.error().to_string().c_str());
    return -1;
  }
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = ::read(rd.get(), buf, sizeof(buf))) > 0) {
    out.append(buf, static_cast<size_t>(n));
  }
  auto status = (*w)->wait();
  if (!status.ok() || status->shell_code() != 0) {
    (void)std::fprintf(stderr, "loop failed: %s\n", out.c_str());
    return -1;
  }
  return std::atof(out.c_str());
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 5;
  bool compare_wakeup = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
      rounds = std::atoi(argv[++i]);
    } else if (std::strcmp(argv[i], "--compare-wakeup") == 0) {
      compare_wakeup = true;
    } else {
      (void)std::fprintf(stderr, "usage: kernel_events_bench [--rounds N] [--compare-wakeup]\n");
      return 2;
    }
  }
  if (rounds < 1) {
    (void)std::fprintf(stderr, "--rounds must be at least 1\n");
    return 2;
  }
  if (bench::sh("command -v auditd >/dev/null && command -v auditctl >/dev/null") != 0) {
    (void)std::fprintf(stderr, "auditd is not installed (scripts/setup.sh installs it)\n");
    return 1;
  }
  auto loaded = config::load_profile_string(profile_yaml(), "events-bench-profile");
  if (!loaded.ok()) {
    (void)std::fprintf(stderr, "%s\n", loaded.errors.front().to_string().c_str());
    return 1;
  }
  char staging[] = "/tmp/bulkhead-events-bench-XXXXXX";
  if (::mkdtemp(staging) == nullptr) {
    return 1;
  }
  auto host = cgroup::detect_host_cgroups();
  auto tree = host.ok() ? cgroup::CgroupTree::create(*host, "bulkhead-events-bench")
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

  struct Loop {
    const char* name;
    std::vector<std::string> args;
  };
  const std::vector<Loop> loops = {
      {"open+close, read-only (no event)", {"open", "100000", "/tmp/f"}},
      {"open+close for writing (1 event each)", {"open-write", "100000", "/tmp/f"}},
      {"fork+exec+wait (3 events each)", {"exec", "1000"}},
  };
  std::vector<const char*> modes = {"off", "events", "auditd"};
  if (compare_wakeup) {
    modes.push_back("wake-each");
  }
  std::map<std::string, std::map<std::string, std::vector<double>>> ns;  // loop -> mode -> runs
  uint64_t events_seen = 0;
  for (const auto& loop : loops) {
    (void)run_loop(**tenant, loop.args);  // warm-up
  }
  for (int r = 0; r < rounds; ++r) {
    for (const char* mode : modes) {
      EventsOn events_on;
      bench::Auditd auditd(kAuditDir, kIdBase, 65536);
      const bool events_mode = std::strcmp(mode, "events") == 0;
      if ((events_mode || std::strcmp(mode, "wake-each") == 0) &&
          !events_on.start(**tenant,
                           events_mode ? events::KernelSourceOptions{}.wakeup_interval_ms : 0)) {
        return 1;
      }
      if (std::strcmp(mode, "auditd") == 0 && !auditd.start()) {
        (void)std::fprintf(stderr, "auditd: could not start it or add the rules\n");
        return 1;
      }
      for (const auto& loop : loops) {
        double v = run_loop(**tenant, loop.args);
        if (v < 0) {
          return 1;
        }
        ns[loop.name][mode].push_back(v);
      }
      events_seen += events_on.stop();
      auditd.stop();
    }
  }
  tenant->reset();
  ::rmdir(staging);
  std::filesystem::remove_all("/tmp/bulkhead-events-bench-data");

  // Load from other work on the machine only ever adds time, so the fastest
  // round is the least disturbed one; the median is shown as well.
  auto table = [&](const char* title, double (*pick)(std::vector<double>)) {
    (void)std::printf("\n%s of %d rounds, ns per iteration\n", title, rounds);
    (void)std::printf("%-40s %10s %10s %10s %11s %19s", "", "off", "events", "auditd", "events/off",
                      "added/auditd added");
    if (compare_wakeup) {
      (void)std::printf(" %10s %14s", "wake-each", "wake-each/off");
    }
    (void)std::printf("\n");
    for (const auto& loop : loops) {
      const double off = pick(ns[loop.name]["off"]);
      const double on = pick(ns[loop.name]["events"]);
      const double audit = pick(ns[loop.name]["auditd"]);
      (void)std::printf("%-40s %10.1f %10.1f %10.1f %10.2fx %18.2fx", loop.name, off, on, audit,
                        on / off, audit > off ? (on - off) / (audit - off) : 0.0);
      if (compare_wakeup) {
        const double each = pick(ns[loop.name]["wake-each"]);
        (void)std::printf(" %10.1f %13.2fx", each, each / off);
      }
      (void)std::printf("\n");
    }
  };
  (void)std::printf("%ld cores; %llu events delivered in events mode\n",
                    sysconf(_SC_NPROCESSORS_ONLN), static_cast<unsigned long long>(events_seen));
  table("minimum", [](std::vector<double> v) { return *std::min_element(v.begin(), v.end()); });
  table("median", median);
  return 0;
}
