#include "config/cidr.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>

#include "config/units.h"

namespace bulkhead::config {
namespace {

int max_prefix(int family) { return family == AF_INET ? 32 : 128; }

// Zeroes every bit after the first `len` bits.
std::array<uint8_t, 16> masked(const std::array<uint8_t, 16>& addr, int len) {
  std::array<uint8_t, 16> out{};
  for (int i = 0; i < 16; ++i) {
    int bits = std::clamp(len - i * 8, 0, 8);
    out[static_cast<size_t>(i)] =
        static_cast<uint8_t>(addr[static_cast<size_t>(i)] & static_cast<uint8_t>(0xff00 >> bits));
  }
  return out;
}

bool is_v4_mapped(const std::array<uint8_t, 16>& a) {
  return std::all_of(a.begin(), a.begin() + 10, [](uint8_t b) { return b == 0; }) &&
         a[10] == 0xff && a[11] == 0xff;
}

}  // namespace

Result<Cidr> parse_cidr(std::string_view text) {
  std::string s(text);
  std::string addr_text = s;
  std::string len_text;
  if (auto slash = s.find('/'); slash != std::string::npos) {
    addr_text = s.substr(0, slash);
    len_text = s.substr(slash + 1);
  }
  Cidr c;
  if (::inet_pton(AF_INET, addr_text.c_str(), c.addr.data()) == 1) {
    c.family = AF_INET;
  } else if (::inet_pton(AF_INET6, addr_text.c_str(), c.addr.data()) == 1) {
    c.family = AF_INET6;
  } else {
    return make_error("\"" + s + "\" is not an IPv4 or IPv6 address or prefix (like 10.0.0.0/8)");
  }
  int len = max_prefix(c.family);
  if (s.find('/') != std::string::npos) {
    auto n = parse_uint(len_text);
    if (!n.ok() || len_text.empty() || *n > static_cast<uint64_t>(len)) {
      return make_error("\"" + s + "\": the prefix length must be a number 0.." +
                        std::to_string(len));
    }
    len = static_cast<int>(*n);
  }
  c.prefix_len = static_cast<uint8_t>(len);
  if (c.family == AF_INET6 && len >= 96 && is_v4_mapped(c.addr)) {
    Cidr v4;
    v4.family = AF_INET;
    std::copy(c.addr.begin() + 12, c.addr.end(), v4.addr.begin());
    v4.prefix_len = static_cast<uint8_t>(len - 96);
    v4.addr = masked(v4.addr, v4.prefix_len);
    return make_error("\"" + s + "\" is an IPv4-mapped IPv6 prefix: write it as " +
                      format_cidr(v4));
  }
  auto canonical = masked(c.addr, len);
  if (canonical != c.addr) {
    Cidr fixed = c;
    fixed.addr = canonical;
    return make_error("\"" + s + "\" has host bits set after the /" + std::to_string(len) +
                      " prefix: write " + format_cidr(fixed) + " for the network, or " +
                      format_address(c) + "/" + std::to_string(max_prefix(c.family)) +
                      " for the single address");
  }
  return c;
}

std::string format_address(const Cidr& c) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(c.family == AF_INET ? AF_INET : AF_INET6, c.addr.data(), buf, sizeof(buf));
  return buf;
}

std::string format_cidr(const Cidr& c) {
  return format_address(c) + "/" + std::to_string(c.prefix_len);
}

bool cidr_contains(const Cidr& outer, const Cidr& inner) {
  return outer.family == inner.family && outer.prefix_len <= inner.prefix_len &&
         masked(inner.addr, outer.prefix_len) == outer.addr;
}

bool cidr_overlaps(const Cidr& a, const Cidr& b) {
  return cidr_contains(a, b) || cidr_contains(b, a);
}

bool is_loopback(const Cidr& c) {
  static const Cidr kV4 = *parse_cidr("127.0.0.0/8");
  static const Cidr kV6 = *parse_cidr("::1/128");
  return cidr_contains(kV4, c) || cidr_contains(kV6, c);
}

}  // namespace bulkhead::config
