#include "detect/matcher.h"

#include <fnmatch.h>

#include <algorithm>
#include <string>

namespace bulkhead::detect {
namespace {

using nlohmann::json;

bool glob_matches(const std::string& pattern, const std::string& value) {
  // No FNM_PATHNAME: "*" also crosses "/", so "/etc/*" covers the whole tree,
  // which is what a rule about sensitive paths means.
  return ::fnmatch(pattern.c_str(), value.c_str(), 0) == 0;
}

// A scalar member of `fields` against every predicate of its condition.
bool scalar_matches(const FieldCondition& c, const json& v) {
  for (const Predicate& p : c.predicates) {
    bool ok = false;
    if (v.is_string()) {
      ok = p.kind == ValueKind::kString && predicate_matches(p, v.get_ref<const std::string&>());
    } else if (v.is_boolean()) {
      ok = p.kind == ValueKind::kBool && predicate_matches(p, int64_t{v.get<bool>() ? 1 : 0});
    } else if (v.is_number_integer()) {
      // Unsigned values above INT64_MAX (ids, masks) cannot equal a rule's value.
      ok = p.kind == ValueKind::kInteger &&
           (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT64_MAX}
                ? false
                : predicate_matches(p, v.get<int64_t>()));
    }
    if (!ok) {
      return false;
    }
  }
  return true;
}

// A list member ("flags"): each predicate must hold for some element, except
// not_in, which must hold for all of them ("none of the flags is ...").
bool list_matches(const FieldCondition& c, const json& list) {
  for (const Predicate& p : c.predicates) {
    const bool all = p.op == Predicate::Op::kNotIn;
    bool ok = all;
    for (const json& item : list) {
      if (!item.is_string()) {
        continue;
      }
      const bool m = predicate_matches(p, item.get_ref<const std::string&>());
      if (all && !m) {
        ok = false;
        break;
      }
      if (!all && m) {
        ok = true;
        break;
      }
    }
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool field_matches(const FieldCondition& c, const json& fields) {
  auto it = fields.find(c.field);
  if (it == fields.end()) {
    return false;  // a condition on a member the event lacks never holds
  }
  return it->is_array() ? list_matches(c, *it) : scalar_matches(c, *it);
}

bool all_hold(const std::vector<Predicate>& ps, const std::string& value) {
  return std::all_of(ps.begin(), ps.end(),
                     [&](const Predicate& p) { return predicate_matches(p, value); });
}
bool all_hold(const std::vector<Predicate>& ps, int64_t value) {
  return std::all_of(ps.begin(), ps.end(),
                     [&](const Predicate& p) { return predicate_matches(p, value); });
}

bool process_matches(const ProcessCondition& c, const events::ProcessInfo& p) {
  switch (c.field) {
    case ProcessField::kExe:
      return !p.exe.empty() && all_hold(c.predicates, p.exe);
    case ProcessField::kComm:
      return !p.comm.empty() && all_hold(c.predicates, p.comm);
    case ProcessField::kUid:
      return all_hold(c.predicates, int64_t{p.uid});
    case ProcessField::kEuid:
      return all_hold(c.predicates, int64_t{p.euid});
    case ProcessField::kInsideUid:
      return p.uid_inside.has_value() && all_hold(c.predicates, int64_t{*p.uid_inside});
    case ProcessField::kInsideEuid:
      return p.euid_inside.has_value() && all_hold(c.predicates, int64_t{*p.euid_inside});
  }
  return false;
}

bool result_matches(ResultMatch want, const json& fields) {
  if (want == ResultMatch::kAny) {
    return true;
  }
  auto it = fields.find("result");
  const bool failed = it != fields.end() && it->is_number_integer() && !it->is_number_unsigned() &&
                      it->get<int64_t>() < 0;
  return want == ResultMatch::kFailure ? failed : !failed;
}

bool tenant_matches(const Rule& rule, const std::string& tenant) {
  if (tenant.empty()) {
    return rule.host;
  }
  return rule.tenants.empty() ||
         std::find(rule.tenants.begin(), rule.tenants.end(), tenant) != rule.tenants.end();
}

}  // namespace

bool predicate_matches(const Predicate& p, const std::string& value) {
  switch (p.op) {
    case Predicate::Op::kEquals:
    case Predicate::Op::kIn:
      return std::find(p.strings.begin(), p.strings.end(), value) != p.strings.end();
    case Predicate::Op::kNotIn:
      return std::find(p.strings.begin(), p.strings.end(), value) == p.strings.end();
    case Predicate::Op::kPrefix:
      return std::any_of(p.strings.begin(), p.strings.end(),
                         [&](const std::string& s) { return value.starts_with(s); });
    case Predicate::Op::kGlob:
      return std::any_of(p.strings.begin(), p.strings.end(),
                         [&](const std::string& s) { return glob_matches(s, value); });
  }
  return false;
}

bool predicate_matches(const Predicate& p, int64_t value) {
  const bool listed = std::find(p.integers.begin(), p.integers.end(), value) != p.integers.end();
  switch (p.op) {
    case Predicate::Op::kEquals:
    case Predicate::Op::kIn:
      return listed;
    case Predicate::Op::kNotIn:
      return !listed;
    case Predicate::Op::kPrefix:
    case Predicate::Op::kGlob:
      break;  // the loader allows these on strings only
  }
  return false;
}

bool rule_matches(const Rule& rule, const events::Event& event) {
  if (!tenant_matches(rule, event.tenant) || !result_matches(rule.result, event.fields)) {
    return false;
  }
  for (const FieldCondition& c : rule.fields) {
    if (!field_matches(c, event.fields)) {
      return false;
    }
  }
  for (const ProcessCondition& c : rule.process) {
    if (!process_matches(c, event.process)) {
      return false;
    }
  }
  return true;
}

}  // namespace bulkhead::detect
