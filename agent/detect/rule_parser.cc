#include "detect/rule_parser.h"

#include <charconv>
#include <set>

#include "config/profile_parser.h"
#include "detect/field_catalog.h"

namespace bulkhead::detect::detail {
namespace {

using config::detail::ErrorSink;
using config::detail::Field;
using config::detail::MapFields;
using config::detail::read_bool;
using config::detail::read_string;
using config::detail::seq_items;

constexpr uint64_t kRulesVersion = 1;
constexpr size_t kMaxRuleName = 64;
constexpr uint64_t kMaxThrottleAlerts = 1000000;
constexpr uint64_t kMinThrottleUs = 1000;                       // 1 ms
constexpr uint64_t kMaxThrottleUs = uint64_t{86400} * 1000000;  // a day

bool is_rule_name(const std::string& s) {
  if (s.empty() || s.size() > kMaxRuleName || s[0] == '-') {
    return false;
  }
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return false;
    }
  }
  return true;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) {
    out += (out.empty() ? "" : ", ") + s;
  }
  return out;
}

std::string rule_types_text() {
  std::vector<std::string> names;
  for (events::EventType t : events::all_types()) {
    if (t != events::EventType::kAlert) {
      names.emplace_back(events::type_name(t));
    }
  }
  return join(names);
}

// A scalar or a sequence of scalars, as items.
std::optional<std::vector<Field>> one_or_list(ErrorSink& sink, const Field& f) {
  if (f.value.IsScalar()) {
    return std::vector<Field>{f};
  }
  auto items = seq_items(sink, f);
  if (items && items->empty()) {
    sink.add(f, "the list is empty");
    return std::nullopt;
  }
  return items;
}

std::optional<int64_t> read_int(ErrorSink& sink, const Field& f) {
  if (!f.value.IsScalar()) {
    sink.add(f, "expected an integer, got " + config::detail::describe(f.value));
    return std::nullopt;
  }
  const std::string& s = f.value.Scalar();
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) {
    sink.add(f, "expected an integer, got \"" + s + "\"");
    return std::nullopt;
  }
  return v;
}

// One value of a predicate, appended to `p` according to its kind.
bool read_value(ErrorSink& sink, const Field& f, Predicate& p) {
  switch (p.kind) {
    case ValueKind::kInteger:
      if (auto v = read_int(sink, f)) {
        p.integers.push_back(*v);
        return true;
      }
      return false;
    case ValueKind::kBool:
      if (auto v = read_bool(sink, f)) {
        p.integers.push_back(*v ? 1 : 0);
        return true;
      }
      return false;
    default:
      if (auto v = read_string(sink, f)) {
        p.strings.push_back(*v);
        return true;
      }
      return false;
  }
}

std::optional<Predicate> read_op(ErrorSink& sink, const Field& f, Predicate::Op op, ValueKind kind,
                                 const std::string& what) {
  Predicate p;
  p.op = op;
  p.kind = kind;
  const bool string_only = op == Predicate::Op::kPrefix || op == Predicate::Op::kGlob;
  if (string_only && kind != ValueKind::kString) {
    sink.add(f, std::string(f.key.Scalar()) + " applies to strings; " + what + " is " +
                    std::string(kind_name(kind)));
    return std::nullopt;
  }
  std::optional<std::vector<Field>> items;
  if (string_only) {
    items = one_or_list(sink, f);  // "prefix: /etc/" or "prefix: [/etc/, /root/]"
  } else {
    items = seq_items(sink, f);
    if (items && items->empty()) {
      sink.add(f, "the list is empty");
      return std::nullopt;
    }
  }
  if (!items) {
    return std::nullopt;
  }
  bool ok = true;
  for (const Field& item : *items) {
    ok = read_value(sink, item, p) && ok;
    if (string_only && !p.strings.empty() && p.strings.back().empty()) {
      sink.add(item, "an empty pattern matches everything; leave the condition out instead");
      ok = false;
    }
  }
  return ok ? std::optional<Predicate>(std::move(p)) : std::nullopt;
}

// `x: value` (equality) or `x: {in: [...], not_in: [...], prefix: ..., glob: ...}`.
std::optional<std::vector<Predicate>> read_predicates(ErrorSink& sink, const Field& f,
                                                      ValueKind kind, const std::string& what) {
  const ValueKind element = kind == ValueKind::kStringList ? ValueKind::kString : kind;
  if (f.value.IsScalar()) {
    Predicate p;
    p.kind = element;
    if (!read_value(sink, f, p)) {
      return std::nullopt;
    }
    return std::vector<Predicate>{std::move(p)};
  }
  if (!f.value.IsMap()) {
    sink.add(f, "expected a value or a mapping of conditions (in, not_in, prefix, glob), got " +
                    config::detail::describe(f.value));
    return std::nullopt;
  }
  if (element == ValueKind::kBool) {
    sink.add(f, what + " is true or false: compare it with a value");
    return std::nullopt;
  }
  auto m = MapFields::read(sink, f, {"in", "not_in", "prefix", "glob"});
  if (!m) {
    return std::nullopt;
  }
  std::vector<Predicate> out;
  bool ok = true;
  const std::pair<const char*, Predicate::Op> ops[] = {{"in", Predicate::Op::kIn},
                                                       {"not_in", Predicate::Op::kNotIn},
                                                       {"prefix", Predicate::Op::kPrefix},
                                                       {"glob", Predicate::Op::kGlob}};
  for (const auto& [key, op] : ops) {
    if (const Field* e = m->get(key)) {
      auto p = read_op(sink, *e, op, element, what);
      ok = ok && p.has_value();
      if (p) {
        out.push_back(std::move(*p));
      }
    }
  }
  if (ok && out.empty()) {
    sink.add(f, "no condition given (in, not_in, prefix, glob)");
    ok = false;
  }
  return ok ? std::optional(std::move(out)) : std::nullopt;
}

void parse_types(ErrorSink& sink, const Field& f, Rule& r) {
  auto items = one_or_list(sink, f);
  if (!items) {
    return;
  }
  for (const Field& item : *items) {
    auto name = read_string(sink, item);
    if (!name) {
      continue;
    }
    auto type = events::parse_type(*name);
    if (!type) {
      sink.add(item, "unknown event type \"" + *name + "\"; valid: " + rule_types_text());
      continue;
    }
    if (*type == events::EventType::kAlert) {
      sink.add(item, "rules never apply to alert events (an alert cannot raise another)");
      continue;
    }
    if (std::find(r.types.begin(), r.types.end(), *type) != r.types.end()) {
      sink.add(item, "\"" + *name + "\" is listed twice");
      continue;
    }
    r.types.push_back(*type);
  }
}

void parse_tenants(ErrorSink& sink, const Field& f, Rule& r) {
  auto items = one_or_list(sink, f);
  if (!items) {
    return;
  }
  for (const Field& item : *items) {
    auto name = read_string(sink, item);
    if (name && !config::detail::is_valid_name(*name)) {
      sink.add(item, "\"" + *name + "\" is not a tenant name (1-32 of a-z, 0-9, '-')");
    } else if (name) {
      r.tenants.push_back(*name);
    }
  }
}

// The kind of `field` in every type of the rule; reported when a type lacks
// it or the types disagree.
std::optional<ValueKind> kind_in_all(ErrorSink& sink, const Field& f, const Rule& r) {
  const std::string& field = f.key.Scalar();
  std::optional<ValueKind> kind;
  for (events::EventType t : r.types) {
    auto k = field_kind(t, field);
    if (!k) {
      auto names = field_names(t);
      sink.add(f.key.Mark(), f.path,
               "no field \"" + field + "\" in " + std::string(events::type_name(t)) + " events" +
                   (names.empty() ? "" : "; its fields: " + join(names)));
      return std::nullopt;
    }
    if (kind && *kind != *k) {
      sink.add(f.key.Mark(), f.path,
               "\"" + field + "\" is " + std::string(kind_name(*kind)) + " in some of the types " +
                   "and " + std::string(kind_name(*k)) + " in " +
                   std::string(events::type_name(t)) + ": give those types their own rules");
      return std::nullopt;
    }
    kind = k;
  }
  if (kind == ValueKind::kObject) {
    sink.add(f.key.Mark(), f.path, "\"" + field + "\" is an object and cannot be compared");
    return std::nullopt;
  }
  return kind;
}

void parse_fields(ErrorSink& sink, const Field& f, Rule& r) {
  auto entries = config::detail::map_entries(sink, f);
  if (!entries) {
    return;
  }
  for (const Field& e : *entries) {
    if (r.types.empty()) {
      return;  // the types were wrong: nothing to check the fields against
    }
    auto kind = kind_in_all(sink, e, r);
    if (!kind) {
      continue;
    }
    auto ps = read_predicates(sink, e, *kind, "\"" + e.key.Scalar() + "\"");
    if (ps) {
      r.fields.push_back(FieldCondition{e.key.Scalar(), *kind, std::move(*ps)});
    }
  }
}

void parse_process(ErrorSink& sink, const Field& f, Rule& r) {
  auto m = MapFields::read(sink, f, {"exe", "comm", "uid", "euid", "inside_uid", "inside_euid"});
  if (!m) {
    return;
  }
  const std::tuple<const char*, ProcessField, ValueKind> known[] = {
      {"exe", ProcessField::kExe, ValueKind::kString},
      {"comm", ProcessField::kComm, ValueKind::kString},
      {"uid", ProcessField::kUid, ValueKind::kInteger},
      {"euid", ProcessField::kEuid, ValueKind::kInteger},
      {"inside_uid", ProcessField::kInsideUid, ValueKind::kInteger},
      {"inside_euid", ProcessField::kInsideEuid, ValueKind::kInteger}};
  for (const auto& [key, field, kind] : known) {
    if (const Field* e = m->get(key)) {
      if (auto ps = read_predicates(sink, *e, kind, std::string("process.") + key)) {
        r.process.push_back(ProcessCondition{field, std::move(*ps)});
      }
    }
  }
}

void parse_match(ErrorSink& sink, const Field& f, Rule& r) {
  auto m = MapFields::read(sink, f, {"type", "tenant", "host", "result", "fields", "process"});
  if (!m) {
    return;
  }
  if (const Field* e = m->require(sink, "type")) {
    parse_types(sink, *e, r);
  }
  if (const Field* e = m->get("tenant")) {
    parse_tenants(sink, *e, r);
  }
  if (const Field* e = m->get("host")) {
    r.host = read_bool(sink, *e).value_or(false);
  }
  if (const Field* e = m->get("result")) {
    auto s = read_string(sink, *e);
    if (s == "any") {
      r.result = ResultMatch::kAny;
    } else if (s == "success") {
      r.result = ResultMatch::kSuccess;
    } else if (s == "failure") {
      r.result = ResultMatch::kFailure;
    } else if (s) {
      sink.add(*e, "unknown result \"" + *s + "\"; valid: success, failure, any");
    }
  }
  if (const Field* e = m->get("fields")) {
    parse_fields(sink, *e, r);
  }
  if (const Field* e = m->get("process")) {
    parse_process(sink, *e, r);
  }
}

void parse_throttle(ErrorSink& sink, const Field& f, Rule& r) {
  auto m = MapFields::read(sink, f, {"alerts", "per"});
  if (!m) {
    return;
  }
  const Field* alerts = m->require(sink, "alerts");
  const Field* per = m->require(sink, "per");
  if (alerts == nullptr || per == nullptr) {
    return;
  }
  auto n = config::detail::read_uint(sink, *alerts, 1, kMaxThrottleAlerts);
  auto us = config::detail::read_duration_us(sink, *per);
  if (us && (*us < kMinThrottleUs || *us > kMaxThrottleUs)) {
    sink.add(*per, "the interval must be between 1ms and 86400s");
    return;
  }
  if (n && us) {
    r.throttle = Throttle{static_cast<uint32_t>(*n), std::chrono::milliseconds(*us / 1000)};
  }
}

std::optional<ParsedRule> parse_rule(ErrorSink& sink, const Field& f, const std::string& file) {
  const size_t errors_before = sink.count();
  auto m = MapFields::read(sink, f, {"name", "description", "severity", "match", "throttle"});
  if (!m) {
    return std::nullopt;
  }
  ParsedRule out;
  out.file = file;
  Rule& r = out.rule;
  r.source = file + ":" + std::to_string(f.value.Mark().line + 1);
  if (const Field* e = m->require(sink, "name")) {
    out.name = *e;
    auto name = read_string(sink, *e);
    if (name && !is_rule_name(*name)) {
      sink.add(*e, "rule name \"" + *name + "\" must be 1-64 characters of a-z, 0-9 and '-'");
    } else if (name) {
      r.name = *name;
    }
  }
  if (const Field* e = m->require(sink, "description")) {
    auto d = read_string(sink, *e);
    if (d && d->empty()) {
      sink.add(*e, "the description is empty");
    } else if (d) {
      r.description = *d;
    }
  }
  if (const Field* e = m->require(sink, "severity")) {
    auto s = read_string(sink, *e);
    auto severity = s ? parse_severity(*s) : std::nullopt;
    if (s && !severity) {
      sink.add(*e, "unknown severity \"" + *s + "\"; valid: low, medium, high, critical");
    } else if (severity) {
      r.severity = *severity;
    }
  }
  if (const Field* e = m->require(sink, "match")) {
    parse_match(sink, *e, r);
  }
  if (const Field* e = m->get("throttle")) {
    parse_throttle(sink, *e, r);
  }
  if (sink.count() != errors_before) {
    return std::nullopt;
  }
  return out;
}

}  // namespace

std::vector<ParsedRule> parse_rules_document(ErrorSink& sink, const YAML::Node& root,
                                             const std::string& file) {
  std::vector<ParsedRule> out;
  auto m = MapFields::read(sink, Field{"", YAML::Node(), root}, {"version", "rules"});
  if (!m) {
    return out;
  }
  if (const Field* v = m->require(sink, "version")) {
    auto version = config::detail::read_uint(sink, *v, 0, UINT32_MAX);
    if (version && *version != kRulesVersion) {
      sink.add(*v, "unsupported version " + std::to_string(*version) +
                       "; this agent reads rules files of version 1");
      return out;
    }
  }
  const Field* rules = m->require(sink, "rules");
  if (rules == nullptr) {
    return out;
  }
  auto items = seq_items(sink, *rules);
  if (!items) {
    return out;
  }
  for (const Field& item : *items) {
    if (auto r = parse_rule(sink, item, file)) {
      out.push_back(std::move(*r));
    }
  }
  return out;
}

}  // namespace bulkhead::detect::detail
