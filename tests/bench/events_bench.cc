// Event output throughput: a synthetic source publishes exec events into an
// EventBus at a controlled rate for a few seconds per step; one JSON-lines
// file sink writes them. For every rate: what the source achieved, the cost
// of publish(), and what the sink wrote and dropped. The highest rate with
// zero drops is the figure; the steps above it show what happens then.
//
// Peers in the same run, single-threaded and unlimited:
// - naive: per event, build an nlohmann::json object and fprintf its dump()
//   (what a straightforward agent would do, on the publishing thread);
// - our serialiser alone (append_event_json into a buffer, written in 64 KiB
//   chunks), to show where the sink's time goes.
//
//   build/bench/events_bench [--seconds S] [--dir DIR] [--rates R1,R2,...] [--no-peers]
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "events/event_bus.h"
#include "events/event_json.h"

namespace {

using namespace bulkhead;  // NOLINT(google-build-using-namespace): a main
using Clock = std::chrono::steady_clock;
using nlohmann::json;

events::Event sample_event() {
  events::Event e;
  e.type = events::EventType::kProcessExec;
  e.tenant = "alpha";
  e.workload = "web";
  e.process.pid = 48213;
  e.process.tid = 48213;
  e.process.ppid = 48190;
  e.process.exec_id = 0x1d2c3b4a59687766ULL;
  e.process.parent_exec_id = 0x1d2c3b4a59687700ULL;
  e.process.comm = "python3";
  e.process.exe = "/usr/bin/python3.11";
  e.process.args = {"python3", "-m", "http.server", "--bind", "0.0.0.0", "8080"};
  e.process.cwd = "/data";
  e.process.uid = e.process.euid = 1879113728;
  e.process.gid = e.process.egid = 1879113728;
  e.process.uid_inside = e.process.euid_inside = 1000;
  e.process.gid_inside = e.process.egid_inside = 1000;
  e.fields = {{"filename", "/usr/bin/python3.11"}, {"flags", json::array({"O_RDONLY"})}};
  return e;
}

uint64_t now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

struct Step {
  double target = 0;  // events/s; 0 = as fast as the source can
  double achieved = 0;
  double publish_ns = 0;  // mean cost of one publish(), event construction excluded
  uint64_t published = 0;
  uint64_t written = 0;
  uint64_t dropped = 0;
  double drain_ms = 0;   // after the source stopped, until the sink had written everything
  double cpu_ns = 0;     // process CPU time per published event: source, bus and sink together
  double writer_ns = 0;  // the sink's writer thread: CPU time per written event
};

double process_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

Step run_step(double rate, double seconds, const std::string& path) {
  std::filesystem::remove(path);
  auto spec = events::parse_sink_spec("file:" + path + ",max=4Gi,keep=0");
  auto bus = events::EventBus::create(events::BusOptions{"bench-host", 0}, {*spec});
  if (!bus.ok()) {
    (void)std::fprintf(stderr, "%s\n", bus.error().to_string().c_str());
    std::exit(1);
  }
  const events::Event proto = sample_event();
  Step s;
  s.target = rate;
  constexpr int kChunk = 64;
  const double cpu_start = process_cpu_ns();
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  Clock::duration in_publish{0};
  uint64_t n = 0;
  for (;;) {
    const auto now = Clock::now();
    if (now >= end) {
      break;
    }
    if (rate > 0) {
      // Paced: event n is due at start + n / rate.
      const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                   std::chrono::duration<double>(static_cast<double>(n) / rate));
      if (due > now) {
        // Sleep, never spin: on two cores a spinning source would take the
        // writer's CPU and the figure would measure the benchmark.
        std::this_thread::sleep_for(due - now);
        continue;
      }
    }
    // What a decoder hands over: fresh events (built outside the timed part).
    std::vector<events::Event> chunk(kChunk, proto);
    for (auto& e : chunk) {
      e.process.pid = static_cast<pid_t>(n++);
    }
    const auto t0 = Clock::now();
    for (auto& e : chunk) {
      (*bus)->publish(std::move(e));  // time_ns 0: the bus stamps it
    }
    in_publish += Clock::now() - t0;
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const auto drain_start = Clock::now();
  (void)(*bus)->wait_idle(std::chrono::seconds(60));
  s.drain_ms = std::chrono::duration<double, std::milli>(Clock::now() - drain_start).count();
  s.cpu_ns = (process_cpu_ns() - cpu_start) / static_cast<double>(std::max<uint64_t>(n, 1));
  auto st = (*bus)->stats();
  s.published = st.published;
  s.achieved = static_cast<double>(n) / elapsed;
  s.publish_ns = std::chrono::duration<double, std::nano>(in_publish).count() /
                 static_cast<double>(std::max<uint64_t>(n, 1));
  s.written = st.sinks[0].written;
  s.dropped = st.sinks[0].dropped + st.sinks[0].failed;
  s.writer_ns = static_cast<double>(st.sinks[0].cpu_ns) /
                static_cast<double>(std::max<uint64_t>(s.written, 1));
  bus->reset();
  std::filesystem::remove(path);
  return s;
}

// Events per second a single thread gets through `body` for `seconds`.
template <typename Body>
double single_thread_rate(double seconds, Body body) {
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  uint64_t n = 0;
  while (Clock::now() < end) {
    for (int i = 0; i < 256; ++i) {
      body(n++);
    }
  }
  return static_cast<double>(n) / std::chrono::duration<double>(Clock::now() - start).count();
}

double naive_rate(double seconds, const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "w");
  const events::Event proto = sample_event();
  double r = single_thread_rate(seconds, [&](uint64_t n) {
    events::Event e = proto;
    e.time_ns = now_ns();
    e.process.pid = static_cast<pid_t>(n);
    json j{{"schema", events::kEventSchemaVersion},
           {"time", events::format_rfc3339(e.time_ns)},
           {"host", "bench-host"},
           {"type", events::type_name(e.type)},
           {"tenant", e.tenant},
           {"workload", e.workload},
           {"process",
            {{"pid", e.process.pid},
             {"tid", e.process.tid},
             {"ppid", e.process.ppid},
             {"exec_id", std::to_string(e.process.exec_id)},
             {"parent_exec_id", std::to_string(e.process.parent_exec_id)},
             {"comm", e.process.comm},
             {"exe", e.process.exe},
             {"args", e.process.args},
             {"cwd", e.process.cwd},
             {"uid", e.process.uid},
             {"gid", e.process.gid},
             {"euid", e.process.euid},
             {"egid", e.process.egid},
             {"inside",
              {{"uid", *e.process.uid_inside},
               {"gid", *e.process.gid_inside},
               {"euid", *e.process.euid_inside},
               {"egid", *e.process.egid_inside}}}}},
           {"fields", e.fields}};
    (void)std::fprintf(f, "%s\n", j.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
  });
  (void)std::fclose(f);
  std::filesystem::remove(path);
  return r;
}

double serialiser_rate(double seconds, const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "w");
  const events::Event proto = sample_event();
  std::string buf;
  double r = single_thread_rate(seconds, [&](uint64_t n) {
    events::Event e = proto;
    e.time_ns = now_ns();
    e.process.pid = static_cast<pid_t>(n);
    events::append_event_json(buf, e, "bench-host");
    buf.push_back('\n');
    if (buf.size() >= size_t{64} * 1024) {
      (void)std::fwrite(buf.data(), 1, buf.size(), f);
      buf.clear();
    }
  });
  (void)std::fclose(f);
  std::filesystem::remove(path);
  return r;
}

std::vector<double> parse_rates(const std::string& text) {
  std::vector<double> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    out.push_back(std::stod(text.substr(start, comma - start)));
    if (comma == std::string::npos) {
      break;
    }
    start = comma + 1;
  }
  return out;
}

int run(int argc, char** argv) {
  double seconds = 3;
  std::string dir = "/var/tmp";
  std::vector<double> rates = {100000, 200000, 300000, 400000, 500000, 600000, 800000, 0};
  bool peers = true;
  for (int i = 1; i < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--no-peers") {
      peers = false;
      --i;
    } else if (i + 1 >= argc) {
      (void)std::fprintf(stderr, "%s needs a value\n", a.c_str());
      return 2;
    } else if (a == "--seconds") {
      seconds = std::stod(argv[i + 1]);
    } else if (a == "--dir") {
      dir = argv[i + 1];
    } else if (a == "--rates") {
      rates = parse_rates(argv[i + 1]);
    } else {
      (void)std::fprintf(
          stderr, "usage: events_bench [--seconds S] [--dir DIR] [--rates R,...] [--no-peers]\n");
      return 2;
    }
  }
  const std::string path = dir + "/bulkhead-events-bench-" + std::to_string(::getpid()) + ".jsonl";
  const size_t line = events::event_json_line(sample_event(), "bench-host").size();
  std::printf("event line: %zu bytes; sink: file in %s; queue 65536; %.1fs per step\n\n", line,
              dir.c_str(), seconds);
  double load[3] = {0, 0, 0};
  (void)::getloadavg(load, 3);
  std::printf("load average at start: %.2f %.2f %.2f (2 cores)\n\n", load[0], load[1], load[2]);
  std::printf("%12s %12s %11s %12s %12s %9s %9s %10s %10s\n", "target/s", "achieved/s",
              "publish ns", "written", "dropped", "drop %", "drain ms", "CPU ns/ev", "writer ns");
  double best = 0;
  for (double rate : rates) {
    Step s = run_step(rate, seconds, path);
    const double pct =
        s.published > 0 ? 100.0 * static_cast<double>(s.dropped) / static_cast<double>(s.published)
                        : 0;
    std::printf("%12s %12.0f %11.0f %12llu %12llu %8.2f%% %9.1f %10.0f %10.0f\n",
                rate > 0 ? std::to_string(static_cast<long>(rate)).c_str() : "unlimited",
                s.achieved, s.publish_ns, static_cast<unsigned long long>(s.written),
                static_cast<unsigned long long>(s.dropped), pct, s.drain_ms, s.cpu_ns, s.writer_ns);
    (void)std::fflush(stdout);
    if (s.dropped == 0 && s.achieved > best) {
      best = s.achieved;
    }
  }
  std::printf("\nhighest rate with zero drops: %.0f events/s\n", best);
  if (!peers) {
    return 0;
  }
  const double naive = naive_rate(seconds, path);
  const double ours = serialiser_rate(seconds, path);
  std::printf("\nsingle thread, unlimited, same events, written to a file in %s:\n", dir.c_str());
  std::printf("  naive (nlohmann::json object + fprintf per event): %10.0f events/s\n", naive);
  std::printf("  bulkhead serialiser (append_event_json, 64 KiB writes): %10.0f events/s\n", ours);
  std::printf("\nratios: zero-drop bus rate / naive = %.2fx; serialiser / naive = %.2fx\n",
              best / naive, ours / naive);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {  // a malformed number in the arguments
    (void)std::fprintf(stderr, "events_bench: %s\n", e.what());
    return 2;
  }
}
