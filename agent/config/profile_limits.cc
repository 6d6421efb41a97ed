// The `limits` section: the tenant's cgroup limits (cgroup2 names, also applied
// through the v1 hierarchies on hybrid hosts: cgroup/limits_v1.h).
#include "config/profile_parser.h"

namespace bulkhead::config::detail {
namespace {

// cgroup v2 bounds: cpu.max accepts periods of 1ms..1s and quotas from 1ms;
// cpu.weight and io.weight are 1..10000; pids.max cannot exceed PID_MAX_LIMIT.
constexpr uint64_t kMinCpuUs = 1000;
constexpr uint64_t kMaxCpuPeriodUs = uint64_t{1000} * 1000;
constexpr uint64_t kMaxWeight = 10000;
constexpr uint64_t kMaxPids = uint64_t{4} * 1024 * 1024;
// blk-throttle keeps rates as 64-bit counters per second; any bound far above a
// real device is enough to catch a typo.
constexpr uint64_t kMaxIops = uint64_t{1} << 40;

std::optional<uint64_t> read_positive_size(ErrorSink& sink, const Field& f) {
  auto v = read_size(sink, f);
  if (v && *v == 0) {
    sink.add(f, "must be greater than 0");
    return std::nullopt;
  }
  return v;
}

void parse_memory(ErrorSink& sink, const Field& f, Limits& out) {
  auto m = MapFields::read(sink, f, {"max", "high", "swap"});
  if (!m) {
    return;
  }
  const Field* max_f = m->get("max");
  const Field* high_f = m->get("high");
  if (max_f != nullptr) {
    out.memory_max = read_positive_size(sink, *max_f);
  }
  if (high_f != nullptr) {
    out.memory_high = read_positive_size(sink, *high_f);
  }
  if (const Field* e = m->get("swap")) {
    out.memory_swap_max = read_size(sink, *e);
  }
  if (high_f != nullptr && out.memory_max && out.memory_high &&
      *out.memory_high > *out.memory_max) {
    sink.add(*high_f, "memory.high is above memory.max, so it would never apply");
  }
}

void parse_cpu(ErrorSink& sink, const Field& f, CpuLimit& out) {
  auto m = MapFields::read(sink, f, {"quota", "period", "weight"});
  if (!m) {
    return;
  }
  const Field* quota_f = m->get("quota");
  if (quota_f != nullptr) {
    auto q = read_duration_us(sink, *quota_f);
    if (q && *q < kMinCpuUs) {
      sink.add(*quota_f, "must be at least 1ms");
      q.reset();
    }
    out.quota_us = q;
  }
  if (const Field* e = m->get("period")) {
    if (quota_f == nullptr) {
      sink.add(*e, "period applies only together with quota");
    } else if (auto p = read_duration_us(sink, *e)) {
      if (*p < kMinCpuUs || *p > kMaxCpuPeriodUs) {
        sink.add(*e, "must be between 1ms and 1s");
      } else {
        out.period_us = *p;
      }
    }
  }
  if (const Field* e = m->get("weight")) {
    if (auto w = read_uint(sink, *e, 1, kMaxWeight)) {
      out.weight = static_cast<uint32_t>(*w);
    }
  }
}

// limits.io.devices[i]: {device: /dev/vda, read_bps: 50Mi, write_iops: 500, ...}.
// The node is resolved to major:minor when the limit is applied (it must exist
// on the host then); here only its shape is checked.
void parse_io_device(ErrorSink& sink, const Field& f, std::vector<IoDeviceLimit>& out,
                     std::vector<Field>& device_fields) {
  auto m = MapFields::read(sink, f, {"device", "read_bps", "write_bps", "read_iops", "write_iops"});
  if (!m) {
    return;
  }
  IoDeviceLimit d;
  const Field* dev_f = m->require(sink, "device");
  if (dev_f != nullptr) {
    if (auto path = read_path(sink, *dev_f)) {
      d.device = *path;
    }
  }
  bool any = false;
  auto rate = [&](const char* key, bool bytes, std::optional<uint64_t>& slot) {
    const Field* e = m->get(key);
    if (e == nullptr) {
      return;
    }
    any = true;
    slot = bytes ? read_size(sink, *e) : read_uint(sink, *e, 1, kMaxIops);
    if (bytes && slot && *slot == 0) {
      sink.add(*e, "must be greater than 0 (leave it out for no limit)");
      slot.reset();
    }
  };
  rate("read_bps", true, d.read_bps);
  rate("write_bps", true, d.write_bps);
  rate("read_iops", false, d.read_iops);
  rate("write_iops", false, d.write_iops);
  if (!any) {
    sink.add(m->self(), "names no limit: give read_bps, write_bps, read_iops or write_iops");
  }
  if (d.device.empty()) {
    return;
  }
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i].device == d.device) {
      sink.add(*dev_f, d.device + " is already limited by " + device_fields[i].path);
      return;
    }
  }
  out.push_back(std::move(d));
  device_fields.push_back(f);
}

void parse_io(ErrorSink& sink, const Field& f, Limits& out) {
  auto io = MapFields::read(sink, f, {"weight", "devices"});
  if (!io) {
    return;
  }
  if (const Field* w = io->get("weight")) {
    if (auto v = read_uint(sink, *w, 1, kMaxWeight)) {
      out.io_weight = static_cast<uint32_t>(*v);
    }
  }
  if (const Field* d = io->get("devices")) {
    if (auto items = seq_items(sink, *d)) {
      std::vector<Field> device_fields;
      for (const Field& item : *items) {
        parse_io_device(sink, item, out.io_devices, device_fields);
      }
    }
  }
}

}  // namespace

void parse_limits(ErrorSink& sink, const Field& f, Limits& out) {
  auto m = MapFields::read(sink, f, {"memory", "pids", "cpu", "io"});
  if (!m) {
    return;
  }
  if (const Field* e = m->get("memory")) {
    parse_memory(sink, *e, out);
  }
  if (const Field* e = m->get("pids")) {
    out.pids_max = read_uint(sink, *e, 1, kMaxPids);
  }
  if (const Field* e = m->get("cpu")) {
    parse_cpu(sink, *e, out.cpu);
  }
  if (const Field* e = m->get("io")) {
    parse_io(sink, *e, out);
  }
}

}  // namespace bulkhead::config::detail
