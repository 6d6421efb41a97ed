#include "net/netlink.h"

#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <sys/socket.h>

#include <cstring>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

namespace bulkhead::net {
namespace {

// Large enough for any answer to the requests below (MNL_SOCKET_BUFFER_SIZE is 8 KiB).
constexpr size_t kBufferSize = 16384;

nlmsghdr* start(std::vector<char>& buf, NetlinkSocket& nl, uint16_t type, uint16_t flags) {
  buf.assign(kBufferSize, 0);
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = static_cast<uint16_t>(NLM_F_REQUEST | flags);
  nlh->nlmsg_seq = nl.seq();
  return nlh;
}

ifinfomsg* put_ifinfo(nlmsghdr* nlh, int family, int index) {
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = static_cast<unsigned char>(family);
  ifi->ifi_index = index;
  return ifi;
}

int handler_callback(const nlmsghdr* nlh, void* data) {
  const auto* handler = static_cast<const NetlinkSocket::Handler*>(data);
  if (*handler) {
    (*handler)(nlh);
  }
  return MNL_CB_OK;
}

// The attributes of an RTM_NEWLINK message, by type.
struct LinkAttrs {
  const nlattr* attr[IFLA_MAX + 1] = {};
};

int link_attr_callback(const nlattr* attr, void* data) {
  int type = mnl_attr_get_type(attr);
  if (type >= 0 && type <= IFLA_MAX) {
    static_cast<LinkAttrs*>(data)->attr[type] = attr;
  }
  return MNL_CB_OK;
}

int info_attr_callback(const nlattr* attr, void* data) {
  if (mnl_attr_get_type(attr) == IFLA_INFO_KIND) {
    *static_cast<std::string*>(data) = mnl_attr_get_str(attr);
  }
  return MNL_CB_OK;
}

}  // namespace

void NetlinkSocket::Closer::operator()(mnl_socket* s) const { mnl_socket_close(s); }

Result<NetlinkSocket> NetlinkSocket::open() {
  NetlinkSocket nl;
  nl.sock_.reset(mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC));
  if (!nl.sock_) {
    return errno_error("opening a route netlink socket");
  }
  if (mnl_socket_bind(nl.sock_.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
    return errno_error("binding a route netlink socket");
  }
  nl.portid_ = mnl_socket_get_portid(nl.sock_.get());
  return nl;
}

Result<NetlinkSocket> NetlinkSocket::open_in(int netns_fd) {
  // setns(CLONE_NEWNET) affects only the calling thread, and a socket stays in
  // the namespace it was created in: a helper thread keeps the agent's own
  // threads in the host namespace whatever happens.
  std::optional<Result<NetlinkSocket>> out;
  try {
    std::thread helper([&] {
      if (::setns(netns_fd, CLONE_NEWNET) != 0) {
        out.emplace(errno_error("entering the tenant's network namespace"));
        return;
      }
      out.emplace(open());
    });
    helper.join();
  } catch (const std::system_error& e) {
    return Error{e.code().value(), "starting a thread to enter the tenant's network namespace"};
  }
  return std::move(*out);
}

Status NetlinkSocket::request(nlmsghdr* nlh, const std::string& what, const Handler& on_reply) {
  nlh->nlmsg_flags |= NLM_F_ACK;
  if (mnl_socket_sendto(sock_.get(), nlh, nlh->nlmsg_len) < 0) {
    return errno_error(what);
  }
  return receive(nlh->nlmsg_seq, what, on_reply);
}

Status NetlinkSocket::dump(nlmsghdr* nlh, const std::string& what, const Handler& on_reply) {
  // No NLM_F_ACK: a dump ends with NLMSG_DONE, and an ack after it would be
  // left in the socket for the next request to trip over.
  nlh->nlmsg_flags |= NLM_F_DUMP;
  if (mnl_socket_sendto(sock_.get(), nlh, nlh->nlmsg_len) < 0) {
    return errno_error(what);
  }
  return receive(nlh->nlmsg_seq, what, on_reply);
}

Status NetlinkSocket::receive(unsigned seq, const std::string& what, const Handler& on_reply) {
  std::vector<char> buf(kBufferSize);
  while (true) {
    ssize_t n = mnl_socket_recvfrom(sock_.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error(what + ": reading the kernel's answer");
    }
    int rc = mnl_cb_run(buf.data(), static_cast<size_t>(n), seq, portid_, handler_callback,
                        const_cast<Handler*>(&on_reply));
    if (rc < 0) {
      return errno_error(what);
    }
    if (rc == MNL_CB_STOP) {
      return {};
    }
  }
}

Result<int> link_index(NetlinkSocket& nl, const std::string& name) {
  std::vector<char> buf;
  nlmsghdr* nlh = start(buf, nl, RTM_GETLINK, 0);
  put_ifinfo(nlh, AF_UNSPEC, 0);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
  int index = 0;
  BULKHEAD_TRY(nl.request(nlh, "looking up link " + name, [&](const nlmsghdr* reply) {
    if (reply->nlmsg_type == RTM_NEWLINK) {
      index = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(reply))->ifi_index;
    }
  }));
  if (index <= 0) {
    return Error{ENODEV, "looking up link " + name};
  }
  return index;
}

Result<std::string> link_kind(NetlinkSocket& nl, const std::string& name) {
  std::vector<char> buf;
  nlmsghdr* nlh = start(buf, nl, RTM_GETLINK, 0);
  put_ifinfo(nlh, AF_UNSPEC, 0);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
  std::string kind;
  BULKHEAD_TRY(nl.request(nlh, "looking up link " + name, [&](const nlmsghdr* reply) {
    if (reply->nlmsg_type != RTM_NEWLINK) {
      return;
    }
    LinkAttrs attrs;
    mnl_attr_parse(reply, sizeof(ifinfomsg), link_attr_callback, &attrs);
    if (attrs.attr[IFLA_LINKINFO] != nullptr) {
      mnl_attr_parse_nested(attrs.attr[IFLA_LINKINFO], info_attr_callback, &kind);
    }
  }));
  return kind;
}

Result<int> count_ports(NetlinkSocket& nl, int master_index) {
  std::vector<char> buf;
  nlmsghdr* nlh = start(buf, nl, RTM_GETLINK, 0);
  put_ifinfo(nlh, AF_UNSPEC, 0);
  int ports = 0;
  BULKHEAD_TRY(nl.dump(nlh, "listing links", [&](const nlmsghdr* reply) {
    if (reply->nlmsg_type != RTM_NEWLINK) {
      return;
    }
    LinkAttrs attrs;
    mnl_attr_parse(reply, sizeof(ifinfomsg), link_attr_callback, &attrs);
    const nlattr* master = attrs.attr[IFLA_MASTER];
    if (master != nullptr && static_cast<int>(mnl_attr_get_u32(master)) == master_index) {
      ++ports;
    }
  }));
  return ports;
}

Status create_bridge(NetlinkSocket& nl, const std::string& name) {
  std::vector<char> buf;
  nlmsghdr* nlh = start(buf, nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  put_ifinfo(nlh, AF_UNSPEC, 0);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
  nlattr* info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
  mnl_attr_nest_end(nlh, info);
  return nl.request(nlh, "creating bridge " + name);
}

Status create_veth(NetlinkSocket& nl, const std::string& host_name, const std::string& peer_name,
                   int peer_netns_fd) {
  std::vector<char> buf;
  nlmsghdr* nlh = start(buf, nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  put_ifinfo(nlh, AF_UNSPEC, 0);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, host_name.c_str());
  nlattr* info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  nlattr* data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
  nlattr* peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
  // The peer attribute carries its own ifinfomsg, then the peer's attributes.
  put_ifinfo(nlh, AF_UNSPEC, 0);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, peer_name.c_str());
  mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, static_cast<uint32_t>(peer_netns_fd));
  mnl_attr_nest_end(nlh, peer);
  mnl_attr_nest_end(nlh, data);
  mnl_attr_nest_end(nlh, info);
  return nl.request(nlh, "creating veth pair " + host_name + " / " + peer_name);
}

Status delete_link(NetlinkSocket& nl, const std::string& name) {
  std::vector<char> buf;
  nlmsghdr* nlh = start(buf, nl, RTM_DELLINK, 0);
  put_ifinfo(nlh, AF_UNSPEC, 0);
  mnl_attr_put_strz(nlh, IFLA_IFNAME, name.c_str());
  return nl.request(nlh, "deleting link " + name);
}

Status set_link_up(NetlinkSocket& nl, int index) {
  std::vector<char> buf;
  nlmsghdr* nlh = start(buf, nl, RTM_NEWLINK, 0);
  ifinfomsg* ifi = put_ifinfo(nlh, AF_UNSPEC, index);
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  return nl.request(nlh, "setting link " + std::to_string(index) + " up");
}

Status set_master(NetlinkSocket& nl, int index, int master_index) {
  std::vector<char> buf;
  nlmsghdr* nlh = start(buf, nl, RTM_NEWLINK, 0);
  put_ifinfo(nlh, AF_UNSPEC, index);
  mnl_attr_put_u32(nlh, IFLA_MASTER, static_cast<uint32_t>(master_index));
  return nl.request(nlh, "attaching link " + std::to_string(index) + " to the bridge");
}

Result<MacAddress> link_mac(NetlinkSocket& nl, int index) {
  std::vector<char> buf;
  nlmsghdr* nlh = start(buf, nl, RTM_GETLINK, 0);
  put_ifinfo(nlh, AF_UNSPEC, index);
  std::optional<MacAddress> mac;
  BULKHEAD_TRY(nl.request(nlh, "reading the address of link " + std::to_string(index),
                          [&](const nlmsghdr* reply) {
                            if (reply->nlmsg_type != RTM_NEWLINK) {
                              return;
                            }
                            LinkAttrs attrs;
                            mnl_attr_parse(reply, sizeof(ifinfomsg), link_attr_callback, &attrs);
                            const nlattr* a = attrs.attr[IFLA_ADDRESS];
                            if (a != nullptr && mnl_attr_get_payload_len(a) == 6) {
                              MacAddress m{};
                              std::memcpy(m.data(), mnl_attr_get_payload(a), m.size());
                              mac = m;
                            }
                          }));
  if (!mac) {
    return make_error("link " + std::to_string(index) + " has no Ethernet address");
  }
  return *mac;
}

Status set_link_mac(NetlinkSocket& nl, int index, const MacAddress& mac) {
  std::vector<char> buf;
  nlmsghdr* nlh = start(buf, nl, RTM_NEWLINK, 0);
  put_ifinfo(nlh, AF_UNSPEC, index);
  mnl_attr_put(nlh, IFLA_ADDRESS, mac.size(), mac.data());
  return nl.request(nlh, "setting the address of link " + std::to_string(index));
}

Status lock_down_port(NetlinkSocket& nl, int index) {
  std::vector<char> buf;
  nlmsghdr* nlh = start(buf, nl, RTM_SETLINK, 0);
  put_ifinfo(nlh, AF_BRIDGE, index);
  nlattr* prot = mnl_attr_nest_start(nlh, IFLA_PROTINFO);
  mnl_attr_put_u8(nlh, IFLA_BRPORT_ISOLATED, 1);
  mnl_attr_put_u8(nlh, IFLA_BRPORT_LEARNING, 0);
  mnl_attr_put_u8(nlh, IFLA_BRPORT_UNICAST_FLOOD, 0);
  mnl_attr_nest_end(nlh, prot);
  return nl.request(nlh, "locking down bridge port " + std::to_string(index));
}

Status add_static_fdb(NetlinkSocket& nl, int port_index, const MacAddress& mac) {
  std::vector<char> buf;
  nlmsghdr* nlh = start(buf, nl, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE);
  auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  ndm->ndm_family = AF_BRIDGE;
  ndm->ndm_ifindex = port_index;
  ndm->ndm_state = NUD_NOARP;  // "static" in bridge(8)
  ndm->ndm_flags = NTF_MASTER;
  mnl_attr_put(nlh, NDA_LLADDR, mac.size(), mac.data());
  return nl.request(nlh, "adding a static FDB entry on port " + std::to_string(port_index));
}

Status add_permanent_neighbor(NetlinkSocket& nl, int index, const InterfaceAddress& addr,
                              const MacAddress& mac) {
  std::vector<char> buf;
  nlmsghdr* nlh = start(buf, nl, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE);
  auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  ndm->ndm_family = static_cast<uint8_t>(addr.family);
  ndm->ndm_ifindex = index;
  ndm->ndm_state = NUD_PERMANENT;
  mnl_attr_put(nlh, NDA_DST, addr.family == AF_INET ? 4 : 16, addr.addr.data());
  mnl_attr_put(nlh, NDA_LLADDR, mac.size(), mac.data());
  return nl.request(nlh, "adding a permanent neighbour entry for " + addr.address());
}

Status delete_neighbor(NetlinkSocket& nl, int index, const InterfaceAddress& addr) {
  std::vector<char> buf;
  nlmsghdr* nlh = start(buf, nl, RTM_DELNEIGH, 0);
  auto* ndm = static_cast<ndmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ndmsg)));
  ndm->ndm_family = static_cast<uint8_t>(addr.family);
  ndm->ndm_ifindex = index;
  mnl_attr_put(nlh, NDA_DST, addr.family == AF_INET ? 4 : 16, addr.addr.data());
  return nl.request(nlh, "deleting the neighbour entry for " + addr.address());
}

Status add_address(NetlinkSocket& nl, int index, const InterfaceAddress& addr, uint8_t prefix_len) {
  std::vector<char> buf;
  nlmsghdr* nlh = start(buf, nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  auto* ifa = static_cast<ifaddrmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifaddrmsg)));
  ifa->ifa_family = static_cast<unsigned char>(addr.family);
  ifa->ifa_prefixlen = prefix_len;
  ifa->ifa_index = static_cast<unsigned>(index);
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  // No duplicate address detection: the pool hands out each address once, and
  // DAD would leave the address unusable for a second after the tenant starts.
  ifa->ifa_flags = addr.family == AF_INET6 ? IFA_F_NODAD : 0;
  const size_t len = addr.family == AF_INET ? 4 : 16;
  mnl_attr_put(nlh, IFA_LOCAL, len, addr.addr.data());
  mnl_attr_put(nlh, IFA_ADDRESS, len, addr.addr.data());
  return nl.request(nlh, "adding address " + addr.address() + "/" + std::to_string(prefix_len));
}

Status add_route(NetlinkSocket& nl, int index, int family, const std::array<uint8_t, 16>& dst,
                 uint8_t dst_len, const InterfaceAddress* gateway) {
  std::vector<char> buf;
  nlmsghdr* nlh = start(buf, nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = static_cast<unsigned char>(family);
  rtm->rtm_dst_len = dst_len;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_STATIC;
  rtm->rtm_type = RTN_UNICAST;
  rtm->rtm_scope = gateway == nullptr ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
  const size_t len = family == AF_INET ? 4 : 16;
  if (dst_len > 0) {
    mnl_attr_put(nlh, RTA_DST, len, dst.data());
  }
  if (gateway != nullptr) {
    mnl_attr_put(nlh, RTA_GATEWAY, len, gateway->addr.data());
  }
  mnl_attr_put_u32(nlh, RTA_OIF, static_cast<uint32_t>(index));
  return nl.request(nlh, gateway == nullptr ? "adding a link route" : "adding the default route");
}

}  // namespace bulkhead::net
