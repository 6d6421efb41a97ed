// Address prefixes as profiles and the agent's configuration spell them:
// "10.0.0.0/8", "2001:db8::/32", or a bare address meaning one host.
//
// Parsing is strict so that a rule means exactly what it says: a prefix with
// host bits set ("10.1.2.3/8") is refused with the canonical form in the message
// instead of being silently widened, and IPv4-mapped IPv6 prefixes
// ("::ffff:10.0.0.0/104") are refused in favour of their IPv4 spelling, so every
// IPv4 rule has exactly one form.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "config/profile.h"

namespace bulkhead::config {

Result<Cidr> parse_cidr(std::string_view text);

// "10.0.0.0/8", "2001:db8::/32" (inet_ntop's compressed IPv6 form).
std::string format_cidr(const Cidr& c);
// Just the address part, without "/len".
std::string format_address(const Cidr& c);

// Whether every address of `inner` is also in `outer` (same family only).
bool cidr_contains(const Cidr& outer, const Cidr& inner);
bool cidr_overlaps(const Cidr& a, const Cidr& b);

// 127.0.0.0/8 and ::1/128: the only destinations a `none` tenant can reach.
bool is_loopback(const Cidr& c);

}  // namespace bulkhead::config
