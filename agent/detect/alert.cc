#include "detect/alert.h"

#include <string>

#include "events/event_json.h"

namespace bulkhead::detect {

events::Event build_alert(const Rule& rule, const events::Event& trigger,
                          std::optional<uint64_t> suppressed) {
  events::Event a;
  a.type = events::EventType::kAlert;  // time_ns 0: the bus stamps when it is raised
  a.tenant = trigger.tenant;
  a.workload = trigger.workload;
  a.process = trigger.process;
  nlohmann::json t = {{"type", std::string(events::type_name(trigger.type))},
                      {"time", events::format_rfc3339(trigger.time_ns)}};
  if (!trigger.fields.empty()) {
    t["fields"] = trigger.fields;
  }
  a.fields = {{"rule", rule.name},
              {"severity", std::string(severity_name(rule.severity))},
              {"description", rule.description},
              {"trigger", std::move(t)}};
  if (suppressed) {
    a.fields["suppressed"] = *suppressed;
  }
  return a;
}

}  // namespace bulkhead::detect
