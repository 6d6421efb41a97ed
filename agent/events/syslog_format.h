// Events as syslog messages (RFC 5424), with the event's JSON line as MSG:
//
//   <PRI>1 TIMESTAMP HOSTNAME bulkhead PROCID MSGID - {"schema":1,...}
//
// PRI = facility * 8 + severity; MSGID is the event type ("process.exec");
// TIMESTAMP is the event's time with microseconds (RFC 5424 allows six
// fractional digits at most). Over TCP each message is framed by octet
// counting (RFC 6587): "LEN SP MESSAGE".
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "events/event.h"

namespace bulkhead::events {

struct SyslogHeader {
  int facility = 16;     // local0
  std::string hostname;  // the event's host; "-" when empty or not printable ASCII
  pid_t procid = 0;      // the agent's pid
};

// RFC 5424 severity: warning for alerts and lost events, notice for policy
// denials, informational for everything else.
int syslog_severity(EventType type);

// Appends one message without framing or newline.
void append_syslog_message(std::string& out, const Event& event, const SyslogHeader& header,
                           std::string_view host);
// Appends "LEN SP MSG" (RFC 6587 octet counting).
void append_octet_counted(std::string& out, std::string_view message);

}  // namespace bulkhead::events
