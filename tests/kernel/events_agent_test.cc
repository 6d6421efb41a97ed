// The agent runs the kernel event stream: tenants are tracked from their
// profile (events: section), declared workloads are named, and events reach
// the handler the agent was given, on its loop.
#include "agent_test_support.h"
#include "events/event.h"

namespace bulkhead::testing {
namespace {

using events::Event;
using events::EventType;
using namespace std::chrono_literals;

class EventsAgentTest : public AgentKernelTest {};

TEST_F(EventsAgentTest, DeclaredWorkloadEventsReachTheHandler) {
  // Shared with the handler: the agent outlives this body (TearDown destroys it)
  // and delivers what is pending when its tenants go.
  auto events = std::make_shared<std::vector<Event>>();
  agent_->options().event_handler = [events](Event&& e) { events->push_back(std::move(e)); };
  std::vector<Event>& got = *events;
  agent_->write_profile(
      "ev.yaml", agent_->tenant_yaml("evagent", 0,
                                     "events: {sensitive_paths: [/etc/hostname]}\nworkloads:\n" +
                                         AgentInstance::sh_workload(
                                             "web", "read x < /etc/hostname; echo hi > /tmp/out")));
  ASSERT_TRUE(agent_->start().ok());
  auto find = [&](EventType type, const std::string& path) -> const Event* {
    for (const auto& e : got) {
      if (e.type == type && e.tenant == "evagent" && e.fields.value("path", "") == path) {
        return &e;
      }
    }
    return nullptr;
  };
  ASSERT_TRUE(run_until(
      [&] {
        return find(EventType::kFileOpen, "/etc/hostname") != nullptr &&
               find(EventType::kFileOpen, "/tmp/out") != nullptr;
      },
      5s, "the workload's sensitive read and its write"));
  const Event* read = find(EventType::kFileOpen, "/etc/hostname");
  EXPECT_EQ(read->workload, "web");
  EXPECT_EQ(read->fields["flags"], nlohmann::json::array({"O_RDONLY"}));
  EXPECT_EQ(read->process.exe, "/bin/sh");
  EXPECT_EQ(read->process.uid_inside, 0u);
  const Event* write = find(EventType::kFileOpen, "/tmp/out");
  EXPECT_EQ(write->workload, "web");
  bool exec_seen = false;
  for (const auto& e : got) {
    exec_seen |= e.type == EventType::kProcessExec && e.workload == "web" &&
                 e.process.exe == "/bin/sh" && e.process.args.size() == 3;
  }
  EXPECT_TRUE(exec_seen);
}

TEST_F(EventsAgentTest, CanRunWithoutTheEventStream) {
  agent_->options().kernel_events = false;
  agent_->write_profile("ev.yaml", agent_->tenant_yaml("evoff", 0));
  ASSERT_TRUE(agent_->start().ok());
  EXPECT_TRUE(agent_->tenant("evoff").has_value());
}

}  // namespace
}  // namespace bulkhead::testing
