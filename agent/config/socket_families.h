// The socket address families a profile may name in network.socket_families,
// with the numbers socket(2) takes. The table is the kernel's list as glibc's
// <sys/socket.h> spells it; a name outside it is refused, not passed through.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace bulkhead::config {

// "AF_INET", "af_inet" and "inet" all give "AF_INET"; "AF_LOCAL" gives "AF_UNIX".
Result<std::string> canonical_socket_family(std::string_view name);
// The number of a canonical name; nullopt for anything else.
std::optional<int> socket_family_number(std::string_view canonical);

}  // namespace bulkhead::config
