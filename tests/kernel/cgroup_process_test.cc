// Kernel tests of agent/cgroup with processes: placement (attach, clone3 with
// CLONE_INTO_CGROUP), kill_all on a process tree, and the limits doing their job
// (pids.max stops a fork loop, the memory limit OOM-kills a hog). Root.
#include <linux/sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstring>

#include "cgroup_test_support.h"

namespace bulkhead::cgroup::testing {
namespace {

using CgroupProcessTest = CgroupKernelTest;

constexpr uint64_t kMiB = uint64_t{1024} * 1024;

[[noreturn]] void sleep_forever() {
  for (;;) {
    ::pause();
  }
}

// Where this pid sits, relative to the mount, in cgroup2 ("") or a v1 controller.
std::string rel(const std::string& mount, const std::string& path) {
  return path.substr(mount.size());
}

std::vector<pid_t> procs_of(const std::string& dir) {
  auto text = read_file(dir + "/cgroup.procs");
  if (!text) {
    return {};
  }
  auto pids = parse_pid_list(*text);
  return pids ? *pids : std::vector<pid_t>{};
}

// Makes this process the reaper of orphaned descendants for the test's duration,
// and reaps the listed ones at the end.
class Subreaper {
 public:
  Subreaper() { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }
  ~Subreaper() {
    for (pid_t p : reap_) {
      for (int i = 0; i < 200 && ::waitpid(p, nullptr, WNOHANG) == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  }
  void reap_later(const std::vector<pid_t>& pids) {
    reap_.insert(reap_.end(), pids.begin(), pids.end());
  }

 private:
  std::vector<pid_t> reap_;
};

TEST_F(CgroupProcessTest, AttachPlacesTheProcessInEveryHierarchy) {
  auto tree = CgroupTree::create(host_, name_);
  ASSERT_TRUE(tree.ok()) << tree.error().to_string();
  auto tenant = (*tree)->create_tenant("acme", config::Limits{});
  ASSERT_TRUE(tenant.ok()) << tenant.error().to_string();
  auto wl = (*tenant)->create_workload("web");
  ASSERT_TRUE(wl.ok()) << wl.error().to_string();

  Pipe go;
  Child child(spawn_after_go(go, [] { sleep_forever(); }));
  ASSERT_GT(child.pid(), 0);
  Status st = (*wl)->attach(child.pid());
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  release(go);

  const std::string want = "/" + name_ + "/acme/web";
  EXPECT_EQ(proc_cgroup_path(child.pid(), ""), want);
  if (hybrid()) {
    // In each v1 hierarchy of a limit controller the host mounts.
    for (const char* c : {"memory", "pids", "cpu"}) {
      if (!v1(c).empty()) {
        EXPECT_EQ(proc_cgroup_path(child.pid(), c), want) << c;
      }
    }
    EXPECT_NE(proc_cgroup_path(child.pid(), "freezer"), want);  // unused hierarchy
  }
  EXPECT_EQ(rel(host_.unified_mount, (*wl)->v2_path()), want);
  auto populated = (*wl)->populated();
  ASSERT_TRUE(populated.ok());
  EXPECT_TRUE(*populated);
  // The test itself stays where it was.
  EXPECT_NE(proc_cgroup_path(::getpid(), ""), want);

  ASSERT_TRUE((*wl)->kill_all().ok());
  int status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_TRUE(eventually([&] { return !*(*wl)->populated(); }));
}

TEST_F(CgroupProcessTest, CloneIntoCgroupPlacesTheChild) {
  auto tree = CgroupTree::create(host_, name_);
  ASSERT_TRUE(tree.ok()) << tree.error().to_string();
  auto tenant = (*tree)->create_tenant("acme", config::Limits{});
  ASSERT_TRUE(tenant.ok()) << tenant.error().to_string();
  auto wl = (*tenant)->create_workload("job");
  ASSERT_TRUE(wl.ok()) << wl.error().to_string();

  struct clone_args args {};
  args.flags = CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<uint64_t>((*wl)->v2_fd());
  long ret = ::syscall(SYS_clone3, &args, sizeof(args));
  if (ret == 0) {
    sleep_forever();
  }
  ASSERT_GT(ret, 0) << "clone3: " << strerror(errno);
  Child child(static_cast<pid_t>(ret));

  const std::string want = "/" + name_ + "/acme/job";
  EXPECT_EQ(proc_cgroup_path(child.pid(), ""), want);
  if (hybrid()) {
    // v1 has no CLONE_INTO_CGROUP: still where the parent is until attach_v1_only.
    for (const char* c : {"memory", "pids"}) {
      if (!v1(c).empty()) {
        EXPECT_EQ(proc_cgroup_path(child.pid(), c), proc_cgroup_path(::getpid(), c)) << c;
      }
    }
    Status st = (*wl)->attach_v1_only(child.pid());
    ASSERT_TRUE(st.ok()) << st.error().to_string();
    for (const char* c : {"memory", "pids"}) {
      if (!v1(c).empty()) {
        EXPECT_EQ(proc_cgroup_path(child.pid(), c), want) << c;
      }
    }
  }
  EXPECT_EQ(procs_of((*wl)->v2_path()), std::vector<pid_t>{child.pid()});
  // The destructor kills and removes; the child is then reaped here.
  const std::string path = (*wl)->v2_path();
  wl->reset();
  EXPECT_FALSE(exists(path));
  int status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
}

// A child that forks `n` children, each of which forks one more; one branch
// starts a new session. All sleep.
void process_tree(int n) {
  for (int i = 0; i < n; ++i) {
    pid_t p = ::fork();
    if (p == 0) {
      if (i == 0) {
        ::setsid();
      }
      if (::fork() >= 0) {
        sleep_forever();
      }
      sleep_forever();
    }
  }
  sleep_forever();
}

void kill_tree_test(const HostCgroups& host, const std::string& name, bool by_signal) {
  auto tree = CgroupTree::create(host, name);
  ASSERT_TRUE(tree.ok()) << tree.error().to_string();
  auto tenant = (*tree)->create_tenant("acme", config::Limits{});
  ASSERT_TRUE(tenant.ok()) << tenant.error().to_string();
  auto wl = (*tenant)->create_workload("tree");
  ASSERT_TRUE(wl.ok()) << wl.error().to_string();
  if (!by_signal) {
    // kill_all writes cgroup.kill (Linux 5.14+) and falls back to SIGKILL
    // rounds without it; either way the whole tree must die.
    ::bulkhead::testing::record_branch(exists((*wl)->v2_path() + "/cgroup.kill")
                                           ? "kill_all: cgroup.kill"
                                           : "kill_all: SIGKILL rounds (no cgroup.kill)");
  }
  Subreaper reaper;

  Pipe go;
  Child child(spawn_after_go(go, [] { process_tree(3); }));
  ASSERT_TRUE((*wl)->attach(child.pid()).ok());
  release(go);
  const std::string dir = (*wl)->v2_path();
  ASSERT_TRUE(eventually([&] { return procs_of(dir).size() == 7; })) << procs_of(dir).size();
  std::vector<pid_t> all = procs_of(dir);
  reaper.reap_later(all);

  Status st = by_signal ? (*wl)->kill_all_by_signal() : (*wl)->kill_all();
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_TRUE(eventually([&] { return !*(*wl)->populated(); }));
  EXPECT_TRUE(procs_of(dir).empty());
  for (const std::string& p : (*wl)->v1_paths()) {
    EXPECT_TRUE(procs_of(p).empty()) << p;
  }
  int status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  for (pid_t p : all) {
    // Gone or a zombie waiting for us: never running.
    std::string state = slurp("/proc/" + std::to_string(p) + "/stat");
    size_t close = state.rfind(')');
    if (close != std::string::npos && close + 2 < state.size()) {
      EXPECT_EQ(state[close + 2], 'Z') << p;
    }
  }
  if (by_signal) {
    EXPECT_EQ(slurp(dir + "/cgroup.freeze"), "0");  // thawed again
  }
}

TEST_F(CgroupProcessTest, KillAllKillsAProcessTree) { kill_tree_test(host_, name_, false); }

TEST_F(CgroupProcessTest, KillBySignalFallbackKillsAProcessTree) {
  kill_tree_test(host_, name_, true);
}

TEST_F(CgroupProcessTest, DestructorKillsWhatIsLeft) {
  auto tree = CgroupTree::create(host_, name_);
  ASSERT_TRUE(tree.ok()) << tree.error().to_string();
  auto tenant = (*tree)->create_tenant("acme", config::Limits{});
  ASSERT_TRUE(tenant.ok()) << tenant.error().to_string();
  auto wl = (*tenant)->create_workload("w");
  ASSERT_TRUE(wl.ok()) << wl.error().to_string();
  Subreaper reaper;
  Pipe go;
  Child child(spawn_after_go(go, [] { process_tree(2); }));
  ASSERT_TRUE((*wl)->attach(child.pid()).ok());
  release(go);
  const std::string dir = (*wl)->v2_path();
  std::vector<std::string> dirs = (*wl)->v1_paths();
  dirs.push_back(dir);
  ASSERT_TRUE(eventually([&] { return procs_of(dir).size() == 5; }));
  reaper.reap_later(procs_of(dir));
  const auto start = std::chrono::steady_clock::now();
  wl->reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  for (const auto& d : dirs) {
    EXPECT_FALSE(exists(d)) << d;
  }
  int status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
}

// The child forks sleepers until fork fails, each time a byte arrives on `cmd`,
// and reports (forks made, errno) on `result`.
struct ForkReport {
  int forks = 0;
  int error = 0;
};

void fork_loop_server(int cmd, int result) {
  char c = 0;
  while (::read(cmd, &c, 1) == 1) {
    ForkReport rep;
    for (int i = 0; i < 200; ++i) {  // bounded
      pid_t p = ::fork();
      if (p == 0) {
        sleep_forever();
      }
      if (p < 0) {
        rep.error = errno;
        break;
      }
      ++rep.forks;
    }
    if (::write(result, &rep, sizeof(rep)) != sizeof(rep)) {
      ::_exit(121);
    }
  }
  ::_exit(0);
}

ForkReport fork_round(Pipe& cmd, Pipe& result) {
  ForkReport rep{-1, -1};
  EXPECT_EQ(::write(cmd.w.get(), "f", 1), 1);
  EXPECT_EQ(::read(result.r.get(), &rep, sizeof(rep)), static_cast<ssize_t>(sizeof(rep)));
  return rep;
}

TEST_F(CgroupProcessTest, PidsMaxStopsAForkLoopAndUpdatesInPlace) {
  auto tree = CgroupTree::create(host_, name_);
  ASSERT_TRUE(tree.ok()) << tree.error().to_string();
  config::Limits l;
  l.pids_max = 4;
  auto tenant = (*tree)->create_tenant("acme", l);
  ASSERT_TRUE(tenant.ok()) << tenant.error().to_string();
  auto wl = (*tenant)->create_workload("forker");
  ASSERT_TRUE(wl.ok()) << wl.error().to_string();
  Subreaper reaper;

  Pipe go, cmd, result;
  const int cmd_r = cmd.r.get();
  const int result_w = result.w.get();
  Child child(spawn_after_go(go, [&] { fork_loop_server(cmd_r, result_w); }));
  ASSERT_TRUE((*wl)->attach(child.pid()).ok());
  release(go);

  // The limit is on the tenant; the workload inherits it. The child is 1 of 4.
  ForkReport first = fork_round(cmd, result);
  EXPECT_EQ(first.forks, 3);
  EXPECT_EQ(first.error, EAGAIN) << strerror(first.error);

  // Raised in place on the running tenant.
  l.pids_max = 10;
  Status st = (*tenant)->update_limits(l);
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  ForkReport second = fork_round(cmd, result);
  EXPECT_EQ(second.forks, 6);
  EXPECT_EQ(second.error, EAGAIN) << strerror(second.error);
  EXPECT_EQ(procs_of((*wl)->v2_path()).size(), 10u);

  reaper.reap_later(procs_of((*wl)->v2_path()));
  ASSERT_TRUE((*wl)->kill_all().ok());
  int status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
}

// Maps and touches up to 512 MiB, page by page; exits 3 if it survives.
[[noreturn]] void memory_hog() {
  const size_t size = 512 * kMiB;
  void* mem = ::mmap(nullptr, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (mem == MAP_FAILED) {
    ::_exit(2);
  }
  auto* bytes = static_cast<volatile char*>(mem);
  for (size_t off = 0; off < size; off += 4096) {
    bytes[off] = 1;
  }
  ::_exit(3);
}

TEST_F(CgroupProcessTest, MemoryHogIsOomKilledAtMemoryMax) {
  auto tree = CgroupTree::create(host_, name_);
  ASSERT_TRUE(tree.ok()) << tree.error().to_string();
  config::Limits l;
  l.memory_max = 32 * kMiB;
  l.memory_swap_max = 0;  // no escape into swap
  auto tenant = (*tree)->create_tenant("acme", l);
  if (swap_accounted(host_, (*tree)->v2_path())) {
    ::bulkhead::testing::record_branch("swap accounted: memory and swap capped");
  } else {
    // The host cannot cap swap: the swap limit is refused with the reason...
    ASSERT_FALSE(tenant.ok()) << "a swap limit was accepted on a host without swap accounting";
    EXPECT_NE(tenant.error().message.find("limits.memory.swap"), std::string::npos)
        << tenant.error().message;
    EXPECT_NE(tenant.error().message.find("no swap accounting"), std::string::npos)
        << tenant.error().message;
    // ...and the memory limit alone stops the hog only when there is no swap to escape into.
    BULKHEAD_REQUIRE(!swap_active(),
                     "swap is on but not accounted per cgroup: a hog can escape into swap");
    ::bulkhead::testing::record_branch("no swap accounting and no swap: memory capped");
    l.memory_swap_max.reset();
    tenant = (*tree)->create_tenant("acme", l);
  }
  ASSERT_TRUE(tenant.ok()) << tenant.error().to_string();
  auto wl = (*tenant)->create_workload("hog");
  ASSERT_TRUE(wl.ok()) << wl.error().to_string();

  Pipe go;
  Child child(spawn_after_go(go, [] { memory_hog(); }));
  ASSERT_TRUE((*wl)->attach(child.pid()).ok());
  release(go);
  int status = child.wait(std::chrono::seconds(30));
  ASSERT_TRUE(WIFSIGNALED(status)) << "hog was not killed, status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGKILL);

  // The kernel's own record of an OOM kill, counted where the victim was (v1 does
  // not propagate the count to parents); and the tenant's usage reached its limit.
  std::string events = slurp((*wl)->v2_path() + "/memory.events");
  for (const std::string& p : (*wl)->v1_paths()) {
    if (p.compare(0, v1("memory").size() + 1, v1("memory") + "/") == 0) {
      events = slurp(p + "/memory.oom_control");
      const std::string tenant_dir = p.substr(0, p.rfind('/'));
      const uint64_t peak = std::stoull(slurp(tenant_dir + "/memory.max_usage_in_bytes"));
      EXPECT_GE(peak, 28 * kMiB);
      EXPECT_LE(peak, 32 * kMiB);
    }
  }
  EXPECT_NE(events.find("oom_kill 1"), std::string::npos) << events;
  if (!hybrid()) {
    EXPECT_EQ(slurp((*tenant)->v2_path() + "/memory.events").find("max 0"), std::string::npos);
  }
  EXPECT_EQ(::kill(::getpid(), 0), 0);  // and we are still here
}

}  // namespace
}  // namespace bulkhead::cgroup::testing
