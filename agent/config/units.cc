#include "config/units.h"

#include <limits>
#include <string>
#include <utility>

namespace bulkhead::config {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (is_digit(c)) {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

// Splits "64Mi" into "64" and "Mi".
std::pair<std::string_view, std::string_view> split_number(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && is_digit(text[i])) {
    ++i;
  }
  return {text.substr(0, i), text.substr(i)};
}

Result<uint64_t> multiply(uint64_t value, uint64_t factor, std::string_view text,
                          const char* what) {
  if (factor != 0 && value > kMax / factor) {
    return make_error(quoted(text) + " is too large for a " + what);
  }
  return value * factor;
}

}  // namespace

Result<uint64_t> parse_uint(std::string_view text) {
  if (text.empty()) {
    return make_error("empty string is not a number");
  }
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    uint64_t value = 0;
    for (char c : text.substr(2)) {
      int d = hex_value(c);
      if (d < 0) {
        return make_error(quoted(text) + " is not a hexadecimal number");
      }
      if (value > (kMax >> 4)) {
        return make_error(quoted(text) + " is too large (more than 64 bits)");
      }
      value = (value << 4) | static_cast<uint64_t>(d);
    }
    return value;
  }
  uint64_t value = 0;
  for (char c : text) {
    if (!is_digit(c)) {
      return make_error(quoted(text) + " is not a non-negative integer");
    }
    auto d = static_cast<uint64_t>(c - '0');
    if (value > (kMax - d) / 10) {
      return make_error(quoted(text) + " is too large (more than 64 bits)");
    }
    value = value * 10 + d;
  }
  if (text.size() > 1 && text[0] == '0') {
    return make_error(quoted(text) + " has a leading zero (ambiguous: octal or decimal?)");
  }
  return value;
}

Result<uint64_t> parse_size(std::string_view text) {
  auto [digits, suffix] = split_number(text);
  if (digits.empty()) {
    return make_error(quoted(text) + " is not a size (expected e.g. 4096, 64Ki, 1G)");
  }
  auto value = parse_uint(digits);
  if (!value.ok()) {
    return value.error();
  }
  static constexpr std::pair<std::string_view, uint64_t> kSuffixes[] = {
      {"", 1},
      {"K", 1000},
      {"Ki", uint64_t{1} << 10},
      {"M", 1000 * 1000},
      {"Mi", uint64_t{1} << 20},
      {"G", 1000 * 1000 * 1000},
      {"Gi", uint64_t{1} << 30},
      {"T", uint64_t{1000} * 1000 * 1000 * 1000},
      {"Ti", uint64_t{1} << 40},
  };
  for (const auto& [name, factor] : kSuffixes) {
    if (suffix == name) {
      return multiply(*value, factor, text, "64-bit byte count");
    }
  }
  return make_error(quoted(text) + " has an unknown size suffix " + quoted(suffix) +
                    " (use K, Ki, M, Mi, G, Gi, T or Ti)");
}

Result<uint64_t> parse_duration_us(std::string_view text) {
  auto [digits, suffix] = split_number(text);
  if (digits.empty()) {
    return make_error(quoted(text) + " is not a duration (expected e.g. 500us, 50ms, 2s)");
  }
  auto value = parse_uint(digits);
  if (!value.ok()) {
    return value.error();
  }
  if (suffix.empty()) {
    return make_error(quoted(text) + " needs a unit: us, ms or s");
  }
  static constexpr std::pair<std::string_view, uint64_t> kUnits[] = {
      {"us", 1}, {"ms", 1000}, {"s", 1000 * 1000}};
  for (const auto& [name, factor] : kUnits) {
    if (suffix == name) {
      return multiply(*value, factor, text, "duration in microseconds");
    }
  }
  return make_error(quoted(text) + " has an unknown duration unit " + quoted(suffix) +
                    " (use us, ms or s)");
}

Result<uint32_t> parse_mode(std::string_view text) {
  if (text.empty() || text.size() > 5) {
    return make_error(quoted(text) + " is not an octal mode (expected e.g. \"1777\", \"0755\")");
  }
  uint32_t mode = 0;
  for (char c : text) {
    if (c < '0' || c > '7') {
      return make_error(quoted(text) + " is not an octal mode (expected e.g. \"1777\", \"0755\")");
    }
    mode = mode * 8 + static_cast<uint32_t>(c - '0');
  }
  if (mode > 07777) {
    return make_error(quoted(text) + " is larger than 7777 (octal)");
  }
  return mode;
}

}  // namespace bulkhead::config
