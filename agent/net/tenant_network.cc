#include "net/tenant_network.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "config/cidr.h"
#include "net/network_host.h"

namespace bulkhead::net {

config::NetworkSpec effective_network(const config::Profile& profile) {
  config::NetworkSpec spec = profile.network;
  if (!profile.namespaces.net) {
    spec.mode = config::NetworkMode::kHost;
  }
  return spec;
}

std::vector<config::Cidr> host_addresses() {
  std::vector<config::Cidr> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    return out;
  }
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr) {
      continue;
    }
    config::Cidr c;
    if (a->ifa_addr->sa_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
      c.family = AF_INET;
      std::memcpy(c.addr.data(), &sin->sin_addr, 4);
      c.prefix_len = 32;
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(a->ifa_addr);
      c.family = AF_INET6;
      std::memcpy(c.addr.data(), &sin6->sin6_addr, 16);
      c.prefix_len = 128;
    } else {
      continue;
    }
    if (std::find(out.begin(), out.end(), c) == out.end()) {
      out.push_back(c);
    }
  }
  ::freeifaddrs(list);
  return out;
}

namespace {

PolicyContext with_host_addresses(PolicyContext context) {
  auto host = protected_host_addresses(host_addresses());
  context.protected_ranges.insert(context.protected_ranges.end(), host.begin(), host.end());
  return context;
}

}  // namespace

std::vector<config::Cidr> protected_host_addresses(const std::vector<config::Cidr>& host) {
  std::vector<config::Cidr> out;
  for (const auto& c : host) {
    // In its own netns a tenant's loopback is its own (and already allowed);
    // in host mode loopback is protected by the built-in ranges anyway.
    if (!config::is_loopback(c)) {
      out.push_back(c);
    }
  }
  return out;
}

Result<std::unique_ptr<TenantNetPolicy>> attach_tenant_network(const config::Profile& profile,
                                                               const std::string& cgroup_dir,
                                                               const std::string& pin_root,
                                                               const PolicyContext& context) {
  const config::NetworkSpec spec = effective_network(profile);
  auto compiled = compile_policy(spec, with_host_addresses(context));
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
  const config::NetworkSpec spec = effective_network(profile);
  auto compiled = compile_policy(spec, with_host_addresses(context));
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

PolicyContext tenant_policy_context(const PolicyContext& base, const NetworkHost* host,
                                    const TenantNetwork& network) {
  PolicyContext c = base;
  auto single = [](const InterfaceAddress& a) {
    config::Cidr cidr;
    cidr.family = a.family;
    cidr.addr = a.addr;
    cidr.prefix_len = a.family == AF_INET ? 32 : 128;
    return cidr;
  };
  if (host != nullptr) {
    const PoolConfig& pool = host->config().pool;
    c.protected_ranges.push_back(pool.ipv4);
    if (pool.ipv6) {
      c.protected_ranges.push_back(*pool.ipv6);
    }
  }
  if (network.addresses) {
    c.own_addresses.push_back(single(network.addresses->ipv4));
    if (network.addresses->ipv6) {
      c.own_addresses.push_back(single(*network.addresses->ipv6));
    }
  }
  return c;
}

}  // namespace bulkhead::net
