// Network modes and socket families as a tenant's workload sees them, from
// inside real sandboxes: none has loopback only, host shares the host's links,
// isolated gets eth0 with its pool address and a default route, and socket
// families outside the profile's list fail with the seccomp action.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "isolation/landlock.h"
#include "kernel_test_env.h"
#include "net/network_host.h"
#include "net_test_support.h"
#include "sandbox_fixture.h"

namespace bulkhead::testing {
namespace {

// EXDEV: socket(2) never fails with it by itself, so it can only come from seccomp.
constexpr int kSeccompErrno = 18;

// Interface names from /proc/net/dev text.
std::set<std::string> interfaces(const std::string& proc_net_dev) {
  std::set<std::string> out;
  std::istringstream in(proc_net_dev);
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) {
      continue;
    }
    std::string name = line.substr(0, colon);
    name.erase(0, name.find_first_not_of(' '));
    out.insert(name);
  }
  return out;
}

class NetModes : public ::testing::Test {
 protected:
  void SetUp() override {
    BULKHEAD_REQUIRE_ROOT();
    host_ = std::make_unique<SandboxHost>();
  }
  RunResult run(isolation::Tenant& t, std::vector<std::string> argv) {
    auto r = SandboxHost::run(t, std::move(argv));
    EXPECT_TRUE(r.ok()) << r.error().to_string();
    return r.ok() ? *r : RunResult{};
  }
  std::unique_ptr<SandboxHost> host_;
};

TEST_F(NetModes, NoneSeesOnlyLoopback) {
  auto t = host_->make_tenant(host_->profile_yaml("net-none", "network: {mode: none}\n"));
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  EXPECT_EQ((*t)->network().mode, config::NetworkMode::kNone);
  auto r = run(**t, {"/usr/bin/cat", "/proc/net/dev"});
  EXPECT_EQ(interfaces(r.out), std::set<std::string>{"lo"}) << r.out;
}

TEST_F(NetModes, HostSeesTheHostsInterfaces) {
  // Without AF_UNIX the profile needs no Landlock scope, so it runs on every kernel.
  auto t = host_->make_tenant(host_->profile_yaml(
      "net-host", "network: {mode: host, socket_families: [AF_INET, AF_INET6]}\n"));
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  EXPECT_EQ((*t)->namespaces().net_fd(), -1);
  // The host's own network namespace, whatever links it has (a CI guest may
  // have loopback only): the same namespace, so the same interfaces.
  char own_ns[64] = {};
  ASSERT_GT(::readlink("/proc/self/ns/net", own_ns, sizeof(own_ns) - 1), 0);
  std::stringstream own;
  own << std::ifstream("/proc/net/dev").rdbuf();
  auto r = run(**t, {"/bin/sh", "-c", "readlink /proc/self/ns/net; cat /proc/net/dev"});
  ASSERT_EQ(r.status.shell_code(), 0) << r.out;
  const size_t first_line = r.out.find('\n');
  EXPECT_EQ(r.out.substr(0, first_line), own_ns) << r.out;
  auto seen = interfaces(r.out.substr(first_line + 1));
  EXPECT_EQ(seen, interfaces(own.str())) << r.out;
  EXPECT_EQ(seen.count("lo"), 1u) << r.out;
}

TEST_F(NetModes, HostModeCannotReachTheHostsAbstractUnixSockets) {
  // A listening abstract socket of the "host" (this test process).
  const std::string name = "bulkhead-test-" + std::to_string(::getpid());
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path + 1, name.data(), name.size());
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  ASSERT_EQ(::bind(listener.get(), reinterpret_cast<sockaddr*>(&sa), len), 0);
  ASSERT_EQ(::listen(listener.get(), 4), 0);
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::connect(probe.get(), reinterpret_cast<sockaddr*>(&sa), len), 0);  // it is reachable

  const std::vector<std::string> connect = {"/helpers/socket_probe", "@" + name};
  auto host = host_->make_tenant(host_->profile_yaml("net-host-unix", "network: {mode: host}\n"));
  const int abi = isolation::landlock_abi_version();
  if (abi < isolation::kLandlockScopeAbi) {
    // Fail closed (Linux < 6.12): without the scope the tenant could reach
    // the host's abstract sockets, so such a profile is refused, with the reason.
    record_branch("Landlock ABI " + std::to_string(abi) +
                  ", no scopes: host mode with AF_UNIX refused");
    ASSERT_FALSE(host.ok()) << "a host-mode tenant with AF_UNIX started without Landlock scopes";
    EXPECT_THAT(host.error().to_string(), ::testing::HasSubstr("Landlock ABI 6"));
  } else {
    record_branch("Landlock ABI " + std::to_string(abi) + ": abstract sockets scoped away");
    ASSERT_TRUE(host.ok()) << host.error().to_string();
    EXPECT_EQ(run(**host, connect).out, "@" + name + "=1\n");  // EPERM: scoped
  }
  // In its own network namespace the name does not exist at all.
  auto none = host_->make_tenant(host_->profile_yaml("net-none-unix", ""));
  ASSERT_TRUE(none.ok()) << none.error().to_string();
  EXPECT_EQ(run(**none, connect).out, "@" + name + "=111\n");  // ECONNREFUSED
}

TEST_F(NetModes, IsolatedGetsItsAddressAndRouteBeforeTheWorkloadRuns) {
  // Everything in a namespace standing in for the host, so the machine's own
  // network is never touched; the pool is the test-only 10.233.2.0/24.
  auto fake_host = new_netns();
  ASSERT_TRUE(fake_host.ok());
  TempDir state;
  net::NetworkHostConfig config;
  config.bridge = "bhm" + std::to_string(::getpid() % 10000);
  config.pool = *net::parse_pool_config("10.233.2.0/24", "");
  config.state_file = state.path() + "/addresses.json";
  in_netns(fake_host->get(), [&] {
    auto network = net::NetworkHost::open(config);
    ASSERT_TRUE(network.ok()) << network.error().to_string();
    {
      auto t = host_->make_tenant(host_->profile_yaml("net-iso", "network: {mode: isolated}\n"),
                                  network->get());
      ASSERT_TRUE(t.ok()) << t.error().to_string();
      ASSERT_TRUE((*t)->network().addresses.has_value());
      EXPECT_EQ((*t)->network().addresses->ipv4.address(), "10.233.2.2");
      auto addr = run(**t, {"/usr/bin/ip", "-o", "-4", "addr", "show", "dev", "eth0"});
      EXPECT_NE(addr.out.find("inet 10.233.2.2/32"), std::string::npos) << addr.out;
      auto route = run(**t, {"/usr/bin/ip", "route", "show", "default"});
      EXPECT_NE(route.out.find("default via 10.233.2.1 dev eth0"), std::string::npos) << route.out;
      auto links = run(**t, {"/usr/bin/cat", "/proc/net/dev"});
      EXPECT_EQ(interfaces(links.out), (std::set<std::string>{"lo", "eth0"})) << links.out;
    }
    // The tenant is gone: so are its link and the bridge the agent made for it.
    std::vector<std::string> left = link_names(fake_host->get());
    EXPECT_EQ(left, std::vector<std::string>{"lo"});
  });
}

TEST_F(NetModes, IsolatedWithoutTheAgentsNetworkIsRefused) {
  auto t = host_->make_tenant(host_->profile_yaml("net-iso2", "network: {mode: isolated}\n"));
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("isolated"), std::string::npos) << t.error().message;
}

TEST_F(NetModes, SocketFamiliesOutsideTheListAreDenied) {
  auto t = host_->make_tenant(host_->profile_yaml(
      "net-families", "network: {socket_families: [AF_UNIX, AF_INET]}\nseccomp: {errno: " +
                          std::to_string(kSeccompErrno) + "}\n"));
  ASSERT_TRUE(t.ok()) << t.error().to_string();
  auto r = run(**t, {"/helpers/socket_probe", "unix:stream", "inet:dgram", "inet6:dgram",
                     "netlink:raw", "packet:dgram", "alg:stream", "inet:raw"});
  const std::string e = std::to_string(kSeccompErrno);
  EXPECT_EQ(r.out, "unix:stream=0 inet:dgram=0 inet6:dgram=" + e + " netlink:raw=" + e +
                       " packet:dgram=" + e + " alg:stream=" + e + " inet:raw=" + e + "\n");
}

TEST_F(NetModes, RawSocketsOnlyWhenGranted) {
  // Tenant root keeps CAP_NET_RAW for its own network namespace, so only the
  // seccomp filter stands between it and a raw socket.
  const std::string caps = "  capabilities: [NET_RAW]\n";
  auto denied = host_->make_tenant(host_->profile_yaml(
      "net-raw-no", caps + "seccomp: {errno: " + std::to_string(kSeccompErrno) + "}\n"));
  ASSERT_TRUE(denied.ok()) << denied.error().to_string();
  auto r = run(**denied, {"/helpers/socket_probe", "inet:raw"});
  EXPECT_EQ(r.out, "inet:raw=" + std::to_string(kSeccompErrno) + "\n");

  auto granted = host_->make_tenant(
      host_->profile_yaml("net-raw-yes", caps + "network: {raw_sockets: true}\nseccomp: {errno: " +
                                             std::to_string(kSeccompErrno) + "}\n"));
  ASSERT_TRUE(granted.ok()) << granted.error().to_string();
  auto g = run(**granted, {"/helpers/socket_probe", "inet:raw"});
  EXPECT_EQ(g.out, "inet:raw=0\n");
}

}  // namespace
}  // namespace bulkhead::testing
