// The server's method handlers: decode the params, map them onto the Backend,
// and turn the outcome into exactly one reply line.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "api/codec.h"
#include "api/params.h"
#include "api/server.h"

namespace bulkhead::api {
namespace {

using nlohmann::json;

ApiError error(ErrorCode code, std::string message) {
  ApiError e;
  e.code = code;
  e.message = std::move(message);
  return e;
}

}  // namespace

Server::Reply Server::dispatch(Connection& c, const Request& req) {
  switch (req.method) {
    case Method::kStatus: {
      auto p = parse_no_params(req.params);
      return p.ok() ? encode_result(req.id, to_json(backend_.status()))
                    : encode_error(req.id, p.error());
    }
    case Method::kTenants: {
      auto p = parse_no_params(req.params);
      if (!p.ok()) {
        return encode_error(req.id, p.error());
      }
      json list = json::array();
      for (const auto& t : backend_.tenants()) {
        list.push_back(to_json(t));
      }
      return encode_result(req.id, json{{"tenants", list}});
    }
    case Method::kPs:
      return do_ps(req);
    case Method::kRun:
      return do_run(c, req);
    case Method::kSignal:
      return do_signal(req);
    case Method::kStop:
      return do_stop(req);
    case Method::kReload:
      return do_reload(req);
    case Method::kCheck:
      return do_check(req);
    case Method::kEvents:
      return do_events(c, req);
  }
  return encode_error(req.id, error(ErrorCode::kInternal, "unhandled method"));
}

std::optional<ApiError> Server::check_tenant(const std::string& tenant) const {
  auto all = backend_.tenants();
  if (std::none_of(all.begin(), all.end(), [&](const auto& t) { return t.name == tenant; })) {
    return error(ErrorCode::kTenantUnknown, "unknown tenant '" + tenant + "'");
  }
  return std::nullopt;
}

std::optional<ApiError> Server::check_workload(const std::string& tenant,
                                               const std::string& workload) const {
  if (auto e = check_tenant(tenant)) {
    return e;
  }
  auto all = backend_.workloads(tenant);
  if (std::none_of(all.begin(), all.end(), [&](const auto& w) { return w.name == workload; })) {
    return error(ErrorCode::kNotFound,
                 "tenant '" + tenant + "' has no workload '" + workload + "'");
  }
  return std::nullopt;
}

std::string Server::do_ps(const Request& req) {
  auto p = parse_ps_params(req.params);
  if (!p.ok()) {
    return encode_error(req.id, p.error());
  }
  if (p->tenant) {
    if (auto e = check_tenant(*p->tenant)) {
      return encode_error(req.id, *e);
    }
  }
  json list = json::array();
  for (const auto& w : backend_.workloads(p->tenant)) {
    list.push_back(to_json(w));
  }
  return encode_result(req.id, json{{"workloads", list}});
}

Server::Reply Server::do_run(Connection& c, const Request& req) {
  auto p = parse_run_params(req.params);
  if (!p.ok()) {
    return encode_error(req.id, p.error());
  }
  if (auto e = check_tenant(p->tenant)) {
    return encode_error(req.id, *e);
  }
  daemon::AdhocRun run;
  run.tenant = p->tenant;
  run.name = p->name;
  run.argv = p->argv;
  run.env = p->env;
  run.cwd = p->cwd;
  if (p->tty) {
    run.tty = p->tty_size;
  }
  auto watch = std::make_shared<RunWatch>();
  watch->connection = c.id();
  watch->request_id = req.id;
  watch->tenant = p->tenant;
  std::weak_ptr<Server*> self = self_;
  auto started = backend_.run(run, [self, watch](const isolation::ExitStatus& status) {
    if (auto s = self.lock()) {
      (*s)->on_run_exit(watch, status);
    }
  });
  if (!started.ok()) {
    spdlog::info("control API: run in {} by uid {} failed: {}", p->tenant, c.peer().uid,
                 started.error().to_string());
    return encode_error(req.id, error(ErrorCode::kLaunchFailed, started.error().to_string()));
  }
  const daemon::WorkloadInfo& info = started->info;
  spdlog::info("control API: uid {} started {}/{} (pid {})", c.peer().uid, info.tenant, info.name,
               info.pid);
  watch->workload = info.name;
  watch->started = true;
  // The caller's ends of the workload's stdio ride with the reply, named in order.
  const json fds = p->tty ? json::array({"terminal"}) : json::array({"stdin", "stdout", "stderr"});
  if (started->stdio.size() != fds.size()) {
    watch->connection = 0;  // nobody gets its exit
    (void)backend_.stop(info.tenant, info.name);
    return encode_error(req.id, error(ErrorCode::kInternal, "the run's stdio is incomplete"));
  }
  Reply reply(encode_result(req.id, json{{"started", to_json(info)}, {"fds", fds}}));
  reply.fds = std::move(started->stdio);
  if (watch->early_exit) {
    // It ended before we could answer: the exit event follows the reply directly.
    reply.line += encode_event(req.id, "exit", json{{"status", to_json(*watch->early_exit)}});
  } else {
    runs_.emplace(c.id(), watch);
  }
  return reply;
}

std::string Server::do_signal(const Request& req) {
  auto p = parse_signal_params(req.params);
  if (!p.ok()) {
    return encode_error(req.id, p.error());
  }
  if (auto e = check_workload(p->tenant, p->workload)) {
    return encode_error(req.id, *e);
  }
  if (auto s = backend_.signal(p->tenant, p->workload, p->signal); !s.ok()) {
    return encode_error(req.id, error(ErrorCode::kInternal, s.error().to_string()));
  }
  return encode_result(req.id, json::object());
}

std::string Server::do_stop(const Request& req) {
  auto p = parse_stop_params(req.params);
  if (!p.ok()) {
    return encode_error(req.id, p.error());
  }
  if (auto e = check_workload(p->tenant, p->workload)) {
    return encode_error(req.id, *e);
  }
  if (auto s = backend_.stop(p->tenant, p->workload); !s.ok()) {
    return encode_error(req.id, error(ErrorCode::kInternal, s.error().to_string()));
  }
  return encode_result(req.id, json::object());
}

std::string Server::do_reload(const Request& req) {
  auto p = parse_no_params(req.params);
  if (!p.ok()) {
    return encode_error(req.id, p.error());
  }
  daemon::ReloadReport report = backend_.reload();
  if (!report.ok) {
    return encode_error(req.id,
                        profile_error("reload refused, nothing was changed", report.errors));
  }
  return encode_result(req.id, reload_result(report));
}

std::string Server::do_check(const Request& req) {
  auto p = parse_check_params(req.params);
  if (!p.ok()) {
    return encode_error(req.id, p.error());
  }
  CheckReport report = backend_.check_profile(p->content, p->name);
  if (!report.ok()) {
    return encode_error(req.id, profile_error(p->name + " is invalid", report.errors));
  }
  return encode_result(
      req.id, json{{"ok", true}, {"tenant", report.tenant}, {"warnings", report.warnings}});
}

}  // namespace bulkhead::api
