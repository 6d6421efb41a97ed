// The eBPF network boundary of one tenant: bpf/net_policy.bpf.c loaded once per
// tenant, its programs attached with bpf_link to the tenant's cgroup2
// directory, links and maps pinned under <pin_root>/<tenant>/ so enforcement
// outlives the agent. On start, pins left by a previous agent are adopted: the
// maps are reused (counters and the current policy stay) and each pinned link
// is moved to the new program with bpf_link_update, never detached first.
//
// Fail closed: the policy is installed before any program is attached, a hook
// that cannot attach fails the whole call (links made so far are removed) and
// the error names the hook. Until a policy is installed the programs deny all.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "events/event.h"
#include "net/policy_compiler.h"

namespace bulkhead::net {

inline constexpr const char* kDefaultPinRoot = "/sys/fs/bpf/bulkhead";

struct TenantPolicyOptions {
  std::string tenant;      // names the pin directory and the events
  std::string cgroup_dir;  // the tenant's cgroup2 directory; programs cover its subtree
  // Pins go to <pin_root>/<tenant>/; must be on a bpffs (mounted at
  // /sys/fs/bpf first if the root is below it).
  std::string pin_root = kDefaultPinRoot;
  uint32_t deny_events_per_sec = 20;  // deny record token bucket
  uint32_t deny_events_burst = 40;
};

struct HookCounters {
  uint64_t allowed = 0;
  uint64_t denied = 0;
};

// Per hook, summed over CPUs; index = bh_net_hook.
struct NetCounters {
  std::array<HookCounters, BH_HOOK_COUNT> hooks{};
};

// "connect4", "skb_ingress", ... (the names used in events, the API and docs).
const char* hook_name(int hook);

// Maps a workload's cgroup2 id to its name; "" when unknown.
using WorkloadResolver = std::function<std::string(uint64_t cgroup_id)>;

class TenantNetPolicy {
 public:
  static Result<std::unique_ptr<TenantNetPolicy>> attach(const TenantPolicyOptions& options,
                                                         const CompiledPolicy& policy);
  // Detaches every hook and removes the pins.
  ~TenantNetPolicy();
  TenantNetPolicy(const TenantNetPolicy&) = delete;
  TenantNetPolicy& operator=(const TenantNetPolicy&) = delete;

  // Builds the new trie completely, then swaps it into the policy slot in one
  // map update: every hook sees either the old or the new policy.
  Status replace(const CompiledPolicy& policy);

  [[nodiscard]] Result<NetCounters> counters() const;

  // Deny records: the fd to watch (epoll) and the call that decodes what is
  // ready into kNetDeny events. `timeout_ms` 0 = do not wait.
  [[nodiscard]] int deny_events_fd() const;
  Result<int> poll_deny_events(const events::EventHandler& handler, int timeout_ms,
                               const WorkloadResolver& resolve = {});

  // True when pins of a previous agent were found and taken over.
  [[nodiscard]] bool adopted() const;
  [[nodiscard]] const std::string& pin_dir() const;

  struct Impl;

 private:
  explicit TenantNetPolicy(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bulkhead::net
