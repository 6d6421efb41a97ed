// Network mode isolated, plumbing only (no eBPF policy): the bridge, the veth
// pairs, addresses and routes, with real packets between test-made namespaces.
// A "host" namespace per test stands in for the machine, and the pool is the
// test-only 10.233.0.0/24, so nothing here touches the machine's own network.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "kernel_test_env.h"
#include "net/network_host.h"
#include "net_test_support.h"
#include "sandbox_fixture.h"

namespace bulkhead::testing {
namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

bool port_isolated(int netns_fd, const std::string& port) {
  std::string details = output_in_netns(netns_fd, {"ip", "-d", "link", "show", "dev", port});
  return details.find("isolated on") != std::string::npos;
}

class NetIsolated : public ::testing::Test {
 protected:
  void SetUp() override {
    BULKHEAD_REQUIRE_ROOT();
    // The pool below has an IPv6 half.
    BULKHEAD_REQUIRE(::access("/proc/sys/net/ipv6", F_OK) == 0,
                     "IPv6 is disabled in this kernel (ipv6.disable=1)");
    auto h = new_netns();
    ASSERT_TRUE(h.ok()) << h.error().to_string();
    host_ = std::move(*h);
    config_.bridge = "bht" + std::to_string(::getpid() % 10000);
    config_.pool = *net::parse_pool_config("10.233.0.0/24", "fd00:b0b0:233::/64");
    config_.state_file = dir_.path() + "/addresses.json";
  }

  // Creates the NetworkHost and attaches a new tenant namespace, all from a
  // thread inside the test's host namespace.
  std::unique_ptr<net::TenantNetwork> attach(const std::string& tenant, int netns_fd) {
    std::unique_ptr<net::TenantNetwork> out;
    in_netns(host_.get(), [&] {
      if (!network_) {
        auto n = net::NetworkHost::open(config_);
        ASSERT_TRUE(n.ok()) << n.error().to_string();
        network_ = std::move(*n);
      }
      auto net = network_->attach(tenant, config::NetworkMode::kIsolated, netns_fd);
      ASSERT_TRUE(net.ok()) << net.error().to_string();
      out = std::move(*net);
    });
    return out;
  }
  // Link teardown happens in the host namespace too.
  void drop(std::unique_ptr<net::TenantNetwork>& n) {
    in_netns(host_.get(), [&] { n.reset(); });
  }

  TempDir dir_;
  UniqueFd host_;
  net::NetworkHostConfig config_;
  std::unique_ptr<net::NetworkHost> network_;
};

TEST_F(NetIsolated, TenantGetsAddressRouteAndLink) {
  auto a_ns = new_netns();
  ASSERT_TRUE(a_ns.ok());
  auto a = attach("alpha", a_ns->get());
  ASSERT_TRUE(a);
  ASSERT_TRUE(a->addresses.has_value());
  EXPECT_EQ(a->addresses->ipv4.address(), "10.233.0.2");
  EXPECT_EQ(a->addresses->ipv6->address(), "fd00:b0b0:233::2");

  EXPECT_EQ(link_names(a_ns->get()), (std::vector<std::string>{"lo", "eth0"}));
  EXPECT_TRUE(has_address_and_up(a_ns->get(), "eth0", "10.233.0.2"));
  EXPECT_TRUE(has_address_and_up(a_ns->get(), "eth0", "fd00:b0b0:233::2"));
  auto host_links = link_names(host_.get());
  EXPECT_TRUE(contains(host_links, config_.bridge));
  EXPECT_TRUE(contains(host_links, config_.bridge + "v2"));
  EXPECT_TRUE(has_address_and_up(host_.get(), config_.bridge, "10.233.0.1"));
  // The host end is an isolated port of the bridge.
  EXPECT_TRUE(port_isolated(host_.get(), config_.bridge + "v2"));

  // Real packets: tenant -> gateway, and gateway -> tenant.
  EXPECT_TRUE(udp_reaches(a_ns->get(), host_.get(), "10.233.0.1", 40001));
  EXPECT_TRUE(udp_reaches(host_.get(), a_ns->get(), "10.233.0.2", 40002));
  EXPECT_TRUE(udp_reaches(a_ns->get(), host_.get(), "fd00:b0b0:233::1", 40003));
  EXPECT_TRUE(udp_reaches(host_.get(), a_ns->get(), "fd00:b0b0:233::2", 40004));
  // A default route exists: an address beyond the pool is routable (connect on
  // UDP only looks the route up; no packet leaves).
  bool routable = false;
  in_netns(a_ns->get(), [&] {
    UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(9);
    sa.sin_addr.s_addr = htonl(0xC0000201);  // 192.0.2.1 (TEST-NET-1)
    routable = ::connect(s.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
  });
  EXPECT_TRUE(routable);
}

TEST_F(NetIsolated, TenantsCannotReachEachOtherAtLayerTwo) {
  auto a_ns = new_netns();
  auto b_ns = new_netns();
  ASSERT_TRUE(a_ns.ok() && b_ns.ok());
  auto a = attach("alpha", a_ns->get());
  auto b = attach("beta", b_ns->get());
  ASSERT_TRUE(a && b);
  ASSERT_EQ(b->addresses->ipv4.address(), "10.233.0.3");

  // Through the host's routing (the path the eBPF policy governs) it works.
  EXPECT_TRUE(udp_reaches(a_ns->get(), b_ns->get(), "10.233.0.3", 40011));

  // Directly at layer 2 (a route to beta on the link, and beta's MAC address
  // pinned so no ARP is needed) the bridge drops the frames...
  std::string b_mac = mac_address(b_ns->get(), "eth0");
  ASSERT_EQ(b_mac.size(), 17u);
  ASSERT_EQ(run_in_netns(a_ns->get(), {"ip", "route", "add", "10.233.0.3/32", "dev", "eth0"}), 0);
  ASSERT_EQ(run_in_netns(a_ns->get(), {"ip", "neigh", "replace", "10.233.0.3", "lladdr", b_mac,
                                       "dev", "eth0", "nud", "permanent"}),
            0);
  EXPECT_FALSE(udp_reaches(a_ns->get(), b_ns->get(), "10.233.0.3", 40012, 500));

  // ...and only because the ports are isolated: without that, the same frames pass.
  for (const char* port : {"v2", "v3"}) {
    ASSERT_EQ(run_in_netns(host_.get(), {"bridge", "link", "set", "dev", config_.bridge + port,
                                         "isolated", "off"}),
              0);
  }
  EXPECT_TRUE(udp_reaches(a_ns->get(), b_ns->get(), "10.233.0.3", 40013));
}

TEST_F(NetIsolated, TeardownRemovesLinksAndTheBridgeItCreated) {
  auto a_ns = new_netns();
  auto b_ns = new_netns();
  ASSERT_TRUE(a_ns.ok() && b_ns.ok());
  auto a = attach("alpha", a_ns->get());
  auto b = attach("beta", b_ns->get());
  ASSERT_TRUE(a && b);
  drop(a);
  auto links = link_names(host_.get());
  EXPECT_FALSE(contains(links, config_.bridge + "v2"));
  EXPECT_TRUE(contains(links, config_.bridge));  // beta still uses it
  EXPECT_EQ(link_names(a_ns->get()), std::vector<std::string>{"lo"});
  drop(b);
  EXPECT_EQ(link_names(host_.get()), std::vector<std::string>{"lo"});
  // The addresses stay assigned until the tenant is forgotten.
  EXPECT_TRUE(network_->pool().lookup("alpha").has_value());
  ASSERT_TRUE(network_->forget("alpha").ok());
  EXPECT_FALSE(network_->pool().lookup("alpha").has_value());
}

TEST_F(NetIsolated, AnExistingBridgeIsReusedAndLeftInPlace) {
  ASSERT_EQ(run_in_netns(host_.get(), {"ip", "link", "add", config_.bridge, "type", "bridge"}), 0);
  auto a_ns = new_netns();
  ASSERT_TRUE(a_ns.ok());
  auto a = attach("alpha", a_ns->get());
  ASSERT_TRUE(a);
  EXPECT_TRUE(udp_reaches(a_ns->get(), host_.get(), "10.233.0.1", 40021));
  drop(a);
  EXPECT_TRUE(contains(link_names(host_.get()), config_.bridge));
}

TEST_F(NetIsolated, AFailureHalfWayLeavesNothing) {
  // eth0 already exists in the tenant: the bridge was made, the veth cannot
  // be, and both the bridge and the address stay unused and are cleaned up.
  auto a_ns = new_netns();
  ASSERT_TRUE(a_ns.ok());
  ASSERT_EQ(
      run_in_netns(a_ns->get(), {"ip", "link", "add", "eth0", "type", "veth", "peer", "eth1"}), 0);
  in_netns(host_.get(), [&] {
    auto n = net::NetworkHost::open(config_);
    ASSERT_TRUE(n.ok());
    auto net = (*n)->attach("alpha", config::NetworkMode::kIsolated, a_ns->get());
    ASSERT_FALSE(net.ok());
    EXPECT_EQ(net.error().code, EEXIST) << net.error().to_string();
  });
  EXPECT_EQ(link_names(host_.get()), std::vector<std::string>{"lo"});
  EXPECT_EQ(link_names(a_ns->get()), (std::vector<std::string>{"lo", "eth1", "eth0"}));
}

TEST_F(NetIsolated, AStaleHostEndFromACrashedAgentIsReplaced) {
  auto a_ns = new_netns();
  ASSERT_TRUE(a_ns.ok());
  ASSERT_EQ(run_in_netns(host_.get(), {"ip", "link", "add", config_.bridge + "v2", "type", "veth",
                                       "peer", "stale-peer"}),
            0);
  auto a = attach("alpha", a_ns->get());
  ASSERT_TRUE(a);
  auto links = link_names(host_.get());
  EXPECT_FALSE(contains(links, "stale-peer"));
  EXPECT_TRUE(udp_reaches(a_ns->get(), host_.get(), "10.233.0.1", 40031));
}

// Sends, from `ns`, a gratuitous ARP reply on eth0 claiming `ip` for `mac`
// (what a tenant with CAP_NET_RAW could do to take over another's address).
void send_gratuitous_arp(int ns, const std::string& mac_text, const std::string& ip) {
  in_netns(ns, [&] {
    UniqueFd s(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP)));
    ASSERT_TRUE(s) << std::strerror(errno);
    unsigned mac[6];
    ASSERT_EQ(std::sscanf(mac_text.c_str(), "%x:%x:%x:%x:%x:%x", &mac[0], &mac[1], &mac[2], &mac[3],
                          &mac[4], &mac[5]),
              6);
    in_addr addr{};
    ASSERT_EQ(::inet_pton(AF_INET, ip.c_str(), &addr), 1);
    unsigned char frame[42] = {};
    std::memset(frame, 0xff, 6);  // broadcast
    for (int i = 0; i < 6; ++i) {
      frame[6 + i] = static_cast<unsigned char>(mac[i]);   // Ethernet source
      frame[22 + i] = static_cast<unsigned char>(mac[i]);  // ARP sender MAC
    }
    frame[12] = 0x08;
    frame[13] = 0x06;                                         // ARP
    const unsigned char header[] = {0, 1, 8, 0, 6, 4, 0, 2};  // Ethernet/IPv4, reply
    std::memcpy(frame + 14, header, sizeof(header));
    std::memcpy(frame + 28, &addr, 4);  // sender IP
    std::memset(frame + 32, 0xff, 6);   // target MAC
    std::memcpy(frame + 38, &addr, 4);  // target IP
    sockaddr_ll ll{};
    ll.sll_family = AF_PACKET;
    ll.sll_protocol = htons(ETH_P_ARP);
    ll.sll_ifindex = static_cast<int>(::if_nametoindex("eth0"));
    ll.sll_halen = 6;
    std::memset(ll.sll_addr, 0xff, 6);
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(
          ::sendto(s.get(), frame, sizeof(frame), 0, reinterpret_cast<sockaddr*>(&ll), sizeof(ll)),
          static_cast<ssize_t>(sizeof(frame)))
          << std::strerror(errno);
    }
  });
}

TEST_F(NetIsolated, ATenantCannotTakeOverAnotherTenantsAddress) {
  auto a_ns = new_netns();
  auto b_ns = new_netns();
  ASSERT_TRUE(a_ns.ok() && b_ns.ok());
  auto a = attach("alpha", a_ns->get());
  auto b = attach("beta", b_ns->get());
  ASSERT_TRUE(a && b);
  const std::string a_mac = mac_address(a_ns->get(), "eth0");
  const std::string b_mac = mac_address(b_ns->get(), "eth0");
  ASSERT_EQ(a_mac.size(), 17u);
  // The host side pins alpha's address to alpha's MAC, and the port to that MAC.
  std::string neigh = output_in_netns(host_.get(), {"ip", "neigh", "show", "10.233.0.2"});
  EXPECT_NE(neigh.find(a_mac), std::string::npos) << neigh;
  EXPECT_NE(neigh.find("PERMANENT"), std::string::npos) << neigh;
  std::string fdb =
      output_in_netns(host_.get(), {"bridge", "fdb", "show", "dev", config_.bridge + "v2"});
  EXPECT_NE(fdb.find(a_mac + " master " + config_.bridge + " static"), std::string::npos) << fdb;
  std::string port =
      output_in_netns(host_.get(), {"ip", "-d", "link", "show", "dev", config_.bridge + "v3"});
  EXPECT_NE(port.find("learning off"), std::string::npos) << port;
  EXPECT_NE(port.find("flood off"), std::string::npos) << port;

  // beta claims alpha's address in ARP, takes it on its eth0 and listens there:
  // the host still sends alpha's traffic to alpha.
  send_gratuitous_arp(b_ns->get(), b_mac, "10.233.0.2");
  ASSERT_EQ(run_in_netns(b_ns->get(), {"ip", "addr", "add", "10.233.0.2/32", "dev", "eth0"}), 0);
  neigh = output_in_netns(host_.get(), {"ip", "neigh", "show", "10.233.0.2"});
  EXPECT_NE(neigh.find(a_mac), std::string::npos) << neigh;
  EXPECT_FALSE(udp_reaches(host_.get(), b_ns->get(), "10.233.0.2", 40041, 500));
  EXPECT_TRUE(udp_reaches(host_.get(), a_ns->get(), "10.233.0.2", 40042));
}

}  // namespace
}  // namespace bulkhead::testing
