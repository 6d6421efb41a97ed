// Skeleton<S> with the real exec_count skeleton: the staged order, autoload
// switches, and errors that carry errno and the step.
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "bpf/exec_counter.h"
#include "bpf/skeleton.h"
#include "exec_count.skel.h"
#include "kernel_test_env.h"

namespace bulkhead::bpf {
namespace {

TEST(BpfSkeleton, StagedOpenLoadAttach) {
  BULKHEAD_REQUIRE_ROOT();
  auto skel = Skeleton<exec_count>::open();
  ASSERT_TRUE(skel.ok()) << skel.error().to_string();
  EXPECT_EQ(skel->name(), "exec_count");
  EXPECT_FALSE(skel->loaded());

  auto early = skel->attach();
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().message, "attaching exec_count: not loaded");

  auto loaded = skel->load();
  ASSERT_TRUE(loaded.ok()) << loaded.error().to_string();
  EXPECT_GE(bpf_program__fd((*skel)->progs.count_exec), 0);
  auto twice = skel->load();
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.error().code, EALREADY);

  auto attached = skel->attach();
  ASSERT_TRUE(attached.ok()) << attached.error().to_string();
  EXPECT_NE((*skel)->links.count_exec, nullptr);
}

TEST(BpfSkeleton, AutoloadOffLeavesTheProgramOut) {
  BULKHEAD_REQUIRE_ROOT();
  auto skel = Skeleton<exec_count>::create(
      [](Skeleton<exec_count>& s) { return s.set_autoload(s->progs.count_exec, false); });
  ASSERT_TRUE(skel.ok()) << skel.error().to_string();
  EXPECT_LT(bpf_program__fd((*skel)->progs.count_exec), 0);
  EXPECT_EQ((*skel)->links.count_exec, nullptr);
  // The map is created all the same.
  EXPECT_GE(bpf_map__fd((*skel)->maps.exec_counts), 0);

  // After load the switch is refused; the error names program and step.
  auto late = skel->set_autoload((*skel)->progs.count_exec, true);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, EBUSY);
  EXPECT_EQ(late.error().message, "set_autoload count_exec in exec_count: already loaded");
}

TEST(BpfSkeleton, ConfigureFailureStopsBeforeLoad) {
  BULKHEAD_REQUIRE_ROOT();
  auto skel = Skeleton<exec_count>::create([](Skeleton<exec_count>&) -> Status {
    return Error{ENOTSUP, "no such feature"};
  });
  ASSERT_FALSE(skel.ok());
  EXPECT_EQ(skel.error().code, ENOTSUP);
  EXPECT_EQ(skel.error().message, "configuring exec_count: no such feature");
}

TEST(BpfSkeleton, LoadErrorCarriesErrnoAndStep) {
  BULKHEAD_REQUIRE_ROOT();
  // As nobody, the kernel refuses the load: the error says where and why.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    libbpf_set_print(nullptr);  // keep the expected verifier noise out of the log
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) {
      ::_exit(2);
    }
    auto counter = ExecCounter::create();
    if (counter.ok()) {
      ::_exit(3);
    }
    const bool as_expected = counter.error().code == EPERM &&
                             counter.error().message == "exec counter: loading exec_count";
    ::_exit(as_expected ? 0 : 4);
  }
  int st = 0;
  ASSERT_EQ(::waitpid(child, &st, 0), child);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0) << "3: loaded as nobody, 4: unexpected error";
}

}  // namespace
}  // namespace bulkhead::bpf
