// ensure_bpffs/tracefs/securityfs on the real kernel: they mount once and are
// idempotent. Mounts at the standard paths are left in place (other processes
// may rely on them); mounts on the test's own directories are undone.
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "bpf/fs_mounts.h"
#include "common/file_util.h"
#include "kernel_test_env.h"

namespace bulkhead::bpf {
namespace {

// How many mounts sit exactly on `path` (stacked mounts count each).
int mounts_on(const std::string& path) {
  auto info = read_file("/proc/self/mountinfo");
  if (!info.ok()) {
    return -1;
  }
  int n = 0;
  size_t pos = 0;
  const std::string& text = *info;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) {
      end = text.size();
    }
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    // Fifth field is the mount point.
    size_t start = 0;
    for (int field = 0; field < 4 && start != std::string::npos; ++field) {
      start = line.find(' ', start);
      start = start == std::string::npos ? start : start + 1;
    }
    if (start == std::string::npos) {
      continue;
    }
    size_t stop = line.find(' ', start);
    if (detail::unescape_mount_field(line.substr(start, stop - start)) == path) {
      ++n;
    }
  }
  return n;
}

// A fresh directory under /tmp; whatever the test mounted on it is unmounted
// (lazily, in case something still holds it) and the directory removed.
class ScratchDir {
 public:
  ScratchDir() {
    char tmpl[] = "/tmp/bulkhead-bpffs-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) {
      path_ = tmpl;
    }
  }
  ~ScratchDir() {
    if (path_.empty()) {
      return;
    }
    while (mounts_on(path_) > 0 && ::umount2(path_.c_str(), MNT_DETACH) == 0) {
    }
    ::rmdir(path_.c_str());
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(BpfFsMounts, EnsureBpffsOnOwnDirectoryMountsOnce) {
  BULKHEAD_REQUIRE_ROOT();
  ScratchDir dir;
  ASSERT_FALSE(dir.path().empty());
  ASSERT_EQ(mounts_on(dir.path()), 0);

  auto first = ensure_bpffs(dir.path());
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  auto type = mounted_fs_type(dir.path());
  ASSERT_TRUE(type.ok()) << type.error().to_string();
  ASSERT_TRUE(type->has_value());
  EXPECT_EQ(**type, "bpf");
  EXPECT_EQ(mounts_on(dir.path()), 1);

  auto second = ensure_bpffs(dir.path() + "/");
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  EXPECT_EQ(mounts_on(dir.path()), 1) << "second call must not stack a mount";
}

TEST(BpfFsMounts, EnsureBpffsRefusesAnotherFilesystemOnThePath) {
  BULKHEAD_REQUIRE_ROOT();
  ScratchDir dir;
  ASSERT_FALSE(dir.path().empty());
  ASSERT_EQ(::mount("tmpfs", dir.path().c_str(), "tmpfs", 0, "size=64k"), 0);
  auto st = ensure_bpffs(dir.path());
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, EBUSY);
  EXPECT_NE(st.error().message.find("tmpfs"), std::string::npos) << st.error().to_string();
  EXPECT_EQ(mounts_on(dir.path()), 1);
}

TEST(BpfFsMounts, EnsureAtStandardPathsIsIdempotent) {
  BULKHEAD_REQUIRE_ROOT();
  const struct {
    Status (*ensure)(const std::string&);
    const char* path;
    const char* type;
  } cases[] = {{ensure_bpffs, "/sys/fs/bpf", "bpf"},
               {ensure_tracefs, "/sys/kernel/tracing", "tracefs"},
               {ensure_securityfs, "/sys/kernel/security", "securityfs"}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.path);
    auto first = c.ensure(c.path);
    ASSERT_TRUE(first.ok()) << first.error().to_string();
    const int after_first = mounts_on(c.path);
    EXPECT_GE(after_first, 1);
    auto second = c.ensure(c.path);
    ASSERT_TRUE(second.ok()) << second.error().to_string();
    EXPECT_EQ(mounts_on(c.path), after_first);
    auto type = mounted_fs_type(c.path);
    ASSERT_TRUE(type.ok()) << type.error().to_string();
    ASSERT_TRUE(type->has_value());
    EXPECT_EQ(**type, c.type);
  }
}

TEST(BpfFsMounts, MissingPathIsAnError) {
  BULKHEAD_REQUIRE_ROOT();
  auto type = mounted_fs_type("/nonexistent/bulkhead/path");
  ASSERT_FALSE(type.ok());
  EXPECT_EQ(type.error().code, ENOENT);
}

}  // namespace
}  // namespace bulkhead::bpf
