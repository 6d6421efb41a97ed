#include "net/network_host.h"

namespace bulkhead::net {

Result<std::unique_ptr<NetworkHost>> NetworkHost::open(const NetworkHostConfig& config) {
  // The host end of each veth is named <bridge>v<index>, which must fit IFNAMSIZ.
  const uint64_t largest_index = (uint64_t{1} << (32 - config.pool.ipv4.prefix_len)) - 2;
  const std::string longest = config.bridge + "v" + std::to_string(largest_index);
  if (!is_valid_link_name(config.bridge) || !is_valid_link_name(longest)) {
    return make_error("bridge name \"" + config.bridge +
                      "\" is not a valid link name or too long for this pool: its veth names "
                      "(like " +
                      longest + ") must fit in 15 characters");
  }
  auto pool = AddressPool::open(config.pool, config.state_file);
  if (!pool.ok()) {
    return pool.error();
  }
  std::unique_ptr<NetworkHost> host(new NetworkHost());
  host->config_ = config;
  host->pool_ = std::move(*pool);
  return host;
}

Result<std::unique_ptr<TenantNetwork>> NetworkHost::attach(const std::string& tenant,
                                                           config::NetworkMode mode, int netns_fd) {
  auto net = std::make_unique<TenantNetwork>();
  net->mode = mode;
  if (mode != config::NetworkMode::kIsolated) {
    return net;
  }
  if (netns_fd < 0) {
    return make_error("isolated network mode needs the tenant's own network namespace");
  }
  auto addresses = pool_->acquire(tenant);
  if (!addresses.ok()) {
    return addresses.error();
  }
  std::shared_ptr<HostBridge> bridge = bridge_.lock();
  if (!bridge) {
    auto made = HostBridge::ensure(config_.bridge, pool_->gateway());
    if (!made.ok()) {
      return made.error().context("bridge " + config_.bridge);
    }
    bridge = std::move(*made);
    bridge_ = bridge;
  }
  std::string host_name = config_.bridge + "v" + std::to_string(addresses->index);
  auto link = TenantLink::create(bridge, host_name, netns_fd, *addresses);
  if (!link.ok()) {
    return link.error();
  }
  net->addresses = *addresses;
  net->link = std::move(*link);
  return net;
}

}  // namespace bulkhead::net
