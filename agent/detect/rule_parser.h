// Internal to the rule loader: one YAML document (a rules file) to Rules, with
// the strict, error-collecting helpers of the profile loader
// (config/yaml_reader.h): unknown keys, wrong kinds, unknown event types and
// fields are reported with file:line:col and the field path, and parsing goes
// on to find the next problem.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "config/yaml_reader.h"
#include "detect/rule.h"

namespace bulkhead::detect::detail {

struct ParsedRule {
  Rule rule;
  std::string file;
  config::detail::Field name;  // where the name was written, for duplicate errors
};

// The rules of `root` that have no error of their own; errors go to `sink`.
std::vector<ParsedRule> parse_rules_document(config::detail::ErrorSink& sink,
                                             const YAML::Node& root, const std::string& file);

}  // namespace bulkhead::detect::detail
