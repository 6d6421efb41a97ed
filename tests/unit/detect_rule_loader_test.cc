// The rule loader: what a valid rules file becomes, and how each kind of
// mistake is reported (file, line, field path; no rules at all on any error).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "detect/rule_loader.h"

namespace bulkhead::detect {
namespace {

const std::string kSourceDir = BULKHEAD_SOURCE_DIR;

RuleLoadResult load(const std::string& yaml) { return load_rules_string(yaml, "r.yaml"); }

// One rule after a valid header; the rule starts on line 3.
std::string one_rule(const std::string& body) { return "version: 1\nrules:\n" + body; }

// The only error must be on `field` at `line`, and mention `text`.
void expect_single_error(const RuleLoadResult& r, const std::string& field, int line,
                         const std::string& text) {
  EXPECT_EQ(r.rules, nullptr);
  ASSERT_EQ(r.errors.size(), 1u) << r.errors_text();
  EXPECT_EQ(r.errors[0].file, "r.yaml");
  EXPECT_EQ(r.errors[0].field, field) << r.errors_text();
  EXPECT_EQ(r.errors[0].line, line) << r.errors_text();
  EXPECT_NE(r.errors[0].message.find(text), std::string::npos) << r.errors_text();
}

TEST(DetectRuleLoader, ReadsEveryPartOfARule) {
  auto r = load(one_rule(R"(  - name: write-etc
    description: writes below /etc
    severity: critical
    match:
      type: [file.open, file.unlink]
      tenant: [alpha, beta]
      host: true
      result: failure
      fields:
        path: {prefix: /etc/, glob: ["*.conf", "*passwd"], not_in: [/etc/motd]}
        syscall: openat
        result: {in: [-1, -13]}
      process:
        exe: {glob: /usr/bin/*}
        inside_euid: {not_in: [0]}
    throttle: {alerts: 3, per: 10s}
)"));
  ASSERT_TRUE(r.ok()) << r.errors_text();
  ASSERT_EQ(r.rules->rules().size(), 1u);
  const Rule& rule = r.rules->rules()[0];
  EXPECT_EQ(rule.name, "write-etc");
  EXPECT_EQ(rule.severity, Severity::kCritical);
  EXPECT_EQ(rule.types.size(), 2u);
  EXPECT_EQ(rule.tenants, (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_TRUE(rule.host);
  EXPECT_EQ(rule.result, ResultMatch::kFailure);
  ASSERT_EQ(rule.fields.size(), 3u);
  EXPECT_EQ(rule.fields[0].field, "path");
  EXPECT_EQ(rule.fields[0].predicates.size(), 3u);
  EXPECT_EQ(rule.fields[2].kind, ValueKind::kInteger);
  EXPECT_EQ(rule.fields[2].predicates[0].integers, (std::vector<int64_t>{-1, -13}));
  EXPECT_EQ(rule.process.size(), 2u);
  ASSERT_TRUE(rule.throttle.has_value());
  EXPECT_EQ(rule.throttle->alerts, 3u);
  EXPECT_EQ(rule.throttle->per, std::chrono::seconds(10));
  EXPECT_EQ(rule.source, "r.yaml:3");
  EXPECT_EQ(r.rules->for_type(events::EventType::kFileUnlink).size(), 1u);
  EXPECT_TRUE(r.rules->for_type(events::EventType::kFileChmod).empty());
}

TEST(DetectRuleLoader, RefusesUnknownKeysWithTheirLine) {
  auto r = load(one_rule(R"(  - name: a
    description: d
    severity: low
    sevrity: low
    match: {type: system.mount}
)"));
  expect_single_error(r, "rules[0].sevrity", 6, "unknown key (did you mean \"severity\"?)");
  auto m = load(one_rule(R"(  - name: a
    description: d
    severity: low
    match:
      type: system.mount
      tenants: [alpha]
)"));
  expect_single_error(m, "rules[0].match.tenants", 8, "unknown key");
}

TEST(DetectRuleLoader, RefusesUnknownEventTypesListingTheValidOnes) {
  auto r = load(one_rule(R"(  - name: a
    description: d
    severity: low
    match: {type: [system.mount, proces.exec]}
)"));
  expect_single_error(r, "rules[0].match.type[1]", 6, "unknown event type \"proces.exec\"");
  EXPECT_NE(r.errors[0].message.find("process.exec, process.fork"), std::string::npos);
  EXPECT_EQ(r.errors[0].message.find("alert"), std::string::npos);
}

TEST(DetectRuleLoader, RefusesRulesOnAlerts) {
  auto r = load(one_rule(R"(  - name: a
    description: d
    severity: low
    match: {type: alert}
)"));
  expect_single_error(r, "rules[0].match.type", 6, "never apply to alert events");
}

TEST(DetectRuleLoader, RefusesABadSeverity) {
  auto r = load(one_rule(R"(  - name: a
    description: d
    severity: severe
    match: {type: system.bpf}
)"));
  expect_single_error(r, "rules[0].severity", 5, "valid: low, medium, high, critical");
}

TEST(DetectRuleLoader, RefusesFieldsTheTypeDoesNotHave) {
  auto r = load(one_rule(R"(  - name: a
    description: d
    severity: low
    match:
      type: [file.open, system.mount]
      fields:
        path: /etc/passwd
)"));
  expect_single_error(r, "rules[0].match.fields.path", 9, "no field \"path\" in system.mount");
  EXPECT_NE(r.errors[0].message.find("fstype"), std::string::npos);  // lists the valid ones
}

TEST(DetectRuleLoader, ChecksValueKinds) {
  auto text = [](const std::string& fields) {
    return one_rule(
        "  - name: a\n    description: d\n    severity: low\n    match:\n"
        "      type: [process.exit]\n      fields:\n" +
        fields);
  };
  expect_single_error(load(text("        seccomp_kill: yes\n")),
                      "rules[0].match.fields.seccomp_kill", 9, "expected true or false");
  expect_single_error(load(text("        code: one\n")), "rules[0].match.fields.code", 9,
                      "expected an integer");
  expect_single_error(load(text("        code: {prefix: \"1\"}\n")),
                      "rules[0].match.fields.code.prefix", 9, "applies to strings");
  expect_single_error(load(text("        signal: {in: []}\n")), "rules[0].match.fields.signal.in",
                      9, "empty");
  expect_single_error(load(text("        signal: {}\n")), "rules[0].match.fields.signal", 9,
                      "no condition");
  expect_single_error(load(text("        signal: [SIGSYS]\n")), "rules[0].match.fields.signal", 9,
                      "expected a value or a mapping");
  // network.deny's src is an object.
  auto deny = load(one_rule(
      "  - name: a\n    description: d\n    severity: low\n    match:\n      type: network.deny\n"
      "      fields: {src: x}\n"));
  expect_single_error(deny, "rules[0].match.fields.src", 8, "cannot be compared");
}

TEST(DetectRuleLoader, RefusesBadNamesResultsAndThrottles) {
  auto rule = [](const std::string& name, const std::string& rest) {
    return one_rule("  - name: " + name + "\n    description: d\n    severity: low\n" +
                    "    match: {type: system.bpf" + rest);
  };
  expect_single_error(load(rule("Bad_Name", "}\n")), "rules[0].name", 3, "a-z, 0-9");
  expect_single_error(load(rule("a", ", result: failed}\n")), "rules[0].match.result", 6,
                      "valid: success, failure, any");
  expect_single_error(load(rule("a", ", tenant: [Alpha]}\n")), "rules[0].match.tenant[0]", 6,
                      "not a tenant name");
  expect_single_error(load(rule("a", "}\n    throttle: {alerts: 0, per: 1s}\n")),
                      "rules[0].throttle.alerts", 7, "outside 1..");
  expect_single_error(load(rule("a", "}\n    throttle: {alerts: 2}\n")), "rules[0].throttle.per", 7,
                      "required key is missing");
}

TEST(DetectRuleLoader, RequiresVersionOneAndTheRuleKeys) {
  expect_single_error(load("version: 2\nrules: []\n"), "version", 1, "unsupported version 2");
  auto r = load(one_rule("  - name: a\n    severity: low\n    match: {type: system.bpf}\n"));
  expect_single_error(r, "rules[0].description", 3, "required key is missing");
  auto y = load("version: 1\nrules: [\n");
  ASSERT_EQ(y.errors.size(), 1u);
  EXPECT_NE(y.errors[0].message.find("YAML syntax error"), std::string::npos);
}

TEST(DetectRuleLoader, RefusesDuplicateNamesInAFile) {
  auto r = load(one_rule(R"(  - name: a
    description: d
    severity: low
    match: {type: system.bpf}
  - name: a
    description: d
    severity: low
    match: {type: system.mount}
)"));
  expect_single_error(r, "rules[1].name", 7, "already defined at r.yaml:3");
}

class RuleDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bulkhead-rules-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ / name) << text;
  }
  std::filesystem::path dir_;
};

TEST_F(RuleDirTest, RefusesDuplicateNamesAcrossFilesAndLoadsNothing) {
  const std::string rule = one_rule(
      "  - name: same\n    description: d\n    severity: low\n    match: {type: system.bpf}\n");
  write("a.yaml", rule);
  write("b.yml", "# another file\n" + rule);
  write(".hidden.yaml", "not: [valid");
  write("notes.txt", "ignored");
  std::filesystem::create_directories(dir_ / "sub.yaml");  // a directory is not a file
  auto r = load_rule_dir(dir_.string());
  EXPECT_EQ(r.rules, nullptr);
  ASSERT_EQ(r.errors.size(), 1u) << r.errors_text();
  EXPECT_EQ(r.errors[0].file, (dir_ / "b.yml").string());
  EXPECT_EQ(r.errors[0].line, 4);
  EXPECT_NE(r.errors[0].message.find("a.yaml:3"), std::string::npos) << r.errors_text();
}

TEST_F(RuleDirTest, OneBadFileRefusesTheWholeDirectory) {
  write("a.yaml", one_rule("  - name: good\n    description: d\n    severity: low\n"
                           "    match: {type: system.bpf}\n"));
  write("b.yaml", one_rule("  - name: bad\n    description: d\n    severity: low\n"
                           "    match: {type: system.bfp}\n"));
  auto r = load_rule_dir(dir_.string());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.rules, nullptr);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].to_string().rfind((dir_ / "b.yaml").string() + ":6:", 0), 0u)
      << r.errors_text();
}

TEST_F(RuleDirTest, EmptyDirectoryIsNoRulesAndAMissingOneIsAnError) {
  auto r = load_rule_dir(dir_.string());
  ASSERT_TRUE(r.ok()) << r.errors_text();
  EXPECT_TRUE(r.rules->rules().empty());
  EXPECT_EQ(r.rules->type_mask(), 0u);
  auto missing = load_rule_dir((dir_ / "nope").string());
  EXPECT_FALSE(missing.ok());
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_NE(missing.errors[0].message.find("cannot list rules directory"), std::string::npos);
}

TEST(DetectRuleLoader, TheShippedRulesLoad) {
  auto r = load_rule_dir(kSourceDir + "/profiles/rules.d");
  ASSERT_TRUE(r.ok()) << r.errors_text();
  EXPECT_GE(r.rules->rules().size(), 10u);
  for (auto t :
       {events::EventType::kProcessExit, events::EventType::kUnshare, events::EventType::kSetns,
        events::EventType::kMount, events::EventType::kBpf, events::EventType::kModuleLoad,
        events::EventType::kPtrace, events::EventType::kProcessExec, events::EventType::kFileOpen,
        events::EventType::kPrivSetuid, events::EventType::kNetDeny}) {
    EXPECT_FALSE(r.rules->for_type(t).empty()) << events::type_name(t);
  }
}

}  // namespace
}  // namespace bulkhead::detect
