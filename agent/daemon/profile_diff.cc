#include "daemon/profile_diff.h"

#include <map>
#include <optional>

namespace bulkhead::daemon {
namespace {

using namespace config;  // NOLINT(google-build-using-namespace): every type below is config's

// The overloads for profile structs are declared first so the templates below
// find them (they are not in an associated namespace of config's types).
bool eq(const IdRange& a, const IdRange& b);
bool eq(const Namespaces& a, const Namespaces& b);
bool eq(const BindMount& a, const BindMount& b);
bool eq(const TmpfsMount& a, const TmpfsMount& b);
bool eq(const Symlink& a, const Symlink& b);
bool eq(const DataDir& a, const DataDir& b);
bool eq(const FilesystemView& a, const FilesystemView& b);
bool eq(const Rlimit& a, const Rlimit& b);
bool eq(const ProcessSpec& a, const ProcessSpec& b);
bool eq(const LandlockSpec& a, const LandlockSpec& b);
bool eq(const SeccompSpec& a, const SeccompSpec& b);
bool eq(const CpuLimit& a, const CpuLimit& b);
bool eq(const Limits& a, const Limits& b);
bool eq(const WorkloadSpec& a, const WorkloadSpec& b);

// Scalars, strings, enums and maps of strings.
template <typename T>
bool eq(const T& a, const T& b) {
  return a == b;
}

template <typename T>
bool eq(const std::optional<T>& a, const std::optional<T>& b) {
  if (a.has_value() != b.has_value()) {
    return false;
  }
  return !a.has_value() || eq(*a, *b);
}

template <typename T>
bool eq(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    if (!eq(a[i], b[i])) {
      return false;
    }
  }
  return true;
}

bool eq(const IdRange& a, const IdRange& b) {
  const auto& [base1, count1] = a;
  const auto& [base2, count2] = b;
  return eq(base1, base2) && eq(count1, count2);
}

bool eq(const Namespaces& a, const Namespaces& b) {
  const auto& [user1, pid1, mount1, net1, uts1, ipc1, cgroup1] = a;
  const auto& [user2, pid2, mount2, net2, uts2, ipc2, cgroup2] = b;
  return eq(user1, user2) && eq(pid1, pid2) && eq(mount1, mount2) && eq(net1, net2) &&
         eq(uts1, uts2) && eq(ipc1, ipc2) && eq(cgroup1, cgroup2);
}

bool eq(const BindMount& a, const BindMount& b) {
  const auto& [source1, target1, ro1, optional1] = a;
  const auto& [source2, target2, ro2, optional2] = b;
  return eq(source1, source2) && eq(target1, target2) && eq(ro1, ro2) && eq(optional1, optional2);
}

bool eq(const TmpfsMount& a, const TmpfsMount& b) {
  const auto& [target1, size1, mode1] = a;
  const auto& [target2, size2, mode2] = b;
  return eq(target1, target2) && eq(size1, size2) && eq(mode1, mode2);
}

bool eq(const Symlink& a, const Symlink& b) {
  const auto& [target1, path1] = a;
  const auto& [target2, path2] = b;
  return eq(target1, target2) && eq(path1, path2);
}

bool eq(const DataDir& a, const DataDir& b) {
  const auto& [host1, target1] = a;
  const auto& [host2, target2] = b;
  return eq(host1, host2) && eq(target1, target2);
}

bool eq(const FilesystemView& a, const FilesystemView& b) {
  const auto& [binds1, tmpfs1, symlinks1, data1] = a;
  const auto& [binds2, tmpfs2, symlinks2, data2] = b;
  return eq(binds1, binds2) && eq(tmpfs1, tmpfs2) && eq(symlinks1, symlinks2) && eq(data1, data2);
}

bool eq(const Rlimit& a, const Rlimit& b) {
  const auto& [name1, resource1, soft1, hard1] = a;
  const auto& [name2, resource2, soft2, hard2] = b;
  return eq(name1, name2) && eq(resource1, resource2) && eq(soft1, soft2) && eq(hard1, hard2);
}

bool eq(const ProcessSpec& a, const ProcessSpec& b) {
  const auto& [env1, cwd1, uid1, gid1, caps1, rlimits1] = a;
  const auto& [env2, cwd2, uid2, gid2, caps2, rlimits2] = b;
  return eq(env1, env2) && eq(cwd1, cwd2) && eq(uid1, uid2) && eq(gid1, gid2) && eq(caps1, caps2) &&
         eq(rlimits1, rlimits2);
}

bool eq(const LandlockSpec& a, const LandlockSpec& b) {
  const auto& [enabled1, ro1, rw1] = a;
  const auto& [enabled2, ro2, rw2] = b;
  return eq(enabled1, enabled2) && eq(ro1, ro2) && eq(rw1, rw2);
}

bool eq(const SeccompSpec& a, const SeccompSpec& b) {
  const auto& [base1, allow1, deny1, action1, errno1, foreign1] = a;
  const auto& [base2, allow2, deny2, action2, errno2, foreign2] = b;
  return eq(base1, base2) && eq(allow1, allow2) && eq(deny1, deny2) && eq(action1, action2) &&
         eq(errno1, errno2) && eq(foreign1, foreign2);
}

bool eq(const CpuLimit& a, const CpuLimit& b) {
  const auto& [quota1, period1, weight1] = a;
  const auto& [quota2, period2, weight2] = b;
  return eq(quota1, quota2) && eq(period1, period2) && eq(weight1, weight2);
}

bool eq(const Limits& a, const Limits& b) {
  const auto& [mem_max1, mem_high1, swap1, pids1, cpu1, io1, devices1] = a;
  const auto& [mem_max2, mem_high2, swap2, pids2, cpu2, io2, devices2] = b;
  return eq(mem_max1, mem_max2) && eq(mem_high1, mem_high2) && eq(swap1, swap2) &&
         eq(pids1, pids2) && eq(cpu1, cpu2) && eq(io1, io2) && eq(devices1, devices2);
}

// What a run of the workload is: a change here needs a restart.
bool same_run(const WorkloadSpec& a, const WorkloadSpec& b) {
  const auto& [name1, command1, env1, cwd1, policy1, limit1, backoff1] = a;
  const auto& [name2, command2, env2, cwd2, policy2, limit2, backoff2] = b;
  (void)policy1, (void)limit1, (void)backoff1, (void)policy2, (void)limit2, (void)backoff2;
  return eq(name1, name2) && eq(command1, command2) && eq(env1, env2) && eq(cwd1, cwd2);
}

bool eq(const WorkloadSpec& a, const WorkloadSpec& b) {
  return same_run(a, b) && a.restart == b.restart && a.restart_limit == b.restart_limit &&
         a.restart_backoff_ms == b.restart_backoff_ms;
}

// The mode decides the tenant's namespaces and links, and the socket families
// are compiled into its seccomp filter, so both need the tenant recreated. The
// allow rules live in eBPF maps that could be updated in place, but until that
// path exists a rule change also recreates the tenant rather than being ignored.
void diff_network(const NetworkSpec& a, const NetworkSpec& b, std::vector<std::string>& recreate) {
  const auto& [mode1, egress1, ingress1, families1, raw1] = a;
  const auto& [mode2, egress2, ingress2, families2, raw2] = b;
  if (mode1 != mode2) {
    recreate.emplace_back("network.mode");
  }
  // egress and ingress are compared by the caller: applied in place.
  (void)egress1, (void)egress2, (void)ingress1, (void)ingress2;
  if (families1 != families2 || raw1 != raw2) {
    recreate.emplace_back("network.socket_families");
  }
}

std::string join(const std::vector<std::string>& v, const char* prefix) {
  std::string out;
  for (const auto& s : v) {
    out += (out.empty() ? "" : " ") + std::string(prefix) + s;
  }
  return out;
}

}  // namespace

WorkloadChanges diff_workloads(const std::vector<WorkloadSpec>& running,
                               const std::vector<WorkloadSpec>& wanted) {
  // By name: reordering the list is no change.
  std::map<std::string, const WorkloadSpec*> old_by_name;
  for (const auto& w : running) {
    old_by_name[w.name] = &w;
  }
  WorkloadChanges out;
  std::map<std::string, bool> seen;
  for (const auto& w : wanted) {
    seen[w.name] = true;
    auto it = old_by_name.find(w.name);
    if (it == old_by_name.end()) {
      out.added.push_back(w.name);
    } else if (!same_run(*it->second, w)) {
      out.replaced.push_back(w.name);
    } else if (!eq(*it->second, w)) {
      out.restart_only.push_back(w.name);
    }
  }
  for (const auto& w : running) {
    if (seen.count(w.name) == 0) {
      out.removed.push_back(w.name);
    }
  }
  return out;
}

ProfileDiff diff_profiles(const Profile& running, const Profile& wanted) {
  const auto& [file1, name1, ids1, hostname1, ns1, fs1, process1, landlock1, seccomp1, limits1,
               network1, workloads1, events1] = running;
  const auto& [file2, name2, ids2, hostname2, ns2, fs2, process2, landlock2, seccomp2, limits2,
               network2, workloads2, events2] = wanted;
  // The file is a label; the name is the key the caller matched on.
  (void)file1, (void)file2, (void)name1, (void)name2;
  ProfileDiff d;
  auto check = [&d](bool same, const char* field) {
    if (!same) {
      d.recreate.emplace_back(field);
    }
  };
  check(eq(ids1, ids2), "ids");
  check(eq(hostname1, hostname2), "hostname");
  check(eq(ns1, ns2), "namespaces");
  check(eq(fs1, fs2), "filesystem");
  check(eq(process1, process2), "process");
  check(eq(landlock1, landlock2), "landlock");
  check(eq(seccomp1, seccomp2), "seccomp");
  // Mode and socket families are built into the tenant's netns and its
  // workloads' seccomp filters: recreate. The rules are map contents of the
  // tenant's eBPF policy: swapped in place, atomically.
  diff_network(network1, network2, d.recreate);
  d.network_policy = network1.mode == network2.mode &&
                     (network1.egress != network2.egress || network1.ingress != network2.ingress);
  // The event filter is set when the tenant is tracked, at creation.
  check(events1 == events2, "events");
  d.limits = !eq(limits1, limits2);
  d.workloads = diff_workloads(workloads1, workloads2);
  return d;
}

bool same_limits(const Limits& a, const Limits& b) { return eq(a, b); }

bool same_profile(const Profile& a, const Profile& b) {
  return a.name == b.name && !diff_profiles(a, b).any();
}

std::string ProfileDiff::to_string() const {
  std::vector<std::string> parts;
  if (limits) {
    parts.emplace_back("limits");
  }
  if (network_policy) {
    parts.emplace_back("network policy");
  }
  if (!workloads.empty()) {
    std::string w = join(workloads.added, "+");
    for (const auto& s : {join(workloads.removed, "-"), join(workloads.replaced, "~"),
                          join(workloads.restart_only, "restart:")}) {
      if (!s.empty()) {
        w += (w.empty() ? "" : " ") + s;
      }
    }
    parts.push_back("workloads (" + w + ")");
  }
  if (needs_recreate()) {
    std::string fields;
    for (const auto& f : recreate) {
      fields += (fields.empty() ? "" : ", ") + f;
    }
    parts.push_back("recreate (" + fields + ")");
  }
  if (parts.empty()) {
    return "unchanged";
  }
  std::string out;
  for (const auto& p : parts) {
    out += (out.empty() ? "" : ", ") + p;
  }
  return out;
}

}  // namespace bulkhead::daemon
