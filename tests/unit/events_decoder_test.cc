// RecordDecoder on hand-made records: tenant and workload names, ids inside,
// the fields of each kind, and refusal of short or unknown records.
#include <gtest/gtest.h>
#include <linux/types.h>
#include <signal.h>
#include <sys/syscall.h>

#include <cstddef>
#include <cstring>
#include <vector>

#include "events.h"
#include "events/record_decoder.h"

namespace bulkhead::events {
namespace {

constexpr uint32_t kBase = 0x60000000;

class DecoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    decoder_.set_tenant(3, TenantAttribution{"alpha", config::IdRange{kBase, 65536}});
    decoder_.set_workload(777, "web");
  }
  static void header(bh_event_header& h, uint16_t kind, uint16_t type, uint32_t pid) {
    h.boot_ns = 1000;
    h.workload_cgroup = 777;
    h.tenant_slot = 3;
    h.kind = kind;
    h.type = type;
    h.pid = pid;
    h.tid = pid;
    h.ppid = 1;
    h.uid = kBase + 1000;
    h.euid = kBase;
    h.gid = kBase + 5;
    h.egid = 42;  // outside the range
    std::strcpy(h.comm, "tool");
  }
  ProcessTable table_;
  RecordDecoder decoder_{table_};
};

TEST_F(DecoderTest, SyscallRecordBecomesATypedEvent) {
  auto rec = std::make_unique<bh_syscall_record>();
  header(rec->h, BH_REC_SYSCALL, BH_EV_FILE_OPEN, 10);
  rec->nr = SYS_openat;
  rec->ret = -13;
  rec->args[0] = static_cast<uint64_t>(-100);  // AT_FDCWD
  rec->args[2] = 01 | 0100 | 01000;            // O_WRONLY|O_CREAT|O_TRUNC
  rec->args[3] = 0600;
  std::strcpy(rec->path[0], "/etc/shadow");
  auto e = decoder_.decode(rec.get(), sizeof(*rec));
  ASSERT_TRUE(e.ok()) << e.error().to_string();
  EXPECT_EQ(e->type, EventType::kFileOpen);
  EXPECT_EQ(e->tenant, "alpha");
  EXPECT_EQ(e->workload, "web");
  EXPECT_EQ(e->process.comm, "tool");
  EXPECT_EQ(e->process.uid, kBase + 1000);
  EXPECT_EQ(e->process.uid_inside, 1000u);
  EXPECT_EQ(e->process.euid_inside, 0u);
  EXPECT_EQ(e->process.gid_inside, 5u);
  EXPECT_EQ(e->process.egid_inside, 65534u);  // unmapped: the overflow id
  EXPECT_EQ(e->fields["path"], "/etc/shadow");
  EXPECT_EQ(e->fields["flags"], nlohmann::json::array({"O_WRONLY", "O_CREAT", "O_TRUNC"}));
  EXPECT_EQ(e->fields["mode"], "0600");
  EXPECT_EQ(e->fields["result"], -13);
  EXPECT_EQ(e->fields["error"], "EACCES");
  EXPECT_FALSE(e->fields.contains("dirfd"));
}

// The kernel sends a syscall record cut after its last used byte; the missing
// tail reads as empty, whatever the decoder held before.
TEST_F(DecoderTest, CutSyscallRecordsReadTheMissingTailAsEmpty) {
  auto rec = std::make_unique<bh_syscall_record>();
  header(rec->h, BH_REC_SYSCALL, BH_EV_FILE_RENAME, 12);
  rec->nr = SYS_rename;
  std::strcpy(rec->path[0], "/data/a");
  std::strcpy(rec->path[1], "/data/b");
  auto full = decoder_.decode(rec.get(), sizeof(*rec));
  ASSERT_TRUE(full.ok()) << full.error().to_string();
  EXPECT_EQ(full->fields["new_path"], "/data/b");

  // Cut after path[0]: path[1] and the extra bytes are not sent.
  std::strcpy(rec->path[0], "/x");
  rec->extra_len = 16;
  const size_t cut = offsetof(bh_syscall_record, path[0]) + 3;
  auto e = decoder_.decode(rec.get(), cut);
  ASSERT_TRUE(e.ok()) << e.error().to_string();
  EXPECT_EQ(e->type, EventType::kFileRename);
  EXPECT_EQ(e->fields["path"], "/x");
  EXPECT_EQ(e->fields["new_path"], "");

  // Shorter than the fixed part, or longer than a whole record: refused.
  EXPECT_FALSE(decoder_.decode(rec.get(), offsetof(bh_syscall_record, path[0]) - 1).ok());
  std::vector<char> big(sizeof(bh_syscall_record) + 8);
  std::memcpy(big.data(), rec.get(), sizeof(*rec));
  EXPECT_FALSE(decoder_.decode(big.data(), big.size()).ok());
}

TEST_F(DecoderTest, HostProcessHasNoTenantOrInsideIds) {
  auto rec = std::make_unique<bh_syscall_record>();
  header(rec->h, BH_REC_SYSCALL, BH_EV_UNSHARE, 11);
  rec->h.tenant_slot = 0;
  rec->h.workload_cgroup = 0;
  rec->nr = SYS_unshare;
  rec->args[0] = 0x10000000 | 0x00020000;  // CLONE_NEWUSER | CLONE_NEWNS
  auto e = decoder_.decode(rec.get(), sizeof(*rec));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->tenant, "");
  EXPECT_EQ(e->workload, "");
  EXPECT_FALSE(e->process.uid_inside.has_value());
  EXPECT_EQ(e->fields["namespaces"], nlohmann::json::array({"user", "mnt"}));
}

TEST_F(DecoderTest, ExecSplitsArgsJoinsCwdAndFeedsTheProcessTable) {
  auto rec = std::make_unique<bh_exec_record>();
  header(rec->h, BH_REC_EXEC, BH_EV_PROCESS_EXEC, 20);
  std::strcpy(rec->filename, "/bin/ls");
  const char args[] = "ls\0-l\0/tmp";
  std::memcpy(rec->args, args, sizeof(args));
  rec->args_len = sizeof(args);
  std::strcpy(rec->cwd[0], "doc");
  std::strcpy(rec->cwd[1], "share");
  std::strcpy(rec->cwd[2], "usr");
  rec->cwd_depth = 3;
  rec->cwd_complete = 1;
  auto e = decoder_.decode(rec.get(), sizeof(*rec));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->process.exe, "/bin/ls");
  EXPECT_EQ(e->process.args, (std::vector<std::string>{"ls", "-l", "/tmp"}));
  EXPECT_FALSE(e->process.args_truncated);
  EXPECT_EQ(e->process.cwd, "/usr/share/doc");
  EXPECT_EQ(e->process.exec_id, 1000u);
  ASSERT_NE(table_.find(20), nullptr);
  EXPECT_EQ(table_.find(20)->exe, "/bin/ls");

  // Cut in the middle of an argument, and a cwd deeper than the walk.
  rec->args_len = 5;  // "ls\0-l" without its NUL
  rec->args_truncated = 1;
  rec->cwd_complete = 0;
  auto cut = decoder_.decode(rec.get(), sizeof(*rec));
  ASSERT_TRUE(cut.ok());
  EXPECT_TRUE(cut->process.args_truncated);
  EXPECT_EQ(cut->process.cwd, ".../usr/share/doc");
  EXPECT_EQ(cut->fields["cwd_truncated"], true);
}

TEST_F(DecoderTest, ExitBySigsysIsASeccompKill) {
  bh_exit_record rec{};
  header(rec.h, BH_REC_EXIT, BH_EV_PROCESS_EXIT, 30);
  rec.exit_code = SIGSYS | 0x80;
  auto e = decoder_.decode(&rec, sizeof(rec));
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->fields["signal"], "SIGSYS");
  EXPECT_EQ(e->fields["core_dumped"], true);
  EXPECT_EQ(e->fields["seccomp_kill"], true);
  rec.exit_code = 3 << 8;
  auto normal = decoder_.decode(&rec, sizeof(rec));
  ASSERT_TRUE(normal.ok());
  EXPECT_EQ(normal->fields["code"], 3);
  EXPECT_EQ(normal->fields["seccomp_kill"], false);
  EXPECT_FALSE(normal->fields.contains("signal"));
}

TEST_F(DecoderTest, NetworkVerdicts) {
  auto rec = std::make_unique<bh_syscall_record>();
  header(rec->h, BH_REC_SYSCALL, BH_EV_NET_CONNECT, 40);
  rec->nr = SYS_connect;
  const uint8_t sin[16] = {2, 0, 0x1f, 0x90, 10, 0, 0, 1};  // AF_INET 10.0.0.1:8080
  std::memcpy(rec->extra, sin, sizeof(sin));
  rec->extra_len = sizeof(sin);
  for (auto [ret, verdict] :
       {std::pair{0L, "allowed"}, {-115L, "allowed"}, {-1L, "denied"}, {-111L, "failed"}}) {
    rec->ret = ret;
    auto e = decoder_.decode(rec.get(), sizeof(*rec));
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->fields["address"], "10.0.0.1");
    EXPECT_EQ(e->fields["port"], 8080);
    EXPECT_EQ(e->fields["verdict"], verdict) << ret;
  }
}

TEST_F(DecoderTest, ShortAndUnknownRecordsAreErrors) {
  bh_event_header h{};
  auto short_header = decoder_.decode(&h, sizeof(h) - 1);
  ASSERT_FALSE(short_header.ok());
  EXPECT_NE(short_header.error().message.find("shorter than a header"), std::string::npos);
  header(h, BH_REC_SYSCALL, BH_EV_FILE_OPEN, 1);
  auto short_body = decoder_.decode(&h, sizeof(h));
  ASSERT_FALSE(short_body.ok());
  EXPECT_NE(short_body.error().message.find("expected"), std::string::npos);
  h.kind = 99;
  EXPECT_FALSE(decoder_.decode(&h, sizeof(h)).ok());
}

TEST_F(DecoderTest, WorkloadNamesAreBounded) {
  for (uint64_t id = 1000; id < 1000 + RecordDecoder::kMaxWorkloadNames + 5; ++id) {
    decoder_.set_workload(id, "w");
  }
  bh_exit_record rec{};
  header(rec.h, BH_REC_EXIT, BH_EV_PROCESS_EXIT, 50);
  rec.h.workload_cgroup = 1000;  // the oldest: forgotten
  EXPECT_EQ(decoder_.decode(&rec, sizeof(rec))->workload, "");
  rec.h.workload_cgroup = 1000 + RecordDecoder::kMaxWorkloadNames;
  EXPECT_EQ(decoder_.decode(&rec, sizeof(rec))->workload, "w");
}

}  // namespace
}  // namespace bulkhead::events
