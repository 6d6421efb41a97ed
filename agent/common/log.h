// Logging setup shared by every binary: spdlog to stderr, without our own
// timestamps when journald is collecting stderr (JOURNAL_STREAM set).
#pragma once

#include <spdlog/spdlog.h>

#include <string>

#include "common/result.h"

namespace bulkhead {

// level: trace, debug, info, warn, error, critical, off.
Status init_logging(const std::string& level);
// Routes libbpf's own messages into spdlog (debug output only when verbose).
void bridge_libbpf_logging();

}  // namespace bulkhead
