#include "config/socket_families.h"

#include <sys/socket.h>

#include <cctype>

namespace bulkhead::config {
namespace {

struct Family {
  std::string_view name;
  int number;
};

// AF_LOCAL and AF_FILE are AF_UNIX; AF_ROUTE is AF_NETLINK (handled as aliases below).
constexpr Family kFamilies[] = {
    {"AF_UNIX", AF_UNIX},
    {"AF_INET", AF_INET},
    {"AF_AX25", AF_AX25},
    {"AF_IPX", AF_IPX},
    {"AF_APPLETALK", AF_APPLETALK},
    {"AF_NETROM", AF_NETROM},
    {"AF_BRIDGE", AF_BRIDGE},
    {"AF_ATMPVC", AF_ATMPVC},
    {"AF_X25", AF_X25},
    {"AF_INET6", AF_INET6},
    {"AF_ROSE", AF_ROSE},
    {"AF_DECnet", AF_DECnet},
    {"AF_NETBEUI", AF_NETBEUI},
    {"AF_SECURITY", AF_SECURITY},
    {"AF_KEY", AF_KEY},
    {"AF_NETLINK", AF_NETLINK},
    {"AF_PACKET", AF_PACKET},
    {"AF_ASH", AF_ASH},
    {"AF_ECONET", AF_ECONET},
    {"AF_ATMSVC", AF_ATMSVC},
    {"AF_RDS", AF_RDS},
    {"AF_SNA", AF_SNA},
    {"AF_IRDA", AF_IRDA},
    {"AF_PPPOX", AF_PPPOX},
    {"AF_WANPIPE", AF_WANPIPE},
    {"AF_LLC", AF_LLC},
    {"AF_IB", AF_IB},
    {"AF_MPLS", AF_MPLS},
    {"AF_CAN", AF_CAN},
    {"AF_TIPC", AF_TIPC},
    {"AF_BLUETOOTH", AF_BLUETOOTH},
    {"AF_IUCV", AF_IUCV},
    {"AF_RXRPC", AF_RXRPC},
    {"AF_ISDN", AF_ISDN},
    {"AF_PHONET", AF_PHONET},
    {"AF_IEEE802154", AF_IEEE802154},
    {"AF_CAIF", AF_CAIF},
    {"AF_ALG", AF_ALG},
    {"AF_NFC", AF_NFC},
    {"AF_VSOCK", AF_VSOCK},
    {"AF_KCM", AF_KCM},
    {"AF_QIPCRTR", AF_QIPCRTR},
    {"AF_SMC", AF_SMC},
    {"AF_XDP", AF_XDP},
    {"AF_MCTP", AF_MCTP},
};

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) !=
        std::toupper(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<std::string> canonical_socket_family(std::string_view name) {
  std::string full(name);
  if (full.size() < 3 || !iequal(full.substr(0, 3), "AF_")) {
    full = "AF_" + full;
  }
  if (iequal(full, "AF_LOCAL") || iequal(full, "AF_FILE")) {
    return std::string("AF_UNIX");
  }
  if (iequal(full, "AF_ROUTE")) {
    return std::string("AF_NETLINK");
  }
  for (const Family& f : kFamilies) {
    if (iequal(full, f.name)) {
      return std::string(f.name);
    }
  }
  return make_error("unknown socket family \"" + std::string(name) +
                    "\" (use a name such as AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET)");
}

std::optional<int> socket_family_number(std::string_view canonical) {
  for (const Family& f : kFamilies) {
    if (f.name == canonical) {
      return f.number;
    }
  }
  return std::nullopt;
}

}  // namespace bulkhead::config
