// The agent with isolated tenants: addresses from its pool reported through
// tenants(), kept across a restart, released when a tenant's profile is
// removed, and the bridge gone with the agent. The whole test runs in a
// network namespace standing in for the host, with the test-only pool
// 10.233.3.0/24 and IPv4 only.
#include <gtest/gtest.h>

#include "agent_test_support.h"
#include "net_test_support.h"

namespace bulkhead::testing {
namespace {

using std::chrono::milliseconds;

class AgentNetworkTest : public AgentKernelTest {};

TEST_F(AgentNetworkTest, IsolatedTenantsGetStableAddressesReleasedOnRemoval) {
  auto fake_host = new_netns();
  ASSERT_TRUE(fake_host.ok()) << fake_host.error().to_string();
  const std::string bridge = "bha" + std::to_string(::getpid() % 10000);
  agent_->options().bridge = bridge;
  agent_->options().pool_ipv4 = "10.233.3.0/24";
  agent_->options().pool_ipv6 = "";
  agent_->options().stop_grace = milliseconds(500);
  const std::string isolated = "network: {mode: isolated}\n";
  agent_->write_profile("a.yaml", agent_->tenant_yaml("a", 0, isolated));
  agent_->write_profile("b.yaml", agent_->tenant_yaml("b", 1, isolated));
  agent_->write_profile("c.yaml", agent_->tenant_yaml("c", 2));

  in_netns(fake_host->get(), [&] {
    ASSERT_TRUE(agent_->start().ok());
    auto a = agent_->tenant("a");
    auto b = agent_->tenant("b");
    auto c = agent_->tenant("c");
    ASSERT_TRUE(a && b && c);
    EXPECT_EQ(a->network_mode, "isolated");
    EXPECT_EQ(a->ipv4, "10.233.3.2");
    EXPECT_EQ(b->ipv4, "10.233.3.3");
    EXPECT_EQ(a->ipv6, "");
    EXPECT_EQ(c->network_mode, "none");
    EXPECT_EQ(c->ipv4, "");
    auto links = link_names(fake_host->get());
    EXPECT_NE(std::find(links.begin(), links.end(), bridge), links.end());

    // A restart keeps the addresses (and the order of creation does not matter).
    agent_->destroy();
    EXPECT_EQ(link_names(fake_host->get()), std::vector<std::string>{"lo"});
    agent_->remove_profile("a.yaml");
    ASSERT_TRUE(agent_->start().ok());
    EXPECT_EQ(agent_->tenant("b")->ipv4, "10.233.3.3");

    // a's profile was gone while the agent was down: its address is still
    // held (only a reload that removes a running tenant releases it).
    agent_->write_profile("a.yaml", agent_->tenant_yaml("a", 0, isolated));
    ASSERT_TRUE(agent_->agent().reload().ok);
    EXPECT_EQ(agent_->tenant("a")->ipv4, "10.233.3.2");

    // Removing b by reload releases 10.233.3.3 for the next new tenant.
    agent_->remove_profile("b.yaml");
    ASSERT_TRUE(agent_->agent().reload().ok);
    ASSERT_TRUE(
        run_until([&] { return !agent_->tenant("b"); }, milliseconds(5000), "tenant b removed"));
    agent_->write_profile("d.yaml", agent_->tenant_yaml("d", 3, isolated));
    ASSERT_TRUE(agent_->agent().reload().ok);
    EXPECT_EQ(agent_->tenant("d")->ipv4, "10.233.3.3");

    // Switching a's mode recreates it without the link.
    agent_->write_profile("a.yaml", agent_->tenant_yaml("a", 0, "network: {mode: none}\n"));
    auto r = agent_->agent().reload();
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.updated, std::vector<std::string>{"a"});
    ASSERT_TRUE(run_until(
        [&] { return agent_->tenant("a") && agent_->tenant("a")->network_mode == "none"; },
        milliseconds(5000), "tenant a recreated"));
    EXPECT_EQ(agent_->tenant("a")->ipv4, "");

    agent_->destroy();
    EXPECT_EQ(link_names(fake_host->get()), std::vector<std::string>{"lo"});
  });
}

}  // namespace
}  // namespace bulkhead::testing
