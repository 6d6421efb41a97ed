// bulkheadctl events: the agent's recent events, or (--follow) a live stream.
#include "api/ctl.h"
#include "api/ctl_common.h"
#include "api/ctl_format.h"

namespace bulkhead::api::ctl {
namespace {

using nlohmann::json;

void print_record(const Globals& g, const json& record, Io io) {
  if (g.json) {
    io.out << dump_json(record) << "\n";
  } else {
    io.out << format_event(record);
  }
  io.out.flush();  // a stream is read as it comes (tail -f style, pipes included)
}

}  // namespace

int events(const Globals& g, const EventsOptions& options, Io io) {
  auto client = connect_or_report(g, io);
  if (!client) {
    return kExitError;
  }
  json params = json::object();
  if (options.tenant) {
    params["tenant"] = *options.tenant;
  }
  if (!options.types.empty()) {
    params["types"] = options.types;
  }
  if (options.follow) {
    params["follow"] = true;
  }
  auto reply = client->call(Method::kEvents, params);
  if (!reply.ok()) {
    return report_failure(reply.error().to_string(), io);
  }
  if (reply->error) {
    ApiError e = *reply->error;
    // The agent names the request's field; the user typed an option.
    const std::string field = "params.types[";
    if (!g.json && e.message.rfind(field, 0) == 0) {
      if (size_t end = e.message.find("]: "); end != std::string::npos) {
        e.message = "--type: " + e.message.substr(end + 3);
      }
    } else if (!g.json && e.message.rfind("params.tenant: ", 0) == 0) {
      e.message = "--tenant: " + e.message.substr(15);
    }
    return report_api_error(g, e, io);
  }
  if (!options.follow) {
    auto list = reply->result->find("events");
    if (list != reply->result->end() && list->is_array()) {
      for (const auto& record : *list) {
        print_record(g, record, io);
      }
    }
    return kExitOk;
  }
  for (;;) {
    auto m = client->read();
    if (!m.ok()) {
      // The agent went away (shutdown, restart): the stream has ended.
      return report_failure(m.error().to_string(), io);
    }
    if (m->error) {
      return report_api_error(g, *m->error, io);
    }
    if (m->event == "record") {
      print_record(g, m->body.value("record", json::object()), io);
    } else if (m->event == "dropped") {
      io.err << "bulkheadctl: " << m->body.value("count", 0)
             << " event(s) dropped: this client did not keep up (" << m->body.value("total", 0)
             << " in total)\n";
    }
  }
}

}  // namespace bulkhead::api::ctl
