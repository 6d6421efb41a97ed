// Wall-clock time as the API and state files carry it: milliseconds since the
// Unix epoch (steady_clock is for intervals; this is for timestamps people read).
#pragma once

#include <chrono>
#include <cstdint>

namespace bulkhead {

inline int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace bulkhead
