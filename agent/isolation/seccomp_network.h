// The seccomp half of network.socket_families and network.raw_sockets: a
// second, small filter installed in every workload next to the main one. It
// allows everything except socket(2) and socketpair(2) with a family the
// profile does not list, and IPv4/IPv6 socket(2) of type SOCK_RAW or
// SOCK_PACKET unless raw sockets are granted. The eBPF sock_create program checks the same thing
// from the kernel's side; either layer alone keeps the families out.
//
// A separate filter rather than rules merged into the main one: the kernel
// applies every installed filter and the strictest answer wins, so this one
// holds whatever the main filter's base (built-in or an imported OCI file)
// says about socket().
#pragma once

#include "common/result.h"
#include "config/profile.h"
#include "isolation/seccomp_policy.h"

namespace bulkhead::isolation {

// Denials use the profile's seccomp action (errno, kill or log). With
// seccomp.allow_foreign_abi the 32-bit x86 and x32 calls get the same rules,
// and socketcall(2), whose arguments seccomp cannot see, is denied.
Result<SeccompProgram> compile_socket_filter(const config::NetworkSpec& network,
                                             const config::SeccompSpec& seccomp);

}  // namespace bulkhead::isolation
