// The veth pair of one `isolated` tenant: the host end (named after the bridge
// and the tenant's address index, e.g. "bh0v2") is an isolated port of the
// agent's bridge; the other end is created directly inside the tenant's
// network namespace as eth0, with the tenant's addresses (/32 and /128) and a
// default route through the bridge's address.
//
// On the host side the port is locked down (isolated, no MAC learning, no
// unknown-unicast flooding) with a static FDB entry for the tenant's MAC, and
// the tenant's addresses get permanent neighbour entries on the bridge, so a
// tenant cannot take over another tenant's address or MAC at layer 2 even
// with CAP_NET_ADMIN or CAP_NET_RAW inside its namespace.
//
// Single-host-prefix addresses make every packet, even one to another tenant
// of the same pool, go to the gateway: with the bridge ports isolated, layer 2
// offers no path between tenants, so all their traffic crosses the host's
// routing and the eBPF policy there.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "net/address_pool.h"
#include "net/host_bridge.h"

namespace bulkhead::net {

class TenantLink {
 public:
  // On failure, whatever was created is removed again.
  static Result<std::unique_ptr<TenantLink>> create(std::shared_ptr<HostBridge> bridge,
                                                    const std::string& host_name, int netns_fd,
                                                    const TenantAddresses& addresses);
  // Deletes the host end; the kernel deletes the tenant end with it.
  ~TenantLink();
  TenantLink(const TenantLink&) = delete;
  TenantLink& operator=(const TenantLink&) = delete;

  [[nodiscard]] const std::string& host_name() const { return host_name_; }
  [[nodiscard]] const TenantAddresses& addresses() const { return addresses_; }

 private:
  TenantLink() = default;
  std::shared_ptr<HostBridge> bridge_;  // kept alive while a port is on it
  std::string host_name_;
  TenantAddresses addresses_;
};

// The tenant's interface name inside its namespace.
inline constexpr const char* kTenantInterface = "eth0";

}  // namespace bulkhead::net
