// Reads tenant profiles (YAML, version 1; docs/profiles.md) into config::Profile.
//
// Loading fails closed: unknown or repeated keys, wrong types, out-of-range values
// and unknown names are all errors, and every error of a file is reported (with
// file, line, column and the dotted field path), not just the first. A profile
// with any error is not returned at all, so nothing half-checked reaches the
// sandbox. No exception leaves these functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/profile.h"

namespace bulkhead::config {

struct ProfileError {
  std::string file;
  int line = 0;       // 1-based; 0 when unknown
  int column = 0;     // 1-based; 0 when unknown
  std::string field;  // dotted path: "limits.memory.max", "filesystem.read_only[2].source"
  std::string message;

  // "file:line:col: field: message"; the position and field are left out when unknown.
  [[nodiscard]] std::string to_string() const;
};

struct ProfileLoadResult {
  std::optional<Profile> profile;  // set exactly when errors is empty
  std::vector<ProfileError> errors;
  [[nodiscard]] bool ok() const { return errors.empty() && profile.has_value(); }
};

// `source_name` is used in errors and as Profile::source_file.
ProfileLoadResult load_profile_string(const std::string& yaml_text, const std::string& source_name);
ProfileLoadResult load_profile_file(const std::string& path);

struct ProfileSetResult {
  // The profiles that passed their own checks and the cross-profile checks, in
  // file name order. When errors is not empty the set as a whole is invalid and
  // must not be applied; the list only helps to report what did load.
  std::vector<Profile> profiles;
  std::vector<ProfileError> errors;
  [[nodiscard]] bool ok() const { return errors.empty(); }
};

// Loads every *.yaml and *.yml file in `dir` (sorted by name; hidden files are
// skipped), then checks the profiles against each other: tenant names must be
// unique, explicit id ranges must not overlap, and data directories must not be
// shared. Errors of all files are collected.
ProfileSetResult load_profile_dir(const std::string& dir);

}  // namespace bulkhead::config
