// The `limits` section: the tenant's cgroup v2 limits.
#include "config/profile_parser.h"

namespace bulkhead::config::detail {
namespace {

// cgroup v2 bounds: cpu.max accepts periods of 1ms..1s and quotas from 1ms;
// cpu.weight and io.weight are 1..10000; pids.max cannot exceed PID_MAX_LIMIT.
constexpr uint64_t kMinCpuUs = 1000;
constexpr uint64_t kMaxCpuPeriodUs = uint64_t{1000} * 1000;
constexpr uint64_t kMaxWeight = 10000;
constexpr uint64_t kMaxPids = uint64_t{4} * 1024 * 1024;

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
    if (auto io = MapFields::read(sink, *e, {"weight"})) {
      if (const Field* w = io->get("weight")) {
        if (auto v = read_uint(sink, *w, 1, kMaxWeight)) {
          out.io_weight = static_cast<uint32_t>(*v);
        }
      }
    }
  }
}

}  // namespace bulkhead::config::detail
