#include "net/deny_event.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include <cstring>

#include "net/tenant_policy.h"

namespace bulkhead::net {
namespace {

uint64_t now_ns(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ULL + static_cast<uint64_t>(ts.tv_nsec);
}

std::string address(int family, const uint8_t* bytes) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family != AF_INET && family != AF_INET6) {
    return "";
  }
  ::inet_ntop(family, bytes, buf, sizeof(buf));
  return buf;
}

std::string protocol_name(uint8_t hook, uint8_t protocol) {
  if (hook == BH_HOOK_SOCK_CREATE) {  // the socket type
    switch (protocol) {
      case SOCK_STREAM:
        return "stream";
      case SOCK_DGRAM:
        return "dgram";
      case SOCK_RAW:
        return "raw";
      default:
        return std::to_string(protocol);
    }
  }
  switch (protocol) {
    case IPPROTO_TCP:
      return "tcp";
    case IPPROTO_UDP:
      return "udp";
    case IPPROTO_ICMP:
      return "icmp";
    case IPPROTO_ICMPV6:
      return "icmpv6";
    default:
      return std::to_string(protocol);
  }
}

}  // namespace

uint64_t boot_to_realtime_ns(uint64_t boot_ns) {
  uint64_t boot_now = now_ns(CLOCK_BOOTTIME);
  uint64_t real_now = now_ns(CLOCK_REALTIME);
  return boot_ns > boot_now ? real_now : real_now - (boot_now - boot_ns);
}

events::Event decode_deny_record(const bh_net_deny_record& rec, const std::string& tenant,
                                 const std::string& workload) {
  events::Event e;
  e.type = events::EventType::kNetDeny;
  e.time_ns = boot_to_realtime_ns(rec.time_ns);
  e.tenant = tenant;
  e.workload = workload;
  e.process.pid = static_cast<pid_t>(rec.pid);
  e.process.tid = static_cast<pid_t>(rec.tid);
  e.process.comm.assign(rec.comm, strnlen(rec.comm, sizeof(rec.comm)));
  nlohmann::json f = {{"hook", hook_name(rec.hook)},
                      {"verdict", "denied"},
                      {"protocol", protocol_name(rec.hook, rec.protocol)},
                      {"suppressed", rec.suppressed},
                      {"cgroup_id", rec.cgroup_id}};
  // sock_create runs for AF_INET and AF_INET6 sockets only, so every record
  // has one of the two families.
  f["family"] = rec.family == AF_INET ? "ipv4" : "ipv6";
  if (rec.hook != BH_HOOK_SOCK_CREATE) {
    std::string src = address(rec.family, rec.src_addr);
    std::string dst = address(rec.family, rec.dst_addr);
    bool is_bind = rec.hook == BH_HOOK_BIND4 || rec.hook == BH_HOOK_BIND6;
    bool has_src = rec.hook == BH_HOOK_SKB_INGRESS || rec.hook == BH_HOOK_SKB_EGRESS || is_bind;
    bool has_dst = !is_bind;
    if (has_src) {
      f["src"] = {{"addr", src}, {"port", rec.src_port}};
    }
    if (has_dst) {
      f["dst"] = {{"addr", dst}, {"port", rec.dst_port}};
    }
  }
  e.fields = std::move(f);
  return e;
}

}  // namespace bulkhead::net
