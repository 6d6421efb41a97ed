// Pure logic of agent/cgroup: mountinfo parsing, name checks, cgroupfs file
// parsers, and how limits are rendered for cgroup2 and cgroup v1.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "cgroup/cgroup_fs.h"
#include "cgroup/layout.h"
#include "cgroup/limits.h"
#include "cgroup/limits_v1.h"
#include "cgroup/limits_v2.h"

namespace bulkhead::cgroup {
namespace {

constexpr const char* kUnified =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "25 22 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
    "26 25 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:8 - cgroup2 cgroup2 "
    "rw,nsdelegate,memory_recursiveprot\n"
    "27 25 0:25 / /sys/fs/bpf rw,nosuid,nodev,noexec,relatime shared:9 - bpf bpf rw,mode=700\n";

// This machine's layout: tmpfs at /sys/fs/cgroup, v1 controllers, cgroup2 at unified.
constexpr const char* kHybrid =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
    "34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup "
    "rw,xattr,name=systemd\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

constexpr const char* kLegacy =
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
    "39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
    "40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n";

TEST(CgroupLayout, Unified) {
  auto host = parse_mountinfo(kUnified);
  ASSERT_TRUE(host.ok()) << host.error().to_string();
  EXPECT_EQ(host->layout, Layout::kUnified);
  EXPECT_EQ(host->unified_mount, "/sys/fs/cgroup");
  EXPECT_TRUE(host->v1_mounts.empty());
  EXPECT_EQ(describe(*host), "cgroups: unified, cgroup2 at /sys/fs/cgroup");
}

TEST(CgroupLayout, Hybrid) {
  auto host = parse_mountinfo(kHybrid);
  ASSERT_TRUE(host.ok()) << host.error().to_string();
  EXPECT_EQ(host->layout, Layout::kHybrid);
  EXPECT_EQ(host->unified_mount, "/sys/fs/cgroup/unified");
  std::map<std::string, std::string> want = {
      {"blkio", "/sys/fs/cgroup/blkio"},         {"cpu", "/sys/fs/cgroup/cpu,cpuacct"},
      {"cpuacct", "/sys/fs/cgroup/cpu,cpuacct"}, {"cpuset", "/sys/fs/cgroup/cpuset"},
      {"memory", "/sys/fs/cgroup/memory"},       {"pids", "/sys/fs/cgroup/pids"}};
  EXPECT_EQ(host->v1_mounts, want);  // name=systemd is not a controller
  EXPECT_EQ(describe(*host),
            "cgroups: hybrid, cgroup2 at /sys/fs/cgroup/unified (placement and BPF), v1 "
            "controllers: blkio=/sys/fs/cgroup/blkio cpu=/sys/fs/cgroup/cpu,cpuacct "
            "cpuacct=/sys/fs/cgroup/cpu,cpuacct cpuset=/sys/fs/cgroup/cpuset "
            "memory=/sys/fs/cgroup/memory pids=/sys/fs/cgroup/pids");
}

TEST(CgroupLayout, LegacyOnlyIsAnError) {
  auto host = parse_mountinfo(kLegacy);
  ASSERT_FALSE(host.ok());
  EXPECT_NE(host.error().message.find("cgroup v1 only"), std::string::npos);
  auto none = parse_mountinfo("22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("no cgroup2 mount"), std::string::npos);
  EXPECT_FALSE(parse_mountinfo("").ok());
}

TEST(CgroupLayout, EscapedAndOddMountPoints) {
  // A space and a backslash in the mount point, no optional fields, a bind mount
  // of a sub-cgroup that must lose against the mount of the root.
  const char* info =
      "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
      "50 22 0:40 /sub /mnt/bind rw,relatime - cgroup2 cgroup2 rw\n"
      "51 22 0:40 / /srv/my\\040cgroup\\134x rw,relatime shared:3 master:2 - cgroup2 none rw\n"
      "52 22 0:41 / /srv/mem\\011tab rw - cgroup none rw,memory\n";
  auto host = parse_mountinfo(info);
  ASSERT_TRUE(host.ok()) << host.error().to_string();
  EXPECT_EQ(host->unified_mount, "/srv/my cgroup\\x");
  EXPECT_EQ(host->layout, Layout::kHybrid);
  EXPECT_EQ(host->v1_mounts.at("memory"), "/srv/mem\ttab");
}

TEST(CgroupLayout, HiddenMountsAreIgnored) {
  // cgroup2 at /sys/fs/cgroup, then a tmpfs over it with v1 hierarchies: only the
  // later mounts are reachable; the v2 one is gone, so this host is legacy.
  const char* info =
      "26 25 0:24 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
      "31 25 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
      "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n";
  EXPECT_FALSE(parse_mountinfo(info).ok());
  // The same with a cgroup2 mounted again below the tmpfs: hybrid.
  std::string more = std::string(info) + "41 31 0:24 / /sys/fs/cgroup/unified rw - cgroup2 x rw\n";
  auto host = parse_mountinfo(more);
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->unified_mount, "/sys/fs/cgroup/unified");
  // A later mount listed on "/" (e.g. after a pivot) hides nothing.
  std::string late_root = std::string(kUnified) + "90 22 0:99 / / rw - overlay overlay rw\n";
  auto lr = parse_mountinfo(late_root);
  ASSERT_TRUE(lr.ok()) << lr.error().to_string();
  EXPECT_EQ(lr->unified_mount, "/sys/fs/cgroup");
  // Preference: the root of the hierarchy under /sys/fs/cgroup over another place.
  const char* two =
      "60 1 0:24 / /run/elsewhere rw - cgroup2 cgroup2 rw\n"
      "61 1 0:24 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
  auto pick = parse_mountinfo(two);
  ASSERT_TRUE(pick.ok());
  EXPECT_EQ(pick->unified_mount, "/sys/fs/cgroup");
}

TEST(CgroupLayout, Unescape) {
  EXPECT_EQ(unescape_mountinfo_path("a\\040b"), "a b");
  EXPECT_EQ(unescape_mountinfo_path("a\\012b\\134"), "a\nb\\");  // trailing \134 is 4 chars
  EXPECT_EQ(unescape_mountinfo_path("\\09x"), "\\09x");          // not octal: kept
  EXPECT_EQ(unescape_mountinfo_path("end\\04"), "end\\04");      // truncated: kept
}

TEST(CgroupLayout, DetectReadsAFile) {
  char path[] = "/tmp/bulkhead-mountinfo-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  { std::ofstream(path) << kHybrid; }
  auto host = detect_host_cgroups(path);
  ::unlink(path);
  ASSERT_TRUE(host.ok()) << host.error().to_string();
  EXPECT_EQ(host->layout, Layout::kHybrid);
  EXPECT_FALSE(detect_host_cgroups("/nonexistent/mountinfo").ok());
}

TEST(CgroupNames, Validation) {
  for (const char* good : {"bulkhead", "bulkhead-test-12-3", "a", "0", "web_1.v2", "x-"}) {
    EXPECT_TRUE(is_valid_cgroup_name(good)) << good;
  }
  for (const char* bad :
       {"", "-a", ".a", "_a", "A", "a/b", "..", "a..b", "a b", "cgroup/x", "caf\xc3\xa9"}) {
    EXPECT_FALSE(is_valid_cgroup_name(bad)) << bad;
  }
  EXPECT_FALSE(is_valid_cgroup_name(std::string(129, 'a')));
  EXPECT_TRUE(is_valid_cgroup_name(std::string(128, 'a')));
  EXPECT_FALSE(check_cgroup_name("tenant", "../etc").ok());
}

TEST(CgroupFiles, Parsers) {
  auto p = parse_populated("populated 1\nfrozen 0\n");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(*p);
  p = parse_populated("populated 0\nfrozen 1\n");
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(*p);
  EXPECT_FALSE(parse_populated("frozen 0\n").ok());

  auto pids = parse_pid_list("12\n345\n");
  ASSERT_TRUE(pids.ok());
  EXPECT_EQ(*pids, (std::vector<pid_t>{12, 345}));
  EXPECT_TRUE(parse_pid_list("").ok());
  EXPECT_FALSE(parse_pid_list("12\nabc\n").ok());

  EXPECT_EQ(parse_controller_list("cpuset cpu io memory pids\n"),
            (std::set<std::string>{"cpuset", "cpu", "io", "memory", "pids"}));
  EXPECT_TRUE(parse_controller_list("\n").empty());
}

TEST(CgroupLimits, WeightConversions) {
  EXPECT_EQ(weight_to_shares(100), 1024u);  // defaults match
  EXPECT_EQ(weight_to_shares(1), 10u);
  EXPECT_EQ(weight_to_shares(200), 2048u);
  EXPECT_EQ(weight_to_shares(10000), 102400u);
  EXPECT_EQ(weight_to_shares(0), 2u);             // clamped low
  EXPECT_EQ(weight_to_shares(1000000), 262144u);  // clamped high

  EXPECT_EQ(io_weight_to_blkio_weight(1), 10u);
  EXPECT_EQ(io_weight_to_blkio_weight(100), 500u);
  EXPECT_EQ(io_weight_to_blkio_weight(10000), 1000u);
  EXPECT_EQ(io_weight_to_bfq_weight(1), 1u);
  EXPECT_EQ(io_weight_to_bfq_weight(100), 100u);
  EXPECT_EQ(io_weight_to_bfq_weight(10000), 1000u);
  for (uint32_t w = 1; w < 10000; ++w) {  // monotonic
    ASSERT_LE(io_weight_to_blkio_weight(w), io_weight_to_blkio_weight(w + 1));
    ASSERT_LE(io_weight_to_bfq_weight(w), io_weight_to_bfq_weight(w + 1));
  }
}

std::map<std::string, std::string> as_map(const std::vector<LimitWrite>& writes) {
  std::map<std::string, std::string> out;
  for (const auto& w : writes) {
    // Files are kernel names, limits are profile keys.
    EXPECT_EQ(w.file.rfind("limits.", 0), std::string::npos) << w.file;
    EXPECT_TRUE(w.limit.empty() || w.limit.rfind("limits.", 0) == 0) << w.limit;
    out[w.file] = w.value;
  }
  return out;
}

std::vector<std::string> order(const std::vector<LimitWrite>& writes) {
  std::vector<std::string> out;
  out.reserve(writes.size());
  for (const auto& w : writes) {
    out.push_back(w.file);
  }
  return out;
}

const LimitWrite& find(const std::vector<LimitWrite>& writes, const std::string& file) {
  for (const auto& w : writes) {
    if (w.file == file) {
      return w;
    }
  }
  static const LimitWrite none;
  ADD_FAILURE() << "no write to " << file;
  return none;
}

TEST(CgroupLimits, V2RenderingUnsetIsDefault) {
  auto writes = render_v2_limits(config::Limits{});
  std::map<std::string, std::string> want = {{"memory.max", "max"},       {"memory.high", "max"},
                                             {"memory.swap.max", "max"},  {"pids.max", "max"},
                                             {"cpu.max", "max 100000"},   {"cpu.weight", "100"},
                                             {"io.weight", "default 100"}};
  EXPECT_EQ(as_map(writes), want);
  for (const auto& w : writes) {
    EXPECT_TRUE(w.limit.empty()) << w.file << " is a reset, not a required limit";
  }
  EXPECT_EQ(find(writes, "io.weight").alt_file, "io.bfq.weight");
  EXPECT_EQ(find(writes, "io.weight").alt_value, "100");
}

TEST(CgroupLimits, V2RenderingSet) {
  config::Limits l;
  l.memory_max = 256u << 20;
  l.memory_high = 200u << 20;
  l.memory_swap_max = 0;
  l.pids_max = 64;
  l.cpu.quota_us = 50000;
  l.cpu.period_us = 200000;
  l.cpu.weight = 300;
  l.io_weight = 10000;
  auto writes = render_v2_limits(l);
  std::map<std::string, std::string> want = {
      {"memory.max", "268435456"},   {"memory.high", "209715200"},
      {"memory.swap.max", "0"},      {"pids.max", "64"},
      {"cpu.max", "50000 200000"},   {"cpu.weight", "300"},
      {"io.weight", "default 10000"}};
  EXPECT_EQ(as_map(writes), want);
  EXPECT_EQ(find(writes, "memory.max").limit, "limits.memory.max");
  EXPECT_EQ(find(writes, "memory.max").controller, "memory");
  EXPECT_EQ(find(writes, "cpu.max").limit, "limits.cpu.quota");
  EXPECT_EQ(find(writes, "io.weight").limit, "limits.io.weight");
  EXPECT_EQ(find(writes, "io.weight").controller, "io");
  EXPECT_EQ(find(writes, "io.weight").alt_value, "1000");
}

TEST(CgroupLimits, V1RenderingUnsetIsDefault) {
  auto writes = render_v1_limits(config::Limits{}, kV1Unlimited);
  ASSERT_TRUE(writes.ok()) << writes.error().to_string();
  std::map<std::string, std::string> want = {{"memory.limit_in_bytes", "-1"},
                                             {"memory.memsw.limit_in_bytes", "-1"},
                                             {"memory.soft_limit_in_bytes", "-1"},
                                             {"pids.max", "max"},
                                             {"cpu.cfs_quota_us", "-1"},
                                             {"cpu.cfs_period_us", "100000"},
                                             {"cpu.shares", "1024"},
                                             {"blkio.weight", "500"}};
  EXPECT_EQ(as_map(*writes), want);
  EXPECT_EQ(find(*writes, "blkio.weight").alt_file, "blkio.bfq.weight");
  EXPECT_EQ(find(*writes, "blkio.weight").alt_value, "100");
  EXPECT_EQ(find(*writes, "blkio.weight").controller, "io");
  for (const auto& w : *writes) {
    EXPECT_TRUE(w.limit.empty()) << w.file;
  }
  // Removing a quota: -1 first, then the period.
  auto o = order(*writes);
  EXPECT_LT(std::find(o.begin(), o.end(), "cpu.cfs_quota_us"),
            std::find(o.begin(), o.end(), "cpu.cfs_period_us"));
}

TEST(CgroupLimits, V1RenderingSet) {
  config::Limits l;
  l.memory_max = 64u << 20;
  l.memory_high = 48u << 20;
  l.memory_swap_max = 16u << 20;
  l.pids_max = 10;
  l.cpu.quota_us = 20000;
  l.cpu.weight = 50;
  l.io_weight = 1;
  auto writes = render_v1_limits(l, kV1Unlimited);
  ASSERT_TRUE(writes.ok()) << writes.error().to_string();
  std::map<std::string, std::string> want = {{"memory.limit_in_bytes", "67108864"},
                                             {"memory.memsw.limit_in_bytes", "83886080"},
                                             {"memory.soft_limit_in_bytes", "50331648"},
                                             {"pids.max", "10"},
                                             {"cpu.cfs_period_us", "100000"},
                                             {"cpu.cfs_quota_us", "20000"},
                                             {"cpu.shares", "512"},
                                             {"blkio.weight", "10"}};
  EXPECT_EQ(as_map(*writes), want);
  EXPECT_EQ(find(*writes, "blkio.weight").alt_value, "1");
  EXPECT_EQ(find(*writes, "memory.memsw.limit_in_bytes").limit, "limits.memory.swap");
  EXPECT_EQ(find(*writes, "memory.soft_limit_in_bytes").limit, "limits.memory.high");
  EXPECT_EQ(find(*writes, "cpu.shares").limit, "limits.cpu.weight");
  // Setting a quota: the period first.
  auto o = order(*writes);
  EXPECT_LT(std::find(o.begin(), o.end(), "cpu.cfs_period_us"),
            std::find(o.begin(), o.end(), "cpu.cfs_quota_us"));
}

TEST(CgroupLimits, V1MemswOrderKeepsTheInvariant) {
  config::Limits l;
  l.memory_max = 100u << 20;
  l.memory_swap_max = 50u << 20;
  // From unlimited memsw, or lowering: memory first, then memsw.
  auto lower = render_v1_limits(l, 400u << 20);
  ASSERT_TRUE(lower.ok());
  EXPECT_EQ(order(*lower)[0], "memory.limit_in_bytes");
  EXPECT_EQ(order(*lower)[1], "memory.memsw.limit_in_bytes");
  auto exact = render_v1_limits(l, 100u << 20);  // new memory == old memsw still fits
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(order(*exact)[0], "memory.limit_in_bytes");
  // Raising memory above the current memsw: memsw first.
  auto raise = render_v1_limits(l, 80u << 20);
  ASSERT_TRUE(raise.ok());
  EXPECT_EQ(order(*raise)[0], "memory.memsw.limit_in_bytes");
  EXPECT_EQ(order(*raise)[1], "memory.limit_in_bytes");
  // Removing every limit from a limited group: memsw (-1) first.
  auto remove = render_v1_limits(config::Limits{}, 150u << 20);
  ASSERT_TRUE(remove.ok());
  EXPECT_EQ(order(*remove)[0], "memory.memsw.limit_in_bytes");
  // memsw without swap limit: unlimited.
  config::Limits no_swap;
  no_swap.memory_max = 1u << 30;
  auto ns = render_v1_limits(no_swap, kV1Unlimited);
  ASSERT_TRUE(ns.ok());
  EXPECT_EQ(find(*ns, "memory.memsw.limit_in_bytes").value, "-1");
  EXPECT_TRUE(find(*ns, "memory.memsw.limit_in_bytes").limit.empty());
  // Overflowing sum saturates to unlimited.
  config::Limits huge;
  huge.memory_max = UINT64_MAX - 5;
  huge.memory_swap_max = 100;
  auto h = render_v1_limits(huge, kV1Unlimited);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(find(*h, "memory.memsw.limit_in_bytes").value, "-1");
}

TEST(CgroupLimits, V1SwapNeedsMemoryMax) {
  config::Limits l;
  l.memory_swap_max = 1u << 20;
  auto writes = render_v1_limits(l, kV1Unlimited);
  ASSERT_FALSE(writes.ok());
  EXPECT_NE(writes.error().message.find("limits.memory.swap needs limits.memory.max"),
            std::string::npos);
}

TEST(CgroupLimits, ParseV1Bytes) {
  EXPECT_EQ(*parse_v1_bytes("9223372036854771712\n"), kV1Unlimited);
  EXPECT_EQ(*parse_v1_bytes("-1"), kV1Unlimited);
  EXPECT_EQ(*parse_v1_bytes("4096\n"), 4096u);
  EXPECT_FALSE(parse_v1_bytes("").ok());
  EXPECT_FALSE(parse_v1_bytes("12k").ok());
}

TEST(CgroupLimits, Validation) {
  EXPECT_TRUE(validate_limits(config::Limits{}).ok());
  config::Limits l;
  l.cpu.period_us = 999;
  EXPECT_FALSE(validate_limits(l).ok());
  l.cpu.period_us = 1000001;
  EXPECT_FALSE(validate_limits(l).ok());
  l = {};
  l.cpu.quota_us = 500;
  EXPECT_FALSE(validate_limits(l).ok());
  l = {};
  l.cpu.weight = 0;
  EXPECT_FALSE(validate_limits(l).ok());
  l.cpu.weight = 10001;
  EXPECT_FALSE(validate_limits(l).ok());
  l = {};
  l.io_weight = 0;
  EXPECT_FALSE(validate_limits(l).ok());
}

TEST(CgroupLimits, ApplyRefusesAMissingControllerForASetLimit) {
  config::Limits l;
  l.pids_max = 5;
  std::map<std::string, ControllerDir> dirs;
  dirs["pids"].unavailable = "cgroup2 does not offer it";
  Status st = apply_limit_writes(render_v2_limits(l), dirs);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("limits.pids"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("'pids'"), std::string::npos) << st.error().message;
  // Nothing set: the resets of unavailable controllers are skipped.
  EXPECT_TRUE(apply_limit_writes(render_v2_limits(config::Limits{}), dirs).ok());
}

TEST(CgroupLimits, ApplyWritesInOrderAndFallsBackToTheAltFile) {
  char tmpl[] = "/tmp/bulkhead-limits-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  for (const char* f : {"memory.max", "memory.high", "io.bfq.weight"}) {
    std::ofstream(dir + "/" + f) << "";
  }
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(fd, 0);
  config::Limits l;
  l.memory_max = 1u << 20;
  l.io_weight = 10000;
  std::map<std::string, ControllerDir> dirs = {{"memory", {fd, dir, ""}}, {"io", {fd, dir, ""}}};
  // memory.swap.max is absent but unset: skipped. io.weight absent: io.bfq.weight.
  Status st = apply_limit_writes(render_v2_limits(l), dirs);
  EXPECT_TRUE(st.ok()) << st.error().to_string();
  auto slurp = [&](const char* f) {
    std::ifstream in(dir + "/" + f);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  EXPECT_EQ(slurp("memory.max"), "1048576");
  EXPECT_EQ(slurp("memory.high"), "max");
  EXPECT_EQ(slurp("io.bfq.weight"), "1000");
  // A set swap limit with no memory.swap.max is an error, and nothing is written.
  std::ofstream(dir + "/memory.max") << "untouched";
  l.memory_swap_max = 0;
  st = apply_limit_writes(render_v2_limits(l), dirs);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("swap accounting"), std::string::npos) << st.error().message;
  EXPECT_EQ(slurp("memory.max"), "untouched");
  ::close(fd);
  for (const char* f : {"memory.max", "memory.high", "io.bfq.weight"}) {
    ::unlink((dir + "/" + f).c_str());
  }
  ::rmdir(dir.c_str());
}

}  // namespace
}  // namespace bulkhead::cgroup
