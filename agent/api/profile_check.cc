#include <filesystem>

#include "api/backend.h"
#include "isolation/sandbox_plan.h"

namespace bulkhead::api {
namespace {

// Planning wants an existing staging directory to mount the new root on. It
// only checks it (and that tenants could traverse to it), so the temp dir
// stands in for the agent's: the profile is what is being checked.
std::string planning_dir() {
  std::error_code ec;
  auto dir = std::filesystem::canonical(std::filesystem::temp_directory_path(ec), ec);
  return ec || dir == "/" ? std::string("/tmp") : dir.string();
}

}  // namespace

CheckReport check_profile_text(const std::string& yaml, const std::string& name) {
  CheckReport report;
  auto loaded = config::load_profile_string(yaml, name);
  if (!loaded.ok()) {
    report.errors = std::move(loaded.errors);
    if (report.errors.empty()) {
      report.errors.push_back(config::ProfileError{name, 0, 0, "", "profile did not load"});
    }
    return report;
  }
  report.tenant = loaded.profile->name;
  auto plan = isolation::plan_sandbox(*loaded.profile, planning_dir());
  if (!plan.ok()) {
    // Planning prefixes the file name, which ProfileError adds again.
    std::string message = plan.error().to_string();
    if (message.rfind(name + ": ", 0) == 0) {
      message.erase(0, name.size() + 2);
    }
    report.errors.push_back(config::ProfileError{name, 0, 0, "", message});
    return report;
  }
  report.warnings = plan->warnings;
  return report;
}

}  // namespace bulkhead::api
