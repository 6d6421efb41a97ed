// The policy compiler, judged the way the kernel judges: longest matching
// prefix of the entries, then the port ranges of that one entry.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <optional>

#include "net/policy_compiler.h"

namespace bulkhead::net {
namespace {

using config::Cidr;
using config::EgressRule;
using config::IngressRule;
using config::NetworkMode;
using config::NetworkSpec;

Cidr cidr(const std::string& text) {
  auto c = parse_cidr(text);
  EXPECT_TRUE(c.ok()) << text << ": " << (c.ok() ? "" : c.error().to_string());
  return c.ok() ? *c : Cidr{};
}

bool key_matches(const bh_net_key& k, uint8_t kind, const Cidr& addr) {
  if (k.kind != kind) {
    return false;
  }
  int bits = static_cast<int>(k.prefixlen) - BH_KIND_BITS;
  for (int i = 0; i < bits; ++i) {
    int mask = 0x80 >> (i % 8);
    if ((k.addr[i / 8] & mask) != (addr.addr[i / 8] & mask)) {
      return false;
    }
  }
  return true;
}

// What the BPF judge() decides for (kind of the family, address, port, proto).
bool allowed(const CompiledPolicy& p, uint8_t kind4, const std::string& ip, uint16_t port,
             uint8_t proto = BH_PROTO_TCP) {
  Cidr a = cidr(ip);
  auto kind = static_cast<uint8_t>(a.family == AF_INET ? kind4 : kind4 + 1);
  const TrieEntry* best = nullptr;
  for (const auto& e : p.entries) {
    if (key_matches(e.key, kind, a) && (best == nullptr || e.key.prefixlen > best->key.prefixlen)) {
      best = &e;
    }
  }
  if (best == nullptr || best->value.verdict != BH_VERDICT_ALLOW) {
    return false;
  }
  for (int i = 0; i < best->value.nranges; ++i) {
    const auto& r = best->value.ranges[i];
    if ((r.protocols & proto) != 0 && port >= r.first && port <= r.last) {
      return true;
    }
  }
  return false;
}

EgressRule to(const std::vector<std::string>& cidrs, std::vector<config::PortRange> ports = {},
              uint8_t protos = config::kProtoAny) {
  EgressRule r;
  for (const auto& c : cidrs) {
    r.to.push_back(cidr(c));
  }
  r.ports = std::move(ports);
  r.protocols = protos;
  return r;
}

CompiledPolicy compile(const NetworkSpec& spec, const PolicyContext& ctx = {}) {
  auto p = compile_policy(spec, ctx);
  EXPECT_TRUE(p.ok()) << p.error().to_string();
  return p.ok() ? *p : CompiledPolicy{};
}

TEST(NetPolicyCompiler, DefaultDenyWithOwnLoopbackInOwnNetns) {
  NetworkSpec spec;
  spec.mode = NetworkMode::kIsolated;
  auto p = compile(spec);
  EXPECT_FALSE(allowed(p, BH_KIND_EGRESS4, "10.0.0.1", 80));
  EXPECT_FALSE(allowed(p, BH_KIND_EGRESS6, "2001:db8::1", 80));
  EXPECT_TRUE(allowed(p, BH_KIND_EGRESS4, "127.0.0.1", 80));
  EXPECT_TRUE(allowed(p, BH_KIND_EGRESS4, "::1", 80, BH_PROTO_UDP));
  EXPECT_TRUE(allowed(p, BH_KIND_BIND4, "127.0.0.1", 8080));
  EXPECT_FALSE(allowed(p, BH_KIND_BIND4, "0.0.0.0", 8080));
  EXPECT_FALSE(allowed(p, BH_KIND_INGRESS4, "10.0.0.1", 8080));
}

TEST(NetPolicyCompiler, HostModeProtectsHostLoopbackFromBroadGrants) {
  NetworkSpec spec;
  spec.mode = NetworkMode::kHost;
  spec.egress = {to({"0.0.0.0/0", "::/0"})};
  auto p = compile(spec);
  EXPECT_TRUE(allowed(p, BH_KIND_EGRESS4, "192.0.2.1", 443));
  EXPECT_FALSE(allowed(p, BH_KIND_EGRESS4, "127.0.0.1", 443));
  EXPECT_FALSE(allowed(p, BH_KIND_EGRESS4, "127.1.2.3", 443));
  EXPECT_FALSE(allowed(p, BH_KIND_EGRESS4, "0.0.0.0", 443));
  EXPECT_FALSE(allowed(p, BH_KIND_EGRESS4, "::1", 443));
  EXPECT_FALSE(allowed(p, BH_KIND_EGRESS4, "169.254.169.254", 80));
  EXPECT_FALSE(allowed(p, BH_KIND_EGRESS4, "fe80::1", 80));

  spec.egress.push_back(to({"127.0.0.1/32"}, {{5432, 5432}}, config::kProtoTcp));
  p = compile(spec);
  EXPECT_TRUE(allowed(p, BH_KIND_EGRESS4, "127.0.0.1", 5432));
  EXPECT_FALSE(allowed(p, BH_KIND_EGRESS4, "127.0.0.1", 5433));
  EXPECT_FALSE(allowed(p, BH_KIND_EGRESS4, "127.0.0.1", 5432, BH_PROTO_UDP));
  EXPECT_FALSE(allowed(p, BH_KIND_EGRESS4, "127.0.0.2", 5432));
}

TEST(NetPolicyCompiler, ProtectedRangeOpensOnlyToAtLeastAsSpecificGrants) {
  NetworkSpec spec;
  spec.mode = NetworkMode::kIsolated;
  spec.egress = {to({"0.0.0.0/0"}, {{443, 443}}), to({"10.1.0.0/16"}, {{80, 80}}),
                 to({"10.2.0.0/16"}, {{22, 22}})};
  PolicyContext ctx;
  ctx.protected_ranges = {cidr("10.0.0.0/8"), cidr("10.2.0.0/16"), cidr("10.1.5.1/32")};
  auto p = compile(spec, ctx);
  EXPECT_TRUE(allowed(p, BH_KIND_EGRESS4, "192.0.2.1", 443));
  EXPECT_FALSE(allowed(p, BH_KIND_EGRESS4, "10.9.0.1", 443));  // protected, /0 too broad
  EXPECT_TRUE(allowed(p, BH_KIND_EGRESS4, "10.1.2.3", 80));    // explicit /16 grant
  EXPECT_FALSE(allowed(p, BH_KIND_EGRESS4, "10.1.2.3", 443));  // the /0's port is not carried in
  EXPECT_FALSE(allowed(p, BH_KIND_EGRESS4, "10.1.5.1", 80));   // a /32 protected inside the grant
  EXPECT_TRUE(allowed(p, BH_KIND_EGRESS4, "10.2.3.4", 22));    // grant equal to the protected range
}

TEST(NetPolicyCompiler, CoveringGrantsMergeTheirPorts) {
  NetworkSpec spec;
  spec.egress = {to({"10.0.0.0/8"}, {{80, 80}}, config::kProtoTcp),
                 to({"10.1.0.0/16"}, {{81, 90}}, config::kProtoTcp),
                 to({"10.1.2.0/24"}, {{53, 53}}, config::kProtoUdp),
                 to({"10.1.2.0/24"}, {{85, 100}}, config::kProtoTcp)};
  auto p = compile(spec);
  EXPECT_TRUE(allowed(p, BH_KIND_EGRESS4, "10.1.2.3", 80));
  EXPECT_TRUE(allowed(p, BH_KIND_EGRESS4, "10.1.2.3", 95));
  EXPECT_TRUE(allowed(p, BH_KIND_EGRESS4, "10.1.2.3", 53, BH_PROTO_UDP));
  EXPECT_FALSE(allowed(p, BH_KIND_EGRESS4, "10.1.2.3", 53));
  EXPECT_FALSE(allowed(p, BH_KIND_EGRESS4, "10.1.2.3", 101));
  EXPECT_TRUE(allowed(p, BH_KIND_EGRESS4, "10.1.9.9", 90));
  EXPECT_FALSE(allowed(p, BH_KIND_EGRESS4, "10.1.9.9", 95));
  EXPECT_FALSE(allowed(p, BH_KIND_EGRESS4, "10.9.9.9", 81));
  // 80 and 81-100 are adjacent: one merged TCP range at the /24.
  for (const auto& e : p.entries) {
    if (e.key.kind == BH_KIND_EGRESS4 && e.key.prefixlen == BH_KIND_BITS + 24) {
      EXPECT_EQ(e.value.nranges, 2);  // tcp 80-100, udp 53
    }
  }
}

TEST(NetPolicyCompiler, Ipv6GrantDoesNotOpenIpv4) {
  NetworkSpec spec;
  spec.egress = {to({"::/0"})};
  auto p = compile(spec);
  EXPECT_TRUE(allowed(p, BH_KIND_EGRESS4, "2001:db8::1", 443));
  EXPECT_FALSE(allowed(p, BH_KIND_EGRESS4, "192.0.2.1", 443));
}

TEST(NetPolicyCompiler, IngressPortsLimitBindAndSourcesLimitFlows) {
  NetworkSpec spec;
  IngressRule in;
  in.ports = {{8080, 8080}};
  in.from = {cidr("192.0.2.0/24")};
  in.protocols = config::kProtoTcp;
  spec.ingress = {in};
  auto p = compile(spec);
  EXPECT_TRUE(allowed(p, BH_KIND_BIND4, "0.0.0.0", 8080));
  EXPECT_TRUE(allowed(p, BH_KIND_BIND4, "::", 8080));
  EXPECT_FALSE(allowed(p, BH_KIND_BIND4, "0.0.0.0", 8081));
  EXPECT_FALSE(allowed(p, BH_KIND_BIND4, "0.0.0.0", 8080, BH_PROTO_UDP));
  EXPECT_TRUE(allowed(p, BH_KIND_INGRESS4, "192.0.2.7", 8080));
  EXPECT_FALSE(allowed(p, BH_KIND_INGRESS4, "198.51.100.1", 8080));
}

TEST(NetPolicyCompiler, TooManyPortRangesIsAnErrorNamingTheField) {
  NetworkSpec spec;
  EgressRule r = to({"10.0.0.0/8"}, {}, config::kProtoTcp);
  for (int port = 1000; port < 1000 + 2 * (BH_NET_MAX_RANGES + 1); port += 2) {
    r.ports.push_back({static_cast<uint16_t>(port), static_cast<uint16_t>(port)});
  }
  spec.egress = {r};
  auto p = compile_policy(spec, {});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("network.egress: 10.0.0.0/8"), std::string::npos)
      << p.error().message;
}

TEST(NetPolicyCompiler, SocketFamiliesAndUnknownNames) {
  NetworkSpec spec;
  spec.socket_families = {"AF_INET", "AF_UNIX"};
  spec.raw_sockets = true;
  auto p = compile(spec);
  ASSERT_FALSE(p.entries.empty());
  const auto& config_entry = p.entries.back();
  EXPECT_EQ(config_entry.key.kind, BH_KIND_CONFIG);
  EXPECT_EQ(config_entry.value.families, (1ULL << AF_INET) | (1ULL << AF_UNIX));
  EXPECT_EQ(config_entry.value.raw_sockets, 1);
  spec.socket_families = {"AF_INETT"};
  auto bad = compile_policy(spec, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("AF_INETT"), std::string::npos);
}

TEST(NetPolicyCompiler, ParseCidr) {
  EXPECT_EQ(cidr_to_string(cidr("10.0.0.0/8")), "10.0.0.0/8");
  EXPECT_EQ(cidr_to_string(cidr("fd00::1")), "fd00::1/128");
  EXPECT_FALSE(parse_cidr("10.0.0.1/8").ok());  // host bits
  EXPECT_FALSE(parse_cidr("10.0.0.0/33").ok());
  EXPECT_FALSE(parse_cidr("nope").ok());
}

}  // namespace
}  // namespace bulkhead::net
