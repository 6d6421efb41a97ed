#include "config/yaml_reader.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "config/path_rules.h"
#include "config/units.h"

namespace bulkhead::config::detail {
namespace {

int one_based(int zero_based) { return zero_based >= 0 ? zero_based + 1 : 0; }

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// A hint for a misspelt key: "memroy" -> "memory".
std::string suggestion(std::string_view key, std::initializer_list<std::string_view> allowed) {
  std::string_view best;
  size_t best_distance = 3;
  for (std::string_view a : allowed) {
    size_t d = edit_distance(key, a);
    if (d < best_distance) {
      best = a;
      best_distance = d;
    }
  }
  if (best.empty()) {
    return "";
  }
  return " (did you mean \"" + std::string(best) + "\"?)";
}

std::string allowed_list(std::initializer_list<std::string_view> allowed) {
  std::string out;
  for (std::string_view a : allowed) {
    out += out.empty() ? "" : ", ";
    out += a;
  }
  return out;
}

// Validates a mapping's keys: scalar and not repeated. Returns the usable entries.
std::vector<std::pair<std::string, Field>> checked_entries(ErrorSink& sink, const Field& f) {
  std::vector<std::pair<std::string, Field>> out;
  std::set<std::string> seen;
  for (const auto& kv : f.value) {
    // Copies: the iterator hands out a proxy, and references into it dangle.
    YAML::Node k = kv.first;
    if (!k.IsScalar()) {
      sink.add(k.Mark(), f.path, "keys must be plain strings, got " + describe(k));
      continue;
    }
    Field e = f.entry(k, kv.second);
    if (!seen.insert(k.Scalar()).second) {
      // yaml-cpp would silently keep the first; which one the author meant is unknowable.
      sink.add(k.Mark(), e.path, "key is repeated");
      continue;
    }
    out.emplace_back(k.Scalar(), std::move(e));
  }
  return out;
}

bool expect_scalar(ErrorSink& sink, const Field& f, const char* what) {
  if (f.value.IsScalar()) {
    return true;
  }
  sink.add(f, std::string("expected ") + what + ", got " + describe(f.value));
  return false;
}

}  // namespace

Field& Field::operator=(const Field& other) {
  if (this != &other) {
    path = other.path;
    key.reset(other.key);
    value.reset(other.value);
  }
  return *this;
}

YAML::Mark Field::mark() const {
  if ((!value.IsDefined() || value.IsNull()) && key.IsDefined() && !key.IsNull()) {
    return key.Mark();
  }
  return value.Mark();
}

Field Field::item(size_t index, const YAML::Node& v) const {
  return Field{path + "[" + std::to_string(index) + "]", YAML::Node(), v};
}

Field Field::entry(const YAML::Node& k, const YAML::Node& v) const {
  return Field{path.empty() ? k.Scalar() : path + "." + k.Scalar(), k, v};
}

void ErrorSink::add(const YAML::Mark& mark, std::string field, std::string message) {
  errors_.push_back(ProfileError{file_, one_based(mark.line), one_based(mark.column),
                                 std::move(field), std::move(message)});
}

std::vector<ProfileError> ErrorSink::take() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  return std::move(errors_);
}

std::optional<MapFields> MapFields::read(ErrorSink& sink, const Field& f,
                                         std::initializer_list<std::string_view> allowed) {
  if (!f.value.IsMap()) {
    sink.add(f, "expected a mapping, got " + describe(f.value));
    return std::nullopt;
  }
  MapFields m;
  m.self_ = f;
  for (auto& [name, e] : checked_entries(sink, f)) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      sink.add(e.key.Mark(), e.path,
               "unknown key" + suggestion(name, allowed) + "; allowed: " + allowed_list(allowed));
      continue;
    }
    m.entries_.push_back(std::move(e));
  }
  return m;
}

const Field* MapFields::get(std::string_view key) const {
  for (const Field& e : entries_) {
    if (e.key.Scalar() == key) {
      return &e;
    }
  }
  return nullptr;
}

const Field* MapFields::require(ErrorSink& sink, std::string_view key) const {
  const Field* f = get(key);
  if (f == nullptr) {
    std::string path = self_.path.empty() ? std::string(key) : self_.path + "." + std::string(key);
    sink.add(self_.value.Mark(), path, "required key is missing");
  }
  return f;
}

std::optional<std::vector<Field>> map_entries(ErrorSink& sink, const Field& f) {
  if (!f.value.IsMap()) {
    sink.add(f, "expected a mapping, got " + describe(f.value));
    return std::nullopt;
  }
  std::vector<Field> out;
  for (auto& [name, e] : checked_entries(sink, f)) {
    out.push_back(std::move(e));
  }
  return out;
}

std::optional<std::vector<Field>> seq_items(ErrorSink& sink, const Field& f) {
  if (!f.value.IsSequence()) {
    sink.add(f, "expected a sequence, got " + describe(f.value));
    return std::nullopt;
  }
  std::vector<Field> out;
  size_t i = 0;
  for (const auto& item : f.value) {
    out.push_back(f.item(i++, item));
  }
  return out;
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a sequence";
    case YAML::NodeType::Scalar:
      // Quoted back, but short: the value may be a whole pasted file.
      if (node.Scalar().size() > 60) {
        return "\"" + node.Scalar().substr(0, 57) + "...\"";
      }
      return "\"" + node.Scalar() + "\"";
    case YAML::NodeType::Null:
      return "an empty value";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::optional<std::string> read_string(ErrorSink& sink, const Field& f) {
  if (!expect_scalar(sink, f, "a string")) {
    return std::nullopt;
  }
  if (f.value.Scalar().find('\0') != std::string::npos) {
    sink.add(f, "contains a NUL byte");
    return std::nullopt;
  }
  return f.value.Scalar();
}

std::optional<bool> read_bool(ErrorSink& sink, const Field& f) {
  if (!expect_scalar(sink, f, "true or false")) {
    return std::nullopt;
  }
  // Only the YAML 1.2 spellings: yaml-cpp would also take "yes", "on", "y"...
  const std::string& s = f.value.Scalar();
  if (s == "true" || s == "True" || s == "TRUE") {
    return true;
  }
  if (s == "false" || s == "False" || s == "FALSE") {
    return false;
  }
  sink.add(f, "expected true or false, got \"" + s + "\"");
  return std::nullopt;
}

std::optional<uint64_t> read_uint(ErrorSink& sink, const Field& f, uint64_t min, uint64_t max) {
  if (!expect_scalar(sink, f, "an integer")) {
    return std::nullopt;
  }
  auto v = parse_uint(f.value.Scalar());
  if (!v.ok()) {
    sink.add(f, v.error().message);
    return std::nullopt;
  }
  if (*v < min || *v > max) {
    sink.add(
        f, std::to_string(*v) + " is outside " + std::to_string(min) + ".." + std::to_string(max));
    return std::nullopt;
  }
  return *v;
}

std::optional<uint64_t> read_size(ErrorSink& sink, const Field& f) {
  if (!expect_scalar(sink, f, "a size")) {
    return std::nullopt;
  }
  auto v = parse_size(f.value.Scalar());
  if (!v.ok()) {
    sink.add(f, v.error().message);
    return std::nullopt;
  }
  return *v;
}

std::optional<uint64_t> read_duration_us(ErrorSink& sink, const Field& f) {
  if (!expect_scalar(sink, f, "a duration")) {
    return std::nullopt;
  }
  auto v = parse_duration_us(f.value.Scalar());
  if (!v.ok()) {
    sink.add(f, v.error().message);
    return std::nullopt;
  }
  return *v;
}

std::optional<std::string> read_path(ErrorSink& sink, const Field& f) {
  auto s = read_string(sink, f);
  if (!s) {
    return std::nullopt;
  }
  if (auto st = check_absolute_path(*s); !st.ok()) {
    sink.add(f, st.error().message);
    return std::nullopt;
  }
  return s;
}

std::optional<std::string> read_target(ErrorSink& sink, const Field& f) {
  auto s = read_string(sink, f);
  if (!s) {
    return std::nullopt;
  }
  if (auto st = check_target_path(*s); !st.ok()) {
    sink.add(f, st.error().message);
    return std::nullopt;
  }
  return s;
}

}  // namespace bulkhead::config::detail
