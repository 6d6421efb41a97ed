// Helpers for bulkheadd's INI-style config file (Boost.Program_options syntax:
// "key = value", "# comment", "[section]" prefixes keys with "section.").
// Program_options names the option in its errors but not where it is; these
// find the line, so an error reads "/etc/bulkhead/bulkheadd.conf:7: ...".
#pragma once

#include <string>

namespace bulkhead::daemon {

// The 1-based line that sets `option` ("stop-grace", "section.key"; leading
// dashes are ignored) in the text of a config file; 0 when none does.
int find_option_line(const std::string& text, const std::string& option);
// The same for a repeatable option: the line that sets it to `value`.
int find_option_value_line(const std::string& text, const std::string& option,
                           const std::string& value);

}  // namespace bulkhead::daemon
