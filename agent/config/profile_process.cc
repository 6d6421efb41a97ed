// The `process` section: environment, working directory, ids, capabilities and
// resource limits of the tenant's processes.
#include <limits>
#include <set>

#include "config/kernel_names.h"
#include "config/profile_parser.h"
#include "config/units.h"

namespace bulkhead::config::detail {
namespace {

constexpr uint64_t kUnlimited = std::numeric_limits<uint64_t>::max();

bool is_env_name(const std::string& s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) {
    return false;
  }
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

void parse_capabilities(ErrorSink& sink, const Field& f, std::vector<std::string>& out) {
  auto items = seq_items(sink, f);
  if (!items) {
    return;
  }
  std::set<std::string> seen;
  for (const Field& item : *items) {
    auto name = read_string(sink, item);
    if (!name) {
      continue;
    }
    auto cap = canonical_capability(*name);
    if (!cap.ok()) {
      sink.add(item, cap.error().message);
    } else if (!seen.insert(*cap).second) {
      sink.add(item, *cap + " is listed twice");
    } else {
      out.push_back(*cap);
    }
  }
}

// One side of a limit: an integer, a size for byte limits, or "unlimited".
std::optional<uint64_t> read_limit(ErrorSink& sink, const Field& f, const RlimitInfo& info) {
  auto text = read_string(sink, f);
  if (!text) {
    return std::nullopt;
  }
  if (*text == "unlimited") {
    if (!info.may_be_unlimited) {
      sink.add(f, std::string(info.name) + " cannot be unlimited" +
                      (info.name == "nofile" ? " (the kernel caps it at fs.nr_open)" : ""));
      return std::nullopt;
    }
    return kUnlimited;
  }
  auto v = info.bytes ? parse_size(*text) : parse_uint(*text);
  if (!v.ok()) {
    sink.add(f,
             v.error().message + (info.bytes ? "" : " (size suffixes are for byte limits only)"));
    return std::nullopt;
  }
  if (*v > info.max) {
    sink.add(f, std::string(info.name) + " is at most " + std::to_string(info.max));
    return std::nullopt;
  }
  return *v;
}

void parse_rlimit(ErrorSink& sink, const Field& f, std::vector<Rlimit>& out) {
  const std::string& name = f.key.Scalar();
  const RlimitInfo* info = find_rlimit(name);
  if (info == nullptr) {
    sink.add(f.key.Mark(), f.path, "unknown resource limit; known: " + rlimit_names());
    return;
  }
  Rlimit r{name, info->resource, 0, 0};
  if (f.value.IsMap()) {
    auto m = MapFields::read(sink, f, {"soft", "hard"});
    const Field* soft_f = m->require(sink, "soft");
    const Field* hard_f = m->require(sink, "hard");
    auto soft = soft_f ? read_limit(sink, *soft_f, *info) : std::nullopt;
    auto hard = hard_f ? read_limit(sink, *hard_f, *info) : std::nullopt;
    if (!soft || !hard) {
      return;
    }
    r.soft = soft.value_or(0);
    r.hard = hard.value_or(0);
    if (r.soft > r.hard) {
      sink.add(*soft_f, "soft limit is above the hard limit");
      return;
    }
  } else {
    auto v = read_limit(sink, f, *info);
    if (!v) {
      return;
    }
    r.soft = r.hard = *v;
  }
  out.push_back(std::move(r));
}

}  // namespace

void parse_env(ErrorSink& sink, const Field& f, std::map<std::string, std::string>& out) {
  auto entries = map_entries(sink, f);
  if (!entries) {
    return;
  }
  for (const Field& e : *entries) {
    const std::string& name = e.key.Scalar();
    if (!is_env_name(name)) {
      sink.add(e.key.Mark(), e.path,
               "\"" + name + "\" is not a variable name ([A-Za-z_][A-Za-z0-9_]*)");
      continue;
    }
    if (e.value.IsNull()) {
      // An empty value in YAML is null, not "": make the author say which.
      sink.add(e, "has no value (write \"\" for an empty string)");
      continue;
    }
    if (auto v = read_string(sink, e)) {
      out[name] = *v;
    }
  }
}

void parse_process(ErrorSink& sink, const Field& f, ProcessSpec& out, ProfileMarks& marks) {
  auto m = MapFields::read(sink, f, {"env", "cwd", "user", "group", "capabilities", "rlimits"});
  if (!m) {
    return;
  }
  if (const Field* e = m->get("env")) {
    parse_env(sink, *e, out.env);
  }
  if (const Field* e = m->get("cwd")) {
    out.cwd = read_path(sink, *e).value_or("/");
  }
  // The range check against ids.count is done once the whole profile is read.
  if (const Field* e = m->get("user")) {
    out.uid = static_cast<uint32_t>(read_uint(sink, *e, 0, UINT32_MAX).value_or(0));
    marks.user = *e;
  }
  if (const Field* e = m->get("group")) {
    out.gid = static_cast<uint32_t>(read_uint(sink, *e, 0, UINT32_MAX).value_or(0));
    marks.group = *e;
  }
  if (const Field* e = m->get("capabilities")) {
    parse_capabilities(sink, *e, out.capabilities);
  }
  if (const Field* e = m->get("rlimits")) {
    if (auto entries = map_entries(sink, *e)) {
      for (const Field& limit : *entries) {
        parse_rlimit(sink, limit, out.rlimits);
      }
    }
  }
}

}  // namespace bulkhead::config::detail
