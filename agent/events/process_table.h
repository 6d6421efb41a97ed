// The agent's view of live processes, built from exec/fork/exit events and
// seeded from /proc at start for processes that already exist: gives every
// event its exec ids, exe and ancestry without the kernel walking parents.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "events/event.h"

namespace bulkhead::events {

struct ProcessEntry {
  pid_t pid = 0;
  pid_t ppid = 0;
  uint64_t exec_id = 0;         // of the image the process runs (inherited at fork)
  uint64_t parent_exec_id = 0;  // of the parent's image when this one started
  std::string exe;
  std::string comm;
};

class ProcessTable {
 public:
  // Ancestry stops after this many parents (a bound, and enough to see who
  // started a workload's shell).
  static constexpr size_t kMaxAncestry = 16;
  // More entries than this means exits were lost (ring buffer drops): entries
  // of processes /proc no longer has are then pruned.
  static constexpr size_t kPruneAbove = 65536;

  // Adds every process /proc lists (pid, ppid, comm, exe, exec id from the
  // start time). Unreadable entries (a process that just exited) are skipped.
  Status seed_from_proc(const std::string& proc = "/proc");

  // A successful exec: a new exec id; the parent's id becomes parent_exec_id.
  const ProcessEntry& on_exec(pid_t pid, pid_t ppid, uint64_t exec_id, std::string exe,
                              std::string comm);
  // A new process: runs its parent's image, so it inherits its exec id.
  const ProcessEntry& on_fork(pid_t parent, pid_t child, const std::string& comm);
  void on_exit(pid_t pid);

  // nullptr when unknown.
  [[nodiscard]] const ProcessEntry* find(pid_t pid) const;
  // Exec ids of the parents, nearest first, bounded by kMaxAncestry; a cycle or
  // an unknown parent ends it.
  [[nodiscard]] std::vector<uint64_t> ancestry(pid_t pid) const;
  // Fills exec_id, parent_exec_id, exe, ancestry (and ppid, comm if empty).
  void annotate(ProcessInfo& info) const;

  [[nodiscard]] size_t size() const { return entries_.size(); }

  // The exec id given to a process found in /proc: its start time (clock ticks
  // since boot, /proc/<pid>/stat field 22) in nanoseconds, plus the pid so two
  // processes started in one tick differ. Exec events use the boot-clock time
  // of the exec, the same scale.
  static uint64_t seeded_exec_id(uint64_t start_ticks, long ticks_per_second, pid_t pid);

 private:
  // ancestry() of a process whose entry was already looked up (may be null).
  [[nodiscard]] std::vector<uint64_t> ancestry_from(pid_t pid, const ProcessEntry* e) const;
  void prune();
  std::unordered_map<pid_t, ProcessEntry> entries_;
};

namespace detail {
// Fields of /proc/<pid>/stat: comm (between the outer parentheses), ppid and
// starttime. False if the text does not parse.
bool parse_proc_stat(const std::string& text, std::string* comm, pid_t* ppid,
                     uint64_t* start_ticks);
}  // namespace detail

}  // namespace bulkhead::events
