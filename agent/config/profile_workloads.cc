// The `workloads` section: the programs the agent starts and supervises in the tenant.
#include <set>

#include "config/profile_parser.h"

namespace bulkhead::config::detail {
namespace {

void parse_command(ErrorSink& sink, const Field& f, std::vector<std::string>& out) {
  auto items = seq_items(sink, f);
  if (!items) {
    return;
  }
  if (items->empty()) {
    sink.add(f, "must not be empty");
    return;
  }
  for (const Field& item : *items) {
    if (auto arg = read_string(sink, item)) {
      out.push_back(*arg);
    }
  }
  // No PATH search: which binary runs must not depend on the environment.
  if (!out.empty() && (out[0].empty() || out[0][0] != '/')) {
    sink.add((*items)[0], "command[0] must be an absolute path, got \"" + out[0] + "\"");
  }
}

void parse_restart(ErrorSink& sink, const Field& f, WorkloadSpec& out) {
  auto m = MapFields::read(sink, f, {"policy", "limit", "backoff"});
  if (!m) {
    return;
  }
  if (const Field* e = m->get("policy")) {
    if (auto p = read_string(sink, *e)) {
      if (*p == "no") {
        out.restart = RestartPolicy::kNo;
      } else if (*p == "on-failure") {
        out.restart = RestartPolicy::kOnFailure;
      } else if (*p == "always") {
        out.restart = RestartPolicy::kAlways;
      } else {
        sink.add(*e, "expected no, on-failure or always, got \"" + *p + "\"");
      }
    }
  }
  if (const Field* e = m->get("limit")) {
    if (auto n = read_uint(sink, *e, 1, UINT32_MAX)) {
      out.restart_limit = static_cast<uint32_t>(*n);
    }
  }
  if (const Field* e = m->get("backoff")) {
    if (auto us = read_duration_us(sink, *e)) {
      if (*us % 1000 != 0) {
        sink.add(*e, "must be a whole number of milliseconds");
      } else {
        out.restart_backoff_ms = *us / 1000;
      }
    }
  }
}

void parse_workload(ErrorSink& sink, const Field& f, WorkloadSpec& out) {
  auto m = MapFields::read(sink, f, {"name", "command", "env", "cwd", "restart"});
  if (!m) {
    return;
  }
  if (const Field* e = m->require(sink, "name")) {
    if (auto name = read_string(sink, *e)) {
      if (is_valid_name(*name)) {
        out.name = *name;
      } else {
        sink.add(*e, "workload name \"" + *name +
                         "\" must be 1-32 characters of a-z, 0-9 and '-', starting with a letter "
                         "or digit");
      }
    }
  }
  if (const Field* e = m->require(sink, "command")) {
    parse_command(sink, *e, out.command);
  }
  if (const Field* e = m->get("env")) {
    parse_env(sink, *e, out.env);
  }
  if (const Field* e = m->get("cwd")) {
    out.cwd = read_path(sink, *e);
  }
  if (const Field* e = m->get("restart")) {
    parse_restart(sink, *e, out);
  }
}

}  // namespace

void parse_workloads(ErrorSink& sink, const Field& f, std::vector<WorkloadSpec>& out) {
  auto items = seq_items(sink, f);
  if (!items) {
    return;
  }
  std::set<std::string> names;
  for (const Field& item : *items) {
    WorkloadSpec w;
    parse_workload(sink, item, w);
    if (!w.name.empty() && !names.insert(w.name).second) {
      sink.add(item.mark(), item.path + ".name", "workload name \"" + w.name + "\" is used twice");
    }
    out.push_back(std::move(w));
  }
}

}  // namespace bulkhead::config::detail
