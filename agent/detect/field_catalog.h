// The members of each event type's `fields` (docs/events.md, "Event types and
// their fields") with the kind of value each holds, so that the rule loader can
// refuse a predicate on a field the type never has (a typo would otherwise
// give a rule that silently never fires) or of the wrong kind.
//
// Keep in step with docs/events.md, agent/events/record_decoder.cc and
// agent/net/deny_event.cc: a field added there needs a line here before rules
// can test it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "detect/rule.h"
#include "events/event.h"

namespace bulkhead::detect {

// The kind of `field` in events of `type`; nullopt when the type has no such field.
std::optional<ValueKind> field_kind(events::EventType type, std::string_view field);
// The field names of `type`, sorted, for error messages.
std::vector<std::string> field_names(events::EventType type);
std::string_view kind_name(ValueKind kind);

}  // namespace bulkhead::detect
