// The agent under a delegated cgroup (cgroup/placement.h), as systemd sets it
// up for a unit with Delegate=: a cgroup marked with trusted.delegate=1 that
// holds the agent process. The test makes such a cgroup itself (named like the
// fixture's tree), puts a forked child in it, and lets the child place itself.
// On a unified host (the VM matrix) the controllers part is real; on a hybrid
// host cgroup2 has no controllers, and the move and the refusals are checked.
#include <sys/xattr.h>

#include <cerrno>
#include <cstring>

#include "cgroup/limits.h"
#include "cgroup/placement.h"
#include "cgroup_test_support.h"

namespace bulkhead::cgroup::testing {
namespace {

class CgroupPlacementTest : public CgroupKernelTest {
 protected:
  void SetUp() override {
    CgroupKernelTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) {
      return;
    }
    unit_ = host_.unified_mount + "/" + name_;
    ASSERT_EQ(::mkdir(unit_.c_str(), 0755), 0) << unit_ << ": " << std::strerror(errno);
  }

  void TearDown() override {
    children_.clear();  // killed and reaped: the directories can go
    for (const std::string& d : {unit_ + "/" + std::string(kAgentLeaf), unit_}) {
      if (!unit_.empty() && exists(d)) {
        EXPECT_TRUE(eventually([&] { return ::rmdir(d.c_str()) == 0 || errno == ENOENT; }))
            << d << ": " << std::strerror(errno);
      }
    }
    CgroupKernelTest::TearDown();
  }

  void mark_delegated() {
    ASSERT_EQ(::setxattr(unit_.c_str(), "trusted.delegate", "1", 1, 0), 0)
        << "setxattr trusted.delegate on " << unit_ << ": " << std::strerror(errno);
  }

  enum class Then { kStay, kPlace, kLeaf };

  // A child that moves into the unit cgroup, then runs place_agent(mode)
  // (kPlace) or move_self_into_leaf(<unit>/agent) (kLeaf) and reports "ok ..."
  // or "error ..." on `out`; then it sleeps until the test ends.
  pid_t spawn(Then then, Pipe& out, ParentMode mode = ParentMode::kAuto) {
    pid_t pid = ::fork();
    if (pid == 0) {
      std::string msg = "moved";
      if (Status st = write_file(unit_ + "/cgroup.procs", std::to_string(::getpid())); !st) {
        msg = "cannot join " + unit_ + ": " + st.error().to_string();
      } else if (then == Then::kPlace) {
        auto p = place_agent(mode, host_);
        msg = p ? "ok " + std::string(p->delegated ? "delegated " : "root ") + p->v2_parent
                : "error " + p.error().to_string();
      } else if (then == Then::kLeaf) {
        Status moved = move_self_into_leaf(unit_ + "/" + std::string(kAgentLeaf));
        msg = moved ? "ok" : "error " + moved.error().to_string();
      }
      msg += "\n";
      (void)!::write(out.w.get(), msg.data(), msg.size());
      for (;;) {
        ::pause();
      }
    }
    children_.push_back(std::make_unique<Child>(pid));
    return pid;
  }

  static std::string read_line(Pipe& p) {
    std::string line;
    char c = 0;
    while (::read(p.r.get(), &c, 1) == 1 && c != '\n') {
      line += c;
    }
    return line;
  }

  std::string unit_;
  std::vector<std::unique_ptr<Child>> children_;
};

// What the agent does under systemd on a unified host.
TEST_F(CgroupPlacementTest, TheAgentMovesIntoALeafAndTheTreeGoesBesideIt) {
  mark_delegated();
  Pipe out;
  pid_t pid = spawn(Then::kPlace, out);
  if (hybrid()) {
    // Hybrid hosts keep the tree at the roots, delegated or not.
    ::bulkhead::testing::record_branch("hybrid: the tree stays at the roots");
    ASSERT_EQ(read_line(out), "ok root " + host_.unified_mount);
    EXPECT_EQ(proc_cgroup_path(pid, ""), "/" + name_);
    return;
  }
  ::bulkhead::testing::record_branch(
      "unified: the agent moves into a leaf of its delegated cgroup");
  ASSERT_EQ(read_line(out), "ok delegated " + unit_);

  // The child now lives in <unit>/agent, and nothing in the unit cgroup itself.
  EXPECT_EQ(proc_cgroup_path(pid, ""), "/" + name_ + "/" + std::string(kAgentLeaf));
  EXPECT_EQ(slurp(unit_ + "/cgroup.procs"), "");
  // Every limit controller the unit was given is enabled for its children.
  std::set<std::string> offered = parse_controller_list(slurp(unit_ + "/cgroup.controllers"));
  std::set<std::string> enabled = parse_controller_list(slurp(unit_ + "/cgroup.subtree_control"));
  EXPECT_EQ(offered.count("pids"), 1U) << "the root offers no pids controller to " << unit_;
  for (std::string_view c : kLimitControllers) {
    if (offered.count(std::string(c)) != 0) {
      EXPECT_EQ(enabled.count(std::string(c)), 1U) << c << " not enabled in " << unit_;
    }
  }

  // A tree created there carries the limits.
  auto tree = CgroupTree::create(host_, name_, unit_);
  ASSERT_TRUE(tree.ok()) << tree.error().to_string();
  EXPECT_EQ((*tree)->v2_path(), unit_ + "/" + name_);
  config::Limits limits;
  limits.pids_max = 42;
  auto tenant = (*tree)->create_tenant("t", limits);
  ASSERT_TRUE(tenant.ok()) << tenant.error().to_string();
  EXPECT_EQ((*tenant)->v2_path(), unit_ + "/" + name_ + "/t");
  EXPECT_EQ(slurp((*tenant)->v2_path() + "/pids.max"), "42");
}

// The move itself, on any cgroup2 hierarchy.
TEST_F(CgroupPlacementTest, MoveIntoLeafEmptiesTheParent) {
  Pipe out;
  pid_t pid = spawn(Then::kLeaf, out);
  ASSERT_EQ(read_line(out), "ok");
  EXPECT_EQ(proc_cgroup_path(pid, ""), "/" + name_ + "/" + std::string(kAgentLeaf));
  EXPECT_EQ(slurp(unit_ + "/cgroup.procs"), "");
}

TEST_F(CgroupPlacementTest, AnUnmarkedCgroupIsLeftAloneInAutoMode) {
  Pipe out;
  pid_t pid = spawn(Then::kPlace, out);
  ASSERT_EQ(read_line(out), "ok root " + host_.unified_mount);
  EXPECT_EQ(proc_cgroup_path(pid, ""), "/" + name_);
  EXPECT_FALSE(exists(unit_ + "/" + std::string(kAgentLeaf)));
}

TEST_F(CgroupPlacementTest, AnotherProcessInTheParentIsAClearError) {
  Pipe first;
  spawn(Then::kStay, first);
  ASSERT_EQ(read_line(first), "moved");
  Pipe out;
  spawn(Then::kLeaf, out);
  std::string line = read_line(out);
  EXPECT_EQ(line.rfind("error ", 0), 0U) << line;
  EXPECT_NE(line.find("still live in " + unit_), std::string::npos) << line;
}

}  // namespace
}  // namespace bulkhead::cgroup::testing
