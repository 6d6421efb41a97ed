#include "detect/detector.h"

#include <map>

#include "detect/alert.h"
#include "detect/matcher.h"

namespace bulkhead::detect {

Detector::Detector(std::shared_ptr<const RuleSet> rules) {
  replace(rules ? std::move(rules) : std::make_shared<const RuleSet>());
}

void Detector::replace(std::shared_ptr<const RuleSet> rules) {
  std::map<std::string, PerRule*> old;
  if (rules_) {
    for (size_t i = 0; i < rules_->rules().size(); ++i) {
      old.emplace(rules_->rules()[i].name, &state_[i]);
    }
  }
  std::vector<PerRule> state(rules->rules().size());
  for (size_t i = 0; i < state.size(); ++i) {
    if (auto it = old.find(rules->rules()[i].name); it != old.end()) {
      state[i].alerts = it->second->alerts;
      state[i].suppressed = it->second->suppressed;
    }
  }
  rules_ = std::move(rules);
  state_ = std::move(state);
}

void Detector::evaluate(const events::Event& event, Clock::time_point now,
                        std::vector<events::Event>& alerts) {
  if (event.type == events::EventType::kAlert) {
    return;
  }
  for (uint32_t i : rules_->for_type(event.type)) {
    const Rule& rule = rules_->rules()[i];
    if (!rule_matches(rule, event)) {
      continue;
    }
    PerRule& s = state_[i];
    if (!rule.throttle) {
      ++s.alerts;
      alerts.push_back(build_alert(rule, event, std::nullopt));
      continue;
    }
    Window& w = s.windows[event.tenant];
    if (w.raised == 0 || now - w.start >= rule.throttle->per) {
      w.start = now;
      w.raised = 0;
    }
    if (w.raised >= rule.throttle->alerts) {
      ++w.suppressed;
      ++s.suppressed;
      continue;
    }
    ++w.raised;
    ++s.alerts;
    alerts.push_back(build_alert(rule, event, w.suppressed));
    w.suppressed = 0;
  }
}

std::vector<RuleStats> Detector::stats() const {
  std::vector<RuleStats> out;
  out.reserve(state_.size());
  for (size_t i = 0; i < state_.size(); ++i) {
    const Rule& r = rules_->rules()[i];
    out.push_back(RuleStats{r.name, r.severity, state_[i].alerts, state_[i].suppressed});
  }
  return out;
}

}  // namespace bulkhead::detect
