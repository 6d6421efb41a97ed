// The example tenants in profiles/ start on this host: the real bulkheadd is
// run on that directory with the shipped rules (own socket, state dir, cgroup
// name and bridge), and every tenant it declares must be up with each declared
// workload running and not restarting. The README's quick start runs the same
// profiles, so a profile that asks for something a supported host lacks (an
// io weight on a host without BFQ, say) fails here, on the host where it
// happens, instead of in a newcomer's first command.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "api/client.h"
#include "child_process.h"
#include "config/profile_loader.h"
#include "kernel_test_env.h"
#include "sandbox_fixture.h"

namespace bulkhead::api {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;

using testing::build_binary;
using testing::Output;
using testing::Proc;

const std::string kExamples = std::string(BULKHEAD_SOURCE_DIR) + "/profiles";

class ExampleProfiles : public ::testing::Test {
 protected:
  void SetUp() override {
    BULKHEAD_REQUIRE_ROOT();
    daemon_bin_ = build_binary("bulkheadd");
    BULKHEAD_REQUIRE(::access(daemon_bin_.c_str(), X_OK) == 0,
                     "bulkheadd not built: " + daemon_bin_);
    auto loaded = config::load_profile_dir(kExamples);
    ASSERT_TRUE(loaded.ok()) << "the example profiles do not load: "
                             << (loaded.errors.empty() ? "" : loaded.errors[0].to_string());
    examples_ = loaded.profiles;
    ASSERT_FALSE(examples_.empty());
    // Data directories the examples name: removed afterwards unless they were
    // there before (a real agent's, or the demo's).
    for (const auto& p : examples_) {
      const std::string& d = p.filesystem.data.host_path;
      if (!d.empty() && !fs::exists(d)) {
        created_data_dirs_.push_back(d);
      }
    }
    cgroup_name_ = "bulkhead-examples-" + std::to_string(::getpid());
    bridge_ = "bhx" + std::to_string(::getpid() % 100000);
    socket_ = dir_.path() + "/api.sock";
    fs::create_directories(dir_.path() + "/state");
    ::chmod((dir_.path() + "/state").c_str(), 0755);
    std::ofstream(dir_.path() + "/bulkheadd.conf") << "# every option is on the command line\n";
  }

  void TearDown() override {
    if (daemon_) {
      // A clean stop: the agent removes its cgroups, pins, veths and bridge itself.
      ::kill(daemon_->pid(), SIGTERM);
      Output o = daemon_->finish(milliseconds(15000));
      if (HasFailure() || o.timed_out) {
        std::cerr << "---- bulkheadd log ----\n" << o.err << o.out << "-----------------------\n";
      }
      EXPECT_FALSE(o.timed_out) << "bulkheadd did not stop within 15 s";
    }
    EXPECT_FALSE(fs::exists("/sys/fs/bpf/" + cgroup_name_)) << "pins left behind";
    EXPECT_FALSE(fs::exists("/sys/class/net/" + bridge_)) << "bridge left behind";
    for (const std::string& d : created_data_dirs_) {
      std::error_code ec;
      fs::remove_all(d, ec);
    }
  }

  void start_daemon() {
    daemon_ = std::make_unique<Proc>(std::vector<std::string>{
        daemon_bin_, "--config", dir_.path() + "/bulkheadd.conf", "--profiles", kExamples,
        "--rules", kExamples + "/rules.d", "--state-dir", dir_.path() + "/state", "--socket",
        socket_, "--cgroup-name", cgroup_name_, "--bridge", bridge_, "--stop-grace", "2s"});
  }

  Result<json> call(Method m, const json& params = json::object()) {
    auto c = Client::connect(socket_);
    if (!c.ok()) {
      return c.error();
    }
    auto r = (*c)->call(m, params, {}, milliseconds(2000));
    if (!r.ok()) {
      return r.error();
    }
    if (!r->result) {
      return make_error("error reply: " + (r->error ? r->error->message : std::string("?")));
    }
    return *r->result;
  }

  testing::TempDir dir_;
  std::string daemon_bin_;
  std::string cgroup_name_;
  std::string bridge_;
  std::string socket_;
  std::vector<config::Profile> examples_;
  std::vector<std::string> created_data_dirs_;
  std::unique_ptr<Proc> daemon_;
};

TEST_F(ExampleProfiles, EveryExampleTenantRuns) {
  start_daemon();
  bool up = testing::wait_for([&] { return daemon_->exited() || call(Method::kStatus).ok(); });
  ASSERT_TRUE(up) << "bulkheadd did not answer within the bound";
  ASSERT_FALSE(daemon_->exited()) << "bulkheadd exited at start on the example profiles";

  auto tenants = call(Method::kTenants);
  ASSERT_TRUE(tenants.ok()) << tenants.error().to_string();
  std::set<std::string> listed;
  for (const auto& t : (*tenants)["tenants"]) {
    listed.insert(t["name"].get<std::string>());
  }
  for (const auto& p : examples_) {
    EXPECT_EQ(listed.count(p.name), 1u) << "example tenant " << p.name << " is not running";
  }

  // Every declared workload runs, and still runs without a restart a moment
  // later (a workload that crashes at once would be in backoff or restarted).
  auto state_of = [&](const std::string& tenant) {
    std::map<std::string, std::pair<std::string, int>> out;  // name -> (state, restarts)
    auto ps = call(Method::kPs, json{{"tenant", tenant}});
    if (ps.ok()) {
      for (const auto& w : (*ps)["workloads"]) {
        out[w["name"].get<std::string>()] = {w["state"].get<std::string>(),
                                             w["restarts"].get<int>()};
      }
    }
    return out;
  };
  for (const auto& p : examples_) {
    ASSERT_FALSE(p.workloads.empty()) << p.name << " declares no workload to check";
    EXPECT_TRUE(testing::wait_for([&] {
      auto s = state_of(p.name);
      for (const auto& w : p.workloads) {
        if (s[w.name].first != "running") {
          return false;
        }
      }
      return true;
    })) << "not every workload of "
        << p.name << " reached running";
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  for (const auto& p : examples_) {
    auto s = state_of(p.name);
    for (const auto& w : p.workloads) {
      EXPECT_EQ(s[w.name].first, "running") << p.name << "/" << w.name;
      EXPECT_EQ(s[w.name].second, 0) << p.name << "/" << w.name << " restarted";
    }
  }
  ASSERT_FALSE(daemon_->exited());
}

}  // namespace
}  // namespace bulkhead::api
