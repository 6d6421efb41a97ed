#include "net/tenant_link.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <vector>

#include "common/scope_exit.h"
#include "net/netlink.h"

namespace bulkhead::net {
namespace {

// The tenant side: address, link up, a link route to the gateway and the
// default route through it. Returns the MAC address of the tenant's eth0.
Result<MacAddress> configure_tenant_side(int netns_fd, const TenantAddresses& addresses,
                                         const TenantAddresses& gateway) {
  auto nl = NetlinkSocket::open_in(netns_fd);
  if (!nl.ok()) {
    return nl.error();
  }
  auto index = link_index(*nl, kTenantInterface);
  if (!index.ok()) {
    return index.error();
  }
  BULKHEAD_TRY(add_address(*nl, *index, addresses.ipv4, 32));
  if (addresses.ipv6) {
    BULKHEAD_TRY(add_address(*nl, *index, *addresses.ipv6, 128));
  }
  BULKHEAD_TRY(set_link_up(*nl, *index));
  BULKHEAD_TRY(add_route(*nl, *index, AF_INET, gateway.ipv4.addr, 32, nullptr));
  BULKHEAD_TRY(add_route(*nl, *index, AF_INET, {}, 0, &gateway.ipv4));
  if (addresses.ipv6 && gateway.ipv6) {
    BULKHEAD_TRY(add_route(*nl, *index, AF_INET6, gateway.ipv6->addr, 128, nullptr));
    BULKHEAD_TRY(add_route(*nl, *index, AF_INET6, {}, 0, &*gateway.ipv6));
  }
  return link_mac(*nl, *index);
}

// The tenant's addresses with permanent neighbour entries on the bridge.
std::vector<InterfaceAddress> pinned_addresses(const TenantAddresses& a) {
  std::vector<InterfaceAddress> out{a.ipv4};
  if (a.ipv6) {
    out.push_back(*a.ipv6);
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<TenantLink>> TenantLink::create(std::shared_ptr<HostBridge> bridge,
                                                       const std::string& host_name, int netns_fd,
                                                       const TenantAddresses& addresses) {
  if (!is_valid_link_name(host_name)) {
    return make_error("\"" + host_name + "\" is not a valid network link name");
  }
  auto nl = NetlinkSocket::open();
  if (!nl.ok()) {
    return nl.error();
  }
  auto made = create_veth(*nl, host_name, kTenantInterface, netns_fd);
  if (!made.ok() && made.error().code == EEXIST && link_index(*nl, host_name).ok()) {
    // The name is derived from the bridge and the tenant's own address, so a
    // link of that name is a leftover of this tenant from an agent that died.
    spdlog::warn("removing stale link {}", host_name);
    BULKHEAD_TRY(delete_link(*nl, host_name));
    made = create_veth(*nl, host_name, kTenantInterface, netns_fd);
  }
  if (!made.ok()) {
    return made.error();
  }
  ScopeExit undo([&] {
    for (const InterfaceAddress& a : pinned_addresses(addresses)) {
      (void)delete_neighbor(*nl, bridge->index(), a);
    }
    (void)delete_link(*nl, host_name);
  });
  auto index = link_index(*nl, host_name);
  if (!index.ok()) {
    return index.error();
  }
  BULKHEAD_TRY(set_master(*nl, *index, bridge->index()));
  BULKHEAD_TRY(lock_down_port(*nl, *index));
  BULKHEAD_TRY(set_link_up(*nl, *index));
  auto mac = configure_tenant_side(netns_fd, addresses, bridge->gateway());
  if (!mac.ok()) {
    return mac.error().context("configuring " + std::string(kTenantInterface) + " in the tenant");
  }
  // The tenant's MAC and addresses are pinned on the host side: without
  // learning the port only receives frames for that MAC, and a tenant that
  // answers ARP or NDP for another tenant's address changes nothing.
  BULKHEAD_TRY(add_static_fdb(*nl, *index, *mac));
  for (const InterfaceAddress& a : pinned_addresses(addresses)) {
    BULKHEAD_TRY(add_permanent_neighbor(*nl, bridge->index(), a, *mac));
  }
  undo.dismiss();
  std::unique_ptr<TenantLink> link(new TenantLink());
  link->bridge_ = std::move(bridge);
  link->host_name_ = host_name;
  link->addresses_ = addresses;
  return link;
}

TenantLink::~TenantLink() {
  auto nl = NetlinkSocket::open();
  if (!nl.ok()) {
    spdlog::warn("removing link {}: {}", host_name_, nl.error().to_string());
    return;
  }
  for (const InterfaceAddress& a : pinned_addresses(addresses_)) {
    if (auto st = delete_neighbor(*nl, bridge_->index(), a);
        !st.ok() && st.error().code != ENOENT) {
      spdlog::warn("removing the neighbour entry of {}: {}", a.address(), st.error().to_string());
    }
  }
  if (auto st = delete_link(*nl, host_name_); !st.ok() && st.error().code != ENODEV) {
    spdlog::warn("removing link {}: {}", host_name_, st.error().to_string());
  }
}

}  // namespace bulkhead::net
