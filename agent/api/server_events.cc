// The `events` method: recent events from the bus's ring, or (follow) a
// subscription that streams every matching event to the connection until the
// client closes it. Stream lines are queued on the connection without ever
// blocking the loop; a client that does not keep up loses events, counted,
// and is told how many as soon as its buffer has room again.
#include <spdlog/spdlog.h>

#include "api/params.h"
#include "api/server.h"
#include "events/event_json.h"

namespace bulkhead::api {
namespace {

using nlohmann::json;

constexpr size_t kNoticeRoom = 128;  // a drop notice's line, with room to spare

}  // namespace

std::string Server::do_events(Connection& c, const Request& req) {
  auto p = parse_events_params(req.params);
  if (!p.ok()) {
    return encode_error(req.id, p.error());
  }
  events::EventBus* bus = backend_.event_bus();
  if (bus == nullptr) {
    ApiError e;
    e.message = "this agent has no event bus";
    return encode_error(req.id, e);
  }
  if (p->tenant) {
    if (auto e = check_tenant(*p->tenant)) {
      return encode_error(req.id, *e);
    }
  }
  events::EventFilter filter{p->tenant, p->type_bits};
  if (!p->follow) {
    // The records are already JSON text: splice them in rather than re-parse.
    std::string line = R"({"id":)" + std::to_string(req.id) + R"(,"result":{"events":[)";
    bool first = true;
    for (const auto& e : bus->recent(filter)) {
      if (!first) {
        line.push_back(',');
      }
      first = false;
      events::append_event_json(line, *e, bus->host());
    }
    line += "]}}\n";
    return line;
  }
  const uint64_t stream = next_stream_++;
  StreamWatch watch;
  watch.connection = c.id();
  watch.request_id = req.id;
  watch.subscription = bus->subscribe(
      filter, [this, stream](const events::Event& e) { on_stream_event(stream, e); });
  streams_.emplace(stream, watch);
  spdlog::info("control API: uid {} follows events (tenant {}, types {})", c.peer().uid,
               p->tenant.value_or("*"), p->types.empty() ? "*" : json(p->types).dump());
  return encode_result(req.id, json{{"follow", true},
                                    {"tenant", p->tenant ? json(*p->tenant) : json(nullptr)},
                                    {"types", filter.type_names()}});
}

void Server::on_stream_event(uint64_t stream, const events::Event& event) {
  auto s = streams_.find(stream);
  if (s == streams_.end()) {
    return;
  }
  StreamWatch& watch = s->second;
  auto it = connections_.find(watch.connection);
  if (it == connections_.end()) {
    return;
  }
  Connection& c = *it->second;
  if (c.closing) {
    return;
  }
  std::string line =
      R"({"id":)" + std::to_string(watch.request_id) + R"(,"event":"record","record":)";
  events::append_event_json(line, event, backend_.event_bus()->host());
  line += "}\n";
  if (c.unsent() + line.size() + kNoticeRoom > options_.max_stream_buffer) {
    ++watch.unreported;
    ++watch.dropped;
    return;
  }
  send_drop_notices(c);  // before this event: the client learns where the gap was
  send(c, line);
  if (finished(c)) {
    close_connection(c.id());
    return;
  }
  update_interest(c);
}

void Server::send_drop_notices(Connection& c) {
  for (auto& [id, watch] : streams_) {
    if (watch.connection != c.id() || watch.unreported == 0) {
      continue;
    }
    if (c.closing || c.unsent() + kNoticeRoom > options_.max_stream_buffer) {
      return;
    }
    send(c, encode_event(watch.request_id, "dropped",
                         json{{"count", watch.unreported}, {"total", watch.dropped}}));
    watch.unreported = 0;
  }
}

bool Server::has_streams(uint64_t connection) const {
  for (const auto& [id, watch] : streams_) {
    if (watch.connection == connection) {
      return true;
    }
  }
  return false;
}

void Server::end_streams(uint64_t connection) {
  for (auto it = streams_.begin(); it != streams_.end();) {
    if (it->second.connection == connection) {
      backend_.event_bus()->unsubscribe(it->second.subscription);
      it = streams_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace bulkhead::api
