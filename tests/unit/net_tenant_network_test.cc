// The agent's profile-to-policy step: effective mode and host addresses.
#include <gtest/gtest.h>

#include "net/tenant_network.h"

namespace bulkhead::net {
namespace {

config::Cidr cidr(const std::string& text) {
  auto c = parse_cidr(text);
  EXPECT_TRUE(c.ok()) << text;
  return c.ok() ? *c : config::Cidr{};
}

TEST(NetTenantNetwork, HostAddressesWithoutLoopbackAreProtected) {
  auto out = protected_host_addresses({cidr("127.0.0.1/32"), cidr("::1/128"), cidr("192.0.2.10/32"),
                                       cidr("2001:db8::10/128"), cidr("127.0.1.1/32")});
  ASSERT_EQ(out.size(), 2U);
  EXPECT_EQ(cidr_to_string(out[0]), "192.0.2.10/32");
  EXPECT_EQ(cidr_to_string(out[1]), "2001:db8::10/128");
}

TEST(NetTenantNetwork, NoOwnNetnsMeansHostMode) {
  config::Profile p;
  p.network.mode = config::NetworkMode::kIsolated;
  EXPECT_EQ(effective_network(p).mode, config::NetworkMode::kIsolated);
  p.namespaces.net = false;
  EXPECT_EQ(effective_network(p).mode, config::NetworkMode::kHost);
}

TEST(NetTenantNetwork, CountersJsonNamesEveryHook) {
  NetCounters c;
  c.hooks[BH_HOOK_CONNECT4] = {5, 2};
  auto j = counters_to_json(c);
  EXPECT_EQ(j.size(), static_cast<size_t>(BH_HOOK_COUNT));
  EXPECT_EQ(j["connect4"]["allowed"], 5);
  EXPECT_EQ(j["connect4"]["denied"], 2);
  EXPECT_EQ(j["skb_ingress"]["denied"], 0);
}

}  // namespace
}  // namespace bulkhead::net
