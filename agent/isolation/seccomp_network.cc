#include "isolation/seccomp_network.h"

#include <sys/socket.h>

#include "config/socket_families.h"

namespace bulkhead::isolation {
namespace {

// socket(2)'s type argument carries SOCK_NONBLOCK and SOCK_CLOEXEC above these bits.
constexpr uint32_t kSockTypeMask = 0xf;

void add_rule(SeccompPolicy& policy, const char* name, uint32_t action,
              std::vector<scmp_arg_cmp> args) {
  policy.rules.push_back(
      {name, resolve_syscall(name), action, std::move(args), "network.socket_families"});
}

}  // namespace

Result<SeccompProgram> compile_socket_filter(const config::NetworkSpec& network,
                                             const config::SeccompSpec& seccomp) {
  auto deny = seccomp_deny_action(seccomp);
  if (!deny.ok()) {
    return deny.error();
  }
  std::vector<uint32_t> allowed;
  for (const std::string& name : network.socket_families) {
    auto number = config::socket_family_number(name);
    if (!number) {
      return make_error("network.socket_families: unknown family " + name);
    }
    allowed.push_back(static_cast<uint32_t>(*number));
  }
  SeccompPolicy policy;
  policy.default_action = SCMP_ACT_ALLOW;
  // The kernel reads the family as an int: the masked comparisons cover the
  // low 32 bits only, so garbage in the upper half cannot sneak a family past.
  for (const MaskedValue& m : masked_complement(allowed)) {
    for (const char* call : {"socket", "socketpair"}) {
      add_rule(policy, call, *deny, {arg_cmp(0, SCMP_CMP_MASKED_EQ, m.mask, m.value)});
    }
  }
  // Raw IP sockets (and the obsolete SOCK_PACKET, a packet socket reached
  // through AF_INET). Only for IP: netlink sockets are SOCK_RAW by convention
  // (`ip` opens one), and other families are governed by being listed or not.
  if (!network.raw_sockets) {
    for (uint32_t family : {uint32_t{AF_INET}, uint32_t{AF_INET6}}) {
      for (uint32_t type : {uint32_t{SOCK_RAW}, uint32_t{SOCK_PACKET}}) {
        add_rule(policy, "socket", *deny,
                 {arg_cmp(0, SCMP_CMP_MASKED_EQ, 0xffffffff, family),
                  arg_cmp(1, SCMP_CMP_MASKED_EQ, kSockTypeMask, type)});
      }
    }
  }
  if (seccomp.allow_foreign_abi) {
    add_rule(policy, "socketcall", *deny, {});
  }
  // Calls of an ABI this filter does not include are the main filter's to refuse.
  auto program = build_seccomp_program(policy, seccomp.allow_foreign_abi, SCMP_ACT_ALLOW);
  if (!program.ok()) {
    return program.error().context("network.socket_families");
  }
  return program;
}

}  // namespace bulkhead::isolation
