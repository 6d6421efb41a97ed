#include "detect/rule.h"

#include <array>
#include <utility>

namespace bulkhead::detect {
namespace {

constexpr std::array<std::pair<Severity, std::string_view>, 4> kSeverities{{
    {Severity::kLow, "low"},
    {Severity::kMedium, "medium"},
    {Severity::kHigh, "high"},
    {Severity::kCritical, "critical"},
}};

const std::vector<uint32_t> kNoRules;

}  // namespace

std::string_view severity_name(Severity s) {
  for (const auto& [severity, name] : kSeverities) {
    if (severity == s) {
      return name;
    }
  }
  return "unknown";
}

std::optional<Severity> parse_severity(std::string_view name) {
  for (const auto& [severity, n] : kSeverities) {
    if (n == name) {
      return severity;
    }
  }
  return std::nullopt;
}

RuleSet::RuleSet(std::vector<Rule> rules)
    : rules_(std::move(rules)), by_type_(events::all_types().size()) {
  for (uint32_t i = 0; i < rules_.size(); ++i) {
    for (events::EventType t : rules_[i].types) {
      by_type_[static_cast<size_t>(t)].push_back(i);
      type_mask_ |= uint64_t{1} << static_cast<unsigned>(t);
    }
  }
}

const std::vector<uint32_t>& RuleSet::for_type(events::EventType type) const {
  const auto i = static_cast<size_t>(type);
  return i < by_type_.size() ? by_type_[i] : kNoRules;
}

}  // namespace bulkhead::detect
