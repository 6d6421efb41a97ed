#include "events/syslog_format.h"

#include "events/event_json.h"

namespace bulkhead::events {
namespace {

constexpr size_t kMaxHostname = 255;  // RFC 5424 HOSTNAME: 1*255PRINTUSASCII
constexpr int kMicroseconds = 6;

bool printable_ascii(std::string_view s) {
  for (char c : s) {
    if (c < 33 || c > 126) {
      return false;
    }
  }
  return true;
}

}  // namespace

int syslog_severity(EventType type) {
  constexpr int kWarning = 4;
  constexpr int kNotice = 5;
  constexpr int kInfo = 6;
  switch (type) {
    case EventType::kAlert:
    case EventType::kDrop:
      return kWarning;
    case EventType::kNetDeny:
      return kNotice;
    default:
      return kInfo;
  }
}

void append_syslog_message(std::string& out, const Event& event, const SyslogHeader& header,
                           std::string_view host) {
  out.push_back('<');
  out += std::to_string(header.facility * 8 + syslog_severity(event.type));
  out += ">1 ";
  append_rfc3339(out, event.time_ns, kMicroseconds);
  out.push_back(' ');
  const bool host_ok = !header.hostname.empty() && header.hostname.size() <= kMaxHostname &&
                       printable_ascii(header.hostname);
  out += host_ok ? std::string_view(header.hostname) : std::string_view("-");
  out += " bulkhead ";
  out += std::to_string(header.procid);
  out.push_back(' ');
  out += type_name(event.type);  // MSGID: at most 32 printable characters, as every name is
  out += " - ";
  append_event_json(out, event, host);
}

void append_octet_counted(std::string& out, std::string_view message) {
  out += std::to_string(message.size());
  out.push_back(' ');
  out += message;
}

}  // namespace bulkhead::events
