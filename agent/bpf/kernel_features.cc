#include "bpf/kernel_features.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <spdlog/spdlog.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <optional>

#include "bpf/fs_mounts.h"
#include "common/file_util.h"
#include "common/unique_fd.h"

namespace bulkhead::bpf {
namespace {

struct BtfDeleter {
  void operator()(btf* b) const { btf__free(b); }
};
using BtfPtr = std::unique_ptr<btf, BtfDeleter>;

std::string errno_name(int err) {
  const char* name = ::strerrorname_np(err);
  return name != nullptr ? name : std::to_string(err);
}

// Loads "r0 = ret; exit" as the given type; 0 on success, else -errno.
int try_load(bpf_prog_type type, bpf_attach_type attach, __u32 attach_btf_id, int ret) {
  const bpf_insn insns[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, ret},
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  bpf_prog_load_opts opts{};
  opts.sz = sizeof(opts);
  opts.expected_attach_type = attach;
  opts.attach_btf_id = attach_btf_id;
  UniqueFd fd(bpf_prog_load(type, "bulkhead_probe", "GPL", insns, 2, &opts));
  if (!fd) {
    return fd.get() < 0 ? fd.get() : -EINVAL;
  }
  return 0;
}

// Outcome of one BTF-attached probe: yes, or the reason it is off.
struct Probe {
  bool ok = false;
  std::string why;
};

// Loads a program of a BTF-attached type against the first of `targets` that
// vmlinux BTF has (functions for fentry/lsm/iter, typedefs for tp_btf).
Probe probe_btf_attached(const btf* vmlinux, bpf_prog_type type, bpf_attach_type attach,
                         std::initializer_list<const char*> targets, __u32 kind, int ret,
                         const std::string& lockdown) {
  if (vmlinux == nullptr) {
    return {false, "no vmlinux BTF"};
  }
  std::optional<__u32> id;
  for (const char* target : targets) {
    int found = btf__find_by_name_kind(vmlinux, target, kind);
    if (found > 0) {
      id = static_cast<__u32>(found);
      break;
    }
  }
  if (!id) {
    return {false, std::string("no ") + *targets.begin() + " in vmlinux BTF"};
  }
  int err = try_load(type, attach, *id, ret);
  if (err == 0) {
    return {true, ""};
  }
  std::string why = "refused at load: " + errno_name(-err);
  if (err == -EPERM && !lockdown.empty() && lockdown != "none") {
    why += "; lockdown=" + lockdown;
  }
  return {false, why};
}

// Program types that need no expected_attach_type.
constexpr auto kNoAttachType = static_cast<bpf_attach_type>(0);

bool prog_type_loads(bpf_prog_type type) { return libbpf_probe_bpf_prog_type(type, nullptr) == 1; }

void set(KernelFeatures& f, bool KernelFeatures::*field, const char* name, bool ok,
         std::string why) {
  f.*field = ok;
  if (!ok) {
    f.why_not[name] = std::move(why);
  }
}

}  // namespace

Result<KernelFeatures> probe_kernel_features() {
  const auto start = std::chrono::steady_clock::now();
  KernelFeatures f;

  utsname uts{};
  if (::uname(&uts) == 0) {
    f.kernel_release = uts.release;
  }

  // Baseline: if the simplest program cannot load, bpf() itself is refused and
  // every other answer would be a false "no".
  if (int err = try_load(BPF_PROG_TYPE_SOCKET_FILTER, kNoAttachType, 0, 0); err != 0) {
    return Error{-err,
                 "probing kernel features: bpf() refused a trivial socket filter" +
                     std::string(err == -EPERM ? " (needs root, or CAP_BPF + CAP_PERFMON)" : "")};
  }

  if (auto sec = ensure_securityfs(); sec.ok()) {
    if (auto lsm = read_file("/sys/kernel/security/lsm"); lsm.ok()) {
      f.lsm_list = trim(*lsm);
    }
    if (auto lockdown = read_file("/sys/kernel/security/lockdown"); lockdown.ok()) {
      f.lockdown = detail::parse_lockdown(*lockdown);
    }
  } else {
    spdlog::debug("bpf probe: securityfs unavailable: {}", sec.error().to_string());
  }

  BtfPtr vmlinux(btf__load_vmlinux_btf());
  const int btf_err = errno;
  set(f, &KernelFeatures::btf, "btf", vmlinux != nullptr, "no vmlinux BTF: " + errno_name(btf_err));

  set(f, &KernelFeatures::ring_buffer, "ring_buffer",
      libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, nullptr) == 1, "map type refused");

  if (!prog_type_loads(BPF_PROG_TYPE_TRACEPOINT)) {
    set(f, &KernelFeatures::tracepoints, "tracepoints", false, "program type refused");
  } else if (auto tracefs = ensure_tracefs(); !tracefs.ok()) {
    set(f, &KernelFeatures::tracepoints, "tracepoints", false, tracefs.error().to_string());
  } else {
    f.tracepoints = true;
  }

  // Kprobe programs load wherever perf events are built; attaching needs the
  // kprobe PMU, absent without CONFIG_KPROBE_EVENTS.
  if (!prog_type_loads(BPF_PROG_TYPE_KPROBE)) {
    set(f, &KernelFeatures::kprobes, "kprobes", false, "program type refused");
  } else {
    set(f, &KernelFeatures::kprobes, "kprobes",
        ::access("/sys/bus/event_source/devices/kprobe/type", R_OK) == 0,
        "no kprobe PMU: kernel built without CONFIG_KPROBE_EVENTS");
  }

  set(f, &KernelFeatures::cgroup_sock_addr, "cgroup_sock_addr",
      prog_type_loads(BPF_PROG_TYPE_CGROUP_SOCK_ADDR), "program type refused");
  set(f, &KernelFeatures::cgroup_skb, "cgroup_skb", prog_type_loads(BPF_PROG_TYPE_CGROUP_SKB),
      "program type refused");

  const btf* v = vmlinux.get();
  auto tp_btf =
      probe_btf_attached(v, BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP,
                         {"btf_trace_sched_process_exec"}, BTF_KIND_TYPEDEF, 0, f.lockdown);
  set(f, &KernelFeatures::tp_btf, "tp_btf", tp_btf.ok, tp_btf.why);

  auto fentry = probe_btf_attached(v, BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY,
                                   {"bpf_fentry_test1", "do_unlinkat", "vfs_read"}, BTF_KIND_FUNC,
                                   0, f.lockdown);
  set(f, &KernelFeatures::fentry, "fentry", fentry.ok, fentry.why);

  auto iter = probe_btf_attached(v, BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, {"bpf_iter_task"},
                                 BTF_KIND_FUNC, 0, f.lockdown);
  set(f, &KernelFeatures::task_iter, "task_iter", iter.ok, iter.why);

  // An LSM program loads even when the bpf LSM is not active, but then it never
  // runs: both are needed. An unreadable lsm list trusts the load alone.
  const bool bpf_lsm_active = f.lsm_list.empty() || detail::lsm_list_has_bpf(f.lsm_list);
  const std::string inactive = "bpf is not an active LSM (lsm=" + f.lsm_list + ")";
  auto lsm = probe_btf_attached(v, BPF_PROG_TYPE_LSM, BPF_LSM_MAC, {"bpf_lsm_file_open"},
                                BTF_KIND_FUNC, 0, f.lockdown);
  set(f, &KernelFeatures::bpf_lsm, "bpf_lsm", lsm.ok && bpf_lsm_active,
      lsm.ok ? inactive : lsm.why);
  // lsm_cgroup programs may only return 0 (deny) or 1 (allow).
  auto lsm_cgroup = probe_btf_attached(v, BPF_PROG_TYPE_LSM, BPF_LSM_CGROUP,
                                       {"bpf_lsm_socket_bind"}, BTF_KIND_FUNC, 1, f.lockdown);
  set(f, &KernelFeatures::lsm_cgroup, "lsm_cgroup", lsm_cgroup.ok && bpf_lsm_active,
      lsm_cgroup.ok ? inactive : lsm_cgroup.why);

  spdlog::debug("bpf probe: {} us", std::chrono::duration_cast<std::chrono::microseconds>(
                                        std::chrono::steady_clock::now() - start)
                                        .count());
  return f;
}

std::string describe(const KernelFeatures& f) {
  struct Item {
    const char* label;
    const char* key;
    bool value;
  };
  const Item items[] = {
      {"btf", "btf", f.btf},
      {"ring buffer", "ring_buffer", f.ring_buffer},
      {"tracepoints", "tracepoints", f.tracepoints},
      {"tp_btf", "tp_btf", f.tp_btf},
      {"cgroup sock_addr", "cgroup_sock_addr", f.cgroup_sock_addr},
      {"cgroup_skb", "cgroup_skb", f.cgroup_skb},
      {"task iter", "task_iter", f.task_iter},
      {"fentry", "fentry", f.fentry},
      {"bpf-lsm", "bpf_lsm", f.bpf_lsm},
      {"lsm_cgroup", "lsm_cgroup", f.lsm_cgroup},
      {"kprobes", "kprobes", f.kprobes},
  };
  std::string out = "bpf:";
  const char* sep = " ";
  for (const auto& item : items) {
    out += sep;
    sep = ", ";
    out += item.label;
    out += item.value ? " yes" : " no";
    if (auto it = f.why_not.find(item.key); !item.value && it != f.why_not.end()) {
      out += " (" + it->second + ")";
    }
  }
  auto or_unknown = [](const std::string& s) { return s.empty() ? std::string("?") : s; };
  out += "\nbpf: kernel " + or_unknown(f.kernel_release) + ", lsm " + or_unknown(f.lsm_list) +
         ", lockdown " + or_unknown(f.lockdown);
  return out;
}

namespace detail {

std::string parse_lockdown(std::string_view text) {
  auto open = text.find('[');
  auto close = text.find(']', open == std::string_view::npos ? 0 : open);
  if (open != std::string_view::npos && close != std::string_view::npos) {
    return std::string(text.substr(open + 1, close - open - 1));
  }
  return trim(std::string(text));
}

bool lsm_list_has_bpf(std::string_view lsm_list) {
  size_t pos = 0;
  while (pos <= lsm_list.size()) {
    size_t end = lsm_list.find(',', pos);
    if (end == std::string_view::npos) {
      end = lsm_list.size();
    }
    auto name = lsm_list.substr(pos, end - pos);
    while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) {
      name.remove_suffix(1);
    }
    if (name == "bpf") {
      return true;
    }
    pos = end + 1;
  }
  return false;
}

}  // namespace detail
}  // namespace bulkhead::bpf
