// A workload launch from a process with other threads (the agent's event sink
// workers) completes: the sandbox's first processes come from a raw clone3,
// so they must not use glibc's set*id wrappers, which wait for every thread
// glibc believes exists.
#include <future>
#include <thread>

#include "sandbox_fixture.h"

namespace bulkhead::testing {
namespace {

TEST(LaunchWithThreads, AnotherThreadDoesNotBlockTheLaunch) {
  BULKHEAD_REQUIRE_ROOT();
  SandboxHost host;
  auto tenant = host.make_tenant(host.profile_yaml("thr", "", ""));
  ASSERT_TRUE(tenant.ok()) << tenant.error().to_string();
  std::promise<void> release;
  std::thread other([f = release.get_future()]() mutable { f.wait(); });
  auto ran = SandboxHost::run(**tenant, {"/bin/true"});
  release.set_value();
  other.join();
  ASSERT_TRUE(ran.ok()) << ran.error().to_string();
  EXPECT_EQ(ran->status.shell_code(), 0);
}

}  // namespace
}  // namespace bulkhead::testing
