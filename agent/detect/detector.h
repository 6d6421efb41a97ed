// The detection engine: evaluates the loaded rules against each event and
// returns the alerts to publish. Only the rules indexed under the event's type
// are looked at, and alert events are never evaluated (an alert cannot raise
// another). Throttles are kept per rule and tenant.
//
// Thread: one (the agent's event loop); stats() copies.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "detect/rule.h"
#include "events/event.h"

namespace bulkhead::detect {

struct RuleStats {
  std::string name;
  Severity severity = Severity::kMedium;
  uint64_t alerts = 0;      // raised
  uint64_t suppressed = 0;  // held back by the rule's throttle
};

struct DetectionStats {
  std::string rules_dir;  // empty: detection is off
  std::vector<RuleStats> rules;
};

class Detector {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Detector(std::shared_ptr<const RuleSet> rules);

  // Takes a new rule set (a reload). Counters carry over for rules of the same
  // name; throttle windows start over.
  void replace(std::shared_ptr<const RuleSet> rules);
  [[nodiscard]] const RuleSet& rules() const { return *rules_; }

  // Appends to `alerts` one alert per matching rule that its throttle lets through.
  void evaluate(const events::Event& event, Clock::time_point now,
                std::vector<events::Event>& alerts);

  [[nodiscard]] std::vector<RuleStats> stats() const;

 private:
  struct Window {
    Clock::time_point start;
    uint32_t raised = 0;      // alerts in the current window
    uint64_t suppressed = 0;  // since the last alert
  };
  // Per rule (same index as the RuleSet's): counters and throttle windows by tenant.
  struct PerRule {
    uint64_t alerts = 0;
    uint64_t suppressed = 0;
    std::unordered_map<std::string, Window> windows;
  };

  std::shared_ptr<const RuleSet> rules_;
  std::vector<PerRule> state_;
};

}  // namespace bulkhead::detect
