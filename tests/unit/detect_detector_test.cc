// The matcher and the detector: which events a rule matches (type, tenant,
// result, each predicate kind, process), the alert it raises, throttling with
// the suppressed count, and that alerts are never evaluated.
#include <gtest/gtest.h>

#include <string>

#include "detect/detector.h"
#include "detect/matcher.h"
#include "detect/rule_loader.h"

namespace bulkhead::detect {
namespace {

using events::Event;
using events::EventType;
using namespace std::chrono_literals;

std::shared_ptr<const RuleSet> rules(const std::string& body) {
  auto r = load_rules_string("version: 1\nrules:\n" + body, "t.yaml");
  EXPECT_TRUE(r.ok()) << r.errors_text();
  return r.rules ? r.rules : std::make_shared<const RuleSet>();
}

// A rule with the given `match:` members (flow mapping body).
std::string rule(const std::string& name, const std::string& match, const std::string& extra = "") {
  return "  - name: " + name + "\n    description: " + name + " happened\n" +
         "    severity: high\n    match: {" + match + "}\n" + extra;
}

Event event(EventType type, nlohmann::json fields, const std::string& tenant = "alpha") {
  Event e;
  e.type = type;
  e.time_ns = 1'700'000'000'123'456'789ULL;
  e.tenant = tenant;
  e.workload = tenant.empty() ? "" : "web";
  e.process.pid = 42;
  e.process.exe = "/usr/bin/python3";
  e.process.comm = "python3";
  e.process.euid = 1879048192;
  if (!tenant.empty()) {
    e.process.euid_inside = 0;
  }
  e.fields = std::move(fields);
  return e;
}

// The rule names of the alerts `d` raises for `e`.
std::vector<std::string> fired(Detector& d, const Event& e,
                               Detector::Clock::time_point now = Detector::Clock::now()) {
  std::vector<Event> alerts;
  d.evaluate(e, now, alerts);
  std::vector<std::string> names;
  for (const auto& a : alerts) {
    names.push_back(a.fields["rule"]);
  }
  return names;
}

using Names = std::vector<std::string>;

TEST(DetectMatcher, SelectsByTypeAndTenant) {
  Detector d(rules(rule("any-tenant", "type: system.mount") +
                   rule("beta-only", "type: system.mount, tenant: [beta]") +
                   rule("with-host", "type: [system.mount, system.umount], host: true")));
  EXPECT_EQ(fired(d, event(EventType::kMount, {})), (Names{"any-tenant", "with-host"}));
  EXPECT_EQ(fired(d, event(EventType::kMount, {}, "beta")),
            (Names{"any-tenant", "beta-only", "with-host"}));
  EXPECT_EQ(fired(d, event(EventType::kMount, {}, "")), (Names{"with-host"}));
  EXPECT_EQ(fired(d, event(EventType::kUmount, {})), (Names{"with-host"}));
  EXPECT_TRUE(fired(d, event(EventType::kBpf, {})).empty());
}

TEST(DetectMatcher, Result) {
  Detector d(rules(rule("ok", "type: system.mount, result: success") +
                   rule("failed", "type: system.mount, result: failure") +
                   rule("any", "type: system.mount")));
  EXPECT_EQ(fired(d, event(EventType::kMount, {{"result", 0}})), (Names{"ok", "any"}));
  EXPECT_EQ(fired(d, event(EventType::kMount, {{"result", -1}, {"error", "EPERM"}})),
            (Names{"failed", "any"}));
  // An event without a result (exec, exit) happened: it counts as success.
  EXPECT_EQ(fired(d, event(EventType::kMount, {})), (Names{"ok", "any"}));
}

TEST(DetectMatcher, EachPredicateKind) {
  Detector d(
      rules(rule("eq", "type: file.open, fields: {path: /etc/shadow}") +
            rule("in", "type: file.open, fields: {path: {in: [/etc/a, /etc/b]}}") +
            rule("not-in", "type: file.open, fields: {path: {not_in: [/etc/a, /etc/shadow]}}") +
            rule("prefix", "type: file.open, fields: {path: {prefix: [/root/, /etc/]}}") +
            rule("glob", "type: file.open, fields: {path: {glob: \"/etc/*/x*\"}}") +
            rule("both", "type: file.open, fields: {path: {prefix: /etc/, not_in: [/etc/a]}}") +
            rule("int", "type: file.open, fields: {result: {in: [-13, -1]}}") +
            rule("list", "type: file.open, fields: {flags: O_WRONLY}") +
            rule("list-none", "type: file.open, fields: {flags: {not_in: [O_WRONLY, O_RDWR]}}")));
  auto open = [](const std::string& path, nlohmann::json flags, int result = 3) {
    return event(EventType::kFileOpen, {{"path", path}, {"flags", flags}, {"result", result}});
  };
  EXPECT_EQ(fired(d, open("/etc/shadow", {"O_RDONLY"})),
            (Names{"eq", "prefix", "both", "list-none"}));
  EXPECT_EQ(fired(d, open("/etc/a", {"O_WRONLY", "O_CREAT"})), (Names{"in", "prefix", "list"}));
  EXPECT_EQ(fired(d, open("/etc/d/x.conf", {"O_RDWR"}, -13)),
            (Names{"not-in", "prefix", "glob", "both", "int"}));
  EXPECT_EQ(fired(d, open("/tmp/f", {"O_RDONLY"})), (Names{"not-in", "list-none"}));
  // A predicate on a field the event lacks never holds, not even not_in.
  EXPECT_TRUE(fired(d, event(EventType::kFileOpen, {{"result", 0}})).empty());
}

TEST(DetectMatcher, BooleansAndProcess) {
  Detector d(rules(rule("seccomp", "type: process.exit, fields: {seccomp_kill: true}") +
                   rule("py", "type: process.exit, process: {exe: {glob: \"*/python*\"}}") +
                   rule("sh", "type: process.exit, process: {comm: sh}") +
                   rule("non-root", "type: process.exit, process: {inside_euid: {not_in: [0]}}")));
  EXPECT_EQ(fired(d, event(EventType::kProcessExit, {{"seccomp_kill", true}})),
            (Names{"seccomp", "py"}));
  EXPECT_EQ(fired(d, event(EventType::kProcessExit, {{"seccomp_kill", false}})), (Names{"py"}));
  Event e = event(EventType::kProcessExit, {{"seccomp_kill", false}});
  e.process.euid_inside = 1000;
  e.process.comm = "sh";
  EXPECT_EQ(fired(d, e), (Names{"py", "sh", "non-root"}));
  // Host processes have no inside ids: a condition on them does not hold.
  Event host = event(EventType::kProcessExit, {}, "");
  EXPECT_TRUE(fired(d, host).empty());
}

TEST(DetectDetector, AlertCarriesTheTriggerAndItsAttribution) {
  Detector d(rules(rule("mount", "type: system.mount")));
  std::vector<Event> alerts;
  d.evaluate(event(EventType::kMount, {{"target", "/mnt"}, {"result", -1}}), Detector::Clock::now(),
             alerts);
  ASSERT_EQ(alerts.size(), 1u);
  const Event& a = alerts[0];
  EXPECT_EQ(a.type, EventType::kAlert);
  EXPECT_EQ(a.time_ns, 0u);  // stamped by the bus when published
  EXPECT_EQ(a.tenant, "alpha");
  EXPECT_EQ(a.workload, "web");
  EXPECT_EQ(a.process.pid, 42);
  EXPECT_EQ(a.process.exe, "/usr/bin/python3");
  EXPECT_EQ(a.fields["rule"], "mount");
  EXPECT_EQ(a.fields["severity"], "high");
  EXPECT_EQ(a.fields["description"], "mount happened");
  EXPECT_EQ(a.fields["trigger"]["type"], "system.mount");
  EXPECT_EQ(a.fields["trigger"]["time"], "2023-11-14T22:13:20.123456789Z");
  EXPECT_EQ(a.fields["trigger"]["fields"]["target"], "/mnt");
  EXPECT_FALSE(a.fields.contains("suppressed"));  // not a throttled rule
  EXPECT_EQ(d.stats()[0].alerts, 1u);
}

TEST(DetectDetector, NeverEvaluatesAlerts) {
  // No rule can name the alert type; even a rule set built by hand for it is skipped.
  Rule r;
  r.name = "loop";
  r.description = "d";
  r.types = {EventType::kAlert};
  Detector d(std::make_shared<const RuleSet>(std::vector<Rule>{r}));
  EXPECT_TRUE(fired(d, event(EventType::kAlert, {{"rule", "x"}})).empty());
  EXPECT_EQ(d.stats()[0].alerts, 0u);
}

TEST(DetectDetector, ThrottlesPerTenantAndCountsTheSuppressed) {
  Detector d(rules(rule("deny", "type: network.deny", "    throttle: {alerts: 2, per: 10s}\n")));
  const auto t0 = Detector::Clock::now();
  auto deny = [&](const std::string& tenant, Detector::Clock::time_point now) {
    std::vector<Event> alerts;
    d.evaluate(event(EventType::kNetDeny, {{"hook", "connect4"}}, tenant), now, alerts);
    return alerts;
  };
  ASSERT_EQ(deny("alpha", t0).size(), 1u);
  auto second = deny("alpha", t0 + 1s);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].fields["suppressed"], 0);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(deny("alpha", t0 + 2s).empty());
  }
  // Another tenant has its own budget.
  EXPECT_EQ(deny("beta", t0 + 3s).size(), 1u);
  // The next window: the first alert reports what the last one held back.
  auto next = deny("alpha", t0 + 10s);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].fields["suppressed"], 5);
  auto after = deny("alpha", t0 + 11s);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].fields["suppressed"], 0);
  const auto stats = d.stats();
  EXPECT_EQ(stats[0].alerts, 5u);
  EXPECT_EQ(stats[0].suppressed, 5u);
}

TEST(DetectDetector, ReplaceKeepsCountersOfRulesByName) {
  Detector d(rules(rule("a", "type: system.bpf") + rule("b", "type: system.bpf")));
  fired(d, event(EventType::kBpf, {}));
  d.replace(rules(rule("b", "type: system.bpf") + rule("c", "type: system.mount")));
  const auto stats = d.stats();
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[0].name, "b");
  EXPECT_EQ(stats[0].alerts, 1u);
  EXPECT_EQ(stats[1].alerts, 0u);
  EXPECT_EQ(d.rules().type_mask(), (uint64_t{1} << static_cast<unsigned>(EventType::kBpf)) |
                                       (uint64_t{1} << static_cast<unsigned>(EventType::kMount)));
}

}  // namespace
}  // namespace bulkhead::detect
