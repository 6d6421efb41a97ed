#include "daemon/profile_validation.h"

#include "config/id_allocator.h"
#include "isolation/sandbox_plan.h"

namespace bulkhead::daemon {
namespace {

// plan_sandbox prefixes its errors with the source file; ProfileError has its own.
std::string without_prefix(const std::string& message, const std::string& file) {
  const std::string prefix = file + ": ";
  if (!file.empty() && message.compare(0, prefix.size(), prefix) == 0) {
    return message.substr(prefix.size());
  }
  return message;
}

}  // namespace

std::string ValidatedProfiles::errors_text() const {
  std::string out;
  for (const auto& e : errors) {
    out += (out.empty() ? "" : "\n") + e.to_string();
  }
  return out;
}

ValidatedProfiles validate_profiles(const std::string& profiles_dir, const std::string& staging_dir,
                                    const std::string& ids_file) {
  ValidatedProfiles out;
  config::ProfileSetResult loaded = config::load_profile_dir(profiles_dir);
  out.errors = std::move(loaded.errors);
  // Plan the profiles that did load, even when others failed: all errors at once.
  for (const config::Profile& profile : loaded.profiles) {
    config::Profile without_data = profile;
    without_data.filesystem.data.target.clear();
    auto plan = isolation::plan_sandbox(without_data, staging_dir);
    if (!plan.ok()) {
      out.errors.push_back(
          config::ProfileError{profile.source_file, 0, 0, "",
                               without_prefix(plan.error().to_string(), profile.source_file)});
      continue;
    }
    for (const auto& w : plan->warnings) {
      out.warnings.push_back(profile.source_file + ": " + w);
    }
  }
  if (!out.errors.empty()) {
    return out;
  }
  out.profiles = std::move(loaded.profiles);
  if (auto s = config::assign_id_ranges(out.profiles, ids_file); !s.ok()) {
    out.errors.push_back(config::ProfileError{ids_file, 0, 0, "ids", s.error().to_string()});
    out.profiles.clear();
  }
  return out;
}

}  // namespace bulkhead::daemon
