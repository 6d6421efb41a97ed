// bulkheadctl's one-shot commands: one request, one reply, print it.
#include <chrono>

#include "api/backend.h"
#include "api/codec.h"
#include "api/ctl.h"
#include "api/ctl_common.h"
#include "api/ctl_format.h"
#include "common/file_util.h"

namespace bulkhead::api::ctl {
namespace {

using nlohmann::json;

// Sends one request and hands its result to `print`; errors are reported here.
template <typename Print>
int one_shot(const Globals& g, Io io, Method method, const json& params, Print print) {
  auto client = connect_or_report(g, io);
  if (!client) {
    return kExitError;
  }
  auto reply = client->call(method, params);
  if (!reply.ok()) {
    return report_failure(reply.error().to_string(), io);
  }
  if (reply->error) {
    return report_api_error(g, *reply->error, io);
  }
  if (g.json) {
    io.out << dump_json(*reply->result) << "\n";
  } else {
    print(*reply->result);
  }
  return kExitOk;
}

}  // namespace

std::unique_ptr<Client> connect_or_report(const Globals& g, Io io) {
  auto client = Client::connect(g.socket);
  if (client.ok()) {
    return std::move(*client);
  }
  const int code = client.error().code;
  if (code == ENOENT || code == ECONNREFUSED) {
    io.err << "bulkheadctl: cannot connect to " << g.socket << ": is bulkheadd running?\n";
  } else if (code == EACCES || code == EPERM) {
    io.err << "bulkheadctl: permission denied on " << g.socket
           << ": the control API is for root and members of group bulkhead\n";
  } else {
    io.err << "bulkheadctl: " << client.error().to_string() << "\n";
  }
  return nullptr;
}

int report_api_error(const Globals& g, const ApiError& error, Io io) {
  if (g.json) {
    io.out << dump_json(json{{"error", error.to_json()}}) << "\n";
    return kExitError;
  }
  auto lines = format_error(error);
  io.err << "bulkheadctl: " << lines.front() << "\n";
  for (size_t i = 1; i < lines.size(); ++i) {
    io.err << lines[i] << "\n";
  }
  return kExitError;
}

int report_failure(const std::string& message, Io io) {
  io.err << "bulkheadctl: " << message << "\n";
  return kExitError;
}

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int status(const Globals& g, Io io) {
  return one_shot(g, io, Method::kStatus, json::object(),
                  [&](const json& r) { io.out << format_status(r, now_unix_ms()); });
}

int tenants(const Globals& g, Io io) {
  return one_shot(g, io, Method::kTenants, json::object(),
                  [&](const json& r) { io.out << format_tenants(r); });
}

int ps(const Globals& g, const std::optional<std::string>& tenant, Io io) {
  json params = json::object();
  if (tenant) {
    params["tenant"] = *tenant;
  }
  return one_shot(g, io, Method::kPs, params,
                  [&](const json& r) { io.out << format_ps(r, now_unix_ms()); });
}

int stop(const Globals& g, const std::string& tenant, const std::string& workload, Io io) {
  return one_shot(g, io, Method::kStop, json{{"tenant", tenant}, {"workload", workload}},
                  [&](const json&) { io.out << "stopping " << tenant << "/" << workload << "\n"; });
}

int signal(const Globals& g, const std::string& tenant, const std::string& workload,
           const std::string& sig, Io io) {
  // Numbers go as numbers, names as names: the agent validates both.
  json value =
      sig.find_first_not_of("0123456789") == std::string::npos && !sig.empty() && sig.size() < 4
          ? json(std::stoi(sig))
          : json(sig);
  return one_shot(g, io, Method::kSignal,
                  json{{"tenant", tenant}, {"workload", workload}, {"signal", value}},
                  [](const json&) {});
}

int reload(const Globals& g, Io io) {
  return one_shot(g, io, Method::kReload, json::object(),
                  [&](const json& r) { io.out << format_reload(r); });
}

int check(const Globals& g, const std::string& file, bool in_agent, Io io) {
  auto text = read_file(file);
  if (!text.ok()) {
    return report_failure("cannot read " + file + ": " + text.error().to_string(), io);
  }
  json result;
  if (in_agent) {
    auto client = connect_or_report(g, io);
    if (!client) {
      return kExitError;
    }
    auto reply = client->call(Method::kCheck, json{{"content", *text}, {"name", file}});
    if (!reply.ok()) {
      return report_failure(reply.error().to_string(), io);
    }
    if (reply->error) {
      report_api_error(g, *reply->error, io);
      return reply->error->code == ErrorCode::kInvalidProfile ? kExitInvalid : kExitError;
    }
    result = *reply->result;
  } else {
    CheckReport report = check_profile_text(*text, file);
    if (!report.ok()) {
      report_api_error(g, profile_error(file + " is invalid", report.errors), io);
      return kExitInvalid;
    }
    result = json{{"ok", true}, {"tenant", report.tenant}, {"warnings", report.warnings}};
  }
  if (g.json) {
    io.out << dump_json(result) << "\n";
    return kExitOk;
  }
  if (auto w = result.find("warnings"); w != result.end() && w->is_array()) {
    for (const auto& warning : *w) {
      io.err << file << ": warning: "
             << escape_cell(warning.is_string() ? warning.get<std::string>() : dump_json(warning))
             << "\n";
    }
  }
  auto t = result.find("tenant");
  io.out << file << ": ok (tenant "
         << escape_cell(t != result.end() && t->is_string() ? t->get<std::string>() : "?") << ")\n";
  return kExitOk;
}

}  // namespace bulkhead::api::ctl
