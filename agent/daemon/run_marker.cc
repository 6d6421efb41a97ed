#include "daemon/run_marker.h"

#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/file_util.h"
#include "events/event_json.h"

namespace bulkhead::daemon {
namespace {

constexpr uint64_t kNsPerMs = 1000000;

PreviousRun parse_previous(const std::string& text) {
  PreviousRun p;
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    p.unreadable = true;
    return p;
  }
  p.pid = j.value("pid", 0);
  p.started_ms = j.value("started_ms", int64_t{0});
  p.last_seen_ms = j.value("last_seen_ms", int64_t{0});
  p.clean_stop = j.value("clean_stop", false);
  return p;
}

}  // namespace

Result<RunMarker> RunMarker::start(std::string path, int64_t now_ms) {
  RunMarker m(std::move(path), now_ms);
  if (auto text = read_file(m.path_); text.ok()) {
    m.previous_ = parse_previous(*text);
  } else if (text.error().code != ENOENT) {
    // Unreadable is not "no previous run": report it as an unclean one.
    m.previous_ = PreviousRun{.unreadable = true};
  }
  BULKHEAD_TRY(m.write(now_ms, false));
  return m;
}

Status RunMarker::heartbeat(int64_t now_ms) { return write(now_ms, false); }

Status RunMarker::mark_clean_stop(int64_t now_ms) { return write(now_ms, true); }

Status RunMarker::write(int64_t now_ms, bool clean) const {
  nlohmann::json j = {{"pid", ::getpid()},
                      {"started_ms", started_ms_},
                      {"last_seen_ms", now_ms},
                      {"clean_stop", clean}};
  auto st = write_file_atomic(path_, j.dump() + "\n", 0600);
  if (!st.ok()) {
    return st.error().context("recording the agent's run in " + path_);
  }
  return {};
}

std::optional<events::Event> unclean_stop_event(const std::optional<PreviousRun>& previous,
                                                int64_t now_ms) {
  if (!previous || previous->clean_stop) {
    return std::nullopt;
  }
  events::Event e;
  e.type = events::EventType::kDrop;
  e.time_ns = static_cast<uint64_t>(now_ms) * kNsPerMs;
  nlohmann::json f = {{"source", "agent"}, {"reason", "unclean_stop"}};
  if (previous->unreadable) {
    f["reason"] = "unclean_stop_unknown";
  } else {
    f["previous_pid"] = previous->pid;
    if (previous->last_seen_ms > 0) {
      f["last_seen"] =
          events::format_rfc3339(static_cast<uint64_t>(previous->last_seen_ms) * kNsPerMs, 3);
    }
  }
  e.fields = std::move(f);
  return e;
}

}  // namespace bulkhead::daemon
