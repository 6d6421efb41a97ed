// Kernel tests of agent/cgroup without processes: the directories the tree,
// tenants and workloads make (and remove) in cgroup2 and in the v1 hierarchies,
// the limit files they write, and the refusals. Root; hybrid or unified host.
#include <fcntl.h>
#include <sys/stat.h>

#include <cstring>

#include "cgroup_test_support.h"
#include "common/scope_exit.h"

namespace bulkhead::cgroup::testing {
namespace {

using CgroupTreeTest = CgroupKernelTest;

constexpr uint64_t kMiB = uint64_t{1024} * 1024;
const char* const kV1Unlimited = "9223372036854771712";

// Where the file of a controller's limit lives for a tenant on this host.
std::string limit_file(const HostCgroups& host, const TenantCgroup& tenant,
                       const std::string& v1_controller, const std::string& file) {
  if (host.layout == Layout::kUnified) {
    return tenant.v2_path() + "/" + file;
  }
  const std::string mount = host.v1_mounts.at(v1_controller);
  for (const std::string& p : tenant.v1_paths()) {
    if (p.compare(0, mount.size() + 1, mount + "/") == 0) {
      return p + "/" + file;
    }
  }
  return "<no " + v1_controller + " dir>";
}

TEST_F(CgroupTreeTest, CreateAndDestroyLeavesNothingBehind) {
  std::vector<std::string> dirs;
  {
    auto tree = CgroupTree::create(host_, name_);
    ASSERT_TRUE(tree.ok()) << tree.error().to_string();
    EXPECT_EQ((*tree)->v2_path(), host_.unified_mount + "/" + name_);
    auto tenant = (*tree)->create_tenant("acme", config::Limits{});
    ASSERT_TRUE(tenant.ok()) << tenant.error().to_string();
    auto wl = (*tenant)->create_workload("web");
    ASSERT_TRUE(wl.ok()) << wl.error().to_string();

    dirs = {(*tree)->v2_path(), (*tenant)->v2_path(), (*wl)->v2_path()};
    for (const auto& v : {(*tree)->v1_paths(), (*tenant)->v1_paths(), (*wl)->v1_paths()}) {
      dirs.insert(dirs.end(), v.begin(), v.end());
    }
    EXPECT_EQ((*wl)->v2_path(), host_.unified_mount + "/" + name_ + "/acme/web");
    for (const auto& d : dirs) {
      EXPECT_TRUE(exists(d)) << d;
    }
    if (hybrid()) {
      // memory, pids, cpu (+ blkio at the tree root; not for a tenant without
      // io_weight), each in its v1 hierarchy where the host mounts one.
      for (const char* c : {"memory", "pids", "cpu"}) {
        if (!v1(c).empty()) {
          EXPECT_TRUE(exists(v1(c) + "/" + name_ + "/acme/web")) << c;
        }
      }
      if (!v1("blkio").empty()) {
        EXPECT_TRUE(exists(v1("blkio") + "/" + name_));
        EXPECT_FALSE(exists(v1("blkio") + "/" + name_ + "/acme"));
      }
      EXPECT_FALSE(exists(v1("freezer") + "/" + name_));  // unused hierarchies are left alone
      EXPECT_FALSE(exists(v1("cpuset") + "/" + name_));
      if (!v1("memory").empty()) {
        EXPECT_EQ(slurp(v1("memory") + "/" + name_ + "/memory.use_hierarchy"), "1");
      }
    } else {
      EXPECT_TRUE((*tenant)->v1_paths().empty());
    }
    EXPECT_GT((*wl)->v2_id(), 0u);
    EXPECT_NE((*wl)->v2_id(), (*tenant)->v2_id());
    EXPECT_GE((*wl)->v2_fd(), 0);
    auto populated = (*wl)->populated();
    ASSERT_TRUE(populated.ok());
    EXPECT_FALSE(*populated);
  }
  ASSERT_FALSE(dirs.empty());
  for (const auto& d : dirs) {
    EXPECT_FALSE(exists(d)) << d;
  }
}

TEST_F(CgroupTreeTest, ParentsStayWhileChildrenLive) {
  auto tree = CgroupTree::create(host_, name_);
  ASSERT_TRUE(tree.ok()) << tree.error().to_string();
  auto tenant = (*tree)->create_tenant("acme", config::Limits{});
  ASSERT_TRUE(tenant.ok()) << tenant.error().to_string();
  auto wl = (*tenant)->create_workload("job");
  ASSERT_TRUE(wl.ok()) << wl.error().to_string();
  const std::string tree_path = (*tree)->v2_path();
  const std::string tenant_path = (*tenant)->v2_path();

  tree->reset();  // the tenant keeps the tree's directories
  EXPECT_TRUE(exists(tree_path));
  tenant->reset();  // the workload keeps the tenant's directories
  EXPECT_TRUE(exists(tenant_path));
  auto populated = (*wl)->populated();
  EXPECT_TRUE(populated.ok());
  wl->reset();  // last one: everything goes
  EXPECT_FALSE(exists(tenant_path));
  EXPECT_FALSE(exists(tree_path));
}

TEST_F(CgroupTreeTest, LimitsAreWritten) {
  auto tree = CgroupTree::create(host_, name_);
  ASSERT_TRUE(tree.ok()) << tree.error().to_string();
  const bool memsw = !hybrid() || exists(v1("memory") + "/memory.memsw.limit_in_bytes");
  config::Limits l;
  l.memory_max = 64 * kMiB;
  l.memory_high = 48 * kMiB;
  if (memsw) {
    l.memory_swap_max = 16 * kMiB;
  }
  l.pids_max = 10;
  l.cpu.quota_us = 20000;
  l.cpu.weight = 50;
  // io limits depend on the host's I/O scheduler: cgroup_io_test.cc.
  auto tenant = (*tree)->create_tenant("acme", l);
  ASSERT_TRUE(tenant.ok()) << tenant.error().to_string();
  const TenantCgroup& t = **tenant;
  auto f = [&](const char* c, const char* file) { return slurp(limit_file(host_, t, c, file)); };
  if (hybrid()) {
    EXPECT_EQ(f("memory", "memory.limit_in_bytes"), std::to_string(64 * kMiB));
    EXPECT_EQ(f("memory", "memory.soft_limit_in_bytes"), std::to_string(48 * kMiB));
    if (memsw) {
      EXPECT_EQ(f("memory", "memory.memsw.limit_in_bytes"), std::to_string(80 * kMiB));
    }
    EXPECT_EQ(f("pids", "pids.max"), "10");
    EXPECT_EQ(f("cpu", "cpu.cfs_period_us"), "100000");
    EXPECT_EQ(f("cpu", "cpu.cfs_quota_us"), "20000");
    EXPECT_EQ(f("cpu", "cpu.shares"), "512");
    ASSERT_EQ(t.v1_paths().size(), 3u);  // memory, pids, cpu: no blkio without an io limit
  } else {
    EXPECT_EQ(f("", "memory.max"), std::to_string(64 * kMiB));
    EXPECT_EQ(f("", "memory.high"), std::to_string(48 * kMiB));
    EXPECT_EQ(f("", "memory.swap.max"), std::to_string(16 * kMiB));
    EXPECT_EQ(f("", "pids.max"), "10");
    EXPECT_EQ(f("", "cpu.max"), "20000 100000");
    EXPECT_EQ(f("", "cpu.weight"), "50");
    // Per-workload accounting below the tenant.
    auto sub = read_file(t.v2_path() + "/cgroup.subtree_control");
    ASSERT_TRUE(sub.ok());
    EXPECT_NE(sub->find("memory"), std::string::npos);
    EXPECT_NE(sub->find("pids"), std::string::npos);
  }
}

TEST_F(CgroupTreeTest, UpdateLimitsInPlaceAndReset) {
  auto tree = CgroupTree::create(host_, name_);
  ASSERT_TRUE(tree.ok()) << tree.error().to_string();
  const bool memsw = swap_accounted(host_, (*tree)->v2_path());
  ::bulkhead::testing::record_branch(memsw ? "swap accounted: swap limits are updated too"
                                           : "no swap accounting: a swap limit is refused");
  config::Limits l;
  l.memory_max = 64 * kMiB;
  if (memsw) {
    l.memory_swap_max = 16 * kMiB;
  }
  l.pids_max = 10;
  l.cpu.quota_us = 20000;
  auto tenant = (*tree)->create_tenant("acme", l);
  ASSERT_TRUE(tenant.ok()) << tenant.error().to_string();
  auto wl = (*tenant)->create_workload("w");  // a live child cgroup does not get in the way
  ASSERT_TRUE(wl.ok());
  TenantCgroup& t = **tenant;
  const char* mem_file = hybrid() ? "memory.limit_in_bytes" : "memory.max";
  const char* swap_file = hybrid() ? "memory.memsw.limit_in_bytes" : "memory.swap.max";
  auto f = [&](const char* c, const char* file) { return slurp(limit_file(host_, t, c, file)); };

  // Raise memory above the current memsw (v1: memsw must be written first).
  l.memory_max = 256 * kMiB;
  if (memsw) {
    l.memory_swap_max = 0;
  }
  l.pids_max = 20;
  l.cpu.quota_us = 50000;
  l.cpu.period_us = 200000;
  l.cpu.weight = 200;
  Status st = t.update_limits(l);
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(f("memory", mem_file), std::to_string(256 * kMiB));
  if (memsw) {
    EXPECT_EQ(f("memory", swap_file), hybrid() ? std::to_string(256 * kMiB) : "0");
  }
  EXPECT_EQ(f("pids", "pids.max"), "20");
  if (hybrid()) {
    EXPECT_EQ(f("cpu", "cpu.cfs_quota_us"), "50000");
    EXPECT_EQ(f("cpu", "cpu.cfs_period_us"), "200000");
    EXPECT_EQ(f("cpu", "cpu.shares"), "2048");
  } else {
    EXPECT_EQ(f("cpu", "cpu.max"), "50000 200000");
    EXPECT_EQ(f("cpu", "cpu.weight"), "200");
  }

  // Lower both (v1: memory first).
  l.memory_max = 32 * kMiB;
  if (memsw) {
    l.memory_swap_max = 8 * kMiB;
  }
  st = t.update_limits(l);
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(f("memory", mem_file), std::to_string(32 * kMiB));
  if (memsw) {
    EXPECT_EQ(f("memory", swap_file), std::to_string((hybrid() ? 40 : 8) * kMiB));
  }

  // A profile without limits removes them all.
  st = t.update_limits(config::Limits{});
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  if (hybrid()) {
    EXPECT_EQ(f("memory", "memory.limit_in_bytes"), kV1Unlimited);
    EXPECT_EQ(f("memory", "memory.soft_limit_in_bytes"), kV1Unlimited);
    if (memsw) {
      EXPECT_EQ(f("memory", "memory.memsw.limit_in_bytes"), kV1Unlimited);
    }
    EXPECT_EQ(f("pids", "pids.max"), "max");
    EXPECT_EQ(f("cpu", "cpu.cfs_quota_us"), "-1");
    EXPECT_EQ(f("cpu", "cpu.cfs_period_us"), "100000");
    EXPECT_EQ(f("cpu", "cpu.shares"), "1024");
  } else {
    for (const char* file : {"memory.max", "memory.high", "memory.swap.max", "pids.max"}) {
      EXPECT_EQ(f("", file), "max") << file;
    }
    EXPECT_EQ(f("", "cpu.max"), "max 100000");
    EXPECT_EQ(f("", "cpu.weight"), "100");
  }

  if (!memsw) {
    // A host that cannot limit swap refuses a profile asking for it, naming the
    // limit and why, and changes nothing (the memory limit stays unlimited).
    config::Limits swap = l;
    swap.memory_swap_max = 0;
    st = t.update_limits(swap);
    ASSERT_FALSE(st.ok()) << "a swap limit was accepted on a host without swap accounting";
    EXPECT_NE(st.error().message.find("limits.memory.swap"), std::string::npos)
        << st.error().message;
    EXPECT_NE(st.error().message.find("no swap accounting"), std::string::npos)
        << st.error().message;
    EXPECT_EQ(f("memory", mem_file), hybrid() ? kV1Unlimited : "max");
  }
}

TEST_F(CgroupTreeTest, ErrorsLeaveNothingBehind) {
  auto tree = CgroupTree::create(host_, name_);
  ASSERT_TRUE(tree.ok()) << tree.error().to_string();
  CgroupTree& tr = **tree;
  auto tenant_dirs_gone = [&](const std::string& t) {
    for (const std::string& p : tree_paths()) {
      if (exists(p + "/" + t)) {
        ADD_FAILURE() << "left " << p << "/" << t;
      }
    }
  };

  for (const char* bad : {"../x", "a/b", "Upper", "", ".."}) {
    EXPECT_FALSE(tr.create_tenant(bad, config::Limits{}).ok()) << bad;
  }
  EXPECT_FALSE(CgroupTree::create(host_, "../evil").ok());

  config::Limits bad_period;
  bad_period.cpu.quota_us = 5000;
  bad_period.cpu.period_us = 10;
  auto r = tr.create_tenant("t1", bad_period);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("limits.cpu.period"), std::string::npos) << r.error().message;
  tenant_dirs_gone("t1");

  if (hybrid()) {
    config::Limits swap_only;
    swap_only.memory_swap_max = kMiB;
    r = tr.create_tenant("t2", swap_only);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("limits.memory.swap"), std::string::npos);
    tenant_dirs_gone("t2");
  }

  // A value only the kernel refuses (every check before the first write passes):
  // the half-made tenant is removed again.
  config::Limits huge_quota;
  huge_quota.cpu.quota_us = uint64_t{1} << 60;  // above the kernel's max quota: EINVAL
  r = tr.create_tenant("t3", huge_quota);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("limits.cpu.quota"), std::string::npos) << r.error().message;
  tenant_dirs_gone("t3");

  // The same tenant twice while the first is alive.
  auto first = tr.create_tenant("dup", config::Limits{});
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  auto second = tr.create_tenant("dup", config::Limits{});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, EEXIST);
  EXPECT_TRUE(exists((*first)->v2_path()));

  // Workloads: bad names, duplicates.
  EXPECT_FALSE((*first)->create_workload("../../x").ok());
  EXPECT_FALSE((*first)->create_workload("cgroup.procs").ok());
  auto w1 = (*first)->create_workload("w");
  ASSERT_TRUE(w1.ok()) << w1.error().to_string();
  auto w2 = (*first)->create_workload("w");
  ASSERT_FALSE(w2.ok());
  EXPECT_EQ(w2.error().code, EEXIST);
  EXPECT_TRUE(exists((*w1)->v2_path()));

  if (hybrid()) {
    // io_weight cannot be added later on v1 (no blkio dir for this tenant).
    config::Limits io;
    io.io_weight = 200;
    Status st = (*first)->update_limits(io);
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().message.find("limits.io.weight"), std::string::npos) << st.error().message;
    EXPECT_NE(st.error().message.find("blkio"), std::string::npos) << st.error().message;
  }
}

TEST_F(CgroupTreeTest, StaleEmptyTenantIsReused) {
  auto tree = CgroupTree::create(host_, name_);
  ASSERT_TRUE(tree.ok()) << tree.error().to_string();
  // What a crashed agent leaves: the tenant with an old workload dir.
  std::vector<std::string> stale = {(*tree)->v2_path() + "/acme/old"};
  for (const std::string& p : (*tree)->v1_paths()) {
    stale.push_back(p + "/acme/old");
  }
  for (const std::string& p : stale) {
    ASSERT_TRUE(make_dirs(p, 0755).ok()) << p;
  }
  {
    auto tenant = (*tree)->create_tenant("acme", config::Limits{});
    ASSERT_TRUE(tenant.ok()) << tenant.error().to_string();
    for (const std::string& p : stale) {
      EXPECT_FALSE(exists(p)) << p;
    }
    auto wl = (*tenant)->create_workload("old");  // the name is free again
    EXPECT_TRUE(wl.ok());
  }
  for (const std::string& p : (*tree)->v1_paths()) {
    EXPECT_FALSE(exists(p + "/acme")) << p;
  }
  EXPECT_FALSE(exists((*tree)->v2_path() + "/acme"));
}

TEST_F(CgroupTreeTest, StaleTenantWithProcessesIsRefused) {
  auto tree = CgroupTree::create(host_, name_);
  ASSERT_TRUE(tree.ok()) << tree.error().to_string();
  const std::string stale = (*tree)->v2_path() + "/acme/old";
  ASSERT_TRUE(make_dirs(stale, 0755).ok());
  ScopeExit cleanup([&] {
    (void)write_file(stale + "/cgroup.kill", "1");
    eventually([&] { return ::rmdir(stale.c_str()) == 0; });
    ::rmdir(((*tree)->v2_path() + "/acme").c_str());
  });
  pid_t pid = ::fork();
  if (pid == 0) {
    for (;;) {
      ::pause();
    }
  }
  Child child(pid);
  ASSERT_TRUE(write_file(stale + "/cgroup.procs", std::to_string(pid)).ok());

  auto tenant = (*tree)->create_tenant("acme", config::Limits{});
  ASSERT_FALSE(tenant.ok());
  EXPECT_EQ(tenant.error().code, EBUSY) << tenant.error().to_string();
  EXPECT_TRUE(exists(stale));  // untouched
  EXPECT_EQ(::kill(pid, 0), 0);
  EXPECT_EQ(proc_cgroup_path(pid, ""), "/" + name_ + "/acme/old");
  for (const std::string& p : (*tree)->v1_paths()) {
    EXPECT_FALSE(exists(p + "/acme")) << p;
  }
}

// Right after an agent was killed its workloads are still dying: a stale
// tenant whose last process exits within the grace is reused, not refused.
TEST_F(CgroupTreeTest, StaleTenantWhoseProcessesAreDyingIsReused) {
  auto tree = CgroupTree::create(host_, name_);
  ASSERT_TRUE(tree.ok()) << tree.error().to_string();
  const std::string stale = (*tree)->v2_path() + "/acme/old";
  ASSERT_TRUE(make_dirs(stale, 0755).ok());
  ScopeExit cleanup([&] {
    (void)write_file(stale + "/cgroup.kill", "1");
    eventually([&] { return ::rmdir(stale.c_str()) == 0 || errno == ENOENT; });
    ::rmdir(((*tree)->v2_path() + "/acme").c_str());
  });
  // The child's 300 ms start once it is in the stale cgroup, so a slow parent
  // cannot find it gone before it was placed.
  Pipe go;
  pid_t pid = ::fork();
  if (pid == 0) {
    char c = 0;
    if (::read(go.r.get(), &c, 1) != 1) {
      ::_exit(1);
    }
    ::usleep(300 * 1000);
    ::_exit(0);
  }
  Child child(pid);
  ASSERT_TRUE(write_file(stale + "/cgroup.procs", std::to_string(pid)).ok());
  ASSERT_EQ(::write(go.w.get(), "g", 1), 1);

  auto tenant = (*tree)->create_tenant("acme", config::Limits{});
  ASSERT_TRUE(tenant.ok()) << tenant.error().to_string();
  EXPECT_FALSE(exists(stale));  // the stale child was removed on reuse
}

TEST_F(CgroupTreeTest, AdoptedTreeRootIsKept) {
  const std::string root = host_.unified_mount + "/" + name_;
  ASSERT_EQ(::mkdir(root.c_str(), 0755), 0);
  ScopeExit cleanup([&] { ::rmdir(root.c_str()); });
  {
    auto tree = CgroupTree::create(host_, name_);
    ASSERT_TRUE(tree.ok()) << tree.error().to_string();
    auto tenant = (*tree)->create_tenant("acme", config::Limits{});
    ASSERT_TRUE(tenant.ok()) << tenant.error().to_string();
  }
  EXPECT_TRUE(exists(root));  // not ours to remove
  EXPECT_FALSE(exists(root + "/acme"));
  for (const auto& [c, mount] : host_.v1_mounts) {
    EXPECT_FALSE(exists(mount + "/" + name_)) << c;  // these it created
  }
}

// A unified host whose cgroup2 lacks a controller a profile needs must refuse the
// profile (fail closed). On this hybrid host, cgroup2 offers none of memory, pids,
// cpu, io: pretend the layout is unified and check the refusals; on a unified host
// the same calls succeed.
TEST_F(CgroupTreeTest, UnifiedLayoutFailsClosedWithoutControllers) {
  HostCgroups unified{Layout::kUnified, host_.unified_mount, {}};
  auto offered = read_file(host_.unified_mount + "/cgroup.controllers");
  ASSERT_TRUE(offered.ok());
  const std::set<std::string> have = parse_controller_list(*offered);
  std::string listed;
  for (const char* c : {"memory", "pids", "cpu", "io"}) {
    listed += std::string(listed.empty() ? "" : ", ") + c +
              (have.count(c) != 0 ? " offered" : " refused");
  }
  ::bulkhead::testing::record_branch("cgroup2 root: " + listed);
  auto tree = CgroupTree::create(unified, name_);
  ASSERT_TRUE(tree.ok()) << tree.error().to_string();
  EXPECT_TRUE((*tree)->v1_paths().empty());

  struct Case {
    const char* controller;
    const char* limit;
    config::Limits limits;
  };
  std::vector<Case> cases(4);
  cases[0] = {"memory", "limits.memory.max", {}};
  cases[0].limits.memory_max = 64 * kMiB;
  cases[1] = {"pids", "limits.pids", {}};
  cases[1].limits.pids_max = 10;
  cases[2] = {"cpu", "limits.cpu.weight", {}};
  cases[2].limits.cpu.weight = 10;
  cases[3] = {"io", "limits.io.weight", {}};
  cases[3].limits.io_weight = 10;
  for (const Case& c : cases) {
    auto r = (*tree)->create_tenant("t", c.limits);
    if (have.count(c.controller) == 0) {
      ASSERT_FALSE(r.ok()) << c.limit;
      EXPECT_NE(r.error().message.find(c.limit), std::string::npos) << r.error().message;
      EXPECT_NE(r.error().message.find(std::string("'") + c.controller + "'"), std::string::npos)
          << r.error().message;
      EXPECT_FALSE(exists((*tree)->v2_path() + "/t"));
    } else if (std::string(c.controller) != "io") {  // io may lack weight files
      EXPECT_TRUE(r.ok()) << r.error().to_string();
    }
  }
  auto plain = (*tree)->create_tenant("t", config::Limits{});
  ASSERT_TRUE(plain.ok()) << plain.error().to_string();
  auto wl = (*plain)->create_workload("w");
  ASSERT_TRUE(wl.ok()) << wl.error().to_string();
  EXPECT_TRUE((*wl)->v1_paths().empty());
}

TEST_F(CgroupTreeTest, V2IdIsTheKernelCgroupId) {
  auto tree = CgroupTree::create(host_, name_);
  ASSERT_TRUE(tree.ok()) << tree.error().to_string();
  auto tenant = (*tree)->create_tenant("acme", config::Limits{});
  ASSERT_TRUE(tenant.ok());
  auto wl = (*tenant)->create_workload("w");
  ASSERT_TRUE(wl.ok());
  // The cgroup2 file handle is the 64-bit cgroup id (what BPF sees).
  struct {
    struct file_handle fh;
    unsigned char bytes[64];
  } h{};
  h.fh.handle_bytes = sizeof(h.bytes);
  int mount_id = 0;
  ASSERT_EQ(::name_to_handle_at(AT_FDCWD, (*wl)->v2_path().c_str(), &h.fh, &mount_id, 0), 0)
      << strerror(errno);
  ASSERT_EQ(h.fh.handle_bytes, 8u);
  uint64_t id = 0;
  memcpy(&id, h.fh.f_handle, sizeof(id));
  EXPECT_EQ((*wl)->v2_id(), id);
}

}  // namespace
}  // namespace bulkhead::cgroup::testing
