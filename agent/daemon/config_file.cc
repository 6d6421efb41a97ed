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

}  // namespace

int find_option_line(const std::string& text, const std::string& option) {
  std::string wanted = option.substr(std::min(option.find_first_not_of('-'), option.size()));
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
    std::string key = strip(s.substr(0, s.find('=')));
    if ((section.empty() ? key : section + "." + key) == wanted) {
      return number;
    }
  }
  return 0;
}

}  // namespace bulkhead::daemon
