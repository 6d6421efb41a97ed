// The host bridge `isolated` tenants attach to (bh0 by default). The agent
// creates it when the first isolated tenant starts, gives it the pool's first
// addresses (the tenants' gateway), enables IPv4 forwarding on it so tenants
// can reach each other through the host's routing (where the eBPF policy
// applies), and removes it again when it is dropped, but only if this agent
// created it and no port is left on it. A bridge of that name that already
// exists is reused as it is, apart from adding the gateway addresses.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "net/address_pool.h"

namespace bulkhead::net {

class HostBridge {
 public:
  // `gateway` carries the bridge's addresses with the pool's prefix lengths.
  static Result<std::shared_ptr<HostBridge>> ensure(const std::string& name,
                                                    const TenantAddresses& gateway);
  ~HostBridge();
  HostBridge(const HostBridge&) = delete;
  HostBridge& operator=(const HostBridge&) = delete;

  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] int index() const { return index_; }
  [[nodiscard]] bool created() const { return created_; }
  [[nodiscard]] const TenantAddresses& gateway() const { return gateway_; }

 private:
  HostBridge() = default;
  std::string name_;
  int index_ = 0;
  bool created_ = false;
  TenantAddresses gateway_;
};

// Names of network links: at most 15 bytes (IFNAMSIZ - 1), no '/', ':' or
// whitespace, not "." or "..".
bool is_valid_link_name(const std::string& name);

}  // namespace bulkhead::net
