// Where events go, as an operator writes it (bulkheadd --event-sink, repeatable):
//
//   KIND[:TARGET][,key=value]...
//
//   stdout
//   file:/var/log/bulkhead/events.jsonl[,max=10Mi][,keep=3]
//   syslog+unix:/dev/log | syslog+udp:HOST:PORT | syslog+tcp:HOST:PORT [,facility=local0]
//
// and, for every kind: tenant=NAME (only that tenant's events), type=NAME
// (repeatable; exact names or a category such as network.*), queue=N (events
// buffered before the sink drops). docs/events.md is the reference.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "events/event_filter.h"

namespace bulkhead::events {

enum class SinkKind { kStdout, kFile, kSyslogUnix, kSyslogUdp, kSyslogTcp };

struct SinkSpec {
  SinkKind kind = SinkKind::kStdout;
  std::string text;  // as given: the sink's name in stats, logs and agent.drop events
  std::string path;  // file, syslog+unix
  std::string host;  // syslog+udp, syslog+tcp (a name, an IPv4 address, or [IPv6])
  uint16_t port = 0;
  uint64_t max_bytes = uint64_t{10} * 1024 * 1024;  // file: rotate past this size
  int keep = 3;                                     // file: rotated files kept
  int facility = 16;                                // syslog: local0
  size_t queue = 65536;                             // events buffered before drops
  EventFilter filter;
};

Result<SinkSpec> parse_sink_spec(std::string_view text);

// "local0" -> 16 (RFC 5424 facility codes); nullopt when unknown.
std::optional<int> parse_facility(std::string_view name);

}  // namespace bulkhead::events
