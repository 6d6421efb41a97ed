// The tenant sandbox observed from inside: what a workload can see and do.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cgroup_test_support.h"
#include "isolation/seccomp_default.h"
#include "sandbox_fixture.h"

namespace bulkhead::testing {
namespace {

namespace fs = std::filesystem;

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BULKHEAD_REQUIRE_ROOT();
    host_ = std::make_unique<SandboxHost>();
  }

  std::unique_ptr<isolation::Tenant> tenant(const std::string& name, const std::string& extra = "",
                                            const std::string& extra_ro = "") {
    auto t = host_->make_tenant(host_->profile_yaml(name, extra, extra_ro));
    EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().to_string());
    return t.ok() ? std::move(*t) : nullptr;
  }

  RunResult run(isolation::Tenant& t, std::vector<std::string> argv) {
    auto r = SandboxHost::run(t, std::move(argv));
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
    return r.ok() ? *r : RunResult{};
  }

  RunResult sh(isolation::Tenant& t, const std::string& script) {
    return run(t, {"/bin/sh", "-c", script});
  }

  std::unique_ptr<SandboxHost> host_;
};

TEST_F(SandboxTest, ExitCodesAndSignalsPropagate) {
  auto t = tenant("exits");
  ASSERT_TRUE(t);
  EXPECT_EQ(sh(*t, "exit 7").status.shell_code(), 7);
  EXPECT_EQ(sh(*t, "true").status.shell_code(), 0);
  auto killed = sh(*t, "kill -TERM $$; sleep 5");
  EXPECT_TRUE(killed.status.signaled);
  EXPECT_EQ(killed.status.code, SIGTERM);
  EXPECT_EQ(killed.status.shell_code(), 128 + SIGTERM);
}

TEST_F(SandboxTest, MissingCommandIsALaunchError) {
  auto t = tenant("nocmd");
  ASSERT_TRUE(t);
  auto r = SandboxHost::run(*t, {"/no/such/binary"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().to_string().find("executing the command"), std::string::npos)
      << r.error().to_string();
  EXPECT_EQ(r.error().code, ENOENT);
}

TEST_F(SandboxTest, IdentityInsideIsTenantRootMappedToItsHostRange) {
  auto t = tenant("ident");
  ASSERT_TRUE(t);
  auto r = sh(*t,
              "id -u; id -g; cat /proc/self/uid_map; hostname; grep -E "
              "'^(NoNewPrivs|Seccomp|CapEff|CapBnd|CapPrm):' /proc/self/status");
  ASSERT_EQ(r.status.shell_code(), 0) << r.out;
  std::istringstream in(r.out);
  std::string uid, gid, map_inside, map_host, map_count, hostname;
  in >> uid >> gid >> map_inside >> map_host >> map_count >> hostname;
  EXPECT_EQ(uid, "0");
  EXPECT_EQ(gid, "0");
  EXPECT_EQ(map_inside, "0");
  EXPECT_EQ(map_host, std::to_string(t->profile().ids->base));
  EXPECT_EQ(map_count, "65536");
  EXPECT_EQ(hostname, "ident");
  EXPECT_NE(r.out.find("NoNewPrivs:\t1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Seccomp:\t2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CapEff:\t0000000000000000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CapPrm:\t0000000000000000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CapBnd:\t0000000000000000"), std::string::npos) << r.out;
}

TEST_F(SandboxTest, SeesOnlyItsOwnPids) {
  auto t = tenant("pids");
  ASSERT_TRUE(t);
  auto r = sh(*t, "cd /proc && for p in [0-9]*; do echo $p; done");
  ASSERT_EQ(r.status.shell_code(), 0) << r.out;
  std::set<int> pids;
  std::istringstream in(r.out);
  for (int p; in >> p;) {
    pids.insert(p);
  }
  // init (1) and the shell (2); nothing of the host's hundreds of processes.
  EXPECT_EQ(pids, (std::set<int>{1, 2})) << r.out;
}

TEST_F(SandboxTest, NothingOutsideTheGrantedViewIsVisible) {
  auto t = tenant("view");
  ASSERT_TRUE(t);
  auto r = sh(*t, "ls -A /; ls /etc /root /home /var /sys 2>&1 | wc -l");
  ASSERT_EQ(r.status.shell_code(), 0) << r.out;
  std::istringstream in(r.out);
  std::set<std::string> entries;
  std::string line;
  std::string last;
  while (std::getline(in, line)) {
    entries.insert(line);
    last = line;
  }
  entries.erase(last);
  EXPECT_EQ(entries, (std::set<std::string>{"bin", "data", "dev", "helpers", "lib", "lib64", "proc",
                                            "sbin", "tmp", "usr"}))
      << r.out;
  // Each of the five missing directories produced one "No such file" line.
  EXPECT_EQ(last, "5") << r.out;
}

TEST_F(SandboxTest, TenantRootCannotReadHostRootFilesOrWriteKernelSettings) {
  TempDir shared;
  std::string secret = shared.path() + "/secret";
  { std::ofstream(secret) << "host secret\n"; }
  ::chmod(secret.c_str(), 0600);
  auto t = tenant("rootless", "", "    - {source: " + shared.path() + ", target: /shared}\n");
  ASSERT_TRUE(t);
  auto read = sh(*t, "cat /shared/secret");
  EXPECT_NE(read.status.shell_code(), 0);
  EXPECT_NE(read.out.find("Permission denied"), std::string::npos) << read.out;
  EXPECT_EQ(read.out.find("host secret"), std::string::npos);

  auto core = sh(*t, "echo '|/tmp/x' > /proc/sys/kernel/core_pattern");
  EXPECT_NE(core.status.shell_code(), 0) << core.out;
  std::ifstream pattern("/proc/sys/kernel/core_pattern");
  std::string value;
  std::getline(pattern, value);
  EXPECT_NE(value, "|/tmp/x");

  auto write_ro = sh(*t, "touch /usr/bulkhead-test");
  EXPECT_NE(write_ro.status.shell_code(), 0);
  EXPECT_FALSE(fs::exists("/usr/bulkhead-test"));
}

TEST_F(SandboxTest, DefaultSeccompProfileBlocksEachDangerousSyscall) {
  auto t = tenant("seccomp");
  ASSERT_TRUE(t);
  for (const auto& name : isolation::default_denied_syscalls()) {
    auto r = run(*t, {"/helpers/syscall_probe", name});
    EXPECT_EQ(r.status.shell_code(), 0) << name << ": " << r.out;
  }
}

TEST_F(SandboxTest, ImportedOciSeccompProfileBehavesAsWritten) {
  TempDir dir;
  std::string json = dir.path() + "/deny-mkdir.json";
  std::ofstream(json) << R"({
    "defaultAction": "SCMP_ACT_ALLOW",
    "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [
      {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}
    ]
  })";
  auto t = tenant("oci", "seccomp:\n  profile: " + json + "\n");
  ASSERT_TRUE(t);
  auto denied = sh(*t, "mkdir /tmp/a");
  EXPECT_NE(denied.status.shell_code(), 0);
  EXPECT_NE(denied.out.find("Permission denied"), std::string::npos) << denied.out;
  auto allowed = sh(*t, "touch /tmp/b && ls /tmp");
  EXPECT_EQ(allowed.status.shell_code(), 0) << allowed.out;
}

TEST_F(SandboxTest, TwoTenantsCannotSeeEachOthersFiles) {
  auto a = tenant("tenant-a");
  ASSERT_TRUE(a);
  ASSERT_EQ(sh(*a, "echo a-secret > /data/secret").status.shell_code(), 0);
  std::string a_data = host_->work_dir() + "/data/tenant-a";
  // Even an operator mistake that binds A's data into B is held by the uid boundary.
  auto b = tenant("tenant-b", "", "    - {source: " + a_data + ", target: /a-data}\n");
  ASSERT_TRUE(b);
  auto r = sh(*b, "cat /a-data/secret; ls /a-data");
  EXPECT_NE(r.status.shell_code(), 0);
  EXPECT_EQ(r.out.find("a-secret"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Permission denied"), std::string::npos) << r.out;
  // And B's own view has no trace of A.
  auto own = sh(*b, "ls -A /data");
  EXPECT_EQ(own.out, "") << own.out;
}

TEST_F(SandboxTest, ForkBombStopsAtThePidsLimitWhileOthersCarryOn) {
  auto bomb = tenant("bomb", "limits:\n  pids: 32\n");
  auto other = tenant("calm");
  ASSERT_TRUE(bomb && other);
  auto r = run(*bomb, {"/helpers/fork_until_fail", "1000"});
  // It reports how many children it got before fork failed with EAGAIN.
  ASSERT_EQ(r.status.shell_code(), 0) << r.out;
  int got = std::stoi(r.out);
  EXPECT_GT(got, 0);
  EXPECT_LT(got, 32);
  EXPECT_EQ(sh(*other, "true").status.shell_code(), 0);
}

TEST_F(SandboxTest, MemoryHogIsKilledAtTheMemoryLimit) {
  std::unique_ptr<isolation::Tenant> hog;
  if (cgroup::testing::swap_accounted(host_->host(), host_->tree().v2_path())) {
    record_branch("swap accounted: memory and swap capped");
    hog = tenant("hog", "limits:\n  memory: {max: 64Mi, swap: 0}\n");
  } else {
    // The host cannot cap swap: a profile asking for it is refused with the reason...
    auto refused =
        host_->make_tenant(host_->profile_yaml("hog", "limits:\n  memory: {max: 64Mi, swap: 0}\n"));
    ASSERT_FALSE(refused.ok()) << "a swap limit was accepted on a host without swap accounting";
    EXPECT_NE(refused.error().to_string().find("no swap accounting"), std::string::npos)
        << refused.error().to_string();
    // ...and the memory limit alone stops the hog only when there is no swap to escape into.
    BULKHEAD_REQUIRE(!cgroup::testing::swap_active(),
                     "swap is on but not accounted per cgroup: a hog can escape into swap");
    record_branch("no swap accounting and no swap: memory capped");
    hog = tenant("hog", "limits:\n  memory: {max: 64Mi}\n");
  }
  auto other = tenant("light");
  ASSERT_TRUE(hog && other);
  auto r = run(*hog, {"/helpers/memory_hog", "1024"});
  EXPECT_TRUE(r.status.signaled) << r.out;
  EXPECT_EQ(r.status.code, SIGKILL);
  EXPECT_EQ(sh(*other, "true").status.shell_code(), 0);
}

TEST_F(SandboxTest, LeavesNoCgroupMountOrFdBehind) {
  auto count_fds = [] {
    int n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) {
      ++n;
    }
    return n;
  };
  auto read_mounts = [] {
    std::ifstream in("/proc/self/mountinfo");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  int fds_before = count_fds();
  std::string mounts_before = read_mounts();
  {
    auto t = tenant("clean");
    ASSERT_TRUE(t);
    EXPECT_EQ(sh(*t, "sleep 0.1 & true").status.shell_code(), 0);
    EXPECT_TRUE(fs::exists(host_->host().unified_mount + "/" + host_->tree_name() + "/clean"));
  }
  EXPECT_FALSE(fs::exists(host_->host().unified_mount + "/" + host_->tree_name() + "/clean"));
  for (const auto& [controller, mount] : host_->host().v1_mounts) {
    EXPECT_FALSE(fs::exists(mount + "/" + host_->tree_name() + "/clean")) << controller;
  }
  EXPECT_EQ(count_fds(), fds_before);
  EXPECT_EQ(read_mounts(), mounts_before);
}

}  // namespace
}  // namespace bulkhead::testing
