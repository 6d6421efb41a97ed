// File events of tenant workloads: write opens, unlink, rename, chmod; reads
// only for sensitive paths or when all opens are asked for.
#include "events_test_support.h"

namespace bulkhead::testing {
namespace {

using events::Event;
using events::EventType;

auto by_pid(pid_t pid) {
  return [pid](const Event& e) { return e.process.pid == pid; };
}

TEST_F(EventsTest, OpenForWriteReportsPathFlagsAndResult) {
  auto t = tracked_tenant("evwrite");
  ASSERT_TRUE(t);
  auto run = run_action(*t, "w-write", {"write", "/tmp/out.txt"});
  ASSERT_NE(run.helper_pid, 0);
  auto opens = select(run.events, EventType::kFileOpen, [&](const Event& e) {
    return e.process.pid == run.helper_pid && field_string(e, "path") == "/tmp/out.txt";
  });
  ASSERT_EQ(opens.size(), 1u) << run.out;
  const Event& e = opens[0];
  EXPECT_EQ(e.tenant, "evwrite");
  EXPECT_EQ(e.workload, "w-write");
  EXPECT_EQ(e.fields["syscall"], "openat");
  EXPECT_EQ(e.fields["flags"], nlohmann::json::array({"O_WRONLY", "O_CREAT", "O_TRUNC"}));
  EXPECT_EQ(e.fields["mode"], "0640");
  EXPECT_GE(e.fields["result"].get<int>(), 0);
  EXPECT_EQ(e.process.exe, "/helpers/event_actions");
  EXPECT_NE(e.process.exec_id, 0u);
  // Read-only opens (the dynamic loader's, /proc) are not reported by default.
  for (const auto& o : select(run.events, EventType::kFileOpen, by_pid(run.helper_pid))) {
    EXPECT_NE(o.fields["flags"][0], "O_RDONLY") << o.fields.dump();
  }
}

TEST_F(EventsTest, UnlinkRenameChmod) {
  auto t = tracked_tenant("evfiles");
  ASSERT_TRUE(t);

  auto unlinked = run_action(*t, "w-unlink", {"unlink", "/tmp/gone"});
  auto unlinks = select(unlinked.events, EventType::kFileUnlink, by_pid(unlinked.helper_pid));
  ASSERT_EQ(unlinks.size(), 1u) << unlinked.out;
  EXPECT_EQ(unlinks[0].fields["path"], "/tmp/gone");
  EXPECT_EQ(unlinks[0].fields["result"], 0);
  EXPECT_EQ(unlinks[0].workload, "w-unlink");

  auto renamed = run_action(*t, "w-rename", {"rename", "/tmp/a", "/data/b"});
  auto renames = select(renamed.events, EventType::kFileRename, by_pid(renamed.helper_pid));
  ASSERT_EQ(renames.size(), 1u) << renamed.out;
  EXPECT_EQ(renames[0].fields["path"], "/tmp/a");
  EXPECT_EQ(renames[0].fields["new_path"], "/data/b");
  // /tmp and /data are different mounts: the rename fails with EXDEV, and the
  // event says so.
  EXPECT_EQ(renames[0].fields["error"], "EXDEV");

  auto chmodded = run_action(*t, "w-chmod", {"chmod", "/tmp/m", "4755"});
  auto chmods = select(chmodded.events, EventType::kFileChmod, by_pid(chmodded.helper_pid));
  ASSERT_EQ(chmods.size(), 1u) << chmodded.out;
  EXPECT_EQ(chmods[0].fields["path"], "/tmp/m");
  EXPECT_EQ(chmods[0].fields["mode"], "4755");
  EXPECT_EQ(chmods[0].fields["syscall"], "chmod");
}

TEST_F(EventsTest, ReadsAreReportedForSensitivePathsOnly) {
  auto t = tracked_tenant("evsens", "", false, {"/etc/hostname", "/usr/share/zoneinfo/"});
  ASSERT_TRUE(t);
  auto exact = run_action(*t, "w1", {"read", "/etc/hostname"});
  auto r1 = select(exact.events, EventType::kFileOpen, by_pid(exact.helper_pid));
  ASSERT_EQ(r1.size(), 1u);
  EXPECT_EQ(r1[0].fields["path"], "/etc/hostname");
  EXPECT_EQ(r1[0].fields["flags"], nlohmann::json::array({"O_RDONLY"}));

  auto below = run_action(*t, "w2", {"read", "/usr/share/zoneinfo/UTC"});
  auto r2 = select(below.events, EventType::kFileOpen, by_pid(below.helper_pid));
  ASSERT_EQ(r2.size(), 1u);
  EXPECT_EQ(r2[0].fields["path"], "/usr/share/zoneinfo/UTC");

  // A sibling that only shares the prefix's letters is not below it.
  auto sibling = run_action(*t, "w3", {"read", "/etc/hostname2"});
  EXPECT_TRUE(select(sibling.events, EventType::kFileOpen, by_pid(sibling.helper_pid)).empty());
}

TEST_F(EventsTest, AllOpensReportsReadsToo) {
  auto t = tracked_tenant("evall", "", true);
  ASSERT_TRUE(t);
  auto run = run_action(*t, "w-all", {"read", "/etc/passwd"});
  auto reads = select(run.events, EventType::kFileOpen, [&](const Event& e) {
    return e.process.pid == run.helper_pid && field_string(e, "path") == "/etc/passwd";
  });
  ASSERT_EQ(reads.size(), 1u);
  EXPECT_EQ(reads[0].fields["flags"], nlohmann::json::array({"O_RDONLY"}));
}

}  // namespace
}  // namespace bulkhead::testing
