// Network, privilege and system events of tenant workloads. The default
// seccomp policy refuses ptrace, unshare and mount: the events still arrive,
// with the refusal as their result (sys_exit sees calls seccomp denied).
#include "events_test_support.h"

namespace bulkhead::testing {
namespace {

using events::Event;
using events::EventType;

auto by_pid(pid_t pid) {
  return [pid](const Event& e) { return e.process.pid == pid; };
}

TEST_F(EventsTest, BindListenConnectAccept) {
  auto t = tracked_tenant("evnet");
  ASSERT_TRUE(t);
  auto run = run_action(*t, "w-net", {"net", "7411"});
  ASSERT_NE(run.out.find("net result="), std::string::npos) << run.out;
  auto binds = select(run.events, EventType::kNetBind, by_pid(run.helper_pid));
  auto listens = select(run.events, EventType::kNetListen, by_pid(run.helper_pid));
  auto connects = select(run.events, EventType::kNetConnect, by_pid(run.helper_pid));
  auto accepts = select(run.events, EventType::kNetAccept, by_pid(run.helper_pid));
  ASSERT_EQ(binds.size(), 1u);
  ASSERT_EQ(listens.size(), 1u);
  ASSERT_EQ(connects.size(), 1u);
  ASSERT_EQ(accepts.size(), 1u);
  for (const auto* e : {&binds[0], &listens[0], &connects[0]}) {
    EXPECT_EQ(e->fields["family"], "AF_INET") << e->fields.dump();
    EXPECT_EQ(e->fields["address"], "127.0.0.1") << e->fields.dump();
    EXPECT_EQ(e->fields["port"], 7411) << e->fields.dump();
    EXPECT_EQ(e->fields["result"], 0) << e->fields.dump();
    EXPECT_EQ(e->fields["verdict"], "allowed");
    EXPECT_EQ(e->workload, "w-net");
  }
  EXPECT_EQ(listens[0].fields["backlog"], 4);
  const auto& a = accepts[0].fields;
  EXPECT_GE(a["result"].get<int>(), 0);
  EXPECT_EQ(a["port"], 7411);
  EXPECT_EQ(a["peer_address"], "127.0.0.1");
  EXPECT_GT(a["peer_port"].get<int>(), 0);
}

TEST_F(EventsTest, SetuidReportsIdsInsideAndOnTheHost) {
  auto t = tracked_tenant("evsetuid");
  ASSERT_TRUE(t);
  auto run = run_action(*t, "w-setuid", {"setuid", "1000"});
  auto ev = select(run.events, EventType::kPrivSetuid, by_pid(run.helper_pid));
  ASSERT_EQ(ev.size(), 1u) << run.out;
  EXPECT_EQ(ev[0].fields["syscall"], "setuid");
  EXPECT_EQ(ev[0].fields["uid"], 1000);
  // Tenant root without CAP_SETUID: refused by the kernel.
  EXPECT_EQ(ev[0].fields["error"], "EPERM");
  EXPECT_EQ(ev[0].process.uid_inside, 0u);
  EXPECT_EQ(ev[0].process.uid, t->profile().ids->base);
}

TEST_F(EventsTest, RefusedPtraceUnshareAndMountAreReported) {
  auto t = tracked_tenant("evsys");
  ASSERT_TRUE(t);

  auto traced = run_action(*t, "w-ptrace", {"ptrace"});
  auto p = select(traced.events, EventType::kPtrace, by_pid(traced.helper_pid));
  ASSERT_EQ(p.size(), 1u) << traced.out;
  EXPECT_EQ(p[0].fields["request"], "PTRACE_TRACEME");
  EXPECT_EQ(p[0].fields["error"], "EPERM");

  auto unshared = run_action(*t, "w-unshare", {"unshare"});
  auto u = select(unshared.events, EventType::kUnshare, by_pid(unshared.helper_pid));
  ASSERT_EQ(u.size(), 1u) << unshared.out;
  EXPECT_EQ(u[0].fields["namespaces"], nlohmann::json::array({"mnt"}));
  EXPECT_EQ(u[0].fields["error"], "EPERM");

  auto mounted = run_action(*t, "w-mount", {"mount"});
  auto m = select(mounted.events, EventType::kMount, by_pid(mounted.helper_pid));
  ASSERT_EQ(m.size(), 1u) << mounted.out;
  EXPECT_EQ(m[0].fields["source"], "none");
  EXPECT_EQ(m[0].fields["target"], "/tmp");
  EXPECT_EQ(m[0].fields["fstype"], "tmpfs");
  EXPECT_EQ(m[0].fields["flags"], nlohmann::json::array({"MS_NOSUID"}));
  EXPECT_EQ(m[0].fields["error"], "EPERM");
  EXPECT_EQ(m[0].workload, "w-mount");
}

}  // namespace
}  // namespace bulkhead::testing
