#include "net/tenant_policy.h"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "bpf/exec_counter.h"
#include "bpf/fs_mounts.h"
#include "bpf/skeleton.h"
#include "common/log.h"
#include "common/unique_fd.h"
#include "net/deny_event.h"
#include "net/policy_trie.h"
#include "net_policy.skel.h"

namespace bulkhead::net {
namespace {

bool path_exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

Status make_dirs(const std::string& path) {
  std::string partial;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    partial = path.substr(0, pos);
    if (::mkdir(partial.c_str(), 0700) != 0 && errno != EEXIST) {
      return errno_error("creating " + partial);
    }
  }
  return {};
}

// The cgroup2 id a pinned cgroup link is attached to; 0 if it is defunct.
uint64_t link_cgroup_id(int link_fd) {
  bpf_link_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(link_fd, &info, &len) != 0) {
    return 0;
  }
  return info.cgroup.cgroup_id;
}

}  // namespace

const char* hook_name(int hook) {
  static constexpr std::array<const char*, BH_HOOK_COUNT> kNames = {
      "connect4", "connect6",    "sendmsg4",    "sendmsg6",  "bind4",
      "bind6",    "sock_create", "skb_ingress", "skb_egress"};
  return hook >= 0 && hook < BH_HOOK_COUNT ? kNames[hook] : "unknown";
}

struct TenantNetPolicy::Impl {
  TenantPolicyOptions options;
  std::string dir;  // <pin_root>/<tenant>
  bpf::Skeleton<net_policy> skel;
  std::vector<std::pair<std::string, UniqueFd>> links;  // pin path, link fd
  bpf::RingBufferPtr ring;
  bool adopted = false;
  bool complete = false;               // attach() succeeded
  std::vector<std::string> created{};  // pins made by this instance
  // Set during poll_deny_events only.
  const events::EventHandler* handler = nullptr;
  const WorkloadResolver* resolve = nullptr;
  int delivered = 0;

  // The maps that hold state across agents; reused from pins when present.
  std::vector<std::pair<const char*, bpf_map*>> persistent_maps() const {
    return {{"policy", skel->maps.policy},
            {"counters", skel->maps.counters},
            {"deny_events", skel->maps.deny_events},
            {"deny_rate", skel->maps.deny_rate},
            {"talked_out", skel->maps.talked_out}};
  }
  std::vector<bpf_program*> programs() const {
    return {skel->progs.bh_sock_create, skel->progs.bh_bind4,      skel->progs.bh_bind6,
            skel->progs.bh_connect4,    skel->progs.bh_connect6,   skel->progs.bh_sendmsg4,
            skel->progs.bh_sendmsg6,    skel->progs.bh_skb_egress, skel->progs.bh_skb_ingress};
  }

  Status reuse_pinned_maps() {
    for (auto [name, map] : persistent_maps()) {
      std::string path = dir + "/map_" + name;
      if (!path_exists(path)) {
        continue;
      }
      UniqueFd fd(bpf_obj_get(path.c_str()));
      if (!fd) {
        return errno_error("opening pinned map " + path);
      }
      // libbpf reuses any map fd; a pin left by an agent with another map
      // layout would only fail later in the verifier, with a vague EPERM.
      bpf_map_info info{};
      uint32_t len = sizeof(info);
      if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) {
        return errno_error("inspecting pinned map " + path);
      }
      if (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
          info.value_size != bpf_map__value_size(map) ||
          info.max_entries != bpf_map__max_entries(map)) {
        return Error{EINVAL, "pinned map " + path +
                                 " does not match this agent's program (left by another "
                                 "version?); remove " +
                                 dir + " to start the tenant afresh"};
      }
      if (int err = bpf_map__reuse_fd(map, fd.get()); err != 0) {
        return bpf::libbpf_error(err, "reusing pinned map " + path);
      }
      adopted = true;
    }
    return {};
  }

  Status pin_maps() {
    for (auto [name, map] : persistent_maps()) {
      std::string path = dir + "/map_" + name;
      if (path_exists(path)) {
        continue;
      }
      if (int err = bpf_obj_pin(bpf_map__fd(map), path.c_str()); err != 0) {
        return bpf::libbpf_error(err, "pinning " + path);
      }
      created.push_back(path);
    }
    return {};
  }

  Status install(const CompiledPolicy& policy) {
    auto trie = build_policy_trie(policy);
    if (!trie.ok()) {
      return trie.error();
    }
    const uint32_t zero = 0;
    const int inner = trie->get();
    if (int err = bpf_map_update_elem(bpf_map__fd(skel->maps.policy), &zero, &inner, BPF_ANY);
        err != 0) {
      return bpf::libbpf_error(err, "installing the policy trie");
    }
    return {};
  }

  // Takes over a pinned link of a previous agent (same cgroup) or creates and
  // pins a new one. A pinned link of a since recreated cgroup is replaced.
  Status attach_one(bpf_program* prog, int cgroup_fd, uint64_t cgroup_id) {
    const std::string hook = bpf_program__name(prog);
    const std::string path = dir + "/link_" + hook;
    if (path_exists(path)) {
      UniqueFd old(bpf_obj_get(path.c_str()));
      if (old && link_cgroup_id(old.get()) == cgroup_id) {
        if (int err = bpf_link_update(old.get(), bpf_program__fd(prog), nullptr); err != 0) {
          return bpf::libbpf_error(err, "moving pinned link " + path + " to the new program");
        }
        links.emplace_back(path, std::move(old));
        adopted = true;
        return {};
      }
      ::unlink(path.c_str());  // stale: its cgroup is gone
    }
    int fd = bpf_link_create(bpf_program__fd(prog), cgroup_fd,
                             bpf_program__expected_attach_type(prog), nullptr);
    if (fd < 0) {
      return bpf::libbpf_error(fd, "attaching " + hook + " to " + options.cgroup_dir);
    }
    UniqueFd link(fd);
    if (int err = bpf_obj_pin(link.get(), path.c_str()); err != 0) {
      bpf_link_detach(link.get());
      return bpf::libbpf_error(err, "pinning " + path);
    }
    created.push_back(path);
    links.emplace_back(path, std::move(link));
    return {};
  }

  // After a complete attach: everything (the tenant is going away). After a
  // failed one: only what this attempt created, so a failed adoption never
  // takes enforcement away from a previous agent's still-running workloads.
  void remove() {
    auto ours = [this](const std::string& path) {
      return complete || std::find(created.begin(), created.end(), path) != created.end();
    };
    for (auto& [path, fd] : links) {
      if (ours(path)) {
        ::unlink(path.c_str());
        bpf_link_detach(fd.get());
      }
    }
    links.clear();
    if (skel.get() != nullptr) {
      for (auto [name, map] : persistent_maps()) {
        if (std::string path = dir + "/map_" + name; ours(path)) {
          ::unlink(path.c_str());
        }
      }
    }
    ::rmdir(dir.c_str());  // only succeeds when nothing of a previous agent is left
  }
};

Result<std::unique_ptr<TenantNetPolicy>> TenantNetPolicy::attach(const TenantPolicyOptions& options,
                                                                 const CompiledPolicy& policy) {
  const std::string where = "network policy of tenant " + options.tenant;
  if (options.tenant.empty() || options.tenant.find('/') != std::string::npos) {
    return make_error(where + ": bad tenant name");
  }
  if (options.pin_root.rfind("/sys/fs/bpf/", 0) == 0) {
    BULKHEAD_TRY_CTX(bpf::ensure_bpffs(), where);
  }
  auto cgroup_id = bpf::cgroup2_id(options.cgroup_dir);
  if (!cgroup_id.ok()) {
    return cgroup_id.error().context(where);
  }
  UniqueFd cgroup_fd(::open(options.cgroup_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cgroup_fd) {
    return errno_error(where + ": opening " + options.cgroup_dir);
  }
  auto skel = bpf::Skeleton<net_policy>::open();
  if (!skel.ok()) {
    return skel.error().context(where);
  }
  auto impl = std::make_unique<Impl>(Impl{
      options, options.pin_root + "/" + options.tenant, std::move(skel).value(), {}, {}, false});
  impl->skel->rodata->rate_per_sec = options.deny_events_per_sec;
  impl->skel->rodata->rate_burst = options.deny_events_burst;
  std::unique_ptr<TenantNetPolicy> self(new TenantNetPolicy(std::move(impl)));
  Impl& m = *self->impl_;

  BULKHEAD_TRY_CTX(make_dirs(m.dir), where);
  BULKHEAD_TRY_CTX(m.reuse_pinned_maps(), where);
  BULKHEAD_TRY_CTX(m.skel.load(), where);
  // Policy first: a hook attached before it would deny everything, which is
  // safe but would make a half-attached tenant look broken.
  BULKHEAD_TRY_CTX(m.install(policy), where);
  BULKHEAD_TRY_CTX(m.pin_maps(), where);
  for (bpf_program* prog : m.programs()) {
    // On failure the destructor of `self` removes the links made so far.
    BULKHEAD_TRY_CTX(m.attach_one(prog, cgroup_fd.get(), *cgroup_id), where);
  }
  m.ring.reset(ring_buffer__new(
      bpf_map__fd(m.skel->maps.deny_events),
      [](void* ctx, void* data, size_t size) -> int {
        auto* state = static_cast<Impl*>(ctx);
        if (size < sizeof(bh_net_deny_record) || state->handler == nullptr) {
          return 0;
        }
        bh_net_deny_record rec{};
        std::memcpy(&rec, data, sizeof(rec));
        std::string workload =
            (state->resolve != nullptr && *state->resolve) ? (*state->resolve)(rec.cgroup_id) : "";
        (*state->handler)(decode_deny_record(rec, state->options.tenant, workload));
        state->delivered++;
        return 0;
      },
      &m, nullptr));
  if (!m.ring) {
    return errno_error(where + ": opening the deny event ring buffer");
  }
  m.complete = true;
  if (m.adopted) {
    spdlog::info("{}: adopted pinned links and maps from {}", where, m.dir);
  }
  return self;
}

TenantNetPolicy::TenantNetPolicy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TenantNetPolicy::~TenantNetPolicy() { impl_->remove(); }

Status TenantNetPolicy::replace(const CompiledPolicy& policy) { return impl_->install(policy); }

Result<NetCounters> TenantNetPolicy::counters() const {
  int ncpus = libbpf_num_possible_cpus();
  if (ncpus <= 0) {
    return bpf::libbpf_error(ncpus, "counting CPUs");
  }
  std::vector<uint64_t> per_cpu(static_cast<size_t>(ncpus));
  NetCounters out;
  for (uint32_t slot = 0; slot < BH_NET_COUNTER_SLOTS; ++slot) {
    if (int err =
            bpf_map_lookup_elem(bpf_map__fd(impl_->skel->maps.counters), &slot, per_cpu.data());
        err != 0) {
      return bpf::libbpf_error(err, "reading network counters");
    }
    uint64_t sum = 0;
    for (uint64_t v : per_cpu) {
      sum += v;
    }
    HookCounters& h = out.hooks[slot / 2];
    (slot % 2 == 1 ? h.allowed : h.denied) = sum;
  }
  return out;
}

int TenantNetPolicy::deny_events_fd() const { return ring_buffer__epoll_fd(impl_->ring.get()); }

Result<int> TenantNetPolicy::poll_deny_events(const events::EventHandler& handler, int timeout_ms,
                                              const WorkloadResolver& resolve) {
  impl_->handler = &handler;
  impl_->resolve = &resolve;
  impl_->delivered = 0;
  int err = ring_buffer__poll(impl_->ring.get(), timeout_ms);
  impl_->handler = nullptr;
  impl_->resolve = nullptr;
  if (err < 0 && err != -EINTR) {
    return bpf::libbpf_error(err, "polling network deny events");
  }
  return impl_->delivered;
}

bool TenantNetPolicy::adopted() const { return impl_->adopted; }
const std::string& TenantNetPolicy::pin_dir() const { return impl_->dir; }

}  // namespace bulkhead::net
