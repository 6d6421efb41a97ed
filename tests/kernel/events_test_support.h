// Kernel event tests: a real KernelEventSource watching real sandboxed
// workloads. run_action() launches /helpers/event_actions in a tenant, names
// its workload, waits for it to end and then for the exit event of the
// helper process (at most 1 s after the workload ended: the bound the issue
// sets), and returns every event of that tenant seen until then.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "events/event.h"
#include "events/kernel_source.h"
#include "sandbox_fixture.h"

namespace bulkhead::testing {

struct ActionRun {
  std::vector<events::Event> events;  // the tenant's, in arrival order
  pid_t helper_pid = 0;               // host pid of the first event_actions exec
  std::string out;                    // the helper's output
  bool helper_exit_seen = false;
};

class EventsTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Creates the source; call again with other options to replace it.
  void start_source(const events::KernelSourceOptions& options = {});
  // A tenant from the standard test profile plus `extra`, tracked by the source.
  std::unique_ptr<isolation::Tenant> tracked_tenant(const std::string& name,
                                                    const std::string& extra = "",
                                                    bool all_opens = false,
                                                    std::vector<std::string> sensitive = {});
  ActionRun run_action(isolation::Tenant& tenant, const std::string& workload,
                       std::vector<std::string> args, std::optional<std::string> cwd = {});
  // Polls until `done` holds for the events received so far or the deadline passes.
  bool poll_until(const std::function<bool()>& done, std::chrono::milliseconds limit);

  std::unique_ptr<SandboxHost> host_;
  std::unique_ptr<events::KernelEventSource> source_;
  std::vector<events::Event> received_;
};

// The events of `type` among `events` for which `match` holds.
std::vector<events::Event> select(
    const std::vector<events::Event>& events, events::EventType type,
    const std::function<bool(const events::Event&)>& match = [](const events::Event&) {
      return true;
    });

inline std::string field_string(const events::Event& e, const char* key) {
  auto it = e.fields.find(key);
  return it != e.fields.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace bulkhead::testing
