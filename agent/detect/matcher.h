// Whether one rule matches one event: the rule's conditions evaluated against
// the event's tenant, `result`, fields and process. The type was already
// selected by RuleSet's index. No allocation on this path.
#pragma once

#include <cstdint>
#include <string>

#include "detect/rule.h"
#include "events/event.h"

namespace bulkhead::detect {

[[nodiscard]] bool rule_matches(const Rule& rule, const events::Event& event);

// The single predicate kinds, exposed for tests.
[[nodiscard]] bool predicate_matches(const Predicate& p, const std::string& value);
[[nodiscard]] bool predicate_matches(const Predicate& p, int64_t value);

}  // namespace bulkhead::detect
