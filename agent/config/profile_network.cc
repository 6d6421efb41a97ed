// The `network` section: the network mode, the egress and ingress allow rules
// and the socket families a tenant may create (docs/profiles.md, "network").
//
// Every rule is kept exactly as written once it is checked: prefixes must be in
// canonical form, ports and ranges must be valid and not overlap within a rule,
// and a rule that could never match (a duplicate, an address a `none` tenant
// cannot reach) is an error rather than dead weight an operator would misread.
#include <algorithm>
#include <map>

#include "config/cidr.h"
#include "config/profile_parser.h"
#include "config/socket_families.h"
#include "config/units.h"

namespace bulkhead::config::detail {
namespace {

std::optional<NetworkMode> parse_mode(ErrorSink& sink, const Field& f) {
  auto s = read_string(sink, f);
  if (!s) {
    return std::nullopt;
  }
  if (*s == "none") {
    return NetworkMode::kNone;
  }
  if (*s == "isolated") {
    return NetworkMode::kIsolated;
  }
  if (*s == "host") {
    return NetworkMode::kHost;
  }
  sink.add(f, "expected none, isolated or host, got \"" + *s + "\"");
  return std::nullopt;
}

std::optional<uint8_t> parse_protocol(ErrorSink& sink, const Field& f) {
  auto s = read_string(sink, f);
  if (!s) {
    return std::nullopt;
  }
  if (*s == "tcp") {
    return kProtoTcp;
  }
  if (*s == "udp") {
    return kProtoUdp;
  }
  if (*s == "any") {
    return kProtoAny;
  }
  sink.add(f, "expected tcp, udp or any, got \"" + *s + "\"");
  return std::nullopt;
}

std::string range_text(const PortRange& r) {
  return r.first == r.last ? std::to_string(r.first)
                           : std::to_string(r.first) + "-" + std::to_string(r.last);
}

std::optional<uint16_t> parse_port(ErrorSink& sink, const Field& f, const std::string& text) {
  auto n = parse_uint(text);
  if (!n.ok() || text.empty()) {
    sink.add(f, "\"" + text + "\" is not a port number or a range like \"8000-8100\"");
    return std::nullopt;
  }
  if (*n < 1 || *n > 65535) {
    sink.add(f, "port " + std::to_string(*n) + " is outside 1..65535");
    return std::nullopt;
  }
  return static_cast<uint16_t>(*n);
}

std::optional<PortRange> parse_port_range(ErrorSink& sink, const Field& f) {
  auto s = read_string(sink, f);
  if (!s) {
    return std::nullopt;
  }
  auto dash = s->find('-');
  if (dash == std::string::npos) {
    auto p = parse_port(sink, f, *s);
    return p ? std::optional<PortRange>(PortRange{*p, *p}) : std::nullopt;
  }
  auto first = parse_port(sink, f, s->substr(0, dash));
  if (!first) {
    return std::nullopt;
  }
  auto last = parse_port(sink, f, s->substr(dash + 1));
  if (!last) {
    return std::nullopt;
  }
  if (*first > *last) {
    sink.add(f, "the range \"" + *s + "\" is reversed: write \"" + std::to_string(*last) + "-" +
                    std::to_string(*first) + "\"");
    return std::nullopt;
  }
  return PortRange{*first, *last};
}

// A non-empty list of ports and ranges, no two overlapping.
void parse_ports(ErrorSink& sink, const Field& f, std::vector<PortRange>& out) {
  auto items = seq_items(sink, f);
  if (!items) {
    return;
  }
  if (items->empty()) {
    sink.add(f, "an empty list allows no port; leave `ports` out to mean every port");
    return;
  }
  std::vector<std::pair<PortRange, std::string>> seen;
  for (const Field& item : *items) {
    auto r = parse_port_range(sink, item);
    if (!r) {
      continue;
    }
    auto clash = std::find_if(seen.begin(), seen.end(), [&](const auto& s) {
      return r->first <= s.first.last && s.first.first <= r->last;
    });
    if (clash != seen.end()) {
      sink.add(item, range_text(*r) + " overlaps " + clash->second + " (" +
                         range_text(clash->first) + ")");
      continue;
    }
    seen.emplace_back(*r, item.path);
    out.push_back(*r);
  }
}

// A non-empty list of prefixes, none inside another. In `none` mode only
// loopback prefixes can ever match.
void parse_cidrs(ErrorSink& sink, const Field& f, std::optional<NetworkMode> mode,
                 std::vector<Cidr>& out) {
  auto items = seq_items(sink, f);
  if (!items) {
    return;
  }
  if (items->empty()) {
    sink.add(f, "an empty list matches no address; remove the rule instead");
    return;
  }
  std::vector<std::pair<Cidr, std::string>> seen;
  for (const Field& item : *items) {
    auto s = read_string(sink, item);
    if (!s) {
      continue;
    }
    auto c = parse_cidr(*s);
    if (!c.ok()) {
      sink.add(item, c.error().message);
      continue;
    }
    if (mode == NetworkMode::kNone && !is_loopback(*c)) {
      sink.add(item, "network.mode none has only loopback, so " + format_cidr(*c) +
                         " could never match; use mode isolated or host, or remove it");
      continue;
    }
    auto clash = std::find_if(seen.begin(), seen.end(),
                              [&](const auto& e) { return cidr_overlaps(e.first, *c); });
    if (clash != seen.end()) {
      sink.add(item, format_cidr(*c) + " overlaps " + clash->second + " (" +
                         format_cidr(clash->first) + ")");
      continue;
    }
    seen.emplace_back(*c, item.path);
    out.push_back(*c);
  }
}

void parse_egress(ErrorSink& sink, const Field& f, std::optional<NetworkMode> mode,
                  std::vector<EgressRule>& out) {
  auto items = seq_items(sink, f);
  if (!items) {
    return;
  }
  std::vector<std::string> paths;
  for (const Field& item : *items) {
    auto m = MapFields::read(sink, item, {"to", "ports", "protocol"});
    if (!m) {
      continue;
    }
    size_t errors = sink.count();
    EgressRule rule;
    if (const Field* e = m->require(sink, "to")) {
      parse_cidrs(sink, *e, mode, rule.to);
    }
    if (const Field* e = m->get("ports")) {
      parse_ports(sink, *e, rule.ports);
    }
    if (const Field* e = m->get("protocol")) {
      rule.protocols = parse_protocol(sink, *e).value_or(kProtoAny);
    }
    if (sink.count() != errors) {
      continue;
    }
    auto same = std::find(out.begin(), out.end(), rule);
    if (same != out.end()) {
      sink.add(item, "the same rule as " + paths[static_cast<size_t>(same - out.begin())]);
      continue;
    }
    out.push_back(std::move(rule));
    paths.push_back(item.path);
  }
}

void parse_ingress(ErrorSink& sink, const Field& f, std::optional<NetworkMode> mode,
                   std::vector<IngressRule>& out) {
  auto items = seq_items(sink, f);
  if (!items) {
    return;
  }
  std::vector<std::string> paths;
  for (const Field& item : *items) {
    auto m = MapFields::read(sink, item, {"ports", "from", "protocol"});
    if (!m) {
      continue;
    }
    size_t errors = sink.count();
    IngressRule rule;
    if (const Field* e = m->require(sink, "ports")) {
      parse_ports(sink, *e, rule.ports);
    }
    if (const Field* e = m->get("from")) {
      parse_cidrs(sink, *e, mode, rule.from);
    }
    if (const Field* e = m->get("protocol")) {
      rule.protocols = parse_protocol(sink, *e).value_or(kProtoAny);
    }
    if (sink.count() != errors) {
      continue;
    }
    auto same = std::find(out.begin(), out.end(), rule);
    if (same != out.end()) {
      sink.add(item, "the same rule as " + paths[static_cast<size_t>(same - out.begin())]);
      continue;
    }
    out.push_back(std::move(rule));
    paths.push_back(item.path);
  }
}

void parse_families(ErrorSink& sink, const Field& f, std::vector<std::string>& out,
                    ProfileMarks& marks) {
  auto items = seq_items(sink, f);
  if (!items) {
    return;
  }
  out.clear();
  std::map<std::string, std::string> seen;
  for (const Field& item : *items) {
    auto s = read_string(sink, item);
    if (!s) {
      continue;
    }
    auto name = canonical_socket_family(*s);
    if (!name.ok()) {
      sink.add(item, name.error().message);
      continue;
    }
    auto [it, inserted] = seen.emplace(*name, item.path);
    if (!inserted) {
      sink.add(item, *name + " is already listed at " + it->second);
      continue;
    }
    if (*name == "AF_PACKET") {
      marks.packet_family = item;
    }
    if (*name == "AF_VSOCK") {
      marks.vsock_family = item;
    }
    out.push_back(*name);
  }
}

}  // namespace

void parse_network(ErrorSink& sink, const Field& f, NetworkSpec& out, ProfileMarks& marks) {
  auto m =
      MapFields::read(sink, f, {"mode", "egress", "ingress", "socket_families", "raw_sockets"});
  if (!m) {
    return;
  }
  // The mode decides which rules can match, so it is read first wherever it is written.
  std::optional<NetworkMode> mode = NetworkMode::kNone;
  if (const Field* e = m->get("mode")) {
    mode = parse_mode(sink, *e);
    marks.network_mode = *e;
  }
  out.mode = mode.value_or(NetworkMode::kNone);
  if (const Field* e = m->get("egress")) {
    parse_egress(sink, *e, mode, out.egress);
  }
  if (const Field* e = m->get("ingress")) {
    parse_ingress(sink, *e, mode, out.ingress);
  }
  if (const Field* e = m->get("socket_families")) {
    parse_families(sink, *e, out.socket_families, marks);
  }
  if (const Field* e = m->get("raw_sockets")) {
    out.raw_sockets = read_bool(sink, *e).value_or(false);
  }
  // A packet socket reads and forges whole link-layer frames: it is a raw
  // socket by another name, so it needs the same explicit grant.
  if (marks.packet_family && !out.raw_sockets) {
    sink.add(*marks.packet_family,
             "AF_PACKET gives raw link-layer access; it also needs raw_sockets: true");
  }
}

}  // namespace bulkhead::config::detail
