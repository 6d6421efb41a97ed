#include <gtest/gtest.h>

#include "bpf/fs_mounts.h"

namespace bulkhead::bpf::detail {
namespace {

constexpr const char* kMountinfo =
    "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
    "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
    "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:5 master:1 - cgroup2 cgroup2 rw\n"
    "50 23 0:40 / /sys/fs/bpf rw,nosuid - tmpfs tmpfs rw\n"
    "51 50 0:41 / /sys/fs/bpf rw,nosuid,nodev,noexec - bpf bpf rw,mode=700\n"
    "60 27 0:42 / /tmp/with\\040space rw - bpf bpf rw\n";

TEST(BpfMountinfo, FindsTypeOfExactMountPoint) {
  EXPECT_EQ(find_mount_fs_type(kMountinfo, "/proc"), "proc");
  EXPECT_EQ(find_mount_fs_type(kMountinfo, "/sys/fs/cgroup/unified"), "cgroup2");
}

TEST(BpfMountinfo, NotAMountPoint) {
  EXPECT_EQ(find_mount_fs_type(kMountinfo, "/sys/fs"), std::nullopt);
  EXPECT_EQ(find_mount_fs_type(kMountinfo, "/proc/sys"), std::nullopt);
  EXPECT_EQ(find_mount_fs_type("", "/proc"), std::nullopt);
}

TEST(BpfMountinfo, TopmostOfStackedMountsWins) {
  EXPECT_EQ(find_mount_fs_type(kMountinfo, "/sys/fs/bpf"), "bpf");
}

TEST(BpfMountinfo, EscapedMountPoints) {
  EXPECT_EQ(find_mount_fs_type(kMountinfo, "/tmp/with space"), "bpf");
  EXPECT_EQ(unescape_mount_field("a\\040b\\011c\\134d"), "a b\tc\\d");
  EXPECT_EQ(unescape_mount_field("trailing\\04"), "trailing\\04");
  EXPECT_EQ(unescape_mount_field("plain"), "plain");
}

TEST(BpfMountinfo, ToleratesTruncatedLines) {
  EXPECT_EQ(find_mount_fs_type("1 2 0:1 / /x rw\n1 2 0:1 / /x rw -\n", "/x"), std::nullopt);
}

}  // namespace
}  // namespace bulkhead::bpf::detail
