// Whether the previous agent stopped cleanly, so that a crash is never a silent
// gap in the event stream.
//
// The agent keeps a small state file (<state>/agent-run.json) saying which pid
// runs, since when, when it was last alive (refreshed by heartbeat()) and
// whether it stopped cleanly. A clean stop stops every workload first, so no
// tenant action goes unreported. After a crash, what the kernel had queued, what
// sinks had not yet written and the exits of the workloads killed with the
// agent are lost; the next agent reads the file, finds no clean stop, and
// reports that window as an `agent.drop` event (docs/events.md).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "common/result.h"
#include "events/event.h"

namespace bulkhead::daemon {

struct PreviousRun {
  pid_t pid = 0;
  int64_t started_ms = 0;    // Unix time in ms; 0 when the file did not say
  int64_t last_seen_ms = 0;  // last heartbeat; the crash came after it
  bool clean_stop = false;
  bool unreadable = false;  // the file was there but could not be parsed
};

class RunMarker {
 public:
  // Reads what the previous agent left at `path`, then records this agent as
  // running. Fails only when the new record cannot be written.
  static Result<RunMarker> start(std::string path, int64_t now_ms);

  [[nodiscard]] const std::optional<PreviousRun>& previous() const { return previous_; }
  Status heartbeat(int64_t now_ms);
  Status mark_clean_stop(int64_t now_ms);

 private:
  RunMarker(std::string path, int64_t started_ms)
      : path_(std::move(path)), started_ms_(started_ms) {}
  Status write(int64_t now_ms, bool clean) const;

  std::string path_;
  int64_t started_ms_;
  std::optional<PreviousRun> previous_;
};

// The agent.drop event that reports an unclean previous stop; nullopt when the
// previous run stopped cleanly or there was none.
std::optional<events::Event> unclean_stop_event(const std::optional<PreviousRun>& previous,
                                                int64_t now_ms);

}  // namespace bulkhead::daemon
