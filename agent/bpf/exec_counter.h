// Loader of bpf/exec_count.bpf.c, the first program of the pipeline: counts
// successful execs in the cgroup2 directories it is told to track (tenants'
// workload cgroups). Untracked (host) processes cost one hash lookup per exec.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"

namespace bulkhead::bpf {

class ExecCounter {
 public:
  // Opens, loads and attaches exec_count. Needs root (CAP_BPF + CAP_PERFMON).
  static Result<std::unique_ptr<ExecCounter>> create();
  ~ExecCounter();
  ExecCounter(const ExecCounter&) = delete;
  ExecCounter& operator=(const ExecCounter&) = delete;

  // Starts counting at 0; tracking an already tracked id keeps its count.
  // E2BIG once BULKHEAD_MAX_TRACKED_CGROUPS ids are tracked.
  Status track(uint64_t cgroup_id);
  // Stops counting and forgets the count; untracking an unknown id is a no-op.
  Status untrack(uint64_t cgroup_id);
  // Execs since track(); ENOENT if the id is not tracked.
  Result<uint64_t> count(uint64_t cgroup_id) const;

 private:
  struct Impl;
  explicit ExecCounter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The id bpf_get_current_cgroup_id() reports for processes in `dir`, a
// directory of the cgroup2 (unified) hierarchy; EINVAL for a cgroup v1 path.
Result<uint64_t> cgroup2_id(const std::string& dir);

}  // namespace bulkhead::bpf
