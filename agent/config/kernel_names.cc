#include "config/kernel_names.h"

#include <seccomp.h>
#include <sys/capability.h>
#include <sys/resource.h>

#include <cctype>
#include <cstring>
#include <limits>

#include "config/units.h"

namespace bulkhead::config {
namespace {

constexpr uint64_t kNoBound = std::numeric_limits<uint64_t>::max();

// glibc's RLIMIT_* are an enum in C++ (__rlimit_resource), so cast once here.
constexpr RlimitInfo kRlimits[] = {
    {"as", static_cast<int>(RLIMIT_AS), true, kNoBound, true},
    {"core", static_cast<int>(RLIMIT_CORE), true, kNoBound, true},
    {"cpu", static_cast<int>(RLIMIT_CPU), false, kNoBound, true},
    {"data", static_cast<int>(RLIMIT_DATA), true, kNoBound, true},
    {"fsize", static_cast<int>(RLIMIT_FSIZE), true, kNoBound, true},
    {"locks", static_cast<int>(RLIMIT_LOCKS), false, kNoBound, true},
    {"memlock", static_cast<int>(RLIMIT_MEMLOCK), true, kNoBound, true},
    {"msgqueue", static_cast<int>(RLIMIT_MSGQUEUE), true, kNoBound, true},
    // The kernel's nice ceiling is 20 - rlim_cur, so 40 already allows nice -20.
    {"nice", static_cast<int>(RLIMIT_NICE), false, 40, false},
    // setrlimit refuses a nofile above fs.nr_open, and "unlimited" is always above it.
    {"nofile", static_cast<int>(RLIMIT_NOFILE), false, kNoBound, false},
    {"nproc", static_cast<int>(RLIMIT_NPROC), false, kNoBound, true},
    {"rss", static_cast<int>(RLIMIT_RSS), true, kNoBound, true},
    {"rtprio", static_cast<int>(RLIMIT_RTPRIO), false, 99, false},
    {"rttime", static_cast<int>(RLIMIT_RTTIME), false, kNoBound, true},
    {"sigpending", static_cast<int>(RLIMIT_SIGPENDING), false, kNoBound, true},
    {"stack", static_cast<int>(RLIMIT_STACK), true, kNoBound, true},
};

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) {
    return false;
  }
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) {
      return false;
    }
  }
  return true;
}

}  // namespace

Result<std::string> canonical_capability(std::string_view name) {
  std::string_view bare = iequals_prefix(name, "cap_") ? name.substr(4) : name;
  bool has_letter = false;
  std::string lower = "cap_";
  for (char c : bare) {
    auto u = static_cast<unsigned char>(c);
    if (!std::isalnum(u) && c != '_') {
      return make_error("\"" + std::string(name) + "\" is not a capability name");
    }
    has_letter = has_letter || std::isalpha(u);
    lower += static_cast<char>(std::tolower(u));
  }
  // libcap also accepts plain numbers; a profile must say which capability it means.
  if (!has_letter) {
    return make_error("\"" + std::string(name) + "\" is not a capability name");
  }
  cap_value_t value = 0;
  if (cap_from_name(lower.c_str(), &value) != 0) {
    return make_error("unknown capability \"" + std::string(name) + "\"");
  }
  std::string canonical;
  for (char c : lower) {
    canonical += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return canonical;
}

SyscallKind classify_syscall(std::string_view name) {
  std::string s(name);
  if (s.empty() || s.find('\0') != std::string::npos) {
    return SyscallKind::kUnknown;
  }
  // Resolves against the native architecture. libseccomp returns a negative
  // "pseudo" number for a name it knows only on other ABIs.
  int nr = seccomp_syscall_resolve_name(s.c_str());
  if (nr == __NR_SCMP_ERROR) {
    return SyscallKind::kUnknown;
  }
  return nr >= 0 ? SyscallKind::kNative : SyscallKind::kForeignOnly;
}

Result<int> parse_errno(std::string_view text) {
  if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0]))) {
    auto n = parse_uint(text);
    if (!n.ok()) {
      return n.error();
    }
    if (*n < 1 || *n > 4095) {
      return make_error("errno " + std::string(text) + " is outside 1..4095");
    }
    return static_cast<int>(*n);
  }
  for (int e = 1; e <= 4095; ++e) {
    const char* n = strerrorname_np(e);
    if (n != nullptr && text == n) {
      return e;
    }
  }
  return make_error("unknown errno name \"" + std::string(text) +
                    "\" (use a name such as EPERM, EACCES, ENOSYS, or a number 1..4095)");
}

const RlimitInfo* find_rlimit(std::string_view name) {
  for (const auto& r : kRlimits) {
    if (r.name == name) {
      return &r;
    }
  }
  return nullptr;
}

std::string rlimit_names() {
  std::string out;
  for (const auto& r : kRlimits) {
    if (!out.empty()) {
      out += ", ";
    }
    out += r.name;
  }
  return out;
}

}  // namespace bulkhead::config
