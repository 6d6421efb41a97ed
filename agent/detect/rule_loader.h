// Loads detection rules (docs/detection.md) from YAML files.
//
// All or nothing: the result carries a RuleSet only when every file of the
// directory loaded without error, so a broken file never replaces rules that
// are running. Errors use the profile loader's form
// ("file:line:col: field: message") and all of them are reported.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/profile_loader.h"
#include "detect/rule.h"

namespace bulkhead::detect {

struct RuleLoadResult {
  std::shared_ptr<const RuleSet> rules;  // set exactly when errors is empty
  std::vector<config::ProfileError> errors;
  [[nodiscard]] bool ok() const { return errors.empty() && rules != nullptr; }
  [[nodiscard]] std::string errors_text() const;  // one error per line
};

// One rules file's text; `source_name` appears in errors.
RuleLoadResult load_rules_string(const std::string& yaml_text, const std::string& source_name);
// Every *.yaml and *.yml file in `dir`, by name (hidden files and directories
// are skipped). Rule names must be unique across the files. An empty
// directory is a valid set of no rules; a missing one is an error.
RuleLoadResult load_rule_dir(const std::string& dir);

}  // namespace bulkhead::detect
