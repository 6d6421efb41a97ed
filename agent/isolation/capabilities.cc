#include "isolation/capabilities.h"

#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/capability.h>  // libcap, for cap_from_name in the plan only
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>

#include "common/file_util.h"

namespace bulkhead::isolation {
namespace {

constexpr uint64_t bit(int cap) { return uint64_t{1} << cap; }

// capget/capset with the 64-bit (version 3) layout: two 32-bit words per set.
struct CapSets {
  uint64_t effective = 0;
  uint64_t permitted = 0;
  uint64_t inheritable = 0;
};

int cap_get(CapSets* sets) noexcept {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) != 0) {
    return -errno;
  }
  sets->effective = uint64_t{data[0].effective} | (uint64_t{data[1].effective} << 32);
  sets->permitted = uint64_t{data[0].permitted} | (uint64_t{data[1].permitted} << 32);
  sets->inheritable = uint64_t{data[0].inheritable} | (uint64_t{data[1].inheritable} << 32);
  return 0;
}

int cap_set(const CapSets& sets) noexcept {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; ++i) {
    const int shift = 32 * i;
    data[i].effective = static_cast<uint32_t>(sets.effective >> shift);
    data[i].permitted = static_cast<uint32_t>(sets.permitted >> shift);
    data[i].inheritable = static_cast<uint32_t>(sets.inheritable >> shift);
  }
  if (::syscall(SYS_capset, &header, data) != 0) {
    return -errno;
  }
  return 0;
}

int prctl_or_errno(int option, unsigned long a2, unsigned long a3 = 0, unsigned long a4 = 0,
                   unsigned long a5 = 0) noexcept {
  if (::prctl(option, a2, a3, a4, a5) != 0) {
    return -errno;
  }
  return 0;
}

Result<int> read_last_cap() {
  constexpr const char* kPath = "/proc/sys/kernel/cap_last_cap";
  auto text = read_file(kPath);
  if (!text.ok()) {
    return text.error();
  }
  const std::string s = trim(*text);
  int value = -1;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) {
    return make_error(std::string(kPath) + ": not a number: '" + s + "'");
  }
  return value;
}

}  // namespace

// Decisions, for a workload that may run as uid 0 of its user namespace:
//  - SECBIT_NOROOT: uid 0 no longer gets the full bounding set at execve. Its
//    capabilities then come only from the ambient set (and file capabilities,
//    which NO_NEW_PRIVS neutralises), exactly like any other uid, so "keep" means
//    the same for root and non-root workloads. The bounding set drop already
//    limits root to `keep`; NOROOT is the second, independent layer.
//  - SECBIT_NO_SETUID_FIXUP is NOT set: with the fixup, a kept capability is
//    lost (permitted, effective and ambient) when a root workload switches to
//    a non-zero uid, which is what daemons that drop privileges expect. Setting
//    it would let capabilities survive a uid switch.
//  - SECBIT_KEEP_CAPS is cleared (it is only needed for the launcher's own
//    setresuid) for the same reason.
//  - SECBIT_NO_CAP_AMBIENT_RAISE is NOT set: the ambient set can only ever hold
//    capabilities that are both permitted and inheritable, i.e. kept ones, and an
//    init or supervisor inside the tenant may need to pass a kept capability on
//    to its services through the ambient set.
//  - Every *_LOCKED bit is set, so the choices above are final for the workload
//    and all its descendants, even if it keeps CAP_SETPCAP.
uint32_t hardened_securebits() {
  return SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |
         SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
}

int capability_from_name(const std::string& name) {
  // Canonical names only: libcap would also take lower case and bare numbers.
  if (name.rfind("CAP_", 0) != 0) {
    return -1;
  }
  cap_value_t value = 0;
  if (cap_from_name(name.c_str(), &value) != 0 || value < 0 || value > 63) {
    return -1;
  }
  return static_cast<int>(value);
}

Result<CapabilityPlan> plan_capabilities(const std::vector<std::string>& names) {
  auto last_cap = read_last_cap();
  if (!last_cap.ok()) {
    return last_cap.error().context("reading the kernel's last capability");
  }
  return plan_capabilities(names, *last_cap);
}

Result<CapabilityPlan> plan_capabilities(const std::vector<std::string>& names, int last_cap) {
  if (last_cap < 0 || last_cap > 63) {
    return make_error("cap_last_cap " + std::to_string(last_cap) + " is out of range 0..63");
  }
  CapabilityPlan plan;
  plan.last_cap = last_cap;
  for (const std::string& name : names) {
    const int cap = capability_from_name(name);
    if (cap < 0) {
      return make_error("unknown capability '" + name +
                        "' (expected a canonical name such as CAP_NET_BIND_SERVICE)");
    }
    if (cap > last_cap) {
      return make_error(name + " is not supported by this kernel (cap_last_cap is " +
                        std::to_string(last_cap) + ")");
    }
    plan.keep |= bit(cap);
  }
  return plan;
}

int apply_capabilities(const CapabilityPlan& plan) noexcept {
  if (plan.last_cap < 0 || plan.last_cap > 63) {
    return -EINVAL;
  }
  const uint64_t all = plan.last_cap == 63 ? ~uint64_t{0} : bit(plan.last_cap + 1) - 1;
  const uint64_t keep = plan.keep & all;

  CapSets current;
  if (int rc = cap_get(&current); rc != 0) {
    return rc;
  }
  // Everything kept must still be permitted, and CAP_SETPCAP is needed for the
  // bounding set and the securebits below. Fail closed instead of half applying.
  if ((keep & ~current.permitted) != 0 || (current.permitted & bit(CAP_SETPCAP)) == 0) {
    return -EPERM;
  }
  // A setresuid away from uid 0 cleared the effective set even with KEEPCAPS:
  // raise it to the permitted set for the duration of this function.
  current.effective = current.permitted;
  if (int rc = cap_set(current); rc != 0) {
    return rc;
  }

  // Bounding set: nothing outside `keep` can come back through execve of a
  // file with capabilities or through uid 0.
  for (int cap = 0; cap <= plan.last_cap; ++cap) {
    if ((keep & bit(cap)) == 0) {
      if (int rc = prctl_or_errno(PR_CAPBSET_DROP, static_cast<unsigned long>(cap)); rc != 0) {
        return rc;
      }
    }
  }

  // Securebits need CAP_SETPCAP, so before the capset below drops it.
  if (int rc = prctl_or_errno(PR_SET_SECUREBITS, hardened_securebits()); rc != 0) {
    return rc;
  }

  // permitted = effective = inheritable = keep. Inheritable is needed for the
  // ambient raise; lowering permitted also drops anything else from ambient.
  if (int rc = cap_set(CapSets{keep, keep, keep}); rc != 0) {
    return rc;
  }

  // Ambient: exactly `keep`, so the kept capabilities survive execve for a
  // non-root uid (and, with SECBIT_NOROOT, for uid 0 too).
  if (int rc = prctl_or_errno(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL); rc != 0) {
    return rc;
  }
  for (int cap = 0; cap <= plan.last_cap; ++cap) {
    if ((keep & bit(cap)) != 0) {
      if (int rc =
              prctl_or_errno(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, static_cast<unsigned long>(cap));
          rc != 0) {
        return rc;
      }
    }
  }
  return 0;
}

int retain_capabilities_across_setuid() noexcept { return prctl_or_errno(PR_SET_KEEPCAPS, 1); }

}  // namespace bulkhead::isolation
