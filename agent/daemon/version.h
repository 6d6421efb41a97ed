// The agent's version as reported by status(); kept with the project version in
// the top-level CMakeLists.txt.
#pragma once

namespace bulkhead::daemon {

inline constexpr const char* kAgentVersion = "0.1.0";

}  // namespace bulkhead::daemon
