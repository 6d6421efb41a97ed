// A route-netlink socket (libmnl) and the few link, address and route requests
// the agent's network plumbing needs. Every request asks for an
// acknowledgement, so a refused one is an Error with the kernel's errno and the
// name of what was being done, never a silent no-op.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "net/address_pool.h"

struct mnl_socket;
struct nlmsghdr;

namespace bulkhead::net {

class NetlinkSocket {
 public:
  // In the calling thread's network namespace.
  static Result<NetlinkSocket> open();
  // In the network namespace `netns_fd` refers to; the caller's stays unchanged
  // (a short-lived thread enters the namespace and opens the socket there).
  static Result<NetlinkSocket> open_in(int netns_fd);

  using Handler = std::function<void(const nlmsghdr*)>;
  // Sends `nlh` with NLM_F_ACK and waits for the kernel's answer; `on_reply`
  // sees every data message of the answer.
  Status request(nlmsghdr* nlh, const std::string& what, const Handler& on_reply = {});
  // Sends a dump request (NLM_F_DUMP) and hands every message to `on_reply`.
  Status dump(nlmsghdr* nlh, const std::string& what, const Handler& on_reply);

  [[nodiscard]] unsigned seq() { return ++seq_; }

 private:
  struct Closer {
    void operator()(mnl_socket* s) const;
  };
  Status receive(unsigned seq, const std::string& what, const Handler& on_reply);
  std::unique_ptr<mnl_socket, Closer> sock_;
  unsigned portid_ = 0;
  unsigned seq_ = 0;
};

// One request each; `what` in errors is the link's name.
Result<int> link_index(NetlinkSocket& nl, const std::string& name);  // ENODEV: no such link
// The link's kind ("bridge", "veth"; "" for plain devices).
Result<std::string> link_kind(NetlinkSocket& nl, const std::string& name);
// How many links have `master_index` as their master (the ports of a bridge).
Result<int> count_ports(NetlinkSocket& nl, int master_index);
Status create_bridge(NetlinkSocket& nl, const std::string& name);
// A veth pair: `host_name` here, `peer_name` created directly in `peer_netns_fd`.
Status create_veth(NetlinkSocket& nl, const std::string& host_name, const std::string& peer_name,
                   int peer_netns_fd);
Status delete_link(NetlinkSocket& nl, const std::string& name);
Status set_link_up(NetlinkSocket& nl, int index);
Status set_master(NetlinkSocket& nl, int index, int master_index);
using MacAddress = std::array<uint8_t, 6>;
// The link's hardware address.
Result<MacAddress> link_mac(NetlinkSocket& nl, int index);
// Sets the link's hardware address (also to the one it has: that marks it as
// set by the administrator, which keeps a bridge from taking a port's).
Status set_link_mac(NetlinkSocket& nl, int index, const MacAddress& mac);
// Locks a bridge port down: "isolated" (frames between two isolated ports are
// dropped), no MAC learning and no flooding of unknown unicast to it, so only
// the static FDB entry added for the tenant's MAC steers frames to the port.
Status lock_down_port(NetlinkSocket& nl, int index);
// `bridge fdb add <mac> dev <port> master static`.
Status add_static_fdb(NetlinkSocket& nl, int port_index, const MacAddress& mac);
// A permanent neighbour entry (ARP or NDP can never change it) on `index`.
Status add_permanent_neighbor(NetlinkSocket& nl, int index, const InterfaceAddress& addr,
                              const MacAddress& mac);
Status delete_neighbor(NetlinkSocket& nl, int index, const InterfaceAddress& addr);
// `addr` with an explicit prefix length (the tenant side uses /32 and /128).
Status add_address(NetlinkSocket& nl, int index, const InterfaceAddress& addr, uint8_t prefix_len);
// A route to `dst/dst_len` (dst_len 0 = default) via `gateway` (family 0 = none,
// a link-scope route) out of `index`.
Status add_route(NetlinkSocket& nl, int index, int family, const std::array<uint8_t, 16>& dst,
                 uint8_t dst_len, const InterfaceAddress* gateway);

}  // namespace bulkhead::net
