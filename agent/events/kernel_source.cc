#include "events/kernel_source.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/magic.h>
#include <sys/epoll.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "bpf/exec_counter.h"
#include "bpf/skeleton.h"
#include "common/log.h"
#include "common/unique_fd.h"
#include "events.h"
#include "events/record_decoder.h"
#include "kernel_events.skel.h"

namespace bulkhead::events {
namespace {

using bpf::RingBufferPtr;

int64_t clock_ns(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

bool is_cgroup2(const std::string& dir) {
  struct statfs sfs {};
  return ::statfs(dir.c_str(), &sfs) == 0 &&
         static_cast<unsigned long>(sfs.f_type) == CGROUP2_SUPER_MAGIC;
}

// The two LPM keys of one sensitive prefix: "P\0" (exactly P) and "P/" (below P).
std::vector<bh_sensitive_key> sensitive_keys(uint32_t slot, const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') {
    p.pop_back();
  }
  std::vector<std::string> forms;
  if (p == "/") {
    forms = {"/"};
  } else {
    forms = {p + std::string(1, '\0'), p + "/"};
  }
  std::vector<bh_sensitive_key> keys;
  for (const auto& form : forms) {
    bh_sensitive_key key{};
    key.data[0] = static_cast<__u8>(slot >> 24);
    key.data[1] = static_cast<__u8>(slot >> 16);
    key.data[2] = static_cast<__u8>(slot >> 8);
    key.data[3] = static_cast<__u8>(slot);
    std::memcpy(key.data + 4, form.data(), form.size());
    key.prefixlen = static_cast<__u32>((4 + form.size()) * 8);
    keys.push_back(key);
  }
  return keys;
}

}  // namespace

Result<int> cgroup2_level(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path p = fs::canonical(dir, ec);
  if (ec) {
    return Error{ec.value(), "cgroup level of " + dir};
  }
  if (!is_cgroup2(p.string())) {
    return Error{EINVAL, "cgroup level of " + dir + ": not a cgroup2 directory"};
  }
  int level = 0;
  while (p.has_parent_path() && p.parent_path() != p && is_cgroup2(p.parent_path().string())) {
    p = p.parent_path();
    ++level;
  }
  return level;
}

struct KernelEventSource::Impl {
  bpf::Skeleton<kernel_events> skel;
  EventHandler handler;
  ProcessTable processes;
  RecordDecoder decoder{processes};
  RingBufferPtr ring;
  // What fd() returns: the ring buffer's epoll fd and the batching timer.
  UniqueFd epoll;
  // Reads silently committed records while they keep coming (see rearm_timer).
  UniqueFd timer;
  bool timer_armed = false;
  uint32_t wakeup_interval_ms = 0;
  int records = 0;  // records read (not drop reports) by the current read
  int tenant_level = -1;
  struct Tracked {
    uint64_t cgroup_id;
    uint32_t slot;
    std::vector<bh_sensitive_key> keys;
    bool wants_reads;
  };
  std::map<std::string, Tracked> tenants;
  uint32_t next_slot = 1;
  int delivered = 0;
  uint64_t* malformed = nullptr;

  explicit Impl(bpf::Skeleton<kernel_events> s) : skel(std::move(s)) {}

  static int on_record(void* ctx, void* data, size_t size) {
    auto* self = static_cast<Impl*>(ctx);
    ++self->records;
    auto event = self->decoder.decode(data, size);
    if (!event.ok()) {
      ++*self->malformed;
      spdlog::warn("kernel events: {}", event.error().to_string());
      return 0;
    }
    ++self->delivered;
    self->handler(std::move(event).value());
    return 0;
  }
};

Result<std::unique_ptr<KernelEventSource>> KernelEventSource::create(
    const KernelSourceOptions& options, EventHandler handler) {
  const uint32_t page = static_cast<uint32_t>(::sysconf(_SC_PAGESIZE));
  if (options.ring_bytes < page || (options.ring_bytes & (options.ring_bytes - 1)) != 0) {
    return Error{EINVAL, "kernel events: ring buffer size " + std::to_string(options.ring_bytes) +
                             " is not a power of two of at least " + std::to_string(page)};
  }
  if (options.wakeup_interval_ms > kMaxWakeupIntervalMs) {
    return Error{EINVAL, "kernel events: wakeup interval " +
                             std::to_string(options.wakeup_interval_ms) + " ms is above " +
                             std::to_string(kMaxWakeupIntervalMs) +
                             " ms: events must reach the reader within a second"};
  }
  auto skel = bpf::Skeleton<kernel_events>::create([&](bpf::Skeleton<kernel_events>& s) -> Status {
    s->rodata->host_wide = options.host_wide;
    s->rodata->wakeup_interval_ns = uint64_t{options.wakeup_interval_ms} * 1000000;
    s->rodata->wakeup_bytes = options.ring_bytes / 4;
    if (int err = bpf_map__set_max_entries(s->maps.events, options.ring_bytes); err != 0) {
      return bpf::libbpf_error(err, "sizing the ring buffer");
    }
    return {};
  });
  if (!skel.ok()) {
    return skel.error().context(
        "kernel events: the tracepoint programs cannot be loaded and attached");
  }
  auto impl = std::make_unique<Impl>(std::move(skel).value());
  impl->handler = std::move(handler);
  if (options.seed_processes) {
    BULKHEAD_TRY_CTX(impl->processes.seed_from_proc(), "kernel events");
  }
  std::unique_ptr<KernelEventSource> source(new KernelEventSource(std::move(impl)));
  Impl& i = *source->impl_;
  i.malformed = &source->malformed_;
  i.decoder.set_clock_offset(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME));
  i.ring.reset(ring_buffer__new(bpf_map__fd(i.skel->maps.events), &Impl::on_record, &i, nullptr));
  if (!i.ring) {
    return errno_error("kernel events: opening the ring buffer");
  }
  i.wakeup_interval_ms = options.wakeup_interval_ms;
  i.epoll.reset(::epoll_create1(EPOLL_CLOEXEC));
  i.timer.reset(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
  if (!i.epoll || !i.timer) {
    return errno_error("kernel events: creating the reader's epoll and timer fds");
  }
  for (int fd : {ring_buffer__epoll_fd(i.ring.get()), i.timer.get()}) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(i.epoll.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
      return errno_error("kernel events: watching the ring buffer");
    }
  }
  return source;
}

KernelEventSource::KernelEventSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KernelEventSource::~KernelEventSource() = default;

int KernelEventSource::fd() const { return impl_->epoll.get(); }
ProcessTable& KernelEventSource::processes() { return impl_->processes; }

Status KernelEventSource::track_tenant(const TenantTracking& tenant) {
  Impl& i = *impl_;
  const std::string what = "kernel events: tracking tenant " + tenant.name;
  if (i.tenants.count(tenant.name) != 0) {
    return Error{EEXIST, what + ": already tracked"};
  }
  auto id = bpf::cgroup2_id(tenant.cgroup2_dir);
  if (!id.ok()) {
    return id.error().context(what);
  }
  auto level = cgroup2_level(tenant.cgroup2_dir);
  if (!level.ok()) {
    return level.error().context(what);
  }
  if (*level == 0) {
    return Error{EINVAL, what + ": " + tenant.cgroup2_dir + " is the cgroup2 root"};
  }
  if (i.tenant_level >= 0 && *level != i.tenant_level) {
    return Error{EINVAL, what + ": " + tenant.cgroup2_dir + " is at cgroup level " +
                             std::to_string(*level) + ", other tenants at " +
                             std::to_string(i.tenant_level)};
  }
  if (i.tenants.size() >= BH_MAX_TENANTS - 1) {
    return Error{E2BIG, what + ": all " + std::to_string(BH_MAX_TENANTS - 1) + " slots in use"};
  }
  Impl::Tracked tracked{*id, i.next_slot, {}, false};
  for (const auto& path : tenant.sensitive_paths) {
    if (path.empty() || path[0] != '/') {
      return Error{EINVAL, what + ": sensitive path '" + path + "' is not absolute"};
    }
    if (path.size() + 1 > BH_SENSITIVE_KEY_MAX - 4) {
      return Error{ENAMETOOLONG, what + ": sensitive path '" + path + "' is longer than " +
                                     std::to_string(BH_SENSITIVE_KEY_MAX - 5) + " bytes"};
    }
    for (const auto& key : sensitive_keys(tracked.slot, path)) {
      tracked.keys.push_back(key);
    }
  }
  // Everything is checked; now the maps, undone on a failure half-way.
  const __u8 one = 1;
  for (size_t k = 0; k < tracked.keys.size(); ++k) {
    int err = bpf_map__update_elem(i.skel->maps.sensitive_paths, &tracked.keys[k],
                                   sizeof(bh_sensitive_key), &one, sizeof(one), BPF_ANY);
    if (err != 0) {
      for (size_t u = 0; u < k; ++u) {
        bpf_map__delete_elem(i.skel->maps.sensitive_paths, &tracked.keys[u],
                             sizeof(bh_sensitive_key), 0);
      }
      return bpf::libbpf_error(err, what + ": adding its sensitive paths");
    }
  }
  bh_tenant value{tracked.slot, 0};
  value.flags |= tenant.all_opens ? BH_TENANT_ALL_OPENS : 0U;
  value.flags |= tracked.keys.empty() ? 0U : BH_TENANT_SENSITIVE;
  i.decoder.set_tenant(tracked.slot, TenantAttribution{tenant.name, tenant.ids});
  i.skel->bss->tenant_level = static_cast<__u32>(*level);
  int err = bpf_map__update_elem(i.skel->maps.tenants, &tracked.cgroup_id, sizeof(uint64_t), &value,
                                 sizeof(value), BPF_NOEXIST);
  if (err != 0) {
    for (const auto& key : tracked.keys) {
      bpf_map__delete_elem(i.skel->maps.sensitive_paths, &key, sizeof(key), 0);
    }
    i.decoder.remove_tenant(tracked.slot);
    return bpf::libbpf_error(err, what);
  }
  i.tenant_level = *level;
  ++i.next_slot;
  tracked.wants_reads = value.flags != 0;
  if (tracked.wants_reads) {
    ++i.skel->bss->read_opens_wanted;
  }
  i.tenants.emplace(tenant.name, std::move(tracked));
  return {};
}

void KernelEventSource::untrack_tenant(const std::string& name) {
  Impl& i = *impl_;
  auto it = i.tenants.find(name);
  if (it == i.tenants.end()) {
    return;
  }
  bpf_map__delete_elem(i.skel->maps.tenants, &it->second.cgroup_id, sizeof(uint64_t), 0);
  if (it->second.wants_reads) {
    --i.skel->bss->read_opens_wanted;
  }
  for (const auto& key : it->second.keys) {
    bpf_map__delete_elem(i.skel->maps.sensitive_paths, &key, sizeof(key), 0);
  }
  // Records already queued still name the tenant.
  (void)consume();
  i.decoder.remove_tenant(it->second.slot);
  i.tenants.erase(it);
}

void KernelEventSource::name_workload(uint64_t cgroup_id, const std::string& workload) {
  impl_->decoder.set_workload(cgroup_id, workload);
}

void KernelEventSource::forget_workload(uint64_t cgroup_id) {
  (void)consume();
  impl_->decoder.remove_workload(cgroup_id);
  bpf_map__delete_elem(impl_->skel->maps.armed, &cgroup_id, sizeof(cgroup_id), 0);
}

Result<int> KernelEventSource::consume() {
  Impl& i = *impl_;
  i.delivered = 0;
  i.records = 0;
  uint64_t expirations = 0;
  const bool timer_fired =
      ::read(i.timer.get(), &expirations, sizeof(expirations)) == sizeof(expirations);
  // Re-read each time: NTP steps CLOCK_REALTIME, the boot clock never moves back.
  i.decoder.set_clock_offset(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME));
  int n = ring_buffer__consume(i.ring.get());
  if (n < 0) {
    return bpf::libbpf_error(n, "kernel events: reading the ring buffer");
  }
  BULKHEAD_TRY(rearm_timer(timer_fired, i.records));
  BULKHEAD_TRY(check_drops());
  return i.delivered;
}

Result<int> KernelEventSource::poll(int timeout_ms) {
  epoll_event ev{};
  int n = ::epoll_wait(impl_->epoll.get(), &ev, 1, timeout_ms);
  if (n < 0 && errno != EINTR) {
    return errno_error("kernel events: polling the ring buffer");
  }
  // Also after a timeout: records committed without a wakeup may wait.
  return consume();
}

// The kernel wakes the reader for the first record after a quiet spell, but
// not for the records that follow it within the interval (bh_submit in
// bpf/include/events_common.h). So whenever a read delivered records, one more
// read is due an interval later; a timed read that finds nothing stops the
// timer, and the next record wakes the reader again. Any record committed
// without a wakeup therefore follows a woken one by less than an interval, and
// is read at most about an interval after it was committed.
Status KernelEventSource::rearm_timer(bool timer_fired, int records) {
  Impl& i = *impl_;
  if (i.wakeup_interval_ms == 0) {
    return {};
  }
  itimerspec spec{};
  if (records > 0) {
    spec.it_value.tv_sec = i.wakeup_interval_ms / 1000;
    spec.it_value.tv_nsec = static_cast<long>(i.wakeup_interval_ms % 1000) * 1000000;
  } else if (!timer_fired || !i.timer_armed) {
    return {};  // keep a pending timed read
  }
  if (::timerfd_settime(i.timer.get(), 0, &spec, nullptr) != 0) {
    return errno_error("kernel events: setting the reader's timer");
  }
  i.timer_armed = records > 0;
  return {};
}

uint64_t KernelEventSource::dropped_total() const {
  uint64_t total = 0;
  for (const auto& [type, count] : dropped_) {
    total += count;
  }
  return total;
}

Status KernelEventSource::check_drops() {
  Impl& i = *impl_;
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) {
    return bpf::libbpf_error(cpus, "kernel events: counting CPUs");
  }
  // One batch read of every slot on every CPU: a single syscall per check.
  std::vector<__u32> keys(BH_DROP_SLOTS);
  std::vector<uint64_t> values(static_cast<size_t>(BH_DROP_SLOTS) * cpus);
  __u32 count = BH_DROP_SLOTS;
  __u32 out_batch = 0;
  LIBBPF_OPTS(bpf_map_batch_opts, opts);
  int err = bpf_map_lookup_batch(bpf_map__fd(i.skel->maps.drops), nullptr, &out_batch, keys.data(),
                                 values.data(), &count, &opts);
  if (err != 0 && errno != ENOENT) {
    return errno_error("kernel events: reading the drop counters");
  }
  Event drop;
  uint64_t lost = 0;
  for (__u32 k = 0; k < count; ++k) {
    uint64_t sum = 0;
    for (int c = 0; c < cpus; ++c) {
      sum += values[static_cast<size_t>(k) * cpus + c];
    }
    auto type = static_cast<EventType>(keys[k]);
    uint64_t& seen = dropped_[type];
    if (sum > seen) {
      lost += sum - seen;
      seen = sum;
    }
  }
  if (lost == 0) {
    return {};
  }
  drop.type = EventType::kDrop;
  drop.time_ns = static_cast<uint64_t>(clock_ns(CLOCK_REALTIME));
  drop.fields["source"] = "kernel";
  drop.fields["lost"] = lost;
  drop.fields["lost_total"] = dropped_total();
  ++i.delivered;
  i.handler(std::move(drop));
  return {};
}

}  // namespace bulkhead::events
