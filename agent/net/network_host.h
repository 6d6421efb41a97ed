// The agent's side of tenant networking: the address pool and the host bridge
// shared by `isolated` tenants, and the per-tenant setup for each mode.
//  - none:     nothing here; the tenant's namespace has loopback only.
//  - isolated: an address from the pool and a veth pair on the bridge (which
//              is created with the first isolated tenant and removed with the
//              last one, if the agent created it).
//  - host:     nothing here; the tenant has no network namespace of its own.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "config/profile.h"
#include "net/address_pool.h"
#include "net/host_bridge.h"
#include "net/tenant_link.h"

namespace bulkhead::net {

struct NetworkHostConfig {
  std::string bridge = "bh0";
  PoolConfig pool = default_pool_config();
  std::string state_file;  // the address assignments, e.g. /var/lib/bulkhead/addresses.json
};

// What a tenant's network is, for as long as the tenant exists.
struct TenantNetwork {
  config::NetworkMode mode = config::NetworkMode::kNone;
  std::optional<TenantAddresses> addresses;  // isolated only
  std::unique_ptr<TenantLink> link;          // isolated only
};

class NetworkHost {
 public:
  static Result<std::unique_ptr<NetworkHost>> open(const NetworkHostConfig& config);

  // Sets up the network of a tenant whose namespaces exist (netns_fd is -1 in
  // host mode). Isolated tenants keep the address they had before.
  Result<std::unique_ptr<TenantNetwork>> attach(const std::string& tenant, config::NetworkMode mode,
                                                int netns_fd);
  // The tenant is gone for good (its profile was removed): its address may be reused.
  Status forget(const std::string& tenant) { return pool_->release(tenant); }

  [[nodiscard]] const AddressPool& pool() const { return *pool_; }
  [[nodiscard]] const NetworkHostConfig& config() const { return config_; }

 private:
  NetworkHost() = default;
  NetworkHostConfig config_;
  std::unique_ptr<AddressPool> pool_;
  // Shared by the tenants' links; dropped (and removed if ours) with the last one.
  std::weak_ptr<HostBridge> bridge_;
};

}  // namespace bulkhead::net
