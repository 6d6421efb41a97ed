// The detection rule model (docs/detection.md): what a rules file says, after
// the loader checked it. A rule names the event types it applies to and a few
// declarative conditions (tenant, result, predicates on fields and on the
// acting process); there is no expression language on purpose, so that a rule
// is cheap to evaluate and easy to read in an audit.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "events/event.h"

namespace bulkhead::detect {

enum class Severity : uint8_t { kLow, kMedium, kHigh, kCritical };
std::string_view severity_name(Severity s);
std::optional<Severity> parse_severity(std::string_view name);

// What a value must be for a predicate on it to make sense; the loader checks
// each predicate against the kind of the field it names.
enum class ValueKind : uint8_t {
  kString,
  kInteger,
  kBool,
  kStringList,  // e.g. "flags": ["O_WRONLY", "O_CREAT"]; predicates hold for any element
  kObject,      // e.g. network.deny "src": not matchable
};

// One condition on one value. Several on the same field must all hold.
struct Predicate {
  enum class Op : uint8_t {
    kEquals,  // the value is values[0]
    kIn,      // the value is one of values
    kNotIn,   // the value is present and none of values
    kPrefix,  // a string starting with one of values
    kGlob,    // a string matching one of the fnmatch(3) patterns in values
  };
  Op op = Op::kEquals;
  ValueKind kind = ValueKind::kString;  // kString, kInteger or kBool (of the elements)
  std::vector<std::string> strings;     // kString
  std::vector<int64_t> integers;        // kInteger, and kBool as 0/1
};

struct FieldCondition {
  std::string field;  // a member of the event's `fields`
  ValueKind kind = ValueKind::kString;
  std::vector<Predicate> predicates;
};

// The members of `process` a rule may test.
enum class ProcessField : uint8_t { kExe, kComm, kUid, kEuid, kInsideUid, kInsideEuid };
struct ProcessCondition {
  ProcessField field = ProcessField::kExe;
  std::vector<Predicate> predicates;
};

enum class ResultMatch : uint8_t {
  kAny,
  kSuccess,  // `result` >= 0, or an event without `result` (an exec, an exit)
  kFailure,  // `result` < 0
};

// At most `alerts` alerts per interval, per rule and tenant; the others are
// counted and reported in the next alert's `suppressed`.
struct Throttle {
  uint32_t alerts = 1;
  std::chrono::milliseconds per{1000};
};

struct Rule {
  std::string name;
  std::string description;
  Severity severity = Severity::kMedium;
  std::vector<events::EventType> types;
  std::vector<std::string> tenants;  // empty: every tenant
  bool host = false;                 // also processes outside every tenant (host-wide mode)
  ResultMatch result = ResultMatch::kAny;
  std::vector<FieldCondition> fields;
  std::vector<ProcessCondition> process;
  std::optional<Throttle> throttle;
  std::string source;  // "file:line" of the rule, for messages
};

// Every loaded rule, indexed by event type so that an event is only compared
// with the rules for its own type.
class RuleSet {
 public:
  RuleSet() = default;
  explicit RuleSet(std::vector<Rule> rules);

  [[nodiscard]] const std::vector<Rule>& rules() const { return rules_; }
  // Indexes into rules() of the rules for `type`, in load order.
  [[nodiscard]] const std::vector<uint32_t>& for_type(events::EventType type) const;
  // Bit (1 << type) for every type some rule applies to (an EventFilter mask).
  [[nodiscard]] uint64_t type_mask() const { return type_mask_; }

 private:
  std::vector<Rule> rules_;
  std::vector<std::vector<uint32_t>> by_type_;
  uint64_t type_mask_ = 0;
};

}  // namespace bulkhead::detect
