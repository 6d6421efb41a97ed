// The kernel event reader's own cost per record, without a kernel: the
// RecordDecoder and ProcessTable turn hand-made records into Events on one
// thread, and a second thread destroys them, as the sink's writer thread does
// in the agent (so the allocator sees the same cross-thread frees). Prints the
// reader thread's CPU time per record (CLOCK_THREAD_CPUTIME_ID), the median of
// several rounds, for the record kinds the kernel benchmark and a typical
// tenant produce.
//
//   build/bench/record_decode_bench [--events N] [--rounds R]
#include <linux/types.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <time.h>

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "events.h"
#include "events/process_table.h"
#include "events/record_decoder.h"

namespace {

using bulkhead::events::Event;
using bulkhead::events::ProcessTable;
using bulkhead::events::RecordDecoder;
using bulkhead::events::TenantAttribution;

constexpr uint32_t kIdBase = 0x60000000;
constexpr pid_t kActingPid = 1004;

double thread_cpu_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// Destroys batches of events on its own thread; one batch in flight, so the
// reader waits (off CPU) rather than piling up memory if this falls behind.
class Disposer {
 public:
  Disposer() : thread_([this] { run(); }) {}
  ~Disposer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Disposer(const Disposer&) = delete;
  Disposer& operator=(const Disposer&) = delete;

  void hand_over(std::vector<Event>& batch) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return pending_.empty(); });
    pending_.swap(batch);
    cv_.notify_all();
  }

 private:
  void run() {
    std::vector<Event> mine;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || !pending_.empty(); });
        if (pending_.empty()) {
          return;
        }
        mine.swap(pending_);
      }
      cv_.notify_all();
      mine.clear();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Event> pending_;
  bool stop_ = false;
  std::thread thread_;
};

void fill_header(bh_event_header& h, uint16_t kind, uint16_t type) {
  h.boot_ns = 1000;
  h.workload_cgroup = 777;
  h.tenant_slot = 3;
  h.kind = kind;
  h.type = type;
  h.pid = static_cast<uint32_t>(kActingPid);
  h.tid = static_cast<uint32_t>(kActingPid);
  h.ppid = static_cast<uint32_t>(kActingPid - 1);
  h.uid = kIdBase + 1000;
  h.euid = kIdBase + 1000;
  h.gid = kIdBase + 1000;
  h.egid = kIdBase + 1000;
  (void)std::snprintf(h.comm, sizeof(h.comm), "%s", "syscall_loop");
}

struct Record {
  const char* name;
  std::vector<uint64_t> storage;  // aligned bytes
  size_t size;
};

// As the kernel sends them: cut after the last used byte of the paths.
Record syscall_record(const char* name, long nr, uint16_t type, int64_t ret, const char* path,
                      uint64_t open_flags) {
  Record r{name, std::vector<uint64_t>((sizeof(bh_syscall_record) + 7) / 8), 0};
  auto* rec = reinterpret_cast<bh_syscall_record*>(r.storage.data());
  fill_header(rec->h, BH_REC_SYSCALL, type);
  rec->nr = nr;
  rec->ret = ret;
  rec->args[0] = static_cast<uint64_t>(-100);  // AT_FDCWD
  rec->args[2] = open_flags;                   // openat's; unlink has none
  rec->args[3] = 0644;
  (void)std::snprintf(rec->path[0], sizeof(rec->path[0]), "%s", path);
  r.size = offsetof(bh_syscall_record, path) + std::strlen(path) + 1;
  return r;
}

// A chain of 5 processes, each exec'd: the acting one has 4 ancestors.
void seed_processes(ProcessTable& table) {
  const std::string exe = "/usr/local/lib/workload/bin/syscall_loop";
  for (pid_t pid = kActingPid - 4; pid <= kActingPid; ++pid) {
    table.on_fork(pid - 1, pid, "syscall_loop");
    table.on_exec(pid, pid - 1, 100 + static_cast<uint64_t>(pid), exe, "syscall_loop");
  }
}

double measure(const Record& record, size_t events) {
  ProcessTable table;
  seed_processes(table);
  RecordDecoder decoder(table);
  decoder.set_tenant(3, TenantAttribution{"bench", {kIdBase, 65536}});
  decoder.set_workload(777, "gen0");
  Disposer disposer;
  constexpr size_t kBatch = 256;
  std::vector<Event> batch;
  batch.reserve(kBatch);
  const double start = thread_cpu_ns();
  for (size_t i = 0; i < events; ++i) {
    auto e = decoder.decode(record.storage.data(), record.size);
    if (!e.ok()) {
      (void)std::fprintf(stderr, "%s: %s\n", record.name, e.error().to_string().c_str());
      std::exit(1);
    }
    batch.push_back(std::move(e).value());
    if (batch.size() == kBatch) {
      disposer.hand_over(batch);
      batch.reserve(kBatch);
    }
  }
  const double spent = thread_cpu_ns() - start;
  return spent / static_cast<double>(events);
}

}  // namespace

int main(int argc, char** argv) {
  size_t events = 1000000;
  int rounds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--events") {
      events = std::strtoull(argv[i + 1], nullptr, 10);
    } else if (arg == "--rounds") {
      rounds = std::atoi(argv[i + 1]);
    } else {
      (void)std::fprintf(stderr, "usage: record_decode_bench [--events N] [--rounds R]\n");
      return 2;
    }
  }
  if (events == 0 || rounds <= 0) {
    (void)std::fprintf(stderr, "record_decode_bench: --events and --rounds must be positive\n");
    return 2;
  }
  const std::vector<Record> records = {
      syscall_record("unlink /tmp/missing, ENOENT", SYS_unlink, BH_EV_FILE_UNLINK, -2,
                     "/tmp/missing", 0),
      syscall_record("openat (write) of a 40-byte path", SYS_openat, BH_EV_FILE_OPEN, 3,
                     "/var/lib/workload/data/cache/entry-00042", 01 | 0100 | 01000),
  };
  (void)std::printf("reader CPU per record (median of %d rounds of %zu records)\n", rounds, events);
  for (const auto& record : records) {
    std::vector<double> ns;
    ns.reserve(static_cast<size_t>(rounds));
    for (int r = 0; r < rounds; ++r) {
      ns.push_back(measure(record, events));
    }
    std::sort(ns.begin(), ns.end());
    (void)std::printf("  %-36s %7.0f ns\n", record.name, ns[ns.size() / 2]);
  }
  return 0;
}
