// End to end for detection: the real bulkheadd with the shipped rules
// (--rules), fed synthetic events through its test hook, read back with the
// real bulkheadctl: alerts in `events --type alert` and in a file sink, a
// flood of denies throttled with the suppressed count, the counts in
// `status`, and a broken rules file on SIGHUP refused with file and line.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "api/client.h"
#include "cgroup_test_support.h"
#include "child_process.h"
#include "event_fifo_daemon.h"
#include "sandbox_fixture.h"

namespace bulkhead::api {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::milliseconds;
using testing::Output;

const std::string kSourceDir = BULKHEAD_SOURCE_DIR;

class DetectE2E : public testing::EventFifoDaemonTest {
 protected:
  void SetUp() override {
    EventFifoDaemonTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) {
      return;
    }
    rules_ = dir_.path() + "/rules";
    fs::create_directories(rules_);
    fs::copy_file(kSourceDir + "/profiles/rules.d/default.yaml", rules_ + "/default.yaml");
    write_profile("alpha", 0x5D000000U, 0);
    start_daemon({"--rules", rules_});
  }

  static json event(const std::string& type, const std::string& tenant, json fields) {
    json e{{"type", type},
           {"workload", "web"},
           {"process", {{"pid", 4242}, {"exe", "/usr/bin/unshare"}, {"comm", "unshare"}}},
           {"fields", std::move(fields)}};
    if (!tenant.empty()) {
      e["tenant"] = tenant;
    } else {
      e.erase("workload");
    }
    return e;
  }

  std::string rules_;
};

TEST_F(DetectE2E, AlertsReachCtlAndSinksAndDeniesAreThrottled) {
  std::vector<json> in;
  in.reserve(22);
  for (int i = 0; i < 20; ++i) {
    in.push_back(event("network.deny", "alpha",
                       {{"hook", "connect4"}, {"verdict", "denied"}, {"protocol", "tcp"}}));
  }
  in.push_back(event("system.mount", "alpha",
                     {{"syscall", "mount"}, {"result", -1}, {"error", "EPERM"}, {"target", "/x"}}));
  in.push_back(event("system.mount", "", {{"syscall", "mount"}, {"result", 0}, {"target", "/y"}}));
  publish(in);

  std::vector<json> alerts;
  ASSERT_TRUE(testing::wait_for([&] {
    alerts = json_lines(ctl({"--json", "events", "--type", "alert"}).out);
    return alerts.size() >= 6;
  })) << alerts.size();
  std::this_thread::sleep_for(milliseconds(200));  // for alerts that should not come
  alerts = json_lines(ctl({"--json", "events", "--type", "alert"}).out);
  ASSERT_EQ(alerts.size(), 6U);  // 5 denies (throttle 5 per 60s) and the tenant's mount
  int denies = 0;
  for (const json& a : alerts) {
    EXPECT_EQ(a["tenant"], "alpha");
    EXPECT_EQ(a["workload"], "web");
    EXPECT_EQ(a["process"]["exe"], "/usr/bin/unshare");
    if (a["fields"]["rule"] == "network-policy-deny") {
      ++denies;
      EXPECT_EQ(a["fields"]["suppressed"], 0);
      EXPECT_EQ(a["fields"]["trigger"]["fields"]["hook"], "connect4");
    } else {
      EXPECT_EQ(a["fields"]["rule"], "mount-attempt");
      EXPECT_EQ(a["fields"]["severity"], "high");
      EXPECT_EQ(a["fields"]["trigger"]["type"], "system.mount");
      EXPECT_EQ(a["fields"]["trigger"]["fields"]["error"], "EPERM");
    }
  }
  EXPECT_EQ(denies, 5);

  // Every sink gets them.
  ASSERT_TRUE(testing::wait_for([&] {
    std::ifstream f(sink_file());
    std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    return all.find("\"rule\":\"mount-attempt\"") != std::string::npos;
  }));

  Output st = ctl({"status"});
  ASSERT_EQ(st.code, 0) << st.err;
  EXPECT_NE(st.out.find("detection rules"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("16 from " + rules_), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("5 raised, 15 suppressed"), std::string::npos) << st.out;
  EXPECT_NE(st.out.find("1 raised, 0 suppressed"), std::string::npos) << st.out;
}

TEST_F(DetectE2E, ABrokenRulesFileOnSighupIsRefusedWithItsLine) {
  std::ofstream(rules_ + "/local.yaml")
      << "version: 1\nrules:\n  - name: x\n    description: d\n    severity: low\n"
         "    match: {type: proces.exec}\n";
  Output r = ctl({"reload"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("local.yaml:6"), std::string::npos) << r.err << r.out;
  ASSERT_EQ(::kill(daemon_->pid(), SIGHUP), 0);
  // Still running with the shipped rules, which still raise alerts.
  publish({event("system.bpf", "alpha", {{"command", "BPF_PROG_LOAD"}, {"result", -1}})});
  ASSERT_TRUE(testing::wait_for([&] {
    return ctl({"--json", "events", "--type", "alert"}).out.find("bpf-attempt") !=
           std::string::npos;
  }));
  EXPECT_FALSE(daemon_->exited());
  stop_daemon();
  EXPECT_NE(daemon_log_.err.find("reload refused: " + rules_ +
                                 "/local.yaml:6:19: "
                                 "rules[0].match.type: unknown event type \"proces.exec\""),
            std::string::npos)
      << daemon_log_.err;
}

}  // namespace
}  // namespace bulkhead::api
