// The `events` section: which of the tenant's file opens the kernel event
// stream reports beyond writes (always reported).
#include <map>

#include "config/profile_parser.h"

namespace bulkhead::config::detail {

namespace {
// The kernel matches a prefix of at most this many bytes (bpf/shared/events.h:
// BH_SENSITIVE_KEY_MAX less the tenant slot and the terminating byte).
constexpr size_t kMaxSensitivePath = 250;
}  // namespace

void parse_events(ErrorSink& sink, const Field& f, EventsSpec& out) {
  auto m = MapFields::read(sink, f, {"sensitive_paths", "all_opens"});
  if (!m) {
    return;
  }
  if (const Field* e = m->get("all_opens")) {
    out.all_opens = read_bool(sink, *e).value_or(false);
  }
  if (const Field* e = m->get("sensitive_paths")) {
    auto items = seq_items(sink, *e);
    if (!items) {
      return;
    }
    std::map<std::string, std::string> seen;
    for (const Field& item : *items) {
      auto path = read_path(sink, item);
      if (!path) {
        continue;
      }
      if (path->size() > kMaxSensitivePath) {
        sink.add(item, "path is longer than " + std::to_string(kMaxSensitivePath) + " bytes");
        continue;
      }
      auto [it, inserted] = seen.emplace(*path, item.path);
      if (!inserted) {
        sink.add(item, "\"" + *path + "\" is already listed at " + it->second);
        continue;
      }
      out.sensitive_paths.push_back(*path);
    }
  }
}

}  // namespace bulkhead::config::detail
