// Cost of the detection rules per event, next to the cost of serialising the
// same event as a JSON line (what every event pays on its way to a sink), in
// the same run: the ratio says how much detection adds to an event's handling.
//
//   build/bench/detect_bench [RULES_DIR] [--iterations N]   (default: profiles/rules.d)
//
// Each case is one event evaluated N times against the loaded rules (best of
// five runs; the figure includes reading the clock for the throttle, as the
// agent does), then serialised N times with append_event_json.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "detect/detector.h"
#include "detect/rule_loader.h"
#include "events/event_json.h"

namespace {

using namespace bulkhead;  // NOLINT(google-build-using-namespace): a main
using Clock = std::chrono::steady_clock;

struct Case {
  const char* name;
  events::EventType type;
  nlohmann::json fields;
};

template <typename Body>
double best_ns_per_iteration(int iterations, Body body) {
  double best = 1e18;
  for (int run = 0; run < 5; ++run) {
    const auto start = Clock::now();
    for (int i = 0; i < iterations; ++i) {
      body();
    }
    const double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count();
    best = std::min(best, ns / iterations);
  }
  return best;
}

int run(int argc, char** argv) {
  std::string dir = "profiles/rules.d";
  int iterations = 200000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--iterations" && i + 1 < argc) {
      iterations = std::max(1, std::atoi(argv[++i]));
    } else {
      dir = a;
    }
  }
  auto loaded = detect::load_rule_dir(dir);
  if (!loaded.ok()) {
    (void)std::fprintf(stderr, "%s\n", loaded.errors_text().c_str());
    return 1;
  }
  detect::Detector detector(loaded.rules);

  events::Event e;
  e.time_ns = 1763922135000120000ULL;
  e.tenant = "alpha";
  e.workload = "web";
  e.process.pid = 4242;
  e.process.exe = "/usr/bin/python3";
  e.process.comm = "python3";
  e.process.args = {"python3", "-m", "http.server"};
  const std::vector<Case> cases = {
      {"file.open for writing",
       events::EventType::kFileOpen,
       {{"path", "/tmp/data/out.log"},
        {"flags", {"O_WRONLY", "O_CREAT", "O_TRUNC"}},
        {"mode", "0644"},
        {"syscall", "openat"},
        {"result", 3}}},
      {"process.exec of a file",
       events::EventType::kProcessExec,
       {{"filename", "/usr/bin/python3"}, {"fileless", false}, {"by_fd", false}}},
      {"process.exit, code 0",
       events::EventType::kProcessExit,
       {{"code", 0}, {"seccomp_kill", false}}},
      {"process.fork, no namespaces",
       events::EventType::kProcessFork,
       {{"child_pid", 5},
        {"syscall", "clone"},
        {"clone_flags", {"CLONE_VM", "CLONE_FS", "CLONE_FILES", "CLONE_SIGHAND", "CLONE_THREAD"}},
        {"namespaces", nlohmann::json::array()}}},
      {"network.deny (throttled)",
       events::EventType::kNetDeny,
       {{"hook", "connect4"}, {"verdict", "denied"}}},
      {"system.mount (raises an alert)",
       events::EventType::kMount,
       {{"source", "none"},
        {"target", "/mnt"},
        {"fstype", "tmpfs"},
        {"flags", {"MS_NOSUID"}},
        {"syscall", "mount"},
        {"result", -1},
        {"error", "EPERM"}}},
  };

  (void)std::printf("%zu rules from %s; %d iterations per case, best of 5\n",
                    loaded.rules->rules().size(), dir.c_str(), iterations);
  (void)std::printf("%-32s %12s %14s %10s %7s\n", "event", "rules ns/ev", "serialise ns/ev",
                    "ratio", "alerts");
  std::vector<events::Event> alerts;
  std::string line;
  for (const Case& c : cases) {
    e.type = c.type;
    e.fields = c.fields;
    size_t raised = 0;
    const double rules_ns = best_ns_per_iteration(iterations, [&] {
      detector.evaluate(e, Clock::now(), alerts);
      raised += alerts.size();
      alerts.clear();
    });
    const double json_ns = best_ns_per_iteration(iterations, [&] {
      line.clear();
      events::append_event_json(line, e, "node1");
    });
    (void)std::printf("%-32s %12.0f %14.0f %9.2fx %7s\n", c.name, rules_ns, json_ns,
                      rules_ns / json_ns, raised > 0 ? "yes" : "no");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {  // a rules file or JSON value the benchmark cannot use
    (void)std::fprintf(stderr, "detect_bench: %s\n", e.what());
    return 2;
  }
}
