#include "net/host_bridge.h"

#include <net/if.h>
#include <spdlog/spdlog.h>

#include "common/file_util.h"
#include "common/scope_exit.h"
#include "net/netlink.h"

namespace bulkhead::net {
namespace {

Status add_gateway_address(NetlinkSocket& nl, int index, const InterfaceAddress& a) {
  auto st = add_address(nl, index, a, a.prefix_len);
  if (!st.ok() && st.error().code != EEXIST) {
    return st;
  }
  return {};
}

}  // namespace

bool is_valid_link_name(const std::string& name) {
  if (name.empty() || name.size() >= IFNAMSIZ || name == "." || name == "..") {
    return false;
  }
  return name.find_first_of("/: \t\n") == std::string::npos;
}

Result<std::shared_ptr<HostBridge>> HostBridge::ensure(const std::string& name,
                                                       const TenantAddresses& gateway) {
  if (!is_valid_link_name(name)) {
    return make_error("\"" + name + "\" is not a valid network link name");
  }
  auto nl = NetlinkSocket::open();
  if (!nl.ok()) {
    return nl.error();
  }
  std::shared_ptr<HostBridge> bridge(new HostBridge());
  bridge->name_ = name;
  bridge->gateway_ = gateway;
  auto created = create_bridge(*nl, name);
  if (created.ok()) {
    bridge->created_ = true;
  } else if (created.error().code != EEXIST) {
    return created.error();
  } else if (auto kind = link_kind(*nl, name); !kind.ok() || *kind != "bridge") {
    return kind.ok() ? make_error("network link " + name + " exists and is not a bridge")
                     : kind.error();
  }
  // From here on a failure must not leave a half-configured bridge of ours.
  ScopeExit undo([&] {
    if (bridge->created_) {
      (void)delete_link(*nl, name);
      bridge->created_ = false;
    }
  });
  auto index = link_index(*nl, name);
  if (!index.ok()) {
    return index.error();
  }
  bridge->index_ = *index;
  // A bridge whose address was never set takes the lowest MAC of its ports and
  // changes it as ports come and go, and every address change flushes its
  // neighbour table, permanent entries included: the tenants' pinned
  // addresses would silently disappear. Setting the address it has fixes it.
  auto mac = link_mac(*nl, *index);
  if (!mac.ok()) {
    return mac.error();
  }
  BULKHEAD_TRY(set_link_mac(*nl, *index, *mac));
  BULKHEAD_TRY(add_gateway_address(*nl, *index, gateway.ipv4));
  if (gateway.ipv6) {
    BULKHEAD_TRY(add_gateway_address(*nl, *index, *gateway.ipv6));
  }
  BULKHEAD_TRY(set_link_up(*nl, *index));
  // Per-interface forwarding: packets arriving on the bridge may be routed
  // (back to another tenant, or to the host's other links when the operator
  // adds NAT); the host's global ip_forward is left alone.
  BULKHEAD_TRY_CTX(write_file("/proc/sys/net/ipv4/conf/" + name + "/forwarding", "1"),
                   "enabling IPv4 forwarding on " + name);
  undo.dismiss();
  return bridge;
}

HostBridge::~HostBridge() {
  if (!created_) {
    return;
  }
  auto nl = NetlinkSocket::open();
  if (!nl.ok()) {
    spdlog::warn("removing bridge {}: {}", name_, nl.error().to_string());
    return;
  }
  // Someone attached a link of their own: the bridge is no longer only ours.
  auto ports = count_ports(*nl, index_);
  if (!ports.ok() || *ports != 0) {
    spdlog::warn("bridge {} still has ports; leaving it in place", name_);
    return;
  }
  if (auto st = delete_link(*nl, name_); !st.ok() && st.error().code != ENODEV) {
    spdlog::warn("removing bridge {}: {}", name_, st.error().to_string());
  }
}

}  // namespace bulkhead::net
