#include "detect/rule_loader.h"

#include <algorithm>
#include <exception>
#include <filesystem>
#include <map>
#include <tuple>

#include "common/file_util.h"
#include "detect/rule_parser.h"

namespace bulkhead::detect {
namespace {

// A rules file is a few kilobytes; far more is a mistake, not a rules file.
constexpr size_t kMaxRulesBytes = size_t{1024} * 1024;

config::ProfileError file_error(const std::string& file, std::string message) {
  return config::ProfileError{file, 0, 0, "", std::move(message)};
}

// The rules of one file, before the checks across files.
std::vector<detail::ParsedRule> parse_text(const std::string& text, const std::string& file,
                                           std::vector<config::ProfileError>& errors) {
  config::detail::ErrorSink sink(file);
  std::vector<detail::ParsedRule> out;
  try {
    // LoadAll: Load would silently ignore everything after a "---".
    std::vector<YAML::Node> docs = YAML::LoadAll(text);
    if (docs.empty()) {
      sink.add(YAML::Mark::null_mark(), "", "no YAML document (the file is empty)");
    } else if (docs.size() > 1) {
      sink.add(docs[1].Mark(), "",
               "a rules file is one YAML document; found " + std::to_string(docs.size()));
    } else {
      out = detail::parse_rules_document(sink, docs[0], file);
    }
  } catch (const YAML::Exception& e) {
    sink.add(e.mark, "", "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    sink.add(YAML::Mark::null_mark(), "", std::string("cannot load rules: ") + e.what());
  }
  auto found = sink.take();
  errors.insert(errors.end(), found.begin(), found.end());
  return out;
}

Result<std::vector<std::string>> list_rule_files(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  std::vector<std::string> out;
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const std::string ext = it->path().extension().string();
    // Hidden files are editor leftovers; directories are not rules files.
    if (name[0] != '.' && (ext == ".yaml" || ext == ".yml") && !it->is_directory(ec)) {
      out.push_back(it->path().string());
    }
  }
  if (ec) {
    return Error{ec.value(), "cannot list rules directory " + dir};
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Names are how alerts, status and throttles tell rules apart: unique across files.
RuleLoadResult finish(std::vector<detail::ParsedRule> parsed,
                      std::vector<config::ProfileError> errors) {
  std::map<std::string, std::string> seen;  // name -> "file:line"
  std::vector<Rule> rules;
  for (auto& p : parsed) {
    auto [it, inserted] = seen.emplace(p.rule.name, p.rule.source);
    if (!inserted) {
      const YAML::Mark mark = p.name.mark();
      errors.push_back(
          config::ProfileError{p.file, mark.line + 1, mark.column + 1, p.name.path,
                               "rule \"" + p.rule.name + "\" is already defined at " + it->second});
      continue;
    }
    rules.push_back(std::move(p.rule));
  }
  std::stable_sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) {
    return std::tie(a.file, a.line, a.column) < std::tie(b.file, b.line, b.column);
  });
  RuleLoadResult out;
  out.errors = std::move(errors);
  if (out.errors.empty()) {
    out.rules = std::make_shared<const RuleSet>(std::move(rules));
  }
  return out;
}

}  // namespace

std::string RuleLoadResult::errors_text() const {
  std::string out;
  for (const auto& e : errors) {
    out += (out.empty() ? "" : "\n") + e.to_string();
  }
  return out;
}

RuleLoadResult load_rules_string(const std::string& yaml_text, const std::string& source_name) {
  std::vector<config::ProfileError> errors;
  auto parsed = parse_text(yaml_text, source_name, errors);
  return finish(std::move(parsed), std::move(errors));
}

RuleLoadResult load_rule_dir(const std::string& dir) {
  std::vector<config::ProfileError> errors;
  auto files = list_rule_files(dir);
  if (!files.ok()) {
    return finish({}, {file_error(dir, files.error().to_string())});
  }
  std::vector<detail::ParsedRule> parsed;
  for (const std::string& path : *files) {
    auto text = read_file(path);
    if (!text.ok()) {
      errors.push_back(file_error(path, text.error().to_string()));
      continue;
    }
    if (text->size() > kMaxRulesBytes) {
      errors.push_back(
          file_error(path, "larger than " + std::to_string(kMaxRulesBytes) + " bytes"));
      continue;
    }
    auto rules = parse_text(*text, path, errors);
    std::move(rules.begin(), rules.end(), std::back_inserter(parsed));
  }
  return finish(std::move(parsed), std::move(errors));
}

}  // namespace bulkhead::detect
