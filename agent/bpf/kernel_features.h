// What BPF can do on the running kernel, found by trying rather than by
// reading version numbers: each program type is loaded for real (a two
// instruction program), BTF-attached types against a real vmlinux BTF target,
// so the verifier's and lockdown's refusals at load are the answer. Takes a few
// tens of milliseconds; run once at start-up and pass the result around.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/result.h"

namespace bulkhead::bpf {

struct KernelFeatures {
  bool btf = false;               // /sys/kernel/btf/vmlinux loads (CO-RE possible)
  bool ring_buffer = false;       // BPF_MAP_TYPE_RINGBUF
  bool tracepoints = false;       // tp/ programs load and tracefs is (now) mounted
  bool tp_btf = false;            // tp_btf/ programs load
  bool fentry = false;            // fentry/fexit programs load
  bool bpf_lsm = false;           // lsm/ programs load and "bpf" is an active LSM
  bool lsm_cgroup = false;        // lsm_cgroup/ programs load and "bpf" is an active LSM
  bool kprobes = false;           // kprobe programs load and the kprobe PMU exists
  bool cgroup_sock_addr = false;  // cgroup/connect4, sendmsg4, bind4, ...
  bool cgroup_skb = false;        // cgroup_skb/ingress, egress
  bool task_iter = false;         // iter/task
  std::string lsm_list;           // /sys/kernel/security/lsm, "" if unreadable
  std::string lockdown;        // selected mode: "none", "integrity", "confidentiality"; "" unknown
  std::string kernel_release;  // uname -r
  // Why a feature is off, keyed by field name: "fentry" -> "refused at load: EPERM".
  std::map<std::string, std::string> why_not;
};

// Fails only when bpf() itself is unusable (not root, no CAP_BPF, no BPF at
// all); a missing feature is a false field with its reason in why_not. Mounts
// securityfs and tracefs if needed (see fs_mounts.h).
Result<KernelFeatures> probe_kernel_features();

// Two lines for the start-up report:
// "bpf: btf yes, tracepoints yes, ..., fentry no (refused at load: EPERM; lockdown=integrity)"
// "bpf: kernel 6.18.44, lsm lockdown,capability,landlock,bpf, lockdown integrity"
std::string describe(const KernelFeatures& features);

namespace detail {
// "none [integrity] confidentiality" -> "integrity".
std::string parse_lockdown(std::string_view text);
// Whether "bpf" is one of the comma-separated names of /sys/kernel/security/lsm.
bool lsm_list_has_bpf(std::string_view lsm_list);
}  // namespace detail

}  // namespace bulkhead::bpf
