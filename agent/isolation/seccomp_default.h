// The built-in `default` seccomp profile, as data: an allowlist modelled on what Docker
// allows a container that holds no extra capabilities, and stricter where a tenant on a
// shared host must not reach (namespaces, mounts, keyrings, io_uring, terminal injection).
// Everything not allowed gets the profile's deny action.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "isolation/seccomp_policy.h"

namespace bulkhead::isolation {

// Every CLONE_NEW* flag clone() can take. CLONE_NEWTIME (0x80) is absent on purpose: in
// clone() that bit is part of the exit signal; only clone3 and unshare, both denied, take it.
inline constexpr uint64_t kCloneNamespaceFlags =
    0x00020000 /*NEWNS*/ | 0x02000000 /*NEWCGROUP*/ | 0x04000000 /*NEWUTS*/ |
    0x08000000 /*NEWIPC*/ | 0x10000000 /*NEWUSER*/ | 0x20000000 /*NEWPID*/ | 0x40000000 /*NEWNET*/;

// personality() values allowed (the ones Docker allows): PER_LINUX, PER_LINUX32,
// UNAME26, PER_LINUX32|UNAME26, and 0xffffffff, which only queries.
inline constexpr std::array<uint32_t, 5> kAllowedPersonalities = {0x0, 0x8, 0x20000, 0x20008,
                                                                  0xffffffff};

// ioctl commands denied: both push bytes into a terminal's input, so a tenant holding an
// inherited terminal fd could type commands into the operator's shell.
inline constexpr uint32_t kIoctlTiocsti = 0x5412;
inline constexpr uint32_t kIoctlTioclinux = 0x541C;

// Socket family denied: AF_VSOCK reaches the hypervisor host, outside every namespace.
inline constexpr uint32_t kAfVsock = 40;

// The default profile's policy; deny_action is what everything not allowed gets.
SeccompPolicy default_seccomp_policy(uint32_t deny_action);

// Names the default profile denies outright, which the tests call one by one. The
// conditional cases are not listed: clone (namespace flags), clone3 (always ENOSYS),
// personality (other values), ioctl (TIOCSTI, TIOCLINUX) and socket (AF_VSOCK).
const std::vector<std::string>& default_denied_syscalls();

// Names the default profile allows without conditions, for docs and tests.
const std::vector<std::string>& default_allowed_syscalls();

}  // namespace bulkhead::isolation
