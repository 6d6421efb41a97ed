#include "events/sink_spec.h"

#include <array>
#include <utility>
#include <vector>

#include "config/units.h"

namespace bulkhead::events {
namespace {

constexpr std::array<std::pair<std::string_view, int>, 24> kFacilities{{
    {"kern", 0},      {"user", 1},    {"mail", 2},    {"daemon", 3},  {"auth", 4},
    {"syslog", 5},    {"lpr", 6},     {"news", 7},    {"uucp", 8},    {"cron", 9},
    {"authpriv", 10}, {"ftp", 11},    {"ntp", 12},    {"audit", 13},  {"alert", 14},
    {"clock", 15},    {"local0", 16}, {"local1", 17}, {"local2", 18}, {"local3", 19},
    {"local4", 20},   {"local5", 21}, {"local6", 22}, {"local7", 23},
}};

constexpr size_t kMaxQueue = size_t{16} * 1024 * 1024;

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) {
      return out;
    }
    start = end + 1;
  }
}

// "HOST:PORT" or "[V6]:PORT".
Status parse_endpoint(std::string_view target, SinkSpec& spec) {
  size_t colon = target.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return make_error("'" + std::string(target) + "': expected HOST:PORT");
  }
  std::string_view host = target.substr(0, colon);
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) {
      return make_error("'" + std::string(target) + "': an IPv6 address goes in brackets");
    }
    host = host.substr(1, host.size() - 2);
  }
  auto port = config::parse_uint(target.substr(colon + 1));
  if (!port.ok() || *port == 0 || *port > 65535) {
    return make_error("'" + std::string(target) + "': the port must be 1..65535");
  }
  spec.host = std::string(host);
  spec.port = static_cast<uint16_t>(*port);
  return {};
}

Status parse_kind(std::string_view head, SinkSpec& spec) {
  const size_t colon = head.find(':');
  const std::string_view kind = head.substr(0, colon);
  const std::string_view target =
      colon == std::string_view::npos ? std::string_view() : head.substr(colon + 1);
  if (kind == "stdout") {
    if (colon != std::string_view::npos) {
      return make_error("stdout takes no target");
    }
    spec.kind = SinkKind::kStdout;
    return {};
  }
  if (target.empty()) {
    return make_error("'" + std::string(kind) +
                      "' needs a target (file:PATH, syslog+unix:PATH, syslog+udp:HOST:PORT, "
                      "syslog+tcp:HOST:PORT)");
  }
  if (kind == "file" || kind == "syslog+unix") {
    if (target.front() != '/') {
      return make_error("'" + std::string(target) + "': the path must be absolute");
    }
    spec.kind = kind == "file" ? SinkKind::kFile : SinkKind::kSyslogUnix;
    spec.path = std::string(target);
    return {};
  }
  if (kind == "syslog+udp" || kind == "syslog+tcp") {
    spec.kind = kind == "syslog+udp" ? SinkKind::kSyslogUdp : SinkKind::kSyslogTcp;
    return parse_endpoint(target, spec);
  }
  return make_error("unknown sink kind '" + std::string(kind) +
                    "' (expected stdout, file, syslog+unix, syslog+udp, syslog+tcp)");
}

bool is_syslog(SinkKind k) {
  return k == SinkKind::kSyslogUnix || k == SinkKind::kSyslogUdp || k == SinkKind::kSyslogTcp;
}

}  // namespace

std::optional<int> parse_facility(std::string_view name) {
  for (const auto& [n, code] : kFacilities) {
    if (n == name) {
      return code;
    }
  }
  return std::nullopt;
}

Result<SinkSpec> parse_sink_spec(std::string_view text) {
  SinkSpec spec;
  spec.text = std::string(text);
  auto parts = split(text, ',');
  BULKHEAD_TRY(parse_kind(parts.front(), spec));
  std::vector<std::string> types;
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string_view opt = parts[i];
    const size_t eq = opt.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == opt.size()) {
      return make_error("'" + std::string(opt) + "': expected key=value");
    }
    const std::string key(opt.substr(0, eq));
    const std::string_view value = opt.substr(eq + 1);
    const auto bad = [&](const std::string& why) {
      return make_error(key + "=" + std::string(value) + ": " + why);
    };
    if (key == "max" || key == "keep") {
      if (spec.kind != SinkKind::kFile) {
        return make_error(key + ": only for file sinks");
      }
      if (key == "max") {
        auto size = config::parse_size(value);
        if (!size.ok() || *size < 4096) {
          return bad(size.ok() ? "at least 4096 bytes" : size.error().message);
        }
        spec.max_bytes = *size;
      } else {
        auto n = config::parse_uint(value);
        if (!n.ok() || *n > 1000) {
          return bad("a count from 0 to 1000");
        }
        spec.keep = static_cast<int>(*n);
      }
    } else if (key == "facility") {
      if (!is_syslog(spec.kind)) {
        return make_error("facility: only for syslog sinks");
      }
      auto f = parse_facility(value);
      if (!f) {
        return bad(
            "unknown facility (kern, user, mail, daemon, auth, syslog, lpr, news, uucp, "
            "cron, authpriv, ftp, ntp, audit, alert, clock, local0..local7)");
      }
      spec.facility = *f;
    } else if (key == "tenant") {
      spec.filter.tenant = std::string(value);
    } else if (key == "type") {
      types.emplace_back(value);
    } else if (key == "queue") {
      auto n = config::parse_uint(value);
      if (!n.ok() || *n == 0 || *n > kMaxQueue) {
        return bad("a count from 1 to " + std::to_string(kMaxQueue));
      }
      spec.queue = static_cast<size_t>(*n);
    } else {
      return make_error("unknown option '" + key +
                        "' (expected max, keep, facility, tenant, type, queue)");
    }
  }
  if (!types.empty()) {
    auto bits = parse_type_filter(types);
    if (!bits.ok()) {
      return bits.error().context("type");
    }
    spec.filter.types = *bits;
  }
  return spec;
}

}  // namespace bulkhead::events
