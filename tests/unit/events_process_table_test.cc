// ProcessTable: exec ids, inheritance at fork, ancestry, and /proc seeding.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "events/process_table.h"
#include "events/syscall_names.h"

namespace bulkhead::events {
namespace {

TEST(ProcessTable, ForkInheritsExecAndAncestryIsNearestFirst) {
  ProcessTable t;
  t.on_exec(100, 1, 1111, "/bin/sh", "sh");
  t.on_fork(100, 101, "sh");
  EXPECT_EQ(t.find(101)->exec_id, 1111u);
  EXPECT_EQ(t.find(101)->exe, "/bin/sh");
  t.on_exec(101, 100, 2222, "/bin/cat", "cat");
  EXPECT_EQ(t.find(101)->parent_exec_id, 1111u);
  t.on_fork(101, 102, "cat");
  t.on_exec(102, 101, 3333, "/bin/x", "x");
  EXPECT_EQ(t.ancestry(102), (std::vector<uint64_t>{2222, 1111}));

  ProcessInfo info;
  info.pid = 102;
  t.annotate(info);
  EXPECT_EQ(info.exec_id, 3333u);
  EXPECT_EQ(info.parent_exec_id, 2222u);
  EXPECT_EQ(info.ppid, 101);
  EXPECT_EQ(info.exe, "/bin/x");

  t.on_exit(101);
  EXPECT_EQ(t.find(101), nullptr);
  EXPECT_TRUE(t.ancestry(102).empty());
}

TEST(ProcessTable, AnExecReadBeforeItsForkIsKept) {
  ProcessTable t;
  t.on_exec(200, 1, 10, "/bin/sh", "sh");
  t.on_exec(201, 200, 20, "/bin/true", "true");  // vfork child's exec arrives first
  t.on_fork(200, 201, "sh");
  EXPECT_EQ(t.find(201)->exec_id, 20u);
}

TEST(ProcessTable, ACycleEndsTheAncestry) {
  ProcessTable t;
  t.on_exec(1, 2, 11, "a", "a");
  t.on_exec(2, 1, 22, "b", "b");
  EXPECT_EQ(t.ancestry(1), (std::vector<uint64_t>{22}));
}

TEST(ProcessTable, ParsesProcStatWithParenthesesInComm) {
  std::string comm;
  pid_t ppid = 0;
  uint64_t start = 0;
  const std::string stat =
      "42 (a) b (c)) S 7 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 98765 1000 10";
  ASSERT_TRUE(detail::parse_proc_stat(stat, &comm, &ppid, &start));
  EXPECT_EQ(comm, "a) b (c)");
  EXPECT_EQ(ppid, 7);
  EXPECT_EQ(start, 98765u);
  EXPECT_FALSE(detail::parse_proc_stat("42 no parens", &comm, &ppid, &start));
}

TEST(ProcessTable, SeedsFromAProcDirectory) {
  auto dir = std::filesystem::temp_directory_path() / ("proc-seed-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "5");
  std::filesystem::create_directories(dir / "6");
  std::filesystem::create_directories(dir / "self");
  std::ofstream(dir / "5" / "stat") << "5 (init) S 0 5 5 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 10 0 0";
  std::ofstream(dir / "6" / "stat") << "6 (sh) S 5 6 6 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 20 0 0";
  ProcessTable t;
  ASSERT_TRUE(t.seed_from_proc(dir.string()).ok());
  std::filesystem::remove_all(dir);
  ASSERT_EQ(t.size(), 2u);
  const long ticks = ::sysconf(_SC_CLK_TCK);
  EXPECT_EQ(t.find(5)->exec_id, ProcessTable::seeded_exec_id(10, ticks, 5));
  EXPECT_EQ(t.find(6)->parent_exec_id, t.find(5)->exec_id);
  EXPECT_EQ(t.find(6)->comm, "sh");
  EXPECT_FALSE(t.seed_from_proc("/nonexistent-proc").ok());
}

TEST(SyscallNames, FlagsErrorsAndAddresses) {
  using Names = nlohmann::json;
  EXPECT_EQ(open_flag_names(0), Names::array({"O_RDONLY"}));
  EXPECT_EQ(open_flag_names(02 | 02000000), Names::array({"O_RDWR", "O_CLOEXEC"}));
  EXPECT_EQ(open_flag_names(01 | 0100 | 0x40000000),
            Names::array({"O_WRONLY", "O_CREAT", "0x40000000"}));
  EXPECT_EQ(clone_flag_names(0x10000000 | 17), Names::array({"CLONE_NEWUSER"}));
  EXPECT_EQ(clone_flag_names(0), Names::array());
  EXPECT_EQ(namespace_names(0x10000000 | 0x40000000), Names::array({"user", "net"}));
  EXPECT_EQ(mount_flag_names(0xC0ED0000 | 4096), Names::array({"MS_BIND"}));
  EXPECT_EQ(memfd_flag_names(0x40000001), Names::array({"MFD_CLOEXEC", "0x40000000"}));
  EXPECT_EQ(errno_name(1), "EPERM");
  EXPECT_EQ(syscall_name(257), "openat");
  EXPECT_EQ(syscall_name(9999), "syscall_9999");
  EXPECT_EQ(ptrace_request_name(16), "PTRACE_ATTACH");
  EXPECT_EQ(bpf_command_name(5), "BPF_PROG_LOAD");
  EXPECT_EQ(octal_mode(0104755), "4755");

  nlohmann::json j;
  const uint8_t v6[28] = {10, 0, 0, 80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  ASSERT_TRUE(describe_sockaddr(v6, sizeof(v6), "peer_", j));
  EXPECT_EQ(j["peer_family"], "AF_INET6");
  EXPECT_EQ(j["peer_address"], "::1");
  EXPECT_EQ(j["peer_port"], 80);
  const uint8_t unix_abstract[] = {1, 0, 0, 'x', 'y'};
  ASSERT_TRUE(describe_sockaddr(unix_abstract, sizeof(unix_abstract), "", j));
  EXPECT_EQ(j["path"], "@xy");
  const uint8_t v4_short[4] = {2, 0, 0, 80};
  nlohmann::json untouched;
  EXPECT_FALSE(describe_sockaddr(v4_short, 1, "", untouched));
  EXPECT_FALSE(describe_sockaddr(v4_short, sizeof(v4_short), "", untouched));
  EXPECT_TRUE(untouched.is_null());
}

}  // namespace
}  // namespace bulkhead::events
