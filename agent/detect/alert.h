// Builds the `alert` event a matched rule raises (docs/events.md, "alert"):
// the triggering event's tenant, workload and process, and fields naming the
// rule and carrying the trigger itself.
#pragma once

#include <cstdint>
#include <optional>

#include "detect/rule.h"
#include "events/event.h"

namespace bulkhead::detect {

// `suppressed`: for a throttled rule, the alerts it held back since its last one.
events::Event build_alert(const Rule& rule, const events::Event& trigger,
                          std::optional<uint64_t> suppressed);

}  // namespace bulkhead::detect
