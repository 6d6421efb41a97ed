// Reload's comparison of a running tenant's profile with a new one: what is
// applied in place and what needs the tenant recreated.
#include <gtest/gtest.h>

#include "config/profile_loader.h"
#include "daemon/profile_diff.h"

namespace bulkhead::daemon {
namespace {

config::Profile load(const std::string& extra) {
  std::string y =
      "version: 1\n"
      "tenant: t\n"
      "ids: {base: 0x50000000, count: 65536}\n"
      "filesystem:\n"
      "  read_only: [/usr]\n"
      "limits:\n"
      "  pids: 100\n"
      "workloads:\n"
      "  - {name: a, command: [/bin/a]}\n"
      "  - {name: b, command: [/bin/b], restart: {policy: always}}\n" +
      extra;
  auto r = config::load_profile_string(y, "t.yaml");
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].to_string());
  return r.profile.value_or(config::Profile{});
}

TEST(ProfileDiff, IdenticalProfilesDoNotDiffer) {
  auto a = load("");
  auto b = load("");
  b.source_file = "renamed.yaml";  // a label, not configuration
  auto d = diff_profiles(a, b);
  EXPECT_FALSE(d.any()) << d.to_string();
  EXPECT_EQ(d.to_string(), "unchanged");
  EXPECT_TRUE(same_profile(a, b));
}

TEST(ProfileDiff, LimitsAloneAreInPlace) {
  auto a = load("");
  auto b = a;
  b.limits.pids_max = 200;
  auto d = diff_profiles(a, b);
  EXPECT_TRUE(d.limits);
  EXPECT_FALSE(d.needs_recreate());
  EXPECT_TRUE(d.workloads.empty());
  EXPECT_FALSE(same_limits(a.limits, b.limits));
  b = a;
  b.limits.cpu.weight = 300;
  EXPECT_TRUE(diff_profiles(a, b).limits);
  b = a;
  b.limits.memory_max = 1 << 30;
  EXPECT_TRUE(diff_profiles(a, b).limits);
}

TEST(ProfileDiff, WorkloadsByName) {
  auto a = load("");
  auto b = a;
  // Reordered: no change.
  std::swap(b.workloads[0], b.workloads[1]);
  EXPECT_FALSE(diff_profiles(a, b).any());

  b = a;
  b.workloads[0].command = {"/bin/a", "--new"};  // a: replaced
  b.workloads[1].restart_limit = 9;              // b: restart settings only
  config::WorkloadSpec c;
  c.name = "c";
  c.command = {"/bin/c"};
  b.workloads.push_back(c);  // c: added
  auto d = diff_profiles(a, b);
  EXPECT_FALSE(d.needs_recreate());
  EXPECT_FALSE(d.limits);
  EXPECT_EQ(d.workloads.replaced, std::vector<std::string>{"a"});
  EXPECT_EQ(d.workloads.restart_only, std::vector<std::string>{"b"});
  EXPECT_EQ(d.workloads.added, std::vector<std::string>{"c"});
  EXPECT_TRUE(d.workloads.removed.empty());
  EXPECT_EQ(d.to_string(), "workloads (+c ~a restart:b)");

  auto back = diff_workloads(b.workloads, a.workloads);
  EXPECT_EQ(back.removed, std::vector<std::string>{"c"});

  b = a;
  b.workloads[1].env["X"] = "1";
  EXPECT_EQ(diff_profiles(a, b).workloads.replaced, std::vector<std::string>{"b"});
  b = a;
  b.workloads[1].cwd = "/tmp";
  EXPECT_EQ(diff_profiles(a, b).workloads.replaced, std::vector<std::string>{"b"});
}

TEST(ProfileDiff, NetworkRulesAreInPlaceButTheModeRecreates) {
  auto a = load("");
  auto b = a;
  config::EgressRule rule;
  config::Cidr any;
  any.family = 2;  // AF_INET, 0.0.0.0/0
  rule.to = {any};
  b.network.egress = {rule};
  auto d = diff_profiles(a, b);
  EXPECT_TRUE(d.network_policy);
  EXPECT_FALSE(d.needs_recreate());
  EXPECT_EQ(d.to_string(), "network policy");

  b.network.mode = config::NetworkMode::kHost;
  d = diff_profiles(a, b);
  EXPECT_FALSE(d.network_policy);
  ASSERT_TRUE(d.needs_recreate());
  EXPECT_EQ(d.recreate, std::vector<std::string>{"network.mode"});
}

TEST(ProfileDiff, EverythingElseRecreates) {
  const auto a = load("");
  struct Case {
    const char* field;
    std::function<void(config::Profile&)> change;
  };
  std::vector<Case> cases = {
      {"ids", [](config::Profile& p) { p.ids->base += 0x10000; }},
      {"hostname", [](config::Profile& p) { p.hostname = "other"; }},
      {"namespaces", [](config::Profile& p) { p.namespaces.uts = false; }},
      {"filesystem", [](config::Profile& p) { p.filesystem.binds[0].read_only = false; }},
      {"filesystem",
       [](config::Profile& p) {
         p.filesystem.tmpfs.push_back({"/tmp", 1, 0755});
       }},
      {"filesystem", [](config::Profile& p) { p.filesystem.data.target = "/elsewhere"; }},
      {"process", [](config::Profile& p) { p.process.env["A"] = "b"; }},
      {"process", [](config::Profile& p) { p.process.capabilities.push_back("CAP_CHOWN"); }},
      {"process",
       [](config::Profile& p) {
         p.process.rlimits.push_back({"nofile", 7, 1, 2});
       }},
      {"landlock", [](config::Profile& p) { p.landlock.enabled = false; }},
      {"seccomp", [](config::Profile& p) { p.seccomp.deny.push_back("ptrace"); }},
      {"seccomp", [](config::Profile& p) { p.seccomp.action = config::SeccompAction::kKill; }},
      {"network.mode", [](config::Profile& p) { p.network.mode = config::NetworkMode::kIsolated; }},
      {"network.socket_families", [](config::Profile& p) { p.network.socket_families.pop_back(); }},
      {"network.socket_families", [](config::Profile& p) { p.network.raw_sockets = true; }},
  };
  for (const auto& c : cases) {
    auto b = a;
    c.change(b);
    auto d = diff_profiles(a, b);
    EXPECT_TRUE(d.needs_recreate()) << c.field;
    EXPECT_EQ(d.recreate, std::vector<std::string>{c.field}) << d.to_string();
    EXPECT_FALSE(same_profile(a, b)) << c.field;
  }
  auto b = a;
  b.seccomp.allow.push_back("ptrace");
  b.limits.pids_max = 1;
  auto d = diff_profiles(a, b);
  EXPECT_TRUE(d.limits);
  EXPECT_EQ(d.to_string(), "limits, recreate (seccomp)");
}

}  // namespace
}  // namespace bulkhead::daemon
