// Everything that can be checked about a profile directory without touching
// the host: the profiles themselves and against each other (load_profile_dir),
// every tenant's sandbox plan (seccomp files, Landlock availability, rlimits,
// the filesystem view) and the uid/gid range assignment. Agent start, reload
// and `bulkheadd --check` share it, so what --check accepts is what the agent
// will accept.
#pragma once

#include <string>
#include <vector>

#include "config/profile_loader.h"

namespace bulkhead::daemon {

struct ValidatedProfiles {
  std::vector<config::Profile> profiles;  // with their id ranges assigned
  std::vector<config::ProfileError> errors;
  std::vector<std::string> warnings;  // from planning, e.g. unknown OCI seccomp names
  [[nodiscard]] bool ok() const { return errors.empty(); }
  // Every error on its own line, "file:line:col: field: message".
  [[nodiscard]] std::string errors_text() const;
};

// staging_dir: an existing directory to plan the new root on. ids_file: the id
// range state (assign_id_ranges); it is only written when every profile passed
// the earlier checks and a range is newly assigned, so a refused profile set
// never reserves ranges. The data directory bind is planned as if the directory
// existed: the agent creates it when it creates the tenant.
ValidatedProfiles validate_profiles(const std::string& profiles_dir, const std::string& staging_dir,
                                    const std::string& ids_file);

}  // namespace bulkhead::daemon
