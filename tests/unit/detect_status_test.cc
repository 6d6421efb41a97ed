// Detection in the status API and in `bulkheadctl status`: the rule count and
// the counts of the rules that fired.
#include <gtest/gtest.h>

#include "api/codec.h"
#include "api/ctl_format.h"

namespace bulkhead::api {
namespace {

TEST(DetectStatus, ApiListsEveryRuleAndCtlOnlyThoseThatFired) {
  daemon::AgentStatus s;
  s.detection.rules_dir = "/etc/bulkhead/rules.d";
  s.detection.rules = {{"seccomp-kill", detect::Severity::kHigh, 0, 0},
                       {"network-policy-deny", detect::Severity::kMedium, 5, 118}};
  const nlohmann::json j = to_json(s);
  ASSERT_EQ(j["detection"]["rules"].size(), 2U);
  EXPECT_EQ(j["detection"]["rules"][1], (nlohmann::json{{"name", "network-policy-deny"},
                                                        {"severity", "medium"},
                                                        {"alerts", 5},
                                                        {"suppressed", 118}}));
  const std::string out = ctl::format_status(j, 0);
  EXPECT_NE(out.find("detection rules:   2 from /etc/bulkhead/rules.d\n"), std::string::npos)
      << out;
  EXPECT_NE(out.find("alerts network-policy-deny: 5 raised, 118 suppressed\n"), std::string::npos)
      << out;
  EXPECT_EQ(out.find("seccomp-kill"), std::string::npos) << out;
}

TEST(DetectStatus, NoRulesDirectoryAndOlderAgents) {
  daemon::AgentStatus s;
  const std::string out = ctl::format_status(to_json(s), 0);
  EXPECT_NE(out.find("detection rules:   0 (no rules directory)\n"), std::string::npos) << out;
  nlohmann::json older = to_json(s);
  older.erase("detection");
  EXPECT_EQ(ctl::format_status(older, 0).find("detection"), std::string::npos);
}

}  // namespace
}  // namespace bulkhead::api
