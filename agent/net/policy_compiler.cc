#include "net/policy_compiler.h"

#include <arpa/inet.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <map>
#include <utility>

namespace bulkhead::net {
namespace {

using config::Cidr;
using config::NetworkMode;
using config::PortRange;

Cidr make_cidr(int family, std::initializer_list<uint8_t> bytes, uint8_t len) {
  Cidr c;
  c.family = family;
  std::copy(bytes.begin(), bytes.end(), c.addr.begin());
  c.prefix_len = len;
  return c;
}

int width(const Cidr& c) { return c.family == AF_INET ? 32 : 128; }

// Whether `outer` contains `inner` (same family, shorter or equal prefix).
bool covers(const Cidr& outer, const Cidr& inner) {
  if (outer.family != inner.family || outer.prefix_len > inner.prefix_len) {
    return false;
  }
  int full = outer.prefix_len / 8;
  int rest = outer.prefix_len % 8;
  if (!std::equal(outer.addr.begin(), outer.addr.begin() + full, inner.addr.begin())) {
    return false;
  }
  if (rest == 0) {
    return true;
  }
  auto mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (outer.addr[full] & mask) == (inner.addr[full] & mask);
}

// One port range of one grant: [first, last] for the protocol bits.
struct Span {
  uint16_t first = 1;
  uint16_t last = 65535;
  uint8_t protocols = config::kProtoAny;
};

// All the rules and protections that name exactly one prefix.
struct Node {
  bool protected_range = false;
  std::vector<Span> grants;
};

// Orders prefixes so that each is followed by the prefixes it covers.
struct PrefixOrder {
  bool operator()(const Cidr& a, const Cidr& b) const {
    if (a.family != b.family) {
      return a.family < b.family;
    }
    if (a.addr != b.addr) {
      return a.addr < b.addr;
    }
    return a.prefix_len < b.prefix_len;
  }
};
using NodeMap = std::map<Cidr, Node, PrefixOrder>;

// Per protocol: sorted, overlapping and adjacent intervals joined.
std::vector<std::pair<uint16_t, uint16_t>> merge_intervals(
    std::vector<std::pair<uint16_t, uint16_t>> v) {
  std::sort(v.begin(), v.end());
  std::vector<std::pair<uint16_t, uint16_t>> out;
  for (const auto& iv : v) {
    if (!out.empty() && uint32_t{iv.first} <= uint32_t{out.back().second} + 1) {
      out.back().second = std::max(out.back().second, iv.second);
    } else {
      out.push_back(iv);
    }
  }
  return out;
}

Result<bh_net_value> allow_value(const std::vector<Span>& spans, const std::string& what) {
  std::vector<std::pair<uint16_t, uint16_t>> tcp;
  std::vector<std::pair<uint16_t, uint16_t>> udp;
  for (const auto& s : spans) {
    if ((s.protocols & config::kProtoTcp) != 0) {
      tcp.emplace_back(s.first, s.last);
    }
    if ((s.protocols & config::kProtoUdp) != 0) {
      udp.emplace_back(s.first, s.last);
    }
  }
  tcp = merge_intervals(std::move(tcp));
  udp = merge_intervals(std::move(udp));
  std::vector<bh_port_range> ranges;
  auto add = [&ranges](const std::vector<std::pair<uint16_t, uint16_t>>& v, uint8_t proto) {
    for (const auto& [first, last] : v) {
      bh_port_range r{};
      r.first = first;
      r.last = last;
      r.protocols = proto;
      ranges.push_back(r);
    }
  };
  if (tcp == udp) {
    add(tcp, BH_PROTO_TCP | BH_PROTO_UDP);
  } else {
    add(tcp, BH_PROTO_TCP);
    add(udp, BH_PROTO_UDP);
  }
  if (ranges.size() > BH_NET_MAX_RANGES) {
    return make_error(what + " ends up with " + std::to_string(ranges.size()) +
                      " port ranges after merging the rules that cover it (at most " +
                      std::to_string(BH_NET_MAX_RANGES) + ")");
  }
  bh_net_value v{};
  v.verdict = BH_VERDICT_ALLOW;
  v.nranges = static_cast<uint8_t>(ranges.size());
  std::copy(ranges.begin(), ranges.end(), std::begin(v.ranges));
  return v;
}

bh_net_key make_key(uint8_t kind4, const Cidr& c) {
  bh_net_key k{};
  k.kind = static_cast<uint8_t>(c.family == AF_INET ? kind4 : kind4 + 1);
  k.prefixlen = BH_KIND_BITS + c.prefix_len;
  std::copy(c.addr.begin(), c.addr.begin() + (c.family == AF_INET ? 4 : 16), k.addr);
  return k;
}

// Walks the prefixes in covering order with a stack of ancestors; each frame
// holds the grants that apply at its depth (reset by a protected range).
Status emit(const NodeMap& nodes, uint8_t kind4, const std::string& field,
            std::vector<TrieEntry>& out) {
  struct Frame {
    Cidr prefix;
    std::vector<Span> applicable;
  };
  std::vector<Frame> stack;
  for (const auto& [prefix, node] : nodes) {
    while (!stack.empty() && !covers(stack.back().prefix, prefix)) {
      stack.pop_back();
    }
    Frame f{prefix, {}};
    if (!node.protected_range && !stack.empty()) {
      f.applicable = stack.back().applicable;
    }
    f.applicable.insert(f.applicable.end(), node.grants.begin(), node.grants.end());
    TrieEntry e;
    e.key = make_key(kind4, prefix);
    if (f.applicable.empty()) {
      e.value.verdict = BH_VERDICT_DENY;
    } else {
      auto v = allow_value(f.applicable, field + ": " + cidr_to_string(prefix));
      if (!v.ok()) {
        return v.error();
      }
      e.value = *v;
    }
    out.push_back(e);
    stack.push_back(std::move(f));
  }
  return {};
}

void add_grant(NodeMap& nodes, const Cidr& c, const std::vector<PortRange>& ports,
               uint8_t protocols) {
  Node& n = nodes[c];
  if (ports.empty()) {
    n.grants.push_back(Span{1, 65535, protocols});
    // Port 0 only appears for protocols without ports; never needed here.
  }
  for (const auto& p : ports) {
    n.grants.push_back(Span{p.first, p.last, protocols});
  }
}

std::vector<Cidr> loopback_ranges() {
  return {make_cidr(AF_INET, {127, 0, 0, 0}, 8), make_cidr(AF_INET6, {}, 128),
          make_cidr(AF_INET, {0, 0, 0, 0}, 32), [] {
            Cidr c = make_cidr(AF_INET6, {}, 128);
            c.addr[15] = 1;
            return c;
          }()};
}

bool own_netns(NetworkMode mode) { return mode != NetworkMode::kHost; }

}  // namespace

std::vector<Cidr> builtin_protected_ranges(NetworkMode mode) {
  std::vector<Cidr> out{make_cidr(AF_INET, {169, 254}, 16), make_cidr(AF_INET6, {0xfe, 0x80}, 10)};
  if (!own_netns(mode)) {
    auto lo = loopback_ranges();
    out.insert(out.end(), lo.begin(), lo.end());
  }
  return out;
}

Result<CompiledPolicy> compile_policy(const config::NetworkSpec& spec,
                                      const PolicyContext& context) {
  std::vector<Cidr> protect = builtin_protected_ranges(spec.mode);
  protect.insert(protect.end(), context.protected_ranges.begin(), context.protected_ranges.end());
  // The tenant itself: its own loopback (own netns only) and addresses.
  std::vector<Cidr> self = context.own_addresses;
  if (own_netns(spec.mode)) {
    auto lo = loopback_ranges();
    self.insert(self.end(), lo.begin(), lo.end());
  }

  NodeMap egress;
  NodeMap ingress;
  NodeMap bind;
  for (const auto& c : protect) {
    egress[c].protected_range = true;
    ingress[c].protected_range = true;
  }
  for (const auto& c : self) {
    add_grant(egress, c, {}, config::kProtoAny);
    add_grant(ingress, c, {}, config::kProtoAny);
  }
  // Binding its own loopback (127.0.0.0/8, ::1) serves only the tenant itself;
  // the unspecified address and its veth address serve the network, so those
  // are limited to the ingress ports.
  if (own_netns(spec.mode)) {
    for (const auto& c : loopback_ranges()) {
      if (c.prefix_len != width(c) || c.addr != Cidr{}.addr) {
        add_grant(bind, c, {}, config::kProtoAny);
      }
    }
  }
  for (const auto& rule : spec.egress) {
    for (const auto& to : rule.to) {
      add_grant(egress, to, rule.ports, rule.protocols);
    }
  }
  // A listening port is bindable on any local address; who may reach it is
  // the `from` list, judged per packet.
  const Cidr any4 = make_cidr(AF_INET, {}, 0);
  const Cidr any6 = make_cidr(AF_INET6, {}, 0);
  for (const auto& rule : spec.ingress) {
    add_grant(bind, any4, rule.ports, rule.protocols);
    add_grant(bind, any6, rule.ports, rule.protocols);
    for (const auto& from : rule.from) {
      add_grant(ingress, from, rule.ports, rule.protocols);
    }
  }

  CompiledPolicy out;
  BULKHEAD_TRY(emit(egress, BH_KIND_EGRESS4, "network.egress", out.entries));
  out.egress_entries = out.entries.size();
  BULKHEAD_TRY(emit(ingress, BH_KIND_INGRESS4, "network.ingress", out.entries));
  out.ingress_entries = out.entries.size() - out.egress_entries;
  BULKHEAD_TRY(emit(bind, BH_KIND_BIND4, "network.ingress (ports)", out.entries));

  TrieEntry config_entry;
  config_entry.key.kind = BH_KIND_CONFIG;
  config_entry.key.prefixlen = BH_KIND_BITS;
  config_entry.value.verdict = BH_VERDICT_ALLOW;
  config_entry.value.raw_sockets = spec.raw_sockets ? 1 : 0;
  for (const auto& name : spec.socket_families) {
    int family = socket_family_number(name);
    if (family < 0 || family >= 64) {
      return make_error("network.socket_families: unknown family \"" + name + "\"");
    }
    config_entry.value.families |= uint64_t{1} << family;
  }
  out.entries.push_back(config_entry);
  return out;
}

int socket_family_number(const std::string& name) {
  static const std::map<std::string, int> kFamilies = {{"AF_UNIX", AF_UNIX},
                                                       {"AF_INET", AF_INET},
                                                       {"AF_INET6", AF_INET6},
                                                       {"AF_NETLINK", AF_NETLINK},
                                                       {"AF_PACKET", AF_PACKET},
                                                       {"AF_VSOCK", AF_VSOCK},
                                                       {"AF_XDP", AF_XDP},
                                                       {"AF_ALG", AF_ALG},
                                                       {"AF_KEY", AF_KEY},
                                                       {"AF_TIPC", AF_TIPC},
                                                       {"AF_BLUETOOTH", AF_BLUETOOTH},
                                                       {"AF_CAN", AF_CAN},
                                                       {"AF_RDS", AF_RDS}};
  auto it = kFamilies.find(name);
  return it == kFamilies.end() ? -1 : it->second;
}

std::string cidr_to_string(const Cidr& cidr) {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(cidr.family, cidr.addr.data(), buf, sizeof(buf));
  return std::string(buf) + "/" + std::to_string(cidr.prefix_len);
}

Result<Cidr> parse_cidr(const std::string& text) {
  std::string addr = text;
  int len = -1;
  if (auto slash = text.find('/'); slash != std::string::npos) {
    addr = text.substr(0, slash);
    std::string l = text.substr(slash + 1);
    if (l.empty() || l.size() > 3 || !std::all_of(l.begin(), l.end(), ::isdigit)) {
      return make_error("\"" + text + "\": bad prefix length");
    }
    len = std::stoi(l);
  }
  Cidr c;
  if (::inet_pton(AF_INET, addr.c_str(), c.addr.data()) == 1) {
    c.family = AF_INET;
  } else if (::inet_pton(AF_INET6, addr.c_str(), c.addr.data()) == 1) {
    c.family = AF_INET6;
  } else {
    return make_error("\"" + text + "\": not an IPv4 or IPv6 address");
  }
  if (len < 0) {
    len = width(c);
  }
  if (len > width(c)) {
    return make_error("\"" + text + "\": prefix length above " + std::to_string(width(c)));
  }
  c.prefix_len = static_cast<uint8_t>(len);
  Cidr masked = c;
  for (int bit = len; bit < width(c); ++bit) {
    masked.addr[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  }
  if (masked != c) {
    return make_error("\"" + text + "\": host bits set after the prefix");
  }
  return c;
}

}  // namespace bulkhead::net
