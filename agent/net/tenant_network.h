// The agent's step from a tenant's profile to its kernel-enforced network
// policy: which mode applies, what is protected, and the JSON form of the
// counters for the API. Kept apart from ManagedTenant so the daemon's edits
// stay small.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/profile.h"
#include "net/policy_compiler.h"
#include "net/tenant_policy.h"

namespace bulkhead::net {

// The profile's network section as enforced: a tenant without its own network
// namespace (namespaces.net off) is judged as `host` mode whatever the
// section says, so the host's loopback stays protected.
config::NetworkSpec effective_network(const config::Profile& profile);

// The addresses of this network namespace's interfaces right now, each as a
// /32 or /128: in `host` mode they reach the host's own services (a server
// bound to 0.0.0.0 answers on every one of them), so they are protected like
// loopback. A snapshot: addresses added later are not covered until the next
// attach or reload.
std::vector<config::Cidr> host_addresses();

// What of `host` (the agent's netns addresses) a tenant must not reach unless
// granted, in every mode: from `isolated` mode the host's addresses (the
// bridge gateway among them) are one hop away, in `host` mode they are local.
// Loopback addresses are left out: in its own netns they are the tenant's
// own, and in host mode the built-in ranges cover them.
std::vector<config::Cidr> protected_host_addresses(const std::vector<config::Cidr>& host);

struct TenantNetwork;
class NetworkHost;

// `base` plus what only this tenant's network knows: the whole address pool
// of `host` (other tenants and the gateway) is protected, and the tenant's
// own addresses are its own, like its loopback. `host` may be null (no
// isolated tenants on this agent).
PolicyContext tenant_policy_context(const PolicyContext& base, const NetworkHost* host,
                                    const TenantNetwork& network);

// Compiles and attaches; the error names the tenant and the failing step. The
// host's addresses (protected_host_addresses of host_addresses()) are added
// to the protected ranges.
Result<std::unique_ptr<TenantNetPolicy>> attach_tenant_network(const config::Profile& profile,
                                                               const std::string& cgroup_dir,
                                                               const std::string& pin_root,
                                                               const PolicyContext& context);

// Compiles `profile`'s rules and swaps them in atomically; on error the
// running policy stays.
Status replace_tenant_network(TenantNetPolicy& policy, const config::Profile& profile,
                              const PolicyContext& context);

// {"connect4": {"allowed": n, "denied": m}, ...}
nlohmann::json counters_to_json(const NetCounters& counters);

}  // namespace bulkhead::net
