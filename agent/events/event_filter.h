// Which events a subscriber (a sink, an API stream) wants: one tenant or all,
// and a set of types or all. Kept as a bit set so that matching, done for
// every event and every subscriber on the publishing thread, is two compares.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "events/event.h"

namespace bulkhead::events {

struct EventFilter {
  std::optional<std::string> tenant;  // nullopt: every tenant and host-wide events
  uint64_t types = 0;                 // bit (1 << type); 0: every type

  [[nodiscard]] bool matches(const Event& e) const {
    return (types == 0 || (types & type_bit(e.type)) != 0) && (!tenant || e.tenant == *tenant);
  }
  static uint64_t type_bit(EventType t) { return uint64_t{1} << static_cast<unsigned>(t); }
  // The type names the filter selects, in declaration order (all when types == 0).
  [[nodiscard]] std::vector<std::string> type_names() const;
};

// Type names for a filter: exact names ("file.open") or a whole category
// ("file.*"). An unknown name fails with a message that lists the valid ones.
Result<uint64_t> parse_type_filter(const std::vector<std::string>& names);

// "process.exec, process.fork, ..." for help texts and errors.
std::string valid_types_text();

}  // namespace bulkhead::events
