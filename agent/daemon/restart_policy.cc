#include "daemon/restart_policy.h"

namespace bulkhead::daemon {

RestartAction decide_restart(config::RestartPolicy policy, bool succeeded,
                             uint32_t consecutive_restarts, uint32_t limit) {
  bool wanted = false;
  switch (policy) {
    case config::RestartPolicy::kNo:
      wanted = false;
      break;
    case config::RestartPolicy::kOnFailure:
      wanted = !succeeded;
      break;
    case config::RestartPolicy::kAlways:
      wanted = true;
      break;
  }
  if (!wanted) {
    return RestartAction::kDone;
  }
  return consecutive_restarts < limit ? RestartAction::kRestart : RestartAction::kGiveUp;
}

std::chrono::milliseconds restart_delay(uint64_t backoff_ms, uint32_t attempt,
                                        std::chrono::milliseconds cap) {
  const auto cap_ms = static_cast<uint64_t>(cap.count());
  uint64_t delay = backoff_ms;
  for (uint32_t i = 1; i < attempt && delay != 0 && delay < cap_ms; ++i) {
    delay *= 2;  // cannot overflow: delay < cap_ms before doubling
  }
  return std::chrono::milliseconds(std::min(delay, cap_ms));
}

const char* policy_name(config::RestartPolicy policy) {
  switch (policy) {
    case config::RestartPolicy::kNo:
      return "no";
    case config::RestartPolicy::kOnFailure:
      return "on-failure";
    case config::RestartPolicy::kAlways:
      return "always";
  }
  return "?";
}

}  // namespace bulkhead::daemon
