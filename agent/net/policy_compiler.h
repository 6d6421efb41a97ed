// Compiles a tenant's NetworkSpec into the contents of its policy trie
// (bpf/shared/net_policy.h): one longest-prefix-match entry per prefix, each
// already carrying the full verdict, so the kernel does one lookup.
//
// "Denied unless explicitly granted": protected ranges (other tenants, the
// host's own addresses and loopback in host mode, link-local metadata, the
// bridge gateway) become DENY entries. A grant applies to a prefix P only if it
// covers P and is at least as specific as the longest protected range covering
// P. So 0.0.0.0/0 opens nothing inside 169.254.0.0/16, while a grant of
// 169.254.169.254/32 (or of 169.254.0.0/16 itself) does. Port sets of every
// grant that applies to P are merged into P's entry, because the lookup
// returns P's entry alone.
#pragma once

#include <linux/bpf.h>

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "config/profile.h"
#include "net_policy.h"

namespace bulkhead::net {

// What the caller (the agent, which knows the address pool and the host)
// adds to the profile's own rules.
struct PolicyContext {
  // Denied unless a grant is at least as specific: other tenants' pool range,
  // the host's addresses, the bridge gateway, the agent's own endpoints.
  std::vector<config::Cidr> protected_ranges;
  // The tenant's own addresses (its veth in isolated mode): always allowed,
  // every port, both directions, like its own loopback.
  std::vector<config::Cidr> own_addresses;
};

struct TrieEntry {
  bh_net_key key{};
  bh_net_value value{};
};

struct CompiledPolicy {
  std::vector<TrieEntry> entries;
  // Counts for logs and the API.
  size_t egress_entries = 0;
  size_t ingress_entries = 0;
};

// Ranges every tenant gets on top of the context: 169.254.0.0/16 and fe80::/10
// always; in host mode also the host's loopback (127.0.0.0/8, ::1) and the
// unspecified addresses (0.0.0.0, ::), which reach the host's own services.
std::vector<config::Cidr> builtin_protected_ranges(config::NetworkMode mode);

// Errors name the profile field: "network.egress: 10.0.0.0/8 ends up with 20
// port ranges after merging covering rules (at most 16)".
Result<CompiledPolicy> compile_policy(const config::NetworkSpec& spec,
                                      const PolicyContext& context);

// "AF_INET" -> 2; -1 for an unknown name.
int socket_family_number(const std::string& name);
// "10.0.0.0/8", "fd00::/64".
std::string cidr_to_string(const config::Cidr& cidr);
// Parses "10.0.0.0/8" or "::1" (a host address without /len); host bits must
// be zero. For tests and the API; profiles are parsed by the config layer.
Result<config::Cidr> parse_cidr(const std::string& text);

}  // namespace bulkhead::net
