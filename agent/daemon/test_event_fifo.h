// A test hook (bulkheadd --test-event-fifo): events written to a FIFO as JSON
// lines are published into the agent's event bus, as if a kernel source had
// produced them. End-to-end tests use it to drive the output side (sinks,
// `bulkheadctl events`) without depending on what the kernel happens to do.
//
// Line format (a subset of the schema): {"type": "file.open", "tenant": "t",
// "workload": "w", "process": {"pid": 1, "tid": 1, "ppid": 1, "uid": 0,
// "gid": 0, "exe": "/bin/x", "comm": "x", "args": ["x"]}, "fields": {...}}.
// A bad line is logged and skipped.
#pragma once

#include <memory>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"
#include "daemon/event_loop.h"
#include "events/event.h"

namespace bulkhead::daemon {

class TestEventFifo {
 public:
  // Creates the FIFO (0600) when missing; an existing non-FIFO is an error.
  static Result<std::unique_ptr<TestEventFifo>> open(EventLoop& loop, const std::string& path,
                                                     events::EventHandler handler);
  ~TestEventFifo();
  TestEventFifo(const TestEventFifo&) = delete;
  TestEventFifo& operator=(const TestEventFifo&) = delete;

 private:
  TestEventFifo(EventLoop& loop, events::EventHandler handler)
      : loop_(loop), handler_(std::move(handler)) {}
  void on_readable();

  EventLoop& loop_;
  events::EventHandler handler_;
  UniqueFd fd_;
  std::string partial_;
};

// Decodes one line of the format above; an error names the member.
Result<events::Event> parse_test_event(const std::string& line);

}  // namespace bulkhead::daemon
