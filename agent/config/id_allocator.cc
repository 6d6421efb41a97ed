#include "config/id_allocator.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/file_util.h"
#include "common/scope_exit.h"
#include "common/unique_fd.h"
#include "config/profile_parser.h"

namespace bulkhead::config {
namespace {

using json = nlohmann::json;
using Assignments = std::map<std::string, IdRange>;  // tenant -> range

constexpr int kStateVersion = 1;

std::string range_text(const IdRange& r) {
  return std::to_string(r.base) + ".." + std::to_string(r.end() - 1);
}

Result<uint32_t> read_u32(const json& v, const char* what) {
  if (!v.is_number_unsigned() || v.get<uint64_t>() > UINT32_MAX) {
    return make_error(std::string(what) + " must be an unsigned 32-bit integer");
  }
  return static_cast<uint32_t>(v.get<uint64_t>());
}

Result<Assignments> parse_state(const std::string& text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return make_error("not valid JSON");
  }
  if (!doc.is_object() || !doc.contains("version") || !doc.contains("tenants")) {
    return make_error("expected an object with \"version\" and \"tenants\"");
  }
  if (doc["version"] != kStateVersion) {
    return make_error("unsupported version " + doc["version"].dump());
  }
  const json& tenants = doc["tenants"];
  if (!tenants.is_object()) {
    return make_error("\"tenants\" must be an object");
  }
  Assignments out;
  for (const auto& [name, entry] : tenants.items()) {
    if (!detail::is_valid_name(name)) {
      return make_error("\"" + name + "\" is not a tenant name");
    }
    if (!entry.is_object() || !entry.contains("base") || !entry.contains("count") ||
        entry.size() != 2) {
      return make_error("tenant \"" + name + "\": expected {\"base\": N, \"count\": N}");
    }
    auto base = read_u32(entry["base"], "base");
    auto count = read_u32(entry["count"], "count");
    if (!base.ok() || !count.ok()) {
      return make_error("tenant \"" + name +
                        "\": " + (base.ok() ? count.error() : base.error()).message);
    }
    IdRange r{*base, *count};
    if (r.base < kFirstTenantHostId || r.count == 0 || r.end() > detail::kTenantIdLimit) {
      return make_error("tenant \"" + name + "\": range " + std::to_string(r.base) + "+" +
                        std::to_string(r.count) + " is not a valid tenant range");
    }
    for (const auto& [other, o] : out) {
      if (r.overlaps(o)) {
        return make_error("ranges of \"" + name + "\" and \"" + other + "\" overlap");
      }
    }
    out.emplace(name, r);
  }
  return out;
}

Result<Assignments> load_state(const std::string& path) {
  auto text = read_file(path);
  if (!text.ok()) {
    if (text.error().code == ENOENT) {
      return Assignments{};
    }
    return text.error().context("reading id state file");
  }
  try {
    auto state = parse_state(*text);
    if (!state.ok()) {
      return make_error("id state file " + path + " is corrupt: " + state.error().message);
    }
    return state;
  } catch (const json::exception& e) {
    return make_error("id state file " + path + " is corrupt: " + e.what());
  }
}

// A crash at any point leaves either the old or the new file, never a torn one:
// a torn file would be "corrupt" and stop the agent, a lost one would hand the
// same ids to another tenant.
Status save_state(const std::string& path, const Assignments& state) {
  json doc = {{"version", kStateVersion}, {"tenants", json::object()}};
  for (const auto& [name, r] : state) {
    doc["tenants"][name] = {{"base", r.base}, {"count", r.count}};
  }
  return write_file_atomic(path, doc.dump(2) + "\n", 0644);
}

struct Reserved {
  IdRange range;
  std::string owner;  // tenant name
  bool persisted;     // from the state file (else an explicit range in a profile)
};

// The lowest free block of the pool.
Result<IdRange> allocate(const std::vector<Reserved>& reserved) {
  for (uint64_t base = kIdPoolBegin; base + kDefaultIdCount <= kIdPoolEnd;
       base += kDefaultIdCount) {
    IdRange candidate{static_cast<uint32_t>(base), kDefaultIdCount};
    bool free = std::none_of(reserved.begin(), reserved.end(),
                             [&](const Reserved& r) { return r.range.overlaps(candidate); });
    if (free) {
      return candidate;
    }
  }
  return make_error("the id pool is exhausted");
}

Status check_profiles(const std::vector<Profile>& profiles, const Assignments& state,
                      std::vector<Reserved>& reserved) {
  std::map<std::string, const Profile*> by_name;
  for (const Profile& p : profiles) {
    if (!by_name.emplace(p.name, &p).second) {
      return make_error("tenant \"" + p.name + "\" is defined twice");
    }
    if (!p.ids) {
      continue;
    }
    for (const Reserved& r : reserved) {
      if (r.range.overlaps(*p.ids)) {
        return make_error("ids " + range_text(*p.ids) + " of tenant \"" + p.name +
                          "\" overlap those of tenant \"" + r.owner + "\"");
      }
    }
    reserved.push_back({*p.ids, p.name, false});
  }
  // A persisted range now taken by someone else's explicit range cannot be
  // moved silently: the tenant's files are owned by those ids.
  for (const auto& [name, range] : state) {
    for (const Reserved& r : reserved) {
      if (r.owner != name && r.range.overlaps(range)) {
        return make_error("ids " + range_text(r.range) + " of tenant \"" + r.owner +
                          "\" overlap the range " + range_text(range) + " already assigned to \"" +
                          name + "\"");
      }
    }
  }
  for (const auto& [name, range] : state) {
    reserved.push_back({range, name, true});
  }
  return {};
}

}  // namespace

Status assign_id_ranges(std::vector<Profile>& profiles, const std::string& state_file) {
  auto state = load_state(state_file);
  if (!state.ok()) {
    return state.error();
  }
  std::vector<Reserved> reserved;
  BULKHEAD_TRY(check_profiles(profiles, *state, reserved));

  // New tenants are served in name order, so the result does not depend on the
  // order of the profiles.
  std::vector<Profile*> todo;
  for (Profile& p : profiles) {
    if (!p.ids && state->count(p.name) == 0) {
      todo.push_back(&p);
    }
  }
  std::sort(todo.begin(), todo.end(), [](auto* a, auto* b) { return a->name < b->name; });
  for (Profile* p : todo) {
    auto range = allocate(reserved);
    if (!range.ok()) {
      return range.error().context("assigning ids to tenant \"" + p->name + "\"");
    }
    reserved.push_back({*range, p->name, true});
    state->emplace(p->name, *range);
  }
  if (!todo.empty()) {
    BULKHEAD_TRY_CTX(save_state(state_file, *state), "saving id state file " + state_file);
  }
  for (Profile& p : profiles) {
    if (!p.ids) {
      p.ids = state->find(p.name)->second;  // every profile without ids has an entry by now
    }
  }
  return {};
}

}  // namespace bulkhead::config
