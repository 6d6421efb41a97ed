// Kernel tests of block I/O limits, which depend on the host: an io weight
// needs BFQ or blk-iocost (or CFQ), which many hosts lack; device throttles
// (io.max, blkio.throttle.*) work wherever the io/blkio controller does. Each
// test probes the host and asserts the branch that applies: the limit's effect
// where the host has the mechanism, the clear refusal where it does not. The
// branch that ran is printed and recorded as the test property "branch".
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "cgroup/limits_v1.h"
#include "cgroup_test_support.h"
#include "common/scope_exit.h"
#include "kernel_test_env.h"

namespace bulkhead::cgroup::testing {
namespace {

using ::bulkhead::testing::record_branch;
using CgroupIoTest = CgroupKernelTest;

// Whether the host's io controller offers a weight file in the tree's directory.
bool host_has_io_weight(const HostCgroups& host, const CgroupTree& tree) {
  if (host.layout == Layout::kUnified) {
    return exists(tree.v2_path() + "/io.weight") || exists(tree.v2_path() + "/io.bfq.weight");
  }
  const std::string blkio = host.v1_mounts.at("blkio");
  return exists(blkio + "/blkio.weight") || exists(blkio + "/blkio.bfq.weight");
}

// The io controller's files of a tenant on this host.
std::string io_dir(const HostCgroups& host, const TenantCgroup& tenant) {
  if (host.layout == Layout::kUnified) {
    return tenant.v2_path();
  }
  const std::string blkio = host.v1_mounts.at("blkio") + "/";
  for (const std::string& p : tenant.v1_paths()) {
    if (p.compare(0, blkio.size(), blkio) == 0) {
      return p;
    }
  }
  return "<no blkio dir>";
}

// The whole disk that holds `path`'s filesystem, as a device node path and
// number; empty when the filesystem is not on a block device (tmpfs, overlay).
struct Disk {
  std::string node;
  DeviceNumber number;
};
Disk disk_holding(const std::string& path) {
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0 || ::major(sb.st_dev) == 0) {
    return {};
  }
  std::string sys = "/sys/dev/block/" + std::to_string(::major(sb.st_dev)) + ":" +
                    std::to_string(::minor(sb.st_dev));
  if (exists(sys + "/partition")) {
    sys += "/..";  // the partition's sysfs directory sits in its disk's
  }
  auto uevent = read_file(sys + "/uevent");
  auto dev = read_file(sys + "/dev");
  if (!uevent || !dev) {
    return {};
  }
  std::string name;
  size_t at = uevent->find("DEVNAME=");
  if (at != std::string::npos) {
    name = uevent->substr(at + 8, uevent->find('\n', at) - at - 8);
  }
  Disk d;
  d.node = "/dev/" + name;
  std::string number = trim(*dev);
  d.number.major = static_cast<uint32_t>(std::stoul(number.substr(0, number.find(':'))));
  d.number.minor = static_cast<uint32_t>(std::stoul(number.substr(number.find(':') + 1)));
  struct stat node {};
  if (name.empty() || ::stat(d.node.c_str(), &node) != 0 || !S_ISBLK(node.st_mode) ||
      node.st_rdev != ::makedev(d.number.major, d.number.minor)) {
    return {};
  }
  return d;
}

// Reads `path` once with O_DIRECT (bypassing the page cache, so every byte is
// block I/O charged to the reader's cgroup), in a child placed in `wl`.
// Returns the seconds it took, or -1.
double timed_direct_read(WorkloadCgroup* wl, const std::string& path, size_t bytes) {
  Pipe go;
  Pipe done;
  Child child(spawn_after_go(go, [&] {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
    void* buf = nullptr;
    constexpr size_t kChunk = size_t{64} * 1024;
    if (fd < 0 || ::posix_memalign(&buf, 4096, kChunk) != 0) {
      ::_exit(2);
    }
    for (size_t off = 0; off < bytes; off += kChunk) {
      if (::pread(fd, buf, kChunk, static_cast<off_t>(off)) != static_cast<ssize_t>(kChunk)) {
        ::_exit(3);
      }
    }
    ::_exit(0);
  }));
  if (wl != nullptr && !wl->attach(child.pid()).ok()) {
    return -1;
  }
  auto start = std::chrono::steady_clock::now();
  release(go);
  int status = child.wait(std::chrono::seconds(30));
  auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "reader status " << status;
  return took;
}

TEST_F(CgroupIoTest, WeightIsAppliedOrRefusedClearly) {
  auto tree = CgroupTree::create(host_, name_);
  ASSERT_TRUE(tree.ok()) << tree.error().to_string();
  config::Limits l;
  l.io_weight = 500;
  auto tenant = (*tree)->create_tenant("acme", l);
  if (host_has_io_weight(host_, **tree)) {
    record_branch("the host has io weights: the weight is written");
    ASSERT_TRUE(tenant.ok()) << tenant.error().to_string();
    const std::string dir = io_dir(host_, **tenant);
    if (host_.layout == Layout::kUnified) {
      EXPECT_EQ(
          exists(dir + "/io.weight") ? slurp(dir + "/io.weight") : slurp(dir + "/io.bfq.weight"),
          exists(dir + "/io.weight") ? "default 500" : "default 136");
    } else if (exists(dir + "/blkio.weight")) {
      EXPECT_EQ(slurp(dir + "/blkio.weight"), std::to_string(io_weight_to_blkio_weight(500)));
    } else {
      EXPECT_EQ(slurp(dir + "/blkio.bfq.weight"), "136");
    }
    return;
  }
  record_branch("the host has no io weights (no BFQ, blk-iocost or CFQ): refused");
  ASSERT_FALSE(tenant.ok()) << "an io weight the host cannot enforce was accepted";
  const std::string& msg = tenant.error().message;
  EXPECT_EQ(msg.rfind("limit limits.io.weight of the 'io' controller needs ", 0), 0u) << msg;
  EXPECT_NE(msg.find("which does not exist: no io weight support"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("tenant"), std::string::npos) << "the cgroup layer names no tenant: " << msg;
  // Nothing was half-applied: the tenant's directories are gone again.
  EXPECT_FALSE(exists((*tree)->v2_path() + "/acme"));
  for (const std::string& p : (*tree)->v1_paths()) {
    EXPECT_FALSE(exists(p + "/acme")) << p;
  }
}

TEST_F(CgroupIoTest, DeviceThrottleIsWrittenAndRemoved) {
  // Any whole disk will do for the files; the one holding /var/tmp is used below too.
  Disk disk = disk_holding("/var/tmp");
  BULKHEAD_REQUIRE(!disk.node.empty(), "/var/tmp is not on a block device of this host");
  record_branch("throttling " + disk.node + " (" + disk.number.text() + ")");
  auto tree = CgroupTree::create(host_, name_);
  ASSERT_TRUE(tree.ok()) << tree.error().to_string();
  config::Limits l;
  l.io_devices.push_back({disk.node, 2u << 20, std::nullopt, 300, std::nullopt});
  auto tenant = (*tree)->create_tenant("acme", l);
  ASSERT_TRUE(tenant.ok()) << tenant.error().to_string();
  const std::string dir = io_dir(host_, **tenant);
  const std::string n = disk.number.text();
  if (host_.layout == Layout::kUnified) {
    EXPECT_EQ(slurp(dir + "/io.max"), n + " rbps=2097152 wbps=max riops=300 wiops=max");
  } else {
    EXPECT_EQ(slurp(dir + "/blkio.throttle.read_bps_device"), n + " 2097152");
    EXPECT_EQ(slurp(dir + "/blkio.throttle.read_iops_device"), n + " 300");
    EXPECT_EQ(slurp(dir + "/blkio.throttle.write_bps_device"), "");
  }
  // Changed in place, then removed by a profile without it.
  l.io_devices[0].read_iops.reset();
  l.io_devices[0].write_bps = 1u << 20;
  ASSERT_TRUE((*tenant)->update_limits(l).ok());
  if (host_.layout == Layout::kUnified) {
    EXPECT_EQ(slurp(dir + "/io.max"), n + " rbps=2097152 wbps=1048576 riops=max wiops=max");
  } else {
    EXPECT_EQ(slurp(dir + "/blkio.throttle.read_iops_device"), "");
    EXPECT_EQ(slurp(dir + "/blkio.throttle.write_bps_device"), n + " 1048576");
  }
  ASSERT_TRUE((*tenant)->update_limits(config::Limits{}).ok());
  if (host_.layout == Layout::kUnified) {
    EXPECT_EQ(slurp(dir + "/io.max"), "");
  } else {
    for (const char* f : kV1ThrottleFiles) {
      EXPECT_EQ(slurp(dir + "/" + f), "") << f;
    }
  }
}

TEST_F(CgroupIoTest, DeviceThatCannotBeThrottledIsRefusedByField) {
  auto tree = CgroupTree::create(host_, name_);
  ASSERT_TRUE(tree.ok()) << tree.error().to_string();
  config::Limits l;
  l.io_devices.push_back({"/dev/null", 1u << 20, {}, {}, {}});
  auto tenant = (*tree)->create_tenant("acme", l);
  ASSERT_FALSE(tenant.ok());
  EXPECT_EQ(tenant.error().message, "limits.io.devices[0].device: /dev/null is not a block device");
  EXPECT_FALSE(exists((*tree)->v2_path() + "/acme"));
}

TEST_F(CgroupIoTest, DeviceThrottleSlowsDirectReads) {
  Disk disk = disk_holding("/var/tmp");
  BULKHEAD_REQUIRE(!disk.node.empty(), "/var/tmp is not on a block device of this host");
  char tmpl[] = "/var/tmp/bulkhead-io-XXXXXX";
  int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  const std::string file = tmpl;
  ScopeExit remove_file([&] { ::unlink(file.c_str()); });
  // 2 MiB of data on the disk, read back below with O_DIRECT.
  constexpr size_t kBytes = size_t{2} << 20;
  std::string block(size_t{64} * 1024, 'x');
  for (size_t off = 0; off < kBytes; off += block.size()) {
    ASSERT_EQ(::write(fd, block.data(), block.size()), static_cast<ssize_t>(block.size()));
  }
  ASSERT_EQ(::fsync(fd), 0);
  ::close(fd);
  // The test's own cgroup reads it unthrottled; a workload limited to 512 KiB/s
  // needs about 4 s (blk-throttle lets the first slice through early: at least 2 s).
  const double unthrottled = timed_direct_read(nullptr, file, kBytes);
  ASSERT_GE(unthrottled, 0);
  BULKHEAD_REQUIRE(unthrottled < 1.0, "the disk is too slow to tell a 512 KiB/s throttle apart");

  auto tree = CgroupTree::create(host_, name_);
  ASSERT_TRUE(tree.ok()) << tree.error().to_string();
  config::Limits l;
  l.io_devices.push_back({disk.node, 512u * 1024, std::nullopt, std::nullopt, std::nullopt});
  auto tenant = (*tree)->create_tenant("acme", l);
  ASSERT_TRUE(tenant.ok()) << tenant.error().to_string();
  auto wl = (*tenant)->create_workload("reader");
  ASSERT_TRUE(wl.ok()) << wl.error().to_string();
  const double throttled = timed_direct_read(wl->get(), file, kBytes);
  record_branch("2 MiB of direct reads from " + disk.node + ": " + std::to_string(unthrottled) +
                " s unthrottled, " + std::to_string(throttled) + " s at 512 KiB/s");
  EXPECT_GE(throttled, 2.0);
  EXPECT_LT(throttled, 20.0);
}

}  // namespace
}  // namespace bulkhead::cgroup::testing
