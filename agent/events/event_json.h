// Serialisation of events as JSON lines, the schema of docs/events.md.
//
// The envelope is written directly into a string rather than built as an
// nlohmann::json tree first: a tree costs a map node per member and the
// sinks serialise every event on their writer threads at hundreds of
// thousands per second. The type's own `fields` are already a JSON value and are
// dumped by nlohmann::json. Member order is fixed (schema, time, host, type,
// tenant, workload, process, fields), which makes the lines easy to read and
// to compare.
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
