// The socket-family filter (network.socket_families, network.raw_sockets),
// compiled and run through the user-space interpreter, without installing it.
#include "isolation/seccomp_network.h"

#include <gtest/gtest.h>
#include <linux/audit.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>

namespace bulkhead::isolation {
namespace {

constexpr uint32_t kAllow = SCMP_ACT_ALLOW;
constexpr uint32_t kEperm = SCMP_ACT_ERRNO(EPERM);

uint32_t decide(const SeccompProgram& p, const std::string& name, uint64_t a0 = 0, uint64_t a1 = 0,
                uint32_t arch = AUDIT_ARCH_X86_64, int nr = -1) {
  seccomp_data d{};
  d.nr = nr >= 0 ? nr : resolve_syscall(name);
  d.arch = arch;
  d.args[0] = a0;
  d.args[1] = a1;
  auto r = evaluate_seccomp(p, d);
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  return r.ok() ? *r : 0xdeadbeef;
}

SeccompProgram compile(const config::NetworkSpec& n, const config::SeccompSpec& s = {}) {
  auto p = compile_socket_filter(n, s);
  EXPECT_TRUE(p.ok()) << p.error().to_string();
  return p.ok() ? *p : SeccompProgram{};
}

TEST(SeccompNetwork, DefaultFamiliesOnly) {
  auto p = compile(config::NetworkSpec{});
  for (uint64_t family : {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK}) {
    EXPECT_EQ(decide(p, "socket", family, SOCK_STREAM), kAllow) << family;
  }
  for (uint64_t family : {AF_PACKET, AF_ALG, AF_BLUETOOTH, AF_VSOCK, AF_XDP, 255}) {
    EXPECT_EQ(decide(p, "socket", family, SOCK_DGRAM), kEperm) << family;
  }
  EXPECT_EQ(decide(p, "socketpair", AF_UNIX, SOCK_STREAM), kAllow);
  EXPECT_EQ(decide(p, "socketpair", AF_TIPC, SOCK_STREAM), kEperm);
  // The family is an int: bits above 32 do not turn a denied family into an allowed one
  // nor the other way round.
  EXPECT_EQ(decide(p, "socket", (uint64_t{1} << 32) | AF_INET, SOCK_STREAM), kAllow);
  EXPECT_EQ(decide(p, "socket", (uint64_t{1} << 32) | AF_PACKET, SOCK_STREAM), kEperm);
  // Other calls are the main filter's business.
  EXPECT_EQ(decide(p, "connect", AF_PACKET), kAllow);
  EXPECT_EQ(decide(p, "write"), kAllow);
}

TEST(SeccompNetwork, RawAndPacketTypesNeedRawSockets) {
  auto p = compile(config::NetworkSpec{});
  EXPECT_EQ(decide(p, "socket", AF_INET, SOCK_RAW), kEperm);
  EXPECT_EQ(decide(p, "socket", AF_INET6, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK), kEperm);
  EXPECT_EQ(decide(p, "socket", AF_INET, SOCK_PACKET), kEperm);
  EXPECT_EQ(decide(p, "socket", AF_INET, SOCK_DGRAM | SOCK_CLOEXEC), kAllow);
  // Netlink sockets are SOCK_RAW by convention: that is not a raw IP socket.
  EXPECT_EQ(decide(p, "socket", AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC), kAllow);

  config::NetworkSpec raw;
  raw.socket_families = {"AF_INET", "AF_PACKET"};
  raw.raw_sockets = true;
  auto q = compile(raw);
  EXPECT_EQ(decide(q, "socket", AF_INET, SOCK_RAW), kAllow);
  EXPECT_EQ(decide(q, "socket", AF_PACKET, SOCK_RAW), kAllow);
  EXPECT_EQ(decide(q, "socket", AF_INET6, SOCK_RAW), kEperm);  // family not listed
}

TEST(SeccompNetwork, EmptyListDeniesEverySocket) {
  config::NetworkSpec none;
  none.socket_families.clear();
  auto p = compile(none);
  EXPECT_EQ(decide(p, "socket", AF_UNIX, SOCK_STREAM), kEperm);
  EXPECT_EQ(decide(p, "socketpair", AF_UNIX, SOCK_STREAM), kEperm);
  EXPECT_EQ(decide(p, "read"), kAllow);
}

TEST(SeccompNetwork, UsesTheProfilesActionAndCoversForeignAbis) {
  config::SeccompSpec s;
  s.action = config::SeccompAction::kErrno;
  s.errno_value = EACCES;
  s.allow_foreign_abi = true;
  auto p = compile(config::NetworkSpec{}, s);
  EXPECT_EQ(decide(p, "socket", AF_PACKET, SOCK_RAW), SCMP_ACT_ERRNO(EACCES));
  // i386: socket is 359, socketcall (102) is denied outright.
  EXPECT_EQ(decide(p, "socket", AF_PACKET, SOCK_DGRAM, AUDIT_ARCH_I386, 359),
            SCMP_ACT_ERRNO(EACCES));
  EXPECT_EQ(decide(p, "socket", AF_INET, SOCK_DGRAM, AUDIT_ARCH_I386, 359), kAllow);
  EXPECT_EQ(decide(p, "socketcall", 1, 0, AUDIT_ARCH_I386, 102), SCMP_ACT_ERRNO(EACCES));
  // Without foreign ABIs this filter lets them through: the main filter refuses them.
  auto q = compile(config::NetworkSpec{});
  EXPECT_EQ(decide(q, "socketcall", 1, 0, AUDIT_ARCH_I386, 102), kAllow);
}

}  // namespace
}  // namespace bulkhead::isolation
