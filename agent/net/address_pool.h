// The addresses of `isolated` tenants: one IPv4 address per tenant from a pool
// the agent manages (10.200.0.0/16 unless configured), and optionally an IPv6
// address from a ULA prefix (fd00:b0b0::/64) with the same host index.
//
// The first address of the pool (10.200.0.1, fd00:b0b0::1) is the bridge's,
// the tenants' gateway. A tenant keeps its address across agent restarts and
// reloads (the assignments persist in a small JSON file, like the id ranges),
// so other tenants' rules and peers' caches stay valid; unlike an id range an
// address owns no files, so it is released when the tenant is removed and may
// later go to another tenant.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "config/profile.h"

namespace bulkhead::net {

// An interface address: the host's address and its subnet's prefix length.
struct InterfaceAddress {
  int family = 0;  // AF_INET or AF_INET6
  std::array<uint8_t, 16> addr{};
  uint8_t prefix_len = 0;
  bool operator==(const InterfaceAddress&) const = default;
  // "10.200.0.2"
  [[nodiscard]] std::string address() const;
  // "10.200.0.2/16"
  [[nodiscard]] std::string to_string() const;
};

struct PoolConfig {
  config::Cidr ipv4;                 // a /8 to /30
  std::optional<config::Cidr> ipv6;  // nullopt: IPv4 only
};

// 10.200.0.0/16 and fd00:b0b0::/64.
PoolConfig default_pool_config();
// "10.200.0.0/16" and "fd00:b0b0::/64" (or "" for no IPv6): parsed and checked.
Result<PoolConfig> parse_pool_config(const std::string& ipv4, const std::string& ipv6);

struct TenantAddresses {
  uint64_t index = 0;  // host index in the pool: 1 for the gateway, 2.. for tenants
  InterfaceAddress ipv4;
  std::optional<InterfaceAddress> ipv6;
  bool operator==(const TenantAddresses&) const = default;
};

class AddressPool {
 public:
  // Reads the state file (a missing file is an empty pool). An entry outside
  // the configured pool, or two tenants with one address, is an error naming
  // the file: a silent reassignment would hand a tenant's address to another.
  static Result<std::unique_ptr<AddressPool>> open(const PoolConfig& config,
                                                   const std::string& state_file);

  // The tenant's addresses, assigning the lowest free ones on first use (and
  // saving the state file before returning them).
  Result<TenantAddresses> acquire(const std::string& tenant);
  // Forgets the tenant's addresses; a tenant without any is not an error.
  Status release(const std::string& tenant);
  [[nodiscard]] std::optional<TenantAddresses> lookup(const std::string& tenant) const;

  // The bridge's addresses: the first host of each prefix.
  [[nodiscard]] const TenantAddresses& gateway() const { return gateway_; }
  [[nodiscard]] const PoolConfig& config() const { return config_; }

 private:
  AddressPool() = default;
  [[nodiscard]] TenantAddresses addresses_of(uint64_t index) const;
  Status save() const;

  PoolConfig config_;
  std::string state_file_;
  uint64_t capacity_ = 0;  // one past the highest usable host index
  TenantAddresses gateway_;
  std::map<std::string, uint64_t> assigned_;  // tenant -> host index (2.. for tenants)
};

}  // namespace bulkhead::net
