#include "isolation/rlimits.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstdint>
#include <string>

namespace bulkhead::isolation {
namespace {

rlim_t to_rlim(uint64_t v) noexcept { return v == UINT64_MAX ? RLIM_INFINITY : rlim_t{v}; }

std::string describe(rlim_t v) {
  return v == RLIM_INFINITY ? std::string("unlimited") : std::to_string(v);
}

std::string field(const config::Rlimit& l) {
  return l.name.empty() ? "resource " + std::to_string(l.resource) : l.name;
}

}  // namespace

Status check_rlimits(const std::vector<config::Rlimit>& limits) {
  for (const config::Rlimit& l : limits) {
    if (l.resource < 0 || l.resource >= RLIM_NLIMITS) {
      return make_error(field(l) + ": unknown resource number " + std::to_string(l.resource));
    }
    const rlim_t soft = to_rlim(l.soft);
    const rlim_t hard = to_rlim(l.hard);
    // RLIM_INFINITY is the largest rlim_t, so plain comparisons order it right.
    if (soft > hard) {
      return make_error(field(l) + ": soft limit " + describe(soft) + " is above the hard limit " +
                        describe(hard));
    }
    rlimit own{};
    if (::getrlimit(static_cast<__rlimit_resource_t>(l.resource), &own) != 0) {
      return errno_error(field(l) + ": getrlimit");
    }
    if (hard > own.rlim_max) {
      return make_error(field(l) + ": hard limit " + describe(hard) +
                        " is above the agent's own hard limit " + describe(own.rlim_max) +
                        " (raising a hard limit needs CAP_SYS_RESOURCE in the initial user "
                        "namespace, which a tenant never has); lower it, or raise the agent's "
                        "limit (e.g. LimitNOFILE= in its systemd unit)");
    }
  }
  return {};
}

int apply_rlimits(const std::vector<config::Rlimit>& limits) noexcept {
  for (const config::Rlimit& l : limits) {
    const rlimit r{to_rlim(l.soft), to_rlim(l.hard)};
    if (::setrlimit(static_cast<__rlimit_resource_t>(l.resource), &r) != 0) {
      return -errno;
    }
  }
  return 0;
}

}  // namespace bulkhead::isolation
