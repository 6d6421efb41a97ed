#include "daemon/config_file.h"

#include <sstream>

namespace bulkhead::daemon {
namespace {

std::string strip(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) {
    return "";
  }
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// Calls visit(number, key, value) for every setting line; stops when it returns true.
template <typename Visit>
int scan_settings(const std::string& text, Visit visit) {
  std::istringstream in(text);
  std::string line;
  std::string section;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    // Program_options drops everything after '#'.
    std::string s = strip(line.substr(0, line.find('#')));
    if (s.empty()) {
      continue;
    }
    if (s.front() == '[' && s.back() == ']') {
      section = strip(s.substr(1, s.size() - 2));
      continue;
    }
    const size_t eq = s.find('=');
    std::string key = strip(s.substr(0, eq));
    std::string value = eq == std::string::npos ? "" : strip(s.substr(eq + 1));
    if (visit(section.empty() ? key : section + "." + key, value)) {
      return number;
    }
  }
  return 0;
}

std::string without_dashes(const std::string& option) {
  return option.substr(std::min(option.find_first_not_of('-'), option.size()));
}

}  // namespace

int find_option_value_line(const std::string& text, const std::string& option,
                           const std::string& value) {
  const std::string wanted = without_dashes(option);
  return scan_settings(text, [&](const std::string& key, const std::string& v) {
    return key == wanted && v == value;
  });
}

int find_option_line(const std::string& text, const std::string& option) {
  const std::string wanted = without_dashes(option);
  return scan_settings(text,
                       [&](const std::string& key, const std::string&) { return key == wanted; });
}

}  // namespace bulkhead::daemon
