// bulkheadctl's tables and messages, from the JSON the agent sends.
#include <gtest/gtest.h>

#include "api/codec.h"
#include "api/ctl_format.h"

namespace bulkhead::api::ctl {
namespace {

using nlohmann::json;

TEST(ApiFormat, TableAlignsColumnsAndDoesNotPadTheLast) {
  std::string t = render_table({"NAME", "STATE", "CMD"},
                               {{"a", "running", "sleep 1"}, {"longer-name", "-", "x"}});
  EXPECT_EQ(t,
            "NAME         STATE    CMD\n"
            "a            running  sleep 1\n"
            "longer-name  -        x\n");
}

TEST(ApiFormat, TableWithNoRowsPrintsTheHeader) {
  EXPECT_EQ(render_table({"A", "B"}, {}), "A  B\n");
}

TEST(ApiFormat, ShortRowsAreFilled) {
  EXPECT_EQ(render_table({"A", "B", "C"}, {{"1"}}), "A  B  C\n1\n");
}

TEST(ApiFormat, ControlCharactersAreEscaped) {
  EXPECT_EQ(escape_cell("a\x1b[2Jb\n"), "a\\x1b[2Jb\\x0a");
  EXPECT_EQ(escape_cell("\x7f"), "\\x7f");
  EXPECT_EQ(escape_cell("\xc2\x9b"
                        "31m"),
            "\\u009b31m");                               // C1 CSI
  EXPECT_EQ(escape_cell("caf\xc3\xa9"), "caf\xc3\xa9");  // ordinary UTF-8 stays
  std::string t = render_table({"CMD"}, {{"\x1b]0;owned\x07"}});
  EXPECT_EQ(t.find('\x1b'), std::string::npos);
}

TEST(ApiFormat, CommandsAreQuotedLikeAShell) {
  EXPECT_EQ(join_command(json{"sh", "-c", "exit 3"}), "sh -c 'exit 3'");
  EXPECT_EQ(join_command(json{"echo", "it's", ""}), "echo 'it'\\''s' ''");
  EXPECT_EQ(join_command(json("nope")), "-");
}

TEST(ApiFormat, Durations) {
  EXPECT_EQ(format_duration_ms(0), "0s");
  EXPECT_EQ(format_duration_ms(-5), "0s");
  EXPECT_EQ(format_duration_ms(59999), "59s");
  EXPECT_EQ(format_duration_ms(312000), "5m12s");
  EXPECT_EQ(format_duration_ms(3 * 3600000 + 4 * 60000), "3h04m");
  EXPECT_EQ(format_duration_ms(2 * 86400000LL + 5 * 3600000LL), "2d05h");
}

TEST(ApiFormat, ExitStatus) {
  EXPECT_EQ(format_exit(json{{"code", 3}, {"signaled", false}, {"shell_code", 3}}), "exited 3");
  EXPECT_EQ(format_exit(json{{"code", 9}, {"signaled", true}, {"shell_code", 137}}),
            "killed by SIGKILL");
  EXPECT_EQ(format_exit(json()), "-");
}

TEST(ApiFormat, PsFromTheServersEncoding) {
  daemon::WorkloadInfo w;
  w.tenant = "alpha";
  w.name = "web";
  w.kind = daemon::WorkloadKind::kDeclared;
  w.state = "running";
  w.pid = 4242;
  w.command = {"/usr/bin/python3", "-m", "http.server"};
  w.restarts = 2;
  w.last_exit = isolation::ExitStatus{true, 15};
  w.started_unix_ms = 1000;
  daemon::WorkloadInfo r;
  r.tenant = "alpha";
  r.name = "run-1";
  r.kind = daemon::WorkloadKind::kAdhoc;
  r.state = "exited";
  r.command = {"true"};
  json result{{"workloads", {to_json(w), to_json(r)}}};
  std::string out = format_ps(result, 1000 + 65000);
  EXPECT_EQ(out,
            "TENANT  NAME   KIND      STATE    PID   RESTARTS  UPTIME  LAST EXIT          COMMAND\n"
            "alpha   web    declared  running  4242  2         1m05s   killed by SIGTERM  "
            "/usr/bin/python3 -m http.server\n"
            "alpha   run-1  adhoc     exited   -     0         -       -                  true\n");
}

TEST(ApiFormat, TenantsFromTheServersEncoding) {
  daemon::TenantInfo t;
  t.name = "alpha";
  t.profile_file = "/etc/bulkhead/tenants.d/alpha.yaml";
  t.id_base = 0x70000000;
  t.id_count = 65536;
  t.cgroup_path = "/sys/fs/cgroup/bulkhead/alpha";
  t.workloads_running = 1;
  t.network_mode = "isolated";
  t.ipv4 = "10.200.0.2";
  t.ipv6 = "fd00:b0b0::2";
  t.network_counters = {{"connect4", {{"allowed", 9}, {"denied", 2}}},
                        {"skb_ingress", {{"allowed", 40}, {"denied", 3}}}};
  daemon::TenantInfo b = t;
  b.name = "beta";
  b.network_mode = "none";
  b.ipv4.clear();
  b.ipv6.clear();
  b.network_counters = nlohmann::json::object();
  std::string out = format_tenants(json{{"tenants", {to_json(t), to_json(b)}}});
  EXPECT_EQ(out,
            "TENANT  IDS               RUNNING  NETWORK   ADDRESS                  NET DENIED  "
            "CGROUP                         PROFILE\n"
            "alpha   0x70000000+65536  1        isolated  10.200.0.2,fd00:b0b0::2  5           "
            "/sys/fs/cgroup/bulkhead/alpha  /etc/bulkhead/tenants.d/alpha.yaml\n"
            "beta    0x70000000+65536  1        none      -                        0           "
            "/sys/fs/cgroup/bulkhead/alpha  /etc/bulkhead/tenants.d/alpha.yaml\n");
}

TEST(ApiFormat, ToleratesMissingAndMistypedMembers) {
  EXPECT_NO_THROW({
    (void)format_ps(json{{"workloads", {json::object(), json(3), json{{"pid", "x"}}}}}, 0);
    (void)format_tenants(json{{"tenants", {json{{"ids", 5}}}}});
    (void)format_tenants(json::object());
    (void)format_status(json::array(), 0);
    (void)format_reload(json{{"added", {1, "b"}}});
  });
}

TEST(ApiFormat, StatusIndentsMultiLineValues) {
  daemon::AgentStatus s;
  s.version = "0.1.0";
  s.pid = 10;
  s.started_unix_ms = 0;
  s.kernel_features = "landlock: yes\nbpf lsm: no";
  s.tenants = 2;
  std::string out = format_status(to_json(s), 1);
  EXPECT_NE(out.find("api:               bulkhead.api/v1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("kernel features:   landlock: yes\n                   bpf lsm: no\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("uptime:            -\n"), std::string::npos) << out;
}

TEST(ApiFormat, Reload) {
  daemon::ReloadReport r;
  r.ok = true;
  r.added = {"a", "b"};
  r.unchanged = {"c"};
  EXPECT_EQ(format_reload(reload_result(r)),
            "added:             a, b\n"
            "removed:           -\n"
            "updated:           -\n"
            "unchanged:         c\n");
}

TEST(ApiFormat, ProfileErrorsOnePerLine) {
  std::vector<config::ProfileError> errors{
      {"/etc/bulkhead/a.yaml", 3, 5, "limits.memory.max", "not a size"},
      {"/etc/bulkhead/a.yaml", 0, 0, "", "plan failed"}};
  auto lines = format_error(profile_error("reload refused, nothing was changed", errors));
  ASSERT_EQ(lines.size(), 3U);
  EXPECT_EQ(lines[0], "reload refused, nothing was changed: 2 errors");
  EXPECT_EQ(lines[1], "/etc/bulkhead/a.yaml:3:5: limits.memory.max: not a size");
  EXPECT_EQ(lines[2], errors[1].to_string());
}

TEST(ApiFormat, OtherErrorsAreOneLine) {
  auto lines = format_error(ApiError::field("params.tenant", "missing"));
  EXPECT_EQ(lines, std::vector<std::string>{"params.tenant: missing"});
}

}  // namespace
}  // namespace bulkhead::api::ctl
