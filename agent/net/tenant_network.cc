#include "net/tenant_network.h"

namespace bulkhead::net {

config::NetworkSpec effective_network(const config::Profile& profile) {
  config::NetworkSpec spec = profile.network;
  if (!profile.namespaces.net) {
    spec.mode = config::NetworkMode::kHost;
  }
  return spec;
}

Result<std::unique_ptr<TenantNetPolicy>> attach_tenant_network(const config::Profile& profile,
                                                               const std::string& cgroup_dir,
                                                               const std::string& pin_root,
                                                               const PolicyContext& context) {
  auto compiled = compile_policy(effective_network(profile), context);
  if (!compiled.ok()) {
    return compiled.error().context(profile.source_file);
  }
  TenantPolicyOptions options;
  options.tenant = profile.name;
  options.cgroup_dir = cgroup_dir;
  options.pin_root = pin_root;
  return TenantNetPolicy::attach(options, *compiled);
}

Status replace_tenant_network(TenantNetPolicy& policy, const config::Profile& profile,
                              const PolicyContext& context) {
  auto compiled = compile_policy(effective_network(profile), context);
  if (!compiled.ok()) {
    return compiled.error().context(profile.source_file);
  }
  BULKHEAD_TRY_CTX(policy.replace(*compiled), "network policy of tenant " + profile.name);
  return {};
}

nlohmann::json counters_to_json(const NetCounters& counters) {
  nlohmann::json out = nlohmann::json::object();
  for (int hook = 0; hook < BH_HOOK_COUNT; ++hook) {
    const HookCounters& h = counters.hooks[static_cast<size_t>(hook)];
    out[hook_name(hook)] = {{"allowed", h.allowed}, {"denied", h.denied}};
  }
  return out;
}

}  // namespace bulkhead::net
