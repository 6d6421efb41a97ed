// ExecCounter against the real kernel: execs inside a tracked cgroup2 directory
// of the test's own are counted exactly; execs elsewhere are not.
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include "bpf/exec_counter.h"
#include "cgroup/layout.h"
#include "common/file_util.h"
#include "kernel_test_env.h"

namespace bulkhead::bpf {
namespace {

using namespace std::chrono_literals;

// The host's cgroup layout: cgroup2 wherever it is mounted, and the v1
// hierarchies of a hybrid host.
std::optional<cgroup::HostCgroups> host_cgroups() {
  auto host = cgroup::detect_host_cgroups();
  return host.ok() ? std::optional<cgroup::HostCgroups>(*host) : std::nullopt;
}

// A cgroup2 directory owned by the test: created empty, emptied (cgroup.kill)
// and removed in the destructor, also when an assertion failed half-way.
class TestCgroup {
 public:
  explicit TestCgroup(std::string path) : path_(std::move(path)) {
    if (::mkdir(path_.c_str(), 0755) == 0) {
      created_ = true;
    } else {
      error_ = errno_error("mkdir " + path_).to_string();
    }
  }
  ~TestCgroup() {
    if (!created_) {
      return;
    }
    // Only processes this test put there can be inside; cgroup.kill needs 5.14.
    (void)write_file(path_ + "/cgroup.kill", "1");
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (::rmdir(path_.c_str()) != 0 && errno == EBUSY &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
  }
  TestCgroup(const TestCgroup&) = delete;
  TestCgroup& operator=(const TestCgroup&) = delete;

  [[nodiscard]] bool ok() const { return created_; }
  [[nodiscard]] const std::string& error() const { return error_; }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string error_;
  bool created_ = false;
};

// Forks a child that joins `cgroup_dir` (unless empty) and then runs /bin/true
// `execs` times, each in a grandchild it reaps; the child itself never execs,
// so exactly `execs` execs happen in the cgroup. Waits at most 10 s.
Status run_true_in_cgroup(const std::string& cgroup_dir, int execs) {
  const std::string procs = cgroup_dir.empty() ? "" : cgroup_dir + "/cgroup.procs";
  pid_t child = ::fork();
  if (child < 0) {
    return errno_error("fork");
  }
  if (child == 0) {
    // Only async-signal-safe calls from here on.
    if (!procs.empty()) {
      int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || ::write(fd, "0", 1) != 1) {
        ::_exit(100);
      }
      ::close(fd);
    }
    for (int i = 0; i < execs; ++i) {
      pid_t p = ::fork();
      if (p < 0) {
        ::_exit(101);
      }
      if (p == 0) {
        ::execl("/bin/true", "true", static_cast<char*>(nullptr));
        ::_exit(127);
      }
      int st = 0;
      if (::waitpid(p, &st, 0) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        ::_exit(102);
      }
    }
    ::_exit(0);
  }
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  int st = 0;
  for (;;) {
    pid_t r = ::waitpid(child, &st, WNOHANG);
    if (r == child) {
      break;
    }
    if (r < 0 && errno != EINTR) {
      return errno_error("waitpid");
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(child, SIGKILL);
      ::waitpid(child, &st, 0);
      return make_error("exec child timed out");
    }
    std::this_thread::sleep_for(5ms);
  }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    return make_error("exec child failed, wait status " + std::to_string(st));
  }
  return {};
}

class BpfExecCounter : public ::testing::Test {
 protected:
  void SetUp() override {
    BULKHEAD_REQUIRE_ROOT();
    host_ = host_cgroups();
    BULKHEAD_REQUIRE(host_.has_value(), "no cgroup2 hierarchy mounted");
  }
  [[nodiscard]] std::string cgroup_path(const std::string& suffix) const {
    return host_->unified_mount + "/bulkhead-bpftest-" + std::to_string(::getpid()) + "-" + suffix;
  }

  std::optional<cgroup::HostCgroups> host_;
};

TEST_F(BpfExecCounter, CgroupIdIsTheDirectoryInode) {
  TestCgroup cg(cgroup_path("id"));
  ASSERT_TRUE(cg.ok()) << cg.error();
  auto id = cgroup2_id(cg.path());
  ASSERT_TRUE(id.ok()) << id.error().to_string();
  struct stat st {};
  ASSERT_EQ(::stat(cg.path().c_str(), &st), 0);
  EXPECT_EQ(*id, static_cast<uint64_t>(st.st_ino));

  // A directory that is not cgroup2 is refused with a clear error: a cgroup v1
  // hierarchy's where the host has one (hybrid), else any other filesystem's.
  std::string other = "/proc";
  if (!host_->v1_mounts.empty()) {
    other = host_->v1_mounts.begin()->second;
    struct statfs sfs {};
    ASSERT_EQ(::statfs(other.c_str(), &sfs), 0) << other;
    ASSERT_EQ(static_cast<unsigned long>(sfs.f_type), CGROUP_SUPER_MAGIC) << other;
  }
  ::bulkhead::testing::record_branch("refused: " + other);
  auto refused = cgroup2_id(other);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, EINVAL);
  EXPECT_NE(refused.error().message.find("not a cgroup2"), std::string::npos);
}

TEST_F(BpfExecCounter, CountsExactlyTheExecsOfTrackedCgroups) {
  TestCgroup tenant(cgroup_path("tenant"));
  ASSERT_TRUE(tenant.ok()) << tenant.error();
  TestCgroup idle(cgroup_path("idle"));
  ASSERT_TRUE(idle.ok()) << idle.error();
  auto tenant_id = cgroup2_id(tenant.path());
  auto idle_id = cgroup2_id(idle.path());
  ASSERT_TRUE(tenant_id.ok()) << tenant_id.error().to_string();
  ASSERT_TRUE(idle_id.ok()) << idle_id.error().to_string();

  auto created = ExecCounter::create();
  ASSERT_TRUE(created.ok()) << created.error().to_string();
  ExecCounter& counter = **created;

  auto untracked = counter.count(*tenant_id);
  ASSERT_FALSE(untracked.ok());
  EXPECT_EQ(untracked.error().code, ENOENT);

  ASSERT_TRUE(counter.track(*tenant_id).ok());
  ASSERT_TRUE(counter.track(*idle_id).ok());
  auto zero = counter.count(*tenant_id);
  ASSERT_TRUE(zero.ok()) << zero.error().to_string();
  EXPECT_EQ(*zero, 0u);

  constexpr int kExecs = 5;
  auto ran = run_true_in_cgroup(tenant.path(), kExecs);
  ASSERT_TRUE(ran.ok()) << ran.error().to_string();
  // Host execs (a child of the test in the test's own cgroup) are not counted.
  auto host = run_true_in_cgroup("", 3);
  ASSERT_TRUE(host.ok()) << host.error().to_string();

  auto counted = counter.count(*tenant_id);
  ASSERT_TRUE(counted.ok()) << counted.error().to_string();
  EXPECT_EQ(*counted, static_cast<uint64_t>(kExecs));
  auto idle_count = counter.count(*idle_id);
  ASSERT_TRUE(idle_count.ok()) << idle_count.error().to_string();
  EXPECT_EQ(*idle_count, 0u);

  // Tracking again keeps the count; untracking forgets it and is idempotent.
  ASSERT_TRUE(counter.track(*tenant_id).ok());
  EXPECT_EQ(*counter.count(*tenant_id), static_cast<uint64_t>(kExecs));
  ASSERT_TRUE(counter.untrack(*tenant_id).ok());
  ASSERT_TRUE(counter.untrack(*tenant_id).ok());
  EXPECT_FALSE(counter.count(*tenant_id).ok());
  ASSERT_TRUE(run_true_in_cgroup(tenant.path(), 2).ok());
  ASSERT_TRUE(counter.track(*tenant_id).ok());
  EXPECT_EQ(*counter.count(*tenant_id), 0u);
}

TEST_F(BpfExecCounter, TwoCountersRunSideBySide) {
  TestCgroup cg(cgroup_path("pair"));
  ASSERT_TRUE(cg.ok()) << cg.error();
  auto id = cgroup2_id(cg.path());
  ASSERT_TRUE(id.ok()) << id.error().to_string();
  auto a = ExecCounter::create();
  auto b = ExecCounter::create();
  ASSERT_TRUE(a.ok()) << a.error().to_string();
  ASSERT_TRUE(b.ok()) << b.error().to_string();
  ASSERT_TRUE((*a)->track(*id).ok());
  ASSERT_TRUE(run_true_in_cgroup(cg.path(), 2).ok());
  ASSERT_TRUE((*b)->track(*id).ok());
  ASSERT_TRUE(run_true_in_cgroup(cg.path(), 1).ok());
  EXPECT_EQ(*(*a)->count(*id), 3u);
  EXPECT_EQ(*(*b)->count(*id), 1u);
  a = make_error("destroyed");  // detaches a; b keeps counting
  ASSERT_TRUE(run_true_in_cgroup(cg.path(), 1).ok());
  EXPECT_EQ(*(*b)->count(*id), 2u);
}

}  // namespace
}  // namespace bulkhead::bpf
