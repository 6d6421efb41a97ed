// Kernel deny records to network.deny events.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include <cstring>

#include "net/deny_event.h"

namespace bulkhead::net {
namespace {

uint64_t boot_now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

TEST(NetDenyEvent, ConnectRecordHasProcessAndDestination) {
  bh_net_deny_record rec{};
  rec.time_ns = boot_now_ns();
  rec.cgroup_id = 77;
  rec.pid = 1234;
  rec.tid = 1235;
  std::strcpy(rec.comm, "curl");
  rec.suppressed = 4;
  rec.hook = BH_HOOK_CONNECT4;
  rec.family = AF_INET;
  rec.protocol = IPPROTO_TCP;
  rec.dst_port = 443;
  ::inet_pton(AF_INET, "192.0.2.7", rec.dst_addr);
  auto e = decode_deny_record(rec, "web", "api");
  EXPECT_EQ(e.type, events::EventType::kNetDeny);
  EXPECT_EQ(e.tenant, "web");
  EXPECT_EQ(e.workload, "api");
  EXPECT_EQ(e.process.pid, 1234);
  EXPECT_EQ(e.process.tid, 1235);
  EXPECT_EQ(e.process.comm, "curl");
  EXPECT_EQ(e.fields["hook"], "connect4");
  EXPECT_EQ(e.fields["verdict"], "denied");
  EXPECT_EQ(e.fields["protocol"], "tcp");
  EXPECT_EQ(e.fields["family"], "ipv4");
  EXPECT_EQ(e.fields["dst"]["addr"], "192.0.2.7");
  EXPECT_EQ(e.fields["dst"]["port"], 443);
  EXPECT_FALSE(e.fields.contains("src"));
  EXPECT_EQ(e.fields["suppressed"], 4);
  // Boot time converted to wall-clock time: within a second of now.
  timespec real{};
  ::clock_gettime(CLOCK_REALTIME, &real);
  uint64_t real_ns =
      static_cast<uint64_t>(real.tv_sec) * 1000000000ULL + static_cast<uint64_t>(real.tv_nsec);
  EXPECT_LT(real_ns - e.time_ns, 1000000000ULL);
}

TEST(NetDenyEvent, PacketRecordHasBothEndsAndNoProcess) {
  bh_net_deny_record rec{};
  rec.hook = BH_HOOK_SKB_INGRESS;
  rec.family = AF_INET6;
  rec.protocol = IPPROTO_UDP;
  rec.src_port = 53;
  rec.dst_port = 40000;
  ::inet_pton(AF_INET6, "fd00::1", rec.src_addr);
  ::inet_pton(AF_INET6, "fd00::2", rec.dst_addr);
  auto e = decode_deny_record(rec, "t", "");
  EXPECT_EQ(e.fields["hook"], "skb_ingress");
  EXPECT_EQ(e.fields["protocol"], "udp");
  EXPECT_EQ(e.fields["family"], "ipv6");
  EXPECT_EQ(e.fields["src"]["addr"], "fd00::1");
  EXPECT_EQ(e.fields["src"]["port"], 53);
  EXPECT_EQ(e.fields["dst"]["addr"], "fd00::2");
  EXPECT_EQ(e.process.pid, 0);
  EXPECT_TRUE(e.process.comm.empty());
}

TEST(NetDenyEvent, BindAndSocketRecords) {
  bh_net_deny_record bind{};
  bind.hook = BH_HOOK_BIND4;
  bind.family = AF_INET;
  bind.protocol = IPPROTO_TCP;
  bind.src_port = 22;
  auto b = decode_deny_record(bind, "t", "");
  EXPECT_EQ(b.fields["src"]["addr"], "0.0.0.0");
  EXPECT_EQ(b.fields["src"]["port"], 22);
  EXPECT_FALSE(b.fields.contains("dst"));

  bh_net_deny_record sock{};
  sock.hook = BH_HOOK_SOCK_CREATE;
  sock.family = AF_INET;
  sock.protocol = SOCK_RAW;
  auto s = decode_deny_record(sock, "t", "");
  EXPECT_EQ(s.fields["hook"], "sock_create");
  EXPECT_EQ(s.fields["protocol"], "raw");
  EXPECT_EQ(s.fields["family"], "ipv4");
  EXPECT_FALSE(s.fields.contains("dst"));
}

}  // namespace
}  // namespace bulkhead::net
