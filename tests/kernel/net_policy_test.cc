// The eBPF network policy with real traffic: a tenant process in its own
// cgroup2 directory and netns (A), a peer netns (B, "another tenant") linked by
// a veth pair, listeners on both sides. Every probe runs in a forked tenant
// process and reports the errno the kernel gave it.
#include <bpf/bpf.h>
#include <gtest/gtest.h>

#include <vector>

#include "net/policy_compiler.h"
#include "net/tenant_network.h"
#include "net/tenant_policy.h"
#include "net_policy_support.h"

namespace bulkhead::net {
namespace {

using config::Cidr;
using config::EgressRule;
using config::IngressRule;
using config::NetworkMode;
using config::NetworkSpec;
using config::PortRange;
using testing::listen_in;
using testing::local_port;
using testing::run_in_tenant;
using testing::tcp_connect;
using testing::udp_connect;
using testing::udp_sendto;

constexpr const char* kA4 = "10.231.0.1";
constexpr const char* kB4 = "10.231.0.2";
constexpr const char* kA6 = "fd00:231::1";
constexpr const char* kB6 = "fd00:231::2";

Cidr cidr(const std::string& text) {
  auto c = parse_cidr(text);
  EXPECT_TRUE(c.ok()) << text;
  return c.ok() ? *c : Cidr{};
}

EgressRule egress(const std::vector<std::string>& to, std::vector<PortRange> ports,
                  uint8_t protos) {
  EgressRule r;
  for (const auto& t : to) {
    r.to.push_back(cidr(t));
  }
  r.ports = std::move(ports);
  r.protocols = protos;
  return r;
}

// Attached programs of one type on a cgroup (0 once the policy is gone).
uint32_t attached_programs(const std::string& cgroup, bpf_attach_type type) {
  UniqueFd fd(::open(cgroup.c_str(), O_RDONLY | O_DIRECTORY));
  uint32_t ids[8];
  uint32_t count = 8;
  if (bpf_prog_query(fd.get(), type, 0, nullptr, ids, &count) != 0) {
    return 999;
  }
  return count;
}

class NetPolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BULKHEAD_REQUIRE_ROOT();
    BULKHEAD_REQUIRE(!testing::TestCgroup2::unified_mount().empty(), "needs a cgroup2 hierarchy");
    BULKHEAD_REQUIRE(::access("/proc/sys/net/ipv6", F_OK) == 0,
                     "IPv6 is disabled in this kernel (ipv6.disable=1)");
    std::string s = testing::unique_suffix();
    a_ = std::make_unique<testing::NetNs>("bhnt-a" + s);
    b_ = std::make_unique<testing::NetNs>("bhnt-b" + s);
    ASSERT_TRUE(a_->ok() && b_->ok()) << "ip netns add failed";
    ASSERT_TRUE(testing::link_namespaces(*a_, "bha" + s, kA4, kA6, *b_, "bhb" + s, kB4, kB6))
        << "veth setup failed";
    ASSERT_TRUE(cgroup_.ok()) << "mkdir " << cgroup_.path();
    ASSERT_TRUE(pins_.ok()) << "bpffs pin root " << pins_.path();
  }

  TenantPolicyOptions options(const std::string& tenant = "t1") {
    TenantPolicyOptions o;
    o.tenant = tenant;
    o.cgroup_dir = cgroup_.path();
    o.pin_root = pins_.path();
    return o;
  }

  std::unique_ptr<TenantNetPolicy> attach(const NetworkSpec& spec, const PolicyContext& ctx = {},
                                          TenantPolicyOptions o = {}) {
    if (o.tenant.empty()) {
      o = options();
    }
    auto compiled = compile_policy(spec, ctx);
    EXPECT_TRUE(compiled.ok()) << compiled.error().to_string();
    if (!compiled.ok()) {
      return nullptr;
    }
    auto p = TenantNetPolicy::attach(o, *compiled);
    EXPECT_TRUE(p.ok()) << p.error().to_string();
    return p.ok() ? std::move(p).value() : nullptr;
  }

  int in_a(const std::function<int()>& fn) { return run_in_tenant(cgroup_.path(), a_->fd(), fn); }

  // Listeners in B (not in any tenant cgroup).
  UniqueFd tcp_in_b(uint16_t port, const char* ip = "::") {
    return listen_in(b_->fd(), SOCK_STREAM, ip, port);
  }
  UniqueFd udp_in_b(uint16_t port, const char* ip = "::") {
    return listen_in(b_->fd(), SOCK_DGRAM, ip, port);
  }

  std::unique_ptr<testing::NetNs> a_, b_;
  testing::TestCgroup2 cgroup_;
  testing::TestPinRoot pins_;
};

TEST_F(NetPolicyTest, AllowedTcpAndUdpWorkDeniedGetEperm) {
  NetworkSpec spec;
  spec.mode = NetworkMode::kIsolated;
  spec.egress = {egress({std::string(kB4) + "/32", std::string(kB6) + "/128"}, {{8080, 8080}},
                        config::kProtoTcp),
                 egress({std::string(kB4) + "/32"}, {{5353, 5353}}, config::kProtoUdp)};
  auto policy = attach(spec);
  ASSERT_NE(policy, nullptr);
  auto t8080 = tcp_in_b(8080);
  auto t8081 = tcp_in_b(8081);
  auto u5353 = udp_in_b(5353);
  auto u5354 = udp_in_b(5354);
  ASSERT_TRUE(t8080 && t8081 && u5353 && u5354);

  EXPECT_EQ(in_a([] { return tcp_connect(kB4, 8080); }), 0);
  EXPECT_EQ(in_a([] { return tcp_connect(kB4, 8081); }), EPERM);
  EXPECT_EQ(in_a([] { return tcp_connect(kB6, 8080); }), 0);
  EXPECT_EQ(in_a([] { return tcp_connect(kB6, 8081); }), EPERM);
  EXPECT_EQ(in_a([] { return udp_sendto(kB6, 5353); }), EPERM);  // UDP granted for IPv4 only
  EXPECT_EQ(in_a([] { return udp_connect(kB4, 5353); }), 0);
  EXPECT_EQ(in_a([] { return udp_sendto(kB4, 5353); }), 0);
  EXPECT_TRUE(testing::datagram_arrives(u5353.get()));
  EXPECT_EQ(in_a([] { return udp_sendto(kB4, 5354); }), EPERM);
  EXPECT_FALSE(testing::datagram_arrives(u5354.get(), 100));
  // UDP is not TCP: the TCP grant on 8080 does not cover UDP 8080.
  EXPECT_EQ(in_a([] { return udp_sendto(kB4, 8080); }), EPERM);
  // Own loopback in its own netns stays usable.
  EXPECT_EQ(in_a([] {
              auto l = listen_in(-1, SOCK_STREAM, "127.0.0.1", 0);
              return l ? tcp_connect("127.0.0.1", local_port(l.get())) : 99;
            }),
            0);
}

TEST_F(NetPolicyTest, OtherTenantDeniedUnderBroadGrantUntilExplicitlyGranted) {
  NetworkSpec spec;
  spec.mode = NetworkMode::kIsolated;
  spec.egress = {egress({"0.0.0.0/0", "::/0"}, {}, config::kProtoAny)};
  PolicyContext ctx;
  ctx.protected_ranges = {cidr("10.231.0.0/24"), cidr("fd00:231::/64")};  // the tenant pool
  ctx.own_addresses = {cidr(std::string(kA4) + "/32"), cidr(std::string(kA6) + "/128")};
  auto policy = attach(spec, ctx);
  ASSERT_NE(policy, nullptr);
  auto t8080 = tcp_in_b(8080);
  auto u5353 = udp_in_b(5353);
  ASSERT_TRUE(t8080 && u5353);

  EXPECT_EQ(in_a([] { return tcp_connect(kB4, 8080); }), EPERM);
  EXPECT_EQ(in_a([] { return udp_connect(kB4, 5353); }), EPERM);
  EXPECT_EQ(in_a([] { return udp_sendto(kB4, 5353); }), EPERM);
  EXPECT_EQ(in_a([] { return tcp_connect(kB6, 8080); }), EPERM);
  EXPECT_EQ(in_a([] { return tcp_connect("::ffff:10.231.0.2", 8080); }), EPERM);
  EXPECT_EQ(in_a([] { return udp_sendto("::ffff:10.231.0.2", 5353); }), EPERM);
  EXPECT_EQ(in_a([] { return tcp_connect("169.254.169.254", 80); }), EPERM);
  EXPECT_FALSE(testing::datagram_arrives(u5353.get(), 50));

  // Reload with an explicit grant of the peer: the next connect sees it.
  spec.egress.push_back(egress({std::string(kB4) + "/32"}, {{8080, 8080}}, config::kProtoTcp));
  auto compiled = compile_policy(spec, ctx);
  ASSERT_TRUE(compiled.ok());
  ASSERT_TRUE(policy->replace(*compiled).ok());
  EXPECT_EQ(in_a([] { return tcp_connect(kB4, 8080); }), 0);
  EXPECT_EQ(in_a([] { return tcp_connect("::ffff:10.231.0.2", 8080); }), 0);
  EXPECT_EQ(in_a([] { return udp_sendto(kB4, 5353); }), EPERM);   // only TCP 8080 granted
  EXPECT_EQ(in_a([] { return tcp_connect(kB6, 8080); }), EPERM);  // IPv6 not granted
}

// The per-packet backstop on the way in: an unconnected UDP socket that sent
// to an allowed peer gets that peer's answer, but not a datagram from a port
// the tenant may not reach.
TEST_F(NetPolicyTest, UdpRepliesAdmittedOtherSourcesDropped) {
  NetworkSpec spec;
  spec.mode = NetworkMode::kIsolated;
  spec.egress = {egress({std::string(kB4) + "/32"}, {{5353, 5353}}, config::kProtoUdp)};
  auto policy = attach(spec);
  ASSERT_NE(policy, nullptr);
  auto echo = udp_in_b(5353, "0.0.0.0");
  auto stranger = udp_in_b(5354, "0.0.0.0");
  ASSERT_TRUE(echo && stranger);
  std::thread responder([&] {
    pollfd p{echo.get(), POLLIN, 0};
    if (::poll(&p, 1, 2000) != 1) {
      return;
    }
    char buf[16];
    sockaddr_storage from{};
    socklen_t len = sizeof(from);
    ssize_t n =
        ::recvfrom(echo.get(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n > 0) {
      ::sendto(stranger.get(), "s", 1, 0, reinterpret_cast<sockaddr*>(&from), len);
      ::sendto(echo.get(), "e", 1, 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  });
  int r = in_a([] {
    sockaddr_storage sa{};
    socklen_t len = testing::make_addr(kB4, 5353, &sa);
    UniqueFd s(::socket(AF_INET, SOCK_DGRAM, 0));
    if (::sendto(s.get(), "q", 1, 0, reinterpret_cast<sockaddr*>(&sa), len) != 1) {
      return 20;
    }
    std::string got;
    for (int i = 0; i < 2; ++i) {
      // The first wait is for the reply; the second, short, for a stranger's
      // datagram, which would have been sent before the reply.
      pollfd p{s.get(), POLLIN, 0};
      char c = 0;
      if (::poll(&p, 1, i == 0 ? testing::kArrivalMs : 300) == 1 &&
          ::recv(s.get(), &c, 1, 0) == 1) {
        got += c;
      }
    }
    return got == "e" ? 0 : got.empty() ? 10 : 11;
  });
  responder.join();
  EXPECT_EQ(r, 0) << "10: the reply was dropped, 11: the stranger's datagram came through";
  auto c = policy->counters();
  ASSERT_TRUE(c.ok());
  EXPECT_GE(c->hooks[BH_HOOK_SKB_INGRESS].denied, 1U);
}

// The backstop on the way out: a UDP socket connected while the peer was
// allowed, then narrowed by a reload, cannot keep sending (no socket hook runs
// for send() on a connected socket; the cgroup_skb egress program drops it).
TEST_F(NetPolicyTest, ReloadStopsAnAlreadyConnectedUdpSocket) {
  NetworkSpec spec;
  spec.mode = NetworkMode::kIsolated;
  spec.egress = {egress({std::string(kB4) + "/32"}, {{5353, 5353}}, config::kProtoUdp)};
  auto policy = attach(spec);
  ASSERT_NE(policy, nullptr);
  auto u = udp_in_b(5353, "0.0.0.0");
  ASSERT_TRUE(u);
  int connected[2];
  int go[2];
  ASSERT_EQ(::pipe(connected), 0);
  ASSERT_EQ(::pipe(go), 0);
  UniqueFd c_r(connected[0]), c_w(connected[1]), g_r(go[0]), g_w(go[1]);
  std::thread reloader([&] {
    char x = 0;
    if (::read(c_r.get(), &x, 1) == 1) {
      spec.egress.clear();
      auto narrowed = compile_policy(spec, {});
      if (narrowed.ok()) {
        (void)policy->replace(*narrowed);
      }
    }
    (void)::write(g_w.get(), "g", 1);
  });
  int r = in_a([&] {
    sockaddr_storage sa{};
    socklen_t len = testing::make_addr(kB4, 5353, &sa);
    UniqueFd s(::socket(AF_INET, SOCK_DGRAM, 0));
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&sa), len) != 0 ||
        ::send(s.get(), "1", 1, 0) != 1) {
      return 100;
    }
    char x = 0;
    if (::write(c_w.get(), "c", 1) != 1 || ::read(g_r.get(), &x, 1) != 1) {
      return 101;
    }
    return ::send(s.get(), "2", 1, 0) == 1 ? 0 : errno;
  });
  reloader.join();
  EXPECT_EQ(r, EPERM);
  EXPECT_TRUE(testing::datagram_arrives(u.get()));        // "1", before the reload
  EXPECT_FALSE(testing::datagram_arrives(u.get(), 100));  // "2" never left
  auto c = policy->counters();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->hooks[BH_HOOK_SKB_EGRESS].denied, 1U);
}

TEST_F(NetPolicyTest, OverlappingRulesMergePortSets) {
  NetworkSpec spec;
  spec.mode = NetworkMode::kIsolated;
  spec.egress = {egress({"10.231.0.0/24"}, {{8080, 8080}}, config::kProtoTcp),
                 egress({std::string(kB4) + "/32"}, {{8081, 8081}}, config::kProtoTcp)};
  auto policy = attach(spec);
  ASSERT_NE(policy, nullptr);
  auto l1 = tcp_in_b(8080);
  auto l2 = tcp_in_b(8081);
  auto l3 = tcp_in_b(8082);
  EXPECT_EQ(in_a([] { return tcp_connect(kB4, 8080); }), 0);  // from the /24
  EXPECT_EQ(in_a([] { return tcp_connect(kB4, 8081); }), 0);  // from the /32
  EXPECT_EQ(in_a([] { return tcp_connect(kB4, 8082); }), EPERM);
}

TEST_F(NetPolicyTest, HostModeTenantCannotReachHostLoopbackUnlessGranted) {
  NetworkSpec spec;
  spec.mode = NetworkMode::kHost;
  spec.egress = {egress({"0.0.0.0/0", "::/0"}, {}, config::kProtoAny)};
  auto policy = attach(spec);
  ASSERT_NE(policy, nullptr);
  auto l4 = listen_in(-1, SOCK_STREAM, "127.0.0.1", 0);
  ASSERT_TRUE(l4);
  uint16_t port = local_port(l4.get());
  auto host = [&](const std::function<int()>& fn) { return run_in_tenant(cgroup_.path(), -1, fn); };
  EXPECT_EQ(host([port] { return tcp_connect("127.0.0.1", port); }), EPERM);
  EXPECT_EQ(host([port] { return tcp_connect("0.0.0.0", port); }), EPERM);
  EXPECT_EQ(host([port] { return tcp_connect("::ffff:127.0.0.1", port); }), EPERM);
  EXPECT_EQ(host([port] { return udp_sendto("127.0.0.1", port); }), EPERM);

  spec.egress.push_back(egress({"127.0.0.1/32"}, {{port, port}}, config::kProtoTcp));
  auto compiled = compile_policy(spec, {});
  ASSERT_TRUE(compiled.ok());
  ASSERT_TRUE(policy->replace(*compiled).ok());
  EXPECT_EQ(host([port] { return tcp_connect("127.0.0.1", port); }), 0);
  EXPECT_EQ(host([port] { return tcp_connect("127.0.0.1", port + 1); }), EPERM);
}

// In host mode the host's own addresses reach its services too, so they are
// protected like loopback. Netns B plays the host here: the tenant shares it,
// and the agent's address snapshot is taken in it.
TEST_F(NetPolicyTest, HostModeProtectsTheHostsOwnAddresses) {
  config::Profile profile;
  profile.name = "hosty";
  profile.source_file = "hosty.yaml";
  profile.network.mode = NetworkMode::kHost;
  profile.network.egress = {egress({"0.0.0.0/0", "::/0"}, {}, config::kProtoAny)};
  auto host_service = tcp_in_b(8080, "0.0.0.0");
  auto elsewhere = listen_in(a_->fd(), SOCK_STREAM, "0.0.0.0", 8080);
  ASSERT_TRUE(host_service && elsewhere);
  UniqueFd self(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
  ASSERT_EQ(::setns(b_->fd(), CLONE_NEWNET), 0);
  auto policy = attach_tenant_network(profile, cgroup_.path(), pins_.path(), {});
  ASSERT_EQ(::setns(self.get(), CLONE_NEWNET), 0);
  ASSERT_TRUE(policy.ok()) << policy.error().to_string();
  auto in_b = [&](const std::function<int()>& fn) {
    return run_in_tenant(cgroup_.path(), b_->fd(), fn);
  };
  EXPECT_EQ(in_b([] { return tcp_connect(kB4, 8080); }), EPERM);  // the "host" itself
  EXPECT_EQ(in_b([] { return tcp_connect(kB6, 8080); }), EPERM);
  EXPECT_EQ(in_b([] { return tcp_connect(kA4, 8080); }), 0);  // another machine
}

// A listener inside the tenant (B side here): bind is limited to the ingress
// ports; new inbound flows must come from the rule's sources.
TEST_F(NetPolicyTest, IngressRulesHoldForAListener) {
  NetworkSpec spec;
  spec.mode = NetworkMode::kIsolated;
  IngressRule in;
  in.ports = {{9000, 9000}};
  in.from = {cidr(std::string(kA4) + "/32")};
  in.protocols = config::kProtoTcp;
  spec.ingress = {in};
  auto policy = attach(spec);
  ASSERT_NE(policy, nullptr);

  // The tenant process binds and listens in B, then waits to be killed.
  testing::NetNs& b = *b_;
  int ready[2];
  ASSERT_EQ(::pipe2(ready, O_CLOEXEC), 0);
  UniqueFd ready_r(ready[0]);
  UniqueFd ready_w(ready[1]);
  pid_t listener = ::fork();
  ASSERT_GE(listener, 0);
  if (listener == 0) {
    std::string me = std::to_string(::getpid());
    UniqueFd procs(::open((cgroup_.path() + "/cgroup.procs").c_str(), O_WRONLY));
    if (!procs || ::write(procs.get(), me.data(), me.size()) < 0 ||
        ::setns(b.fd(), CLONE_NEWNET) != 0) {
      ::_exit(1);
    }
    auto denied = listen_in(-1, SOCK_STREAM, "0.0.0.0", 9001);
    int bind_errno = denied ? 0 : errno;
    auto ok = listen_in(-1, SOCK_STREAM, "0.0.0.0", 9000);
    char report[2] = {static_cast<char>(bind_errno), static_cast<char>(ok ? 1 : 0)};
    (void)::write(ready[1], report, 2);
    ::pause();
    ::_exit(0);
  }
  testing::KilledChild guard_kill{listener};
  ready_w.reset();
  char report[2] = {};
  ASSERT_EQ(::read(ready_r.get(), report, 2), 2);
  EXPECT_EQ(report[0], EPERM) << "bind to 9001 (not an ingress port)";
  EXPECT_EQ(report[1], 1) << "bind to 9000";

  // A plain process in netns A (no policy of its own) is the allowed source.
  auto from_a = [&](uint16_t port, int timeout_ms = testing::kArrivalMs) {
    UniqueFd self(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    ::setns(a_->fd(), CLONE_NEWNET);
    int r = tcp_connect(kB4, port, timeout_ms);
    ::setns(self.get(), CLONE_NEWNET);
    return r;
  };
  EXPECT_EQ(from_a(9000), 0);
  auto before = policy->counters();
  ASSERT_TRUE(before.ok());

  // Narrow the sources to an address nobody has: the SYN is dropped.
  spec.ingress[0].from = {cidr("10.231.0.99/32")};
  auto compiled = compile_policy(spec, {});
  ASSERT_TRUE(compiled.ok());
  ASSERT_TRUE(policy->replace(*compiled).ok());
  EXPECT_EQ(from_a(9000, 300), ETIMEDOUT);
  auto after = policy->counters();
  ASSERT_TRUE(after.ok());
  EXPECT_GT(after->hooks[BH_HOOK_SKB_INGRESS].denied, before->hooks[BH_HOOK_SKB_INGRESS].denied);
}

// cgroup/sock_create runs for AF_INET and AF_INET6 sockets only: it decides
// SOCK_RAW and whether the tenant may use IPv4/IPv6 at all. Other families
// (AF_PACKET, ...) are the seccomp layer's (docs/network.md).
TEST_F(NetPolicyTest, InetFamiliesAndRawSockets) {
  NetworkSpec spec;  // defaults: AF_UNIX, AF_INET, AF_INET6, AF_NETLINK; no raw
  auto policy = attach(spec);
  ASSERT_NE(policy, nullptr);
  auto make = [this](int family, int type, int proto) {
    return in_a([=] {
      int fd = ::socket(family, type, proto);
      return fd >= 0 ? 0 : errno;
    });
  };
  EXPECT_EQ(make(AF_INET, SOCK_STREAM, 0), 0);
  EXPECT_EQ(make(AF_INET6, SOCK_DGRAM, 0), 0);
  EXPECT_EQ(make(AF_INET, SOCK_RAW, IPPROTO_ICMP), EPERM);
  EXPECT_EQ(make(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6), EPERM);

  spec.raw_sockets = true;
  spec.socket_families = {"AF_UNIX", "AF_INET"};
  auto compiled = compile_policy(spec, {});
  ASSERT_TRUE(compiled.ok());
  ASSERT_TRUE(policy->replace(*compiled).ok());
  EXPECT_EQ(make(AF_INET, SOCK_RAW, IPPROTO_ICMP), 0);
  EXPECT_EQ(make(AF_INET6, SOCK_DGRAM, 0), EPERM);
  auto c = policy->counters();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->hooks[BH_HOOK_SOCK_CREATE].denied, 3U);
}

TEST_F(NetPolicyTest, CountersAndDenyEventsMatchWhatWasTried) {
  NetworkSpec spec;
  spec.mode = NetworkMode::kIsolated;
  spec.egress = {egress({std::string(kB4) + "/32"}, {{8080, 8080}}, config::kProtoTcp)};
  TenantPolicyOptions o = options("counted");
  // One token per second: the ten denials below must fall within one refill
  // period, which a loaded machine could stretch past 100 ms but not past 1 s.
  o.deny_events_per_sec = 1;
  o.deny_events_burst = 3;
  auto policy = attach(spec, {}, o);
  ASSERT_NE(policy, nullptr);
  auto l = tcp_in_b(8080);
  auto l2 = tcp_in_b(8081);

  EXPECT_EQ(in_a([] { return tcp_connect(kB4, 8080); }), 0);
  EXPECT_EQ(in_a([] { return tcp_connect(kB4, 8080); }), 0);
  // Ten denials in one process, fast: three records, seven suppressed.
  pid_t prober = 0;
  EXPECT_EQ(in_a([] {
              for (int i = 0; i < 10; ++i) {
                if (tcp_connect(kB4, 8081) != EPERM) {
                  return 1;
                }
              }
              return 0;
            }),
            0);
  std::vector<events::Event> got;
  events::EventHandler collect = [&got](events::Event&& e) { got.push_back(std::move(e)); };
  for (int i = 0; i < 20 && got.size() < 3; ++i) {
    ASSERT_TRUE(policy->poll_deny_events(collect, 50).ok());
  }
  ASSERT_EQ(got.size(), 3U);
  for (const auto& e : got) {
    EXPECT_EQ(e.type, events::EventType::kNetDeny);
    EXPECT_EQ(e.tenant, "counted");
    EXPECT_EQ(e.fields["hook"], "connect4");
    EXPECT_EQ(e.fields["protocol"], "tcp");
    EXPECT_EQ(e.fields["dst"]["addr"], kB4);
    EXPECT_EQ(e.fields["dst"]["port"], 8081);
    EXPECT_GT(e.process.pid, 0);
    EXPECT_FALSE(e.process.comm.empty());
    prober = e.process.pid;
  }
  EXPECT_EQ(got[0].process.pid, prober);
  // After a refill, the next record carries the seven suppressed ones.
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  EXPECT_EQ(in_a([] { return udp_sendto(kB4, 8081); }), EPERM);
  got.clear();
  for (int i = 0; i < 20 && got.empty(); ++i) {
    ASSERT_TRUE(policy->poll_deny_events(collect, 50).ok());
  }
  ASSERT_EQ(got.size(), 1U);
  EXPECT_EQ(got[0].fields["hook"], "sendmsg4");
  EXPECT_EQ(got[0].fields["protocol"], "udp");
  EXPECT_EQ(got[0].fields["suppressed"], 7);

  auto c = policy->counters();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->hooks[BH_HOOK_CONNECT4].allowed, 2U);
  EXPECT_EQ(c->hooks[BH_HOOK_CONNECT4].denied, 10U);
  EXPECT_EQ(c->hooks[BH_HOOK_SENDMSG4].denied, 1U);
  EXPECT_EQ(c->hooks[BH_HOOK_SENDMSG4].allowed, 0U);
}

// An agent that dies keeps the tenant enforced (pinned links); the next one
// adopts the pins with bpf_link_update, and removal leaves nothing behind.
TEST_F(NetPolicyTest, EnforcementSurvivesAgentDeathAndIsAdopted) {
  NetworkSpec spec;
  spec.mode = NetworkMode::kIsolated;
  spec.egress = {egress({std::string(kB4) + "/32"}, {{8080, 8080}}, config::kProtoTcp)};
  auto l = tcp_in_b(8080);
  auto l2 = tcp_in_b(8081);
  auto compiled = compile_policy(spec, {});
  ASSERT_TRUE(compiled.ok());
  const TenantPolicyOptions o = options("survivor");
  // The "first agent": attaches and exits without running any destructor.
  pid_t agent = ::fork();
  ASSERT_GE(agent, 0);
  if (agent == 0) {
    auto p = TenantNetPolicy::attach(o, *compiled);
    ::_exit(p.ok() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(agent, &status, 0), agent);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(attached_programs(cgroup_.path(), BPF_CGROUP_INET4_CONNECT), 1U);
  EXPECT_EQ(in_a([] { return tcp_connect(kB4, 8081); }), EPERM);  // still enforced
  EXPECT_EQ(in_a([] { return tcp_connect(kB4, 8080); }), 0);

  {
    // The "second agent" adopts and widens the policy.
    spec.egress[0].ports = {{8080, 8081}};
    auto wider = compile_policy(spec, {});
    ASSERT_TRUE(wider.ok());
    auto p = TenantNetPolicy::attach(o, *wider);
    ASSERT_TRUE(p.ok()) << p.error().to_string();
    EXPECT_TRUE((*p)->adopted());
    EXPECT_EQ(attached_programs(cgroup_.path(), BPF_CGROUP_INET4_CONNECT), 1U);
    EXPECT_EQ(in_a([] { return tcp_connect(kB4, 8081); }), 0);
    auto c = (*p)->counters();
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->hooks[BH_HOOK_CONNECT4].denied, 1U);  // kept from the first agent
  }
  EXPECT_EQ(attached_programs(cgroup_.path(), BPF_CGROUP_INET4_CONNECT), 0U);
  EXPECT_EQ(attached_programs(cgroup_.path(), BPF_CGROUP_INET_INGRESS), 0U);
  EXPECT_NE(::access((pins_.path() + "/survivor").c_str(), F_OK), 0) << "pins left behind";
  EXPECT_EQ(in_a([] { return tcp_connect(kB4, 8082); }), ECONNREFUSED);  // no policy at all
}

// A next agent that cannot adopt the pins (here: one map pin replaced by a map
// of another layout) fails with the reason and leaves the previous agent's
// links and enforcement alone.
TEST_F(NetPolicyTest, FailedAdoptionKeepsThePreviousEnforcement) {
  NetworkSpec spec;
  spec.mode = NetworkMode::kIsolated;
  spec.egress = {egress({std::string(kB4) + "/32"}, {{8080, 8080}}, config::kProtoTcp)};
  auto l = tcp_in_b(8080);
  auto l2 = tcp_in_b(8081);
  auto compiled = compile_policy(spec, {});
  ASSERT_TRUE(compiled.ok());
  const TenantPolicyOptions o = options("kept");
  pid_t agent = ::fork();
  ASSERT_GE(agent, 0);
  if (agent == 0) {
    auto p = TenantNetPolicy::attach(o, *compiled);
    ::_exit(p.ok() ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(agent, &status, 0), agent);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const std::string counters = pins_.path() + "/kept/map_counters";
  ASSERT_EQ(::unlink(counters.c_str()), 0);
  UniqueFd wrong(bpf_map_create(BPF_MAP_TYPE_ARRAY, "wrong", 4, 4, 1, nullptr));
  ASSERT_EQ(bpf_obj_pin(wrong.get(), counters.c_str()), 0);

  auto second = TenantNetPolicy::attach(o, *compiled);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().to_string().find("does not match"), std::string::npos)
      << second.error().to_string();
  EXPECT_EQ(attached_programs(cgroup_.path(), BPF_CGROUP_INET4_CONNECT), 1U);
  EXPECT_EQ(in_a([] { return tcp_connect(kB4, 8081); }), EPERM);  // still enforced
  EXPECT_EQ(in_a([] { return tcp_connect(kB4, 8080); }), 0);
  // The fixture's pin root removal unpins the links; the cgroup goes with them.
}

TEST_F(NetPolicyTest, AttachFailsClosedWithAReason) {
  TenantPolicyOptions o = options("broken");
  o.cgroup_dir =
      testing::TestCgroup2::unified_mount() + "/does-not-exist-" + testing::unique_suffix();
  auto compiled = compile_policy(NetworkSpec{}, {});
  ASSERT_TRUE(compiled.ok());
  auto p = TenantNetPolicy::attach(o, *compiled);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().to_string().find("network policy of tenant broken"), std::string::npos)
      << p.error().to_string();
  EXPECT_NE(p.error().to_string().find(o.cgroup_dir), std::string::npos);
  EXPECT_NE(::access((pins_.path() + "/broken").c_str(), F_OK), 0);
}

}  // namespace
}  // namespace bulkhead::net
