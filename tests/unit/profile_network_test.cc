// The `network` section: what valid rules turn into, and the checks that need
// the values (the errors with their lines are in tests/data/profiles/bad/network*.yaml).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <string>

#include "config/cidr.h"
#include "config/profile_loader.h"
#include "config/socket_families.h"

namespace bulkhead::config {
namespace {

ProfileLoadResult load_network(const std::string& network) {
  return load_profile_string("version: 1\ntenant: t\nnetwork:\n" + network, "t.yaml");
}

std::string dump(const ProfileLoadResult& r) {
  std::string out;
  for (const auto& e : r.errors) {
    out += e.to_string() + "\n";
  }
  return out;
}

Cidr cidr(const std::string& s) {
  auto c = parse_cidr(s);
  EXPECT_TRUE(c.ok()) << s;
  return c.ok() ? *c : Cidr{};
}

TEST(ProfileNetwork, RulesKeepTheirCanonicalValues) {
  auto r = load_network(
      "  mode: isolated\n"
      "  egress:\n"
      "    - {to: [10.0.0.0/8, \"2001:DB8::/32\"], ports: [80, \"8000-8100\"], protocol: tcp}\n"
      "    - {to: [192.0.2.1]}\n"
      "  ingress:\n"
      "    - {ports: [8080], protocol: udp}\n"
      "  socket_families: [unix, af_inet6]\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  const NetworkSpec& n = r.profile->network;
  EXPECT_EQ(n.mode, NetworkMode::kIsolated);
  EXPECT_TRUE(r.profile->namespaces.net);
  ASSERT_EQ(n.egress.size(), 2u);
  ASSERT_EQ(n.egress[0].to.size(), 2u);
  EXPECT_EQ(n.egress[0].to[0].family, AF_INET);
  EXPECT_EQ(n.egress[0].to[0].prefix_len, 8);
  EXPECT_EQ(n.egress[0].to[0].addr[0], 10);
  EXPECT_EQ(format_cidr(n.egress[0].to[1]), "2001:db8::/32");
  EXPECT_EQ(n.egress[0].ports, (std::vector<PortRange>{{80, 80}, {8000, 8100}}));
  EXPECT_EQ(n.egress[0].protocols, kProtoTcp);
  // A bare address is one host; no ports means every port; no protocol means both.
  EXPECT_EQ(format_cidr(n.egress[1].to[0]), "192.0.2.1/32");
  EXPECT_TRUE(n.egress[1].ports.empty());
  EXPECT_EQ(n.egress[1].protocols, kProtoAny);
  ASSERT_EQ(n.ingress.size(), 1u);
  EXPECT_EQ(n.ingress[0].ports, (std::vector<PortRange>{{8080, 8080}}));
  EXPECT_TRUE(n.ingress[0].from.empty());
  EXPECT_EQ(n.ingress[0].protocols, kProtoUdp);
  EXPECT_EQ(n.socket_families, (std::vector<std::string>{"AF_UNIX", "AF_INET6"}));
  EXPECT_FALSE(n.raw_sockets);
}

TEST(ProfileNetwork, HostModeIsTheOnlyWayToShareTheHostNetns) {
  auto r = load_network("  mode: host\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.profile->network.mode, NetworkMode::kHost);
  EXPECT_FALSE(r.profile->namespaces.net);

  auto off = load_profile_string("version: 1\ntenant: t\nnamespaces: {net: false}\n", "t.yaml");
  ASSERT_EQ(off.errors.size(), 1u) << dump(off);
  EXPECT_NE(off.errors[0].message.find("network.mode: host"), std::string::npos);
}

TEST(ProfileNetwork, NoneModeAcceptsLoopbackRules) {
  auto r = load_network(
      "  egress: [{to: [127.0.0.1, \"::1\"], ports: [5432]}]\n"
      "  ingress: [{ports: [8080], from: [127.0.0.0/8]}]\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.profile->network.mode, NetworkMode::kNone);
}

TEST(ProfileNetwork, PacketSocketsNeedRawSockets) {
  auto r = load_network("  socket_families: [AF_INET, AF_PACKET]\n  raw_sockets: true\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_TRUE(r.profile->network.raw_sockets);
  auto bad = load_network("  socket_families: [AF_PACKET]\n");
  ASSERT_EQ(bad.errors.size(), 1u) << dump(bad);
  EXPECT_EQ(bad.errors[0].field, "network.socket_families[0]");
}

TEST(ProfileNetwork, AnEmptyFamilyListMeansNoSockets) {
  auto r = load_network("  socket_families: []\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_TRUE(r.profile->network.socket_families.empty());
}

TEST(Cidr, ParsesAndRefusesPrecisely) {
  EXPECT_EQ(format_cidr(cidr("0.0.0.0/0")), "0.0.0.0/0");
  EXPECT_EQ(format_cidr(cidr("::/0")), "::/0");
  EXPECT_EQ(format_cidr(cidr("fd00:b0b0::/64")), "fd00:b0b0::/64");
  EXPECT_EQ(cidr("::1").prefix_len, 128);
  for (const char* bad : {"10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8", "10.0.0/8", "::/129",
                          "10.0.0.0/ 8", "", "/8", "10.0.0.1/0x8"}) {
    EXPECT_FALSE(parse_cidr(bad).ok()) << bad;
  }
  auto host_bits = parse_cidr("10.1.0.0/8");
  ASSERT_FALSE(host_bits.ok());
  EXPECT_NE(host_bits.error().message.find("10.0.0.0/8"), std::string::npos);
  EXPECT_NE(host_bits.error().message.find("10.1.0.0/32"), std::string::npos);
  auto mapped = parse_cidr("::ffff:192.0.2.1");
  ASSERT_FALSE(mapped.ok());
  EXPECT_NE(mapped.error().message.find("192.0.2.1/32"), std::string::npos);
}

TEST(Cidr, ContainmentAndLoopback) {
  EXPECT_TRUE(cidr_contains(cidr("10.0.0.0/8"), cidr("10.2.0.0/16")));
  EXPECT_FALSE(cidr_contains(cidr("10.2.0.0/16"), cidr("10.0.0.0/8")));
  EXPECT_TRUE(cidr_overlaps(cidr("10.2.0.0/16"), cidr("10.0.0.0/8")));
  EXPECT_FALSE(cidr_overlaps(cidr("10.0.0.0/8"), cidr("11.0.0.0/8")));
  EXPECT_FALSE(cidr_overlaps(cidr("0.0.0.0/0"), cidr("::/0")));
  EXPECT_TRUE(is_loopback(cidr("127.0.0.53")));
  EXPECT_TRUE(is_loopback(cidr("::1")));
  EXPECT_FALSE(is_loopback(cidr("::/0")));
  EXPECT_FALSE(is_loopback(cidr("0.0.0.0/0")));
}

TEST(SocketFamilies, NamesAndAliases) {
  EXPECT_EQ(*canonical_socket_family("inet"), "AF_INET");
  EXPECT_EQ(*canonical_socket_family("Af_Inet6"), "AF_INET6");
  EXPECT_EQ(*canonical_socket_family("AF_LOCAL"), "AF_UNIX");
  EXPECT_EQ(*canonical_socket_family("route"), "AF_NETLINK");
  EXPECT_FALSE(canonical_socket_family("AF_").ok());
  EXPECT_FALSE(canonical_socket_family("2").ok());
  EXPECT_EQ(socket_family_number("AF_PACKET"), AF_PACKET);
  EXPECT_EQ(socket_family_number("inet"), std::nullopt);
}

}  // namespace
}  // namespace bulkhead::config
