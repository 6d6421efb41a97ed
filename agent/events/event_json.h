// Serialisation of events as JSON lines, the schema of docs/events.md.
//
// RapidJSON's Writer (rapidjson-dev) does the serialising: member names,
// escaping, numbers, nesting. The envelope is written member by member rather
// than built as a JSON tree first (a tree costs a map node per member, and
// the sinks serialise hundreds of thousands of events per second on their
// writer threads); the type's own `fields` (an nlohmann::json) are walked with
// the same Writer. Member order is fixed (schema, time, host, type, tenant,
// workload, process, fields), which makes the lines easy to read and compare.
//
// Around RapidJSON, three small pieces in event_json.cc:
// - invalid UTF-8 is repaired first (every byte that does not start a valid
//   sequence becomes U+FFFD), since RapidJSON copies such bytes as they are;
//   only strings with a byte >= 0x80 are checked, and only invalid ones copied;
// - the Writer's output stream is a per-thread buffer (appended to the
//   caller's string at the end) stored as char8_t, so that the compiler keeps
//   the write position in a register: with RapidJSON's StringBuffer a char
//   store may alias that position, and serialising took 2-3x longer (measured).
//   Its growth is kept out of line, and the Writer's ScanWriteUnescapedString
//   hook copies runs that need no escaping in a tight loop; with both, an
//   event costs about what the former hand-written writer cost (520 ns against
//   500 ns in a single-thread loop on the development machine);
// - the RFC 3339 date and time of day are cached per thread for the second.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "events/event.h"

namespace bulkhead::events {

// Appends RFC 3339 UTC time with `digits` fractional digits (0..9, truncated,
// not rounded): 2026-11-23T18:22:15.123456789Z for 9. Syslog (RFC 5424) allows 6 at most.
void append_rfc3339(std::string& out, uint64_t unix_ns, int digits = 9);
std::string format_rfc3339(uint64_t unix_ns, int digits = 9);

// Appends `s` as a JSON string literal, quotes included. Bytes that are not
// valid UTF-8 (a path or an argument can hold any bytes) become U+FFFD, so the
// line is always valid JSON.
void append_json_string(std::string& out, std::string_view s);

// Appends one event as a JSON object, without a newline.
void append_event_json(std::string& out, const Event& event, std::string_view host);
// The event as one line, '\n' included.
std::string event_json_line(const Event& event, std::string_view host);

}  // namespace bulkhead::events
