// When a declared workload that ended is started again, and after how long.
// Pure functions: the Supervisor feeds them, the unit tests pin them down.
//
// Semantics of restart.limit: the number of CONSECUTIVE restarts the agent makes
// before it gives up and marks the workload failed. A run that stays up for at
// least the agent's `restart_reset_after` (default 60 s) counts as healthy and
// starts the count (and the backoff) over, so a service that crashes once a day
// is restarted every day, while one that crash-loops is given up on after
// `limit` quick attempts. A launch that fails (e.g. the command is missing)
// counts as a failed run.
//
// Backoff: the n-th consecutive restart waits restart.backoff * 2^(n-1), capped
// at kMaxRestartDelay.
#pragma once

#include <chrono>
#include <cstdint>

#include "config/profile.h"

namespace bulkhead::daemon {

inline constexpr std::chrono::milliseconds kMaxRestartDelay{60000};

enum class RestartAction {
  kRestart,  // start it again after restart_delay()
  kDone,     // the policy does not restart this kind of end
  kGiveUp,   // the policy would restart, but the limit is used up
};

// `succeeded`: exit code 0 (a signal is a failure). `consecutive_restarts`: the
// restarts made since the last healthy run.
RestartAction decide_restart(config::RestartPolicy policy, bool succeeded,
                             uint32_t consecutive_restarts, uint32_t limit);

// The wait before the `attempt`-th consecutive restart (1-based).
std::chrono::milliseconds restart_delay(uint64_t backoff_ms, uint32_t attempt,
                                        std::chrono::milliseconds cap = kMaxRestartDelay);

const char* policy_name(config::RestartPolicy policy);

}  // namespace bulkhead::daemon
