#include <spdlog/spdlog.h>

#include <chrono>
#include <string>
#include <thread>

#include "cgroup/nodes.h"
#include "cgroup/tree.h"
#include "common/file_util.h"
#include "common/scope_exit.h"

namespace bulkhead::cgroup {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kDestroyTimeout = std::chrono::seconds(2);
constexpr auto kPollInterval = std::chrono::milliseconds(5);
constexpr auto kReKillInterval = std::chrono::milliseconds(200);
constexpr int kSignalRounds = 200;  // kill_all_by_signal: at most ~1 s

}  // namespace

WorkloadCgroup::WorkloadCgroup(std::shared_ptr<detail::TenantNode> tenant, detail::CgroupDir v2,
                               uint64_t v2_id, std::vector<detail::CgroupDir> v1,
                               std::vector<detail::CgroupDir> v1_shared)
    : tenant_(std::move(tenant)),
      v2_(std::move(v2)),
      v2_id_(v2_id),
      v1_(std::move(v1)),
      v1_shared_(std::move(v1_shared)) {}

std::vector<std::string> WorkloadCgroup::v1_paths() const {
  std::vector<std::string> out;
  for (const auto& d : v1_) {
    out.push_back(d.path);
  }
  return out;
}

Status WorkloadCgroup::attach(pid_t pid) {
  BULKHEAD_TRY_CTX(write_file_at(v2_.fd.get(), "cgroup.procs", std::to_string(pid)),
                   "attaching pid " + std::to_string(pid) + " to " + v2_.path);
  return attach_v1_only(pid);
}

Status WorkloadCgroup::attach_v1_only(pid_t pid) {
  for (const auto* dirs : {&v1_, &v1_shared_}) {
    for (const auto& d : *dirs) {
      BULKHEAD_TRY_CTX(write_file_at(d.fd.get(), "cgroup.procs", std::to_string(pid)),
                       "attaching pid " + std::to_string(pid) + " to " + d.path);
    }
  }
  return {};
}

Result<bool> WorkloadCgroup::populated() const {
  return detail::read_populated(v2_.fd.get(), v2_.path);
}

Result<bool> WorkloadCgroup::empty_everywhere() const {
  auto populated_v2 = populated();
  if (!populated_v2) {
    return populated_v2.error();
  }
  if (*populated_v2) {
    return false;
  }
  for (const auto& d : v1_) {
    auto pids = detail::read_procs(d.fd.get(), d.path);
    if (!pids) {
      return pids.error();
    }
    if (!pids->empty()) {
      return false;
    }
  }
  return true;
}

Status WorkloadCgroup::kill_all() {
  Status st = write_file_at(v2_.fd.get(), "cgroup.kill", "1");
  if (!st) {
    if (st.error().code == ENOENT) {
      return kill_all_by_signal();  // kernel < 5.14
    }
    return st.error().context("killing the processes of " + v2_.path);
  }
  // Every process attached by the agent is in cgroup2; a process listed only in a
  // v1 directory would be an anomaly, but it must not survive either.
  for (const auto& d : v1_) {
    auto listed = detail::kill_listed_procs(d.fd.get(), d.path);
    if (!listed) {
      return listed.error().context("killing the processes of " + d.path);
    }
  }
  return {};
}

Status WorkloadCgroup::kill_all_by_signal() {
  // A frozen group cannot fork while it is being killed (SIGKILL still ends
  // frozen processes). cgroup.freeze exists since Linux 5.2.
  const bool frozen = write_file_at(v2_.fd.get(), "cgroup.freeze", "1").ok();
  ScopeExit thaw([&] {
    if (frozen) {
      (void)write_file_at(v2_.fd.get(), "cgroup.freeze", "0");
    }
  });
  for (int round = 0; round < kSignalRounds; ++round) {
    auto listed = detail::kill_listed_procs(v2_.fd.get(), v2_.path);
    if (!listed) {
      return listed.error().context("killing the processes of " + v2_.path);
    }
    size_t total = *listed;
    for (const auto& d : v1_) {
      auto more = detail::kill_listed_procs(d.fd.get(), d.path);
      if (!more) {
        return more.error().context("killing the processes of " + d.path);
      }
      total += *more;
    }
    if (total == 0) {
      return {};
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  return Error{EBUSY, "processes still listed in " + v2_.path + " after " +
                          std::to_string(kSignalRounds) + " rounds of SIGKILL"};
}

WorkloadCgroup::~WorkloadCgroup() {
  const auto deadline = Clock::now() + kDestroyTimeout;
  auto next_kill = Clock::now();
  for (;;) {
    auto empty = empty_everywhere();
    if (!empty) {
      spdlog::error("cgroup: workload {}: {}", v2_.path, empty.error().to_string());
      break;
    }
    if (*empty) {
      break;
    }
    const auto now = Clock::now();
    if (now >= deadline) {
      spdlog::error("cgroup: workload {} still has processes after {} s", v2_.path,
                    std::chrono::duration_cast<std::chrono::seconds>(kDestroyTimeout).count());
      break;
    }
    if (now >= next_kill) {
      if (Status st = kill_all(); !st) {
        spdlog::error("cgroup: {}", st.error().to_string());
      }
      next_kill = now + kReKillInterval;
    }
    std::this_thread::sleep_for(kPollInterval);
  }

  auto remove = [&deadline](const std::string& path) {
    for (;;) {
      Status st = detail::remove_dir(path);
      if (st || st.error().code != EBUSY || Clock::now() >= deadline) {
        if (!st) {
          spdlog::error("cgroup: cannot remove workload cgroup: {}", st.error().to_string());
        }
        return;
      }
      std::this_thread::sleep_for(kPollInterval);
    }
  };
  for (auto it = v1_.rbegin(); it != v1_.rend(); ++it) {
    remove(it->path);
  }
  remove(v2_.path);
}

}  // namespace bulkhead::cgroup
