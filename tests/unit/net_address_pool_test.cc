// AddressPool: stable per-tenant addresses from the configured prefixes,
// persisted, released on removal, and refusing state it cannot trust.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/cidr.h"
#include "net/address_pool.h"

namespace bulkhead::net {
namespace {

namespace fs = std::filesystem;

class AddressPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bulkhead-pool-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    state_ = dir_ + "/addresses.json";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<AddressPool> open(const std::string& v4 = "10.233.0.0/24",
                                    const std::string& v6 = "fd00:b0b0:233::/64") {
    auto config = parse_pool_config(v4, v6);
    EXPECT_TRUE(config.ok()) << config.error().to_string();
    auto pool = AddressPool::open(*config, state_);
    EXPECT_TRUE(pool.ok()) << pool.error().to_string();
    return pool.ok() ? std::move(*pool) : nullptr;
  }
  void write_state(const std::string& text) { std::ofstream(state_) << text; }

  std::string dir_;
  std::string state_;
};

TEST_F(AddressPoolTest, GatewayIsTheFirstHostAndTenantsFollow) {
  auto pool = open();
  ASSERT_TRUE(pool);
  EXPECT_EQ(pool->gateway().ipv4.to_string(), "10.233.0.1/24");
  EXPECT_EQ(pool->gateway().ipv6->to_string(), "fd00:b0b0:233::1/64");
  auto a = pool->acquire("alpha");
  auto b = pool->acquire("beta");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->ipv4.to_string(), "10.233.0.2/24");
  EXPECT_EQ(a->ipv6->to_string(), "fd00:b0b0:233::2/64");
  EXPECT_EQ(b->ipv4.to_string(), "10.233.0.3/24");
  // Asking again gives the same addresses, without a new assignment.
  EXPECT_EQ(*pool->acquire("alpha"), *a);
}

TEST_F(AddressPoolTest, AssignmentsSurviveARestartAndReleaseFreesThem) {
  {
    auto pool = open();
    ASSERT_TRUE(pool->acquire("alpha").ok());
    ASSERT_TRUE(pool->acquire("beta").ok());
    ASSERT_TRUE(pool->acquire("gamma").ok());
    ASSERT_TRUE(pool->release("alpha").ok());
    ASSERT_TRUE(pool->release("nobody").ok());
  }
  auto pool = open();
  EXPECT_FALSE(pool->lookup("alpha").has_value());
  EXPECT_EQ(pool->lookup("beta")->ipv4.address(), "10.233.0.3");
  EXPECT_EQ(pool->lookup("gamma")->ipv4.address(), "10.233.0.4");
  // The lowest free address goes to the next new tenant.
  EXPECT_EQ(pool->acquire("delta")->ipv4.address(), "10.233.0.2");
}

TEST_F(AddressPoolTest, Ipv6IsOptional) {
  auto pool = open("10.233.0.0/24", "");
  auto a = pool->acquire("alpha");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->ipv6.has_value());
  EXPECT_FALSE(pool->gateway().ipv6.has_value());
}

TEST_F(AddressPoolTest, ExhaustionIsAnError) {
  auto pool = open("10.233.0.0/30", "");  // .1 gateway, .2 the only tenant, .3 broadcast
  ASSERT_TRUE(pool->acquire("alpha").ok());
  auto b = pool->acquire("beta");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("exhausted"), std::string::npos);
  EXPECT_FALSE(pool->lookup("beta").has_value());
}

TEST_F(AddressPoolTest, BadPoolConfigurationsAreRefused) {
  EXPECT_FALSE(parse_pool_config("10.0.0.0/31", "").ok());
  EXPECT_FALSE(parse_pool_config("10.0.0.0/7", "").ok());
  EXPECT_FALSE(parse_pool_config("fd00::/64", "").ok());
  EXPECT_FALSE(parse_pool_config("10.1.0.0/8", "").ok());             // host bits
  EXPECT_FALSE(parse_pool_config("10.0.0.0/16", "fd00::/120").ok());  // too few host bits
  EXPECT_FALSE(parse_pool_config("10.0.0.0/16", "10.1.0.0/16").ok());
  EXPECT_TRUE(parse_pool_config("10.0.0.0/16", "fd00::/112").ok());
  EXPECT_EQ(config::format_cidr(default_pool_config().ipv4), "10.200.0.0/16");
}

TEST_F(AddressPoolTest, UntrustworthyStateIsAnErrorNamingTheFile) {
  auto config = *parse_pool_config("10.233.0.0/24", "");
  const std::pair<std::string, std::string> cases[] = {
      {"{", "corrupt"},
      {R"({"version": 2, "tenants": {}})", "corrupt"},
      {R"({"version": "1", "tenants": {}})", "corrupt"},
      {R"({"version": 1, "tenants": {"Bad Name": {"ipv4": "10.233.0.2"}}})", "tenant name"},
      {R"({"version": 1, "tenants": {"a": {"ipv4": "10.233.0.999"}}})", "not an IPv4"},
      {R"({"version": 1, "tenants": {"a": {"ipv4": 7}}})", "expected"},
      {R"({"version": 1, "tenants": {"a": {"ipv4": "10.234.0.2"}}})", "pool changed"},
      {R"({"version": 1, "tenants": {"a": {"ipv4": "10.233.0.1"}}})", "not a tenant address"},
      {R"({"version": 1, "tenants": {"a": {"ipv4": "10.233.0.255"}}})", "not a tenant address"},
      {R"({"version": 1, "tenants": {"a": {"ipv4": "10.233.0.2"}, "b": {"ipv4": "10.233.0.2"}}})",
       "twice"},
  };
  for (const auto& [text, why] : cases) {
    SCOPED_TRACE(text);
    write_state(text);
    auto pool = AddressPool::open(config, state_);
    ASSERT_FALSE(pool.ok());
    EXPECT_NE(pool.error().message.find(state_), std::string::npos) << pool.error().message;
    EXPECT_NE(pool.error().message.find(why), std::string::npos) << pool.error().message;
  }
}

}  // namespace
}  // namespace bulkhead::net
