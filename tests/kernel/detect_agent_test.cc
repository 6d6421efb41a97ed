// Detection rules in a real agent: a tenant workload that tries to unshare
// raises an alert from the shipped rules within a second, attributed to its
// tenant and workload; a host process doing the same raises nothing; a call
// killed by seccomp raises one too; a broken rules file on reload is refused
// and the running rules keep working.
#include <sched.h>
#include <sys/wait.h>

#include <filesystem>

#include "agent_test_support.h"
#include "events/event.h"
#include "events/event_filter.h"
#include "kernel_test_env.h"

namespace bulkhead::testing {
namespace {

using events::Event;
using events::EventFilter;
using events::EventType;
using namespace std::chrono_literals;

const std::string kSourceDir = BULKHEAD_SOURCE_DIR;

class DetectAgentTest : public AgentKernelTest {
 protected:
  // The shipped rules, in a directory of the test's own (reload edits it).
  void use_shipped_rules() {
    rules_dir_ = agent_->work_dir() + "/rules";
    std::filesystem::create_directories(rules_dir_);
    std::filesystem::copy_file(kSourceDir + "/profiles/rules.d/default.yaml",
                               rules_dir_ + "/default.yaml");
    agent_->options().rules_dir = rules_dir_;
  }
  // Collects the bus's events of `types` from now on (call after start()).
  std::shared_ptr<std::vector<Event>> collect(std::initializer_list<EventType> types) {
    auto got = std::make_shared<std::vector<Event>>();
    EventFilter filter;
    for (EventType t : types) {
      filter.types |= EventFilter::type_bit(t);
    }
    agent_->agent().events().subscribe(filter, [got](const Event& e) { got->push_back(e); });
    return got;
  }
  static const Event* find_alert(const std::vector<Event>& got, const std::string& rule,
                                 const std::string& tenant) {
    for (const auto& e : got) {
      if (e.type == EventType::kAlert && e.fields.value("rule", "") == rule && e.tenant == tenant) {
        return &e;
      }
    }
    return nullptr;
  }

  std::string rules_dir_;
};

TEST_F(DetectAgentTest, TenantUnshareRaisesAnAlertAndTheHostsDoesNot) {
  use_shipped_rules();
  agent_->options().kernel_events_host_wide = true;  // so the host's unshare is an event too
  agent_->write_profile(
      "det.yaml",
      agent_->tenant_yaml("detect", 0,
                          "workloads:\n" + AgentInstance::sh_workload(
                                               "web", "/usr/bin/unshare -m /bin/true; sleep 30")));
  auto s = agent_->start();
  BULKHEAD_REQUIRE(s.ok(), "agent with the kernel event stream: " +
                               (s.ok() ? std::string() : s.error().to_string()));
  auto got = collect({EventType::kAlert, EventType::kUnshare});

  ASSERT_TRUE(run_until([&] { return find_alert(*got, "namespace-unshare", "detect") != nullptr; },
                        5s, "a namespace-unshare alert for the tenant"));
  const Event* alert = find_alert(*got, "namespace-unshare", "detect");
  EXPECT_EQ(alert->workload, "web");
  EXPECT_EQ(alert->fields["severity"], "high");
  EXPECT_EQ(alert->fields["trigger"]["type"], "system.unshare");
  EXPECT_EQ(alert->fields["trigger"]["fields"]["namespaces"], nlohmann::json::array({"mnt"}));
  EXPECT_EQ(alert->process.exe, "/usr/bin/unshare");
  // Raised (stamped by the bus) within a second of the system call.
  const Event* trigger = nullptr;
  for (const auto& e : *got) {
    if (e.type == EventType::kUnshare && e.tenant == "detect") {
      trigger = &e;
    }
  }
  ASSERT_NE(trigger, nullptr);
  EXPECT_GE(alert->time_ns, trigger->time_ns);
  EXPECT_LT(alert->time_ns - trigger->time_ns, uint64_t{1'000'000'000});

  // The same call from a host process: its event arrives, no alert does.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::_exit(::unshare(CLONE_NEWUTS) == 0 ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  auto host_event = [&] {
    for (const auto& e : *got) {
      if (e.type == EventType::kUnshare && e.process.pid == child) {
        return &e;
      }
    }
    return static_cast<const Event*>(nullptr);
  };
  ASSERT_TRUE(run_until([&] { return host_event() != nullptr; }, 5s, "the host's unshare event"));
  EXPECT_TRUE(host_event()->tenant.empty());
  run_for(300ms);  // alerts are published one loop round after their trigger
  for (const auto& e : *got) {
    EXPECT_FALSE(e.type == EventType::kAlert && e.process.pid == child)
        << "alert for a host process: " << e.fields.dump();
  }
  const auto status_now = agent_->agent().status();
  EXPECT_EQ(status_now.detection.rules_dir, rules_dir_);
  bool counted = false;
  for (const auto& r : status_now.detection.rules) {
    counted |= r.name == "namespace-unshare" && r.alerts >= 1;
  }
  EXPECT_TRUE(counted);
}

TEST_F(DetectAgentTest, SeccompKilledCallRaisesAnAlert) {
  use_shipped_rules();
  agent_->write_profile(
      "det.yaml", agent_->tenant_yaml("detect", 0,
                                      "seccomp: {deny: [uname], action: kill}\nworkloads:\n" +
                                          AgentInstance::sh_workload("job", "uname; sleep 30")));
  auto s = agent_->start();
  BULKHEAD_REQUIRE(s.ok(), "agent with the kernel event stream: " +
                               (s.ok() ? std::string() : s.error().to_string()));
  auto got = collect({EventType::kAlert});
  ASSERT_TRUE(run_until([&] { return find_alert(*got, "seccomp-kill", "detect") != nullptr; }, 5s,
                        "a seccomp-kill alert for the tenant"));
  const Event* alert = find_alert(*got, "seccomp-kill", "detect");
  EXPECT_EQ(alert->workload, "job");
  EXPECT_EQ(alert->process.exe, "/usr/bin/uname");
  EXPECT_EQ(alert->fields["trigger"]["type"], "process.exit");
  EXPECT_EQ(alert->fields["trigger"]["fields"]["signal"], "SIGSYS");
}

TEST_F(DetectAgentTest, BrokenRulesOnReloadKeepTheRunningOnes) {
  use_shipped_rules();
  agent_->write_profile(
      "det.yaml",
      agent_->tenant_yaml(
          "detect", 0,
          "workloads:\n" +
              AgentInstance::sh_workload(
                  "web", "while true; do /usr/bin/unshare -m /bin/true; sleep 0.2; done")));
  auto s = agent_->start();
  BULKHEAD_REQUIRE(s.ok(), "agent with the kernel event stream: " +
                               (s.ok() ? std::string() : s.error().to_string()));
  const size_t rules_before = agent_->agent().status().detection.rules.size();
  auto got = collect({EventType::kAlert});
  ASSERT_TRUE(run_until([&] { return find_alert(*got, "namespace-unshare", "detect") != nullptr; },
                        5s, "a first alert"));

  std::ofstream(rules_dir_ + "/local.yaml")
      << "version: 1\nrules:\n  - name: x\n    description: d\n    severity: loud\n"
         "    match: {type: system.mount}\n";
  daemon::ReloadReport report = agent_->agent().reload();
  EXPECT_FALSE(report.ok);
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_EQ(report.errors[0].file, rules_dir_ + "/local.yaml");
  EXPECT_EQ(report.errors[0].line, 5);
  EXPECT_EQ(report.errors[0].field, "rules[0].severity");
  EXPECT_EQ(agent_->agent().status().detection.rules.size(), rules_before);

  got->clear();
  ASSERT_TRUE(run_until([&] { return find_alert(*got, "namespace-unshare", "detect") != nullptr; },
                        5s, "alerts from the rules kept after the refused reload"));

  // Fixed: the reload takes the new file's rule along with the old ones.
  std::ofstream(rules_dir_ + "/local.yaml")
      << "version: 1\nrules:\n  - name: x\n    description: d\n    severity: low\n"
         "    match: {type: system.mount}\n";
  report = agent_->agent().reload();
  EXPECT_TRUE(report.ok) << (report.errors.empty() ? "" : report.errors[0].to_string());
  EXPECT_EQ(agent_->agent().status().detection.rules.size(), rules_before + 1);
}

}  // namespace
}  // namespace bulkhead::testing
