// The tenant root filesystem, built for real by the stand-in launcher of
// rootfs_harness.h, then probed from inside: what is visible, what is
// writable, what /proc and /dev hold, and that nothing crosses to the host.
#include "isolation/rootfs.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/scope_exit.h"
#include "kernel_test_env.h"
#include "rootfs_harness.h"

namespace bulkhead::isolation {
namespace {

namespace fs = std::filesystem;
using config::BindMount;
using config::FilesystemView;
using namespace rootfs_testing;  // NOLINT(google-build-using-namespace)

// A scratch tree on the host: sources, a staging dir, a data dir.
class RootfsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BULKHEAD_REQUIRE_ROOT();
    char tmpl[] = "/tmp/bulkhead-rootfs-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr) << std::strerror(errno);
    dir_ = tmpl;
    // The tenant's root is "other" to root-owned host files: it must be able to traverse.
    fs::permissions(dir_, fs::perms(0755));
    staging_ = make_dir("staging", 0755, false);
  }

  void TearDown() override {
    if (dir_.empty()) {
      return;
    }
    // Never recurse into something mounted from the host (a leaked bind of /usr!).
    for (const auto& line : mountinfo_lines()) {
      if (line.find(" " + dir_.string()) != std::string::npos) {
        ADD_FAILURE() << "mount left under the scratch dir, not removing it: " << line;
        return;
      }
    }
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path make_dir(const std::string& name, unsigned mode, bool tenant_owned) {
    fs::path p = dir_ / name;
    fs::create_directories(p);
    ::chmod(p.c_str(), mode);
    if (tenant_owned) {
      EXPECT_EQ(::chown(p.c_str(), id_base(), id_base()), 0) << std::strerror(errno);
    }
    return p;
  }

  fs::path make_file(const std::string& name, const std::string& content, bool tenant_owned) {
    fs::path p = dir_ / name;
    std::ofstream(p) << content;
    ::chmod(p.c_str(), 0644);
    if (tenant_owned) {
      EXPECT_EQ(::chown(p.c_str(), id_base(), id_base()), 0);
    }
    return p;
  }

  static BindMount bind(const fs::path& source, const std::string& target, bool read_only,
                        bool optional = false) {
    return BindMount{source.string(), target, read_only, optional};
  }

  // /usr and the merged-/usr symlinks, so /bin/sh runs inside.
  static FilesystemView base_view() {
    FilesystemView v;
    v.binds.push_back(BindMount{"/usr", "/usr", true, false});
    v.symlinks = {{"usr/bin", "/bin"}, {"usr/lib", "/lib"}, {"usr/lib64", "/lib64"}};
    return v;
  }

  RootfsPlan plan(const FilesystemView& v) {
    auto p = plan_rootfs(v, staging_.string());
    EXPECT_TRUE(p.ok()) << p.error().to_string();
    return p.ok() ? std::move(*p) : RootfsPlan{};
  }

  bool staging_is_empty() const { return fs::is_empty(staging_); }

  fs::path dir_;
  fs::path staging_;
};

int step_index(const RootfsPlan& p, const std::string& description_part) {
  for (size_t i = 0; i < p.steps.size(); ++i) {
    if (p.steps[i].description.find(description_part) != std::string::npos) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// ---------------------------------------------------------------- plan (no kernel)

TEST_F(RootfsTest, MissingRequiredSourceNamesTheField) {
  FilesystemView v = base_view();
  v.binds.push_back(bind(dir_ / "nope", "/srv", true));
  auto p = plan_rootfs(v, staging_.string());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().to_string(),
            "filesystem.read_only: " + (dir_ / "nope").string() + " does not exist");

  v.binds.back().read_only = false;
  p = plan_rootfs(v, staging_.string());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message,
            "filesystem.read_write: " + (dir_ / "nope").string() + " does not exist");

  FilesystemView d = base_view();
  d.data = {(dir_ / "no-data").string(), "/data"};
  p = plan_rootfs(d, staging_.string());
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message,
            "filesystem.data: " + (dir_ / "no-data").string() + " does not exist");
}

TEST_F(RootfsTest, MissingOptionalSourceIsSkipped) {
  FilesystemView v = base_view();
  v.binds.push_back(bind(dir_ / "nope", "/opt/optional", true, /*optional=*/true));
  RootfsPlan p = plan(v);
  EXPECT_EQ(step_index(p, "/opt/optional"), -1);
  ASSERT_EQ(p.skipped.size(), 1u);
  EXPECT_NE(p.skipped[0].find("does not exist"), std::string::npos) << p.skipped[0];
}

TEST_F(RootfsTest, PlanRejectsEscapesAndOverlaps) {
  fs::path src = make_dir("src", 0755, false);
  FilesystemView under_link = base_view();
  under_link.binds.push_back(bind(src, "/lib/extra", true));
  auto p = plan_rootfs(under_link, staging_.string());
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("below the symlink /lib"), std::string::npos)
      << p.error().message;

  FilesystemView dup = base_view();
  dup.binds.push_back(bind(src, "/srv", true));
  dup.tmpfs.push_back({"/srv", 1 << 20, 01777});
  p = plan_rootfs(dup, staging_.string());
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("also the target"), std::string::npos) << p.error().message;

  FilesystemView in_proc = base_view();
  in_proc.binds.push_back(bind(src, "/proc/x", true));
  EXPECT_FALSE(plan_rootfs(in_proc, staging_.string()).ok());

  FilesystemView link_in_link = base_view();
  link_in_link.symlinks.push_back({"x", "/bin/x"});
  EXPECT_FALSE(plan_rootfs(link_in_link, staging_.string()).ok());

  EXPECT_FALSE(plan_rootfs(base_view(), (dir_ / "no-staging").string()).ok());

  make_dir("closed", 0700, false);
  fs::path hidden = make_dir("closed/staging", 0755, false);
  p = plan_rootfs(base_view(), hidden.string());
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("not searchable by others"), std::string::npos)
      << p.error().message;
}

TEST_F(RootfsTest, ParentsAreMountedBeforeChildren) {
  fs::path src = make_dir("cache", 0755, false);
  FilesystemView v = base_view();
  v.binds.push_back(bind(src, "/tmp/cache", false));
  v.tmpfs.push_back({"/tmp", 1 << 20, 01777});
  RootfsPlan p = plan(v);
  int tmp = step_index(p, "tmpfs on /tmp ");
  int cache = step_index(p, "on /tmp/cache");
  ASSERT_GE(tmp, 0);
  ASSERT_GE(cache, 0);
  EXPECT_LT(tmp, cache);
}

// ---------------------------------------------------------------- apply (kernel)

TEST_F(RootfsTest, BuildsTheTenantView) {
  fs::path ro = make_dir("ro", 0755, true);
  make_file("ro/hello", "hello from the host", true);
  fs::path rw = make_dir("rw", 0755, true);
  fs::path single = make_file("single.txt", "a single file", false);
  fs::path data = make_dir("data", 0700, true);

  FilesystemView v = base_view();
  v.binds.push_back(bind(ro, "/ro", true));
  v.binds.push_back(bind(single, "/opt/single.txt", true));
  v.binds.push_back(bind(rw, "/rw", false));
  v.binds.push_back(bind(dir_ / "missing", "/opt/optional", true, true));
  v.tmpfs.push_back({"/tmp", 1 << 20, 01777});
  v.data = {data.string(), "/data"};
  RootfsPlan p = plan(v);
  ASSERT_FALSE(p.steps.empty());

  const auto before = mountinfo_lines();
  SandboxResult r = run_sandbox(p, kIdCount, [](Facts& f) {
    char cwd[PATH_MAX] = {};
    f.add("pid", ::getpid());
    f.add("uid", static_cast<long>(::getuid()));
    f.add("cwd", ::getcwd(cwd, sizeof(cwd)) != nullptr ? cwd : "?");
    f.add("root", list_dir("/"));
    f.add("etc_hostname", stat_errno("/etc/hostname"));
    f.add("root_home", stat_errno("/root"));
    f.add("home", stat_errno("/home"));
    f.add("optional", stat_errno("/opt/optional"));
    f.add("usr_mkdir", ::mkdir("/usr/bulkhead-probe", 0755) == 0 ? 0 : errno);
    f.add("ro_create", open_errno("/ro/new", O_WRONLY | O_CREAT));
    f.add("ro_read", read_text("/ro/hello"));
    f.add("single", read_text("/opt/single.txt"));
    f.add("opt_mode", [] {
      struct stat sb {};
      char mode[16] = "?";
      if (::stat("/opt", &sb) == 0) {
        (void)std::snprintf(mode, sizeof(mode), "%o", sb.st_mode & 07777);
      }
      return std::string(mode);
    }());
    f.add("rw_write", write_file_errno("/rw/created", "from the tenant"));
    f.add("data_write", write_file_errno("/data/state", "kept"));
    f.add("top_create", open_errno("/newfile", O_WRONLY | O_CREAT));
    f.add("top_mkdir", ::mkdir("/newdir", 0755) == 0 ? 0 : errno);
    f.add("tmp_write", write_file_errno("/tmp/small", std::string(size_t{256} * 1024, 'y')));
    ::unlink("/tmp/small");
    f.add("tmp_fill", fill("/tmp/big"));
    f.add("shm_write", write_file_errno("/dev/shm/x", "shm"));
    f.add("proc_pids", [] {
      std::string pids;
      for (const auto& e : fs::directory_iterator("/proc")) {
        auto n = e.path().filename().string();
        if (std::all_of(n.begin(), n.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
          pids += (pids.empty() ? "" : ",") + n;
        }
      }
      return pids;
    }());
    char self[64] = {};
    f.add("proc_self", ::readlink("/proc/self", self, sizeof(self) - 1) > 0 ? self : "?");
    f.add("core_pattern_w", open_errno("/proc/sys/kernel/core_pattern", O_WRONLY));
    f.add("ip_forward_w", open_errno("/proc/sys/net/ipv4/ip_forward", O_WRONLY));
    f.add("sysrq_w", open_errno("/proc/sysrq-trigger", O_WRONLY));
    f.add("proc_keys", describe_masked("/proc/keys"));
    f.add("proc_timer_list", describe_masked("/proc/timer_list"));
    f.add("proc_kcore", describe_masked("/proc/kcore"));
    f.add("proc_acpi", list_dir("/proc/acpi"));
    f.add("proc_acpi_create", open_errno("/proc/acpi/x", O_WRONLY | O_CREAT));
    f.add("dev", list_dir("/dev"));
    f.add("dev_null_w", write_file_errno("/dev/null", "discarded"));
    f.add("dev_urandom", [] {
      char buf[16];
      int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
      ssize_t n = fd < 0 ? -1 : ::read(fd, buf, sizeof(buf));
      if (fd >= 0) {
        ::close(fd);
      }
      return std::to_string(n);
    }());
    f.add("ptmx_open", open_pty());
    f.add("sh", run_program({"/bin/sh", "-c", "echo ok from $(echo sh)"}));
    f.add("mounts", [] {
      std::string points;
      std::ifstream in("/proc/self/mountinfo");
      for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string id, parent, dev, root, point;
        fields >> id >> parent >> dev >> root >> point;
        points += (points.empty() ? "" : " ") + point;
      }
      return points;
    }());
  });
  const auto after = mountinfo_lines();

  ASSERT_EQ(r.harness_error, "") << "exit " << r.exit_code;
  ASSERT_TRUE(r.applied) << "apply failed: " << rootfs_error(p, r.failure).to_string();
  auto& f = r.facts;
  if (::testing::Test::HasFailure() || std::getenv("ROOTFS_TEST_VERBOSE") != nullptr) {
    for (const auto& [k, val] : f) {
      std::cerr << k << "=" << val << "\n";
    }
  }
  EXPECT_EQ(f["pid"], "1");
  EXPECT_EQ(f["uid"], "0");
  EXPECT_EQ(f["cwd"], "/");
  EXPECT_EQ(f["root"], "bin,data,dev,lib,lib64,opt,proc,ro,rw,tmp,usr");
  EXPECT_EQ(f["etc_hostname"], std::to_string(ENOENT));
  EXPECT_EQ(f["root_home"], std::to_string(ENOENT));
  EXPECT_EQ(f["home"], std::to_string(ENOENT));
  EXPECT_EQ(f["optional"], std::to_string(ENOENT));
  // Read-only even where the tenant owns the files.
  EXPECT_EQ(f["usr_mkdir"], std::to_string(EROFS));
  EXPECT_EQ(f["ro_create"], std::to_string(EROFS));
  EXPECT_EQ(f["ro_read"], "hello from the host");
  EXPECT_EQ(f["single"], "a single file");
  EXPECT_EQ(f["opt_mode"], "755");
  EXPECT_EQ(f["rw_write"], "0");
  EXPECT_EQ(f["data_write"], "0");
  EXPECT_EQ(f["top_create"], std::to_string(EROFS));
  EXPECT_EQ(f["top_mkdir"], std::to_string(EROFS));
  EXPECT_EQ(f["tmp_write"], "0");
  EXPECT_EQ(f["tmp_fill"], std::to_string(1 << 20) + "," + std::strerror(ENOSPC));
  EXPECT_EQ(f["shm_write"], "0");
  EXPECT_EQ(f["proc_pids"], "1");
  EXPECT_EQ(f["proc_self"], "1");
  EXPECT_NE(f["core_pattern_w"], "0");
  // Owned by tenant root (its own net namespace): only the read-only mount refuses.
  EXPECT_EQ(f["ip_forward_w"], std::to_string(EROFS));
  EXPECT_NE(f["sysrq_w"], "0");
  EXPECT_EQ(f["proc_keys"], "chr:1:3,read:0");
  EXPECT_EQ(f["proc_timer_list"], "chr:1:3,read:0");
  // The kernel's build (CONFIG_PROC_KCORE, ACPI) and the host's /dev decide
  // what there is to mask or bind: masked where it exists, absent where not.
  const bool kcore = fs::exists("/proc/kcore");
  const bool acpi = fs::exists("/proc/acpi");
  const bool tty = fs::exists("/dev/tty");
  ::bulkhead::testing::record_branch(std::string(kcore ? "/proc/kcore masked" : "no /proc/kcore") +
                                     (acpi ? ", /proc/acpi emptied" : ", no /proc/acpi") +
                                     (tty ? ", /dev/tty bound" : ", no /dev/tty"));
  const std::string enoent = std::strerror(ENOENT);
  EXPECT_EQ(f["proc_kcore"], kcore ? "chr:1:3,read:0" : "missing:" + enoent);
  if (acpi) {
    EXPECT_EQ(f["proc_acpi"], "");
    EXPECT_EQ(f["proc_acpi_create"], std::to_string(EROFS));
  } else {
    EXPECT_EQ(f["proc_acpi"], "error:" + enoent);
    EXPECT_EQ(f["proc_acpi_create"], std::to_string(ENOENT));
  }
  std::string dev = "fd,full,null,ptmx,pts,random,shm,stderr,stdin,stdout";
  dev += tty ? ",tty,urandom,zero" : ",urandom,zero";
  EXPECT_EQ(f["dev"], dev);
  EXPECT_EQ(f["dev_null_w"], "0");
  EXPECT_EQ(f["dev_urandom"], "16");
  EXPECT_EQ(f["ptmx_open"], "pts=0,ptmx;gid=5");
  EXPECT_EQ(f["sh"], "0:ok from sh");
  EXPECT_EQ(f["mounts"].find(staging_.string()), std::string::npos) << f["mounts"];

  // The host side: the tenant's writes landed with its uid; nothing leaked.
  struct stat sb {};
  ASSERT_EQ(::stat((rw / "created").c_str(), &sb), 0);
  EXPECT_EQ(sb.st_uid, id_base());
  EXPECT_TRUE(fs::exists(data / "state"));
  EXPECT_TRUE(staging_is_empty());
  for (const auto& line : after) {
    EXPECT_EQ(line.find(dir_.string()), std::string::npos) << "leaked mount: " << line;
  }
  std::set<std::string> old(before.begin(), before.end());
  for (const auto& line : after) {
    if (!old.count(line)) {
      // Not fatal: other test processes on this host may mount concurrently.
      std::cerr << "note: new host mount during the test: " << line << "\n";
    }
  }
}

TEST_F(RootfsTest, DevptsWithoutAMappedTtyGroup) {
  RootfsPlan p = plan(FilesystemView{});
  // Only tenant id 0 is mapped: gid=5 is rejected and devpts is mounted without it.
  SandboxResult r = run_sandbox(p, 1, [](Facts& f) {
    f.add("root", list_dir("/"));
    f.add("ptmx_open", open_pty());
  });
  ASSERT_EQ(r.harness_error, "") << "exit " << r.exit_code;
  ASSERT_TRUE(r.applied) << rootfs_error(p, r.failure).to_string();
  EXPECT_EQ(r.facts["root"], "dev,proc");
  // The pty is in the creator's group instead of tty.
  EXPECT_EQ(r.facts["ptmx_open"], "pts=0,ptmx;gid=0");
  EXPECT_TRUE(staging_is_empty());
}

TEST_F(RootfsTest, UnreadableSourceReportsTheStep) {
  make_dir("private", 0700, false);
  fs::path inner = make_dir("private/inner", 0755, false);
  FilesystemView v = base_view();
  v.binds.push_back(bind(inner, "/secret", true));
  RootfsPlan p = plan(v);
  SandboxResult r = run_sandbox(p, kIdCount, [](Facts&) {});
  ASSERT_EQ(r.harness_error, "");
  ASSERT_FALSE(r.applied);
  EXPECT_EQ(r.failure.err, EACCES);
  EXPECT_EQ(r.failure.step, step_index(p, "on /secret"));
  EXPECT_EQ(r.failure.op, static_cast<int>(RootfsOp::kOpenSource));
  EXPECT_EQ(rootfs_error(p, r.failure).to_string(),
            "bind " + inner.string() +
                " on /secret read-only (filesystem.read_only): opening the source: " +
                std::strerror(EACCES));
  // What the launcher prints, which does not carry the op.
  EXPECT_EQ(describe_failure(p, RootfsFailure{r.failure.err, r.failure.step}),
            "bind " + inner.string() + " on /secret read-only (filesystem.read_only)");
  EXPECT_TRUE(staging_is_empty());
}

// With the host's side of a bind shared, nothing mounted on the host later
// shows up in the tenant's view, and nothing the sandbox mounts (its root on
// the staging dir) shows up on the host while it runs.
TEST_F(RootfsTest, NoPropagationEitherWay) {
  fs::path shared = make_dir("shared", 0755, true);
  make_dir("shared/sub", 0755, true);
  fs::path staging = make_dir("shared/staging", 0755, false);
  ASSERT_EQ(::mount(shared.c_str(), shared.c_str(), nullptr, MS_BIND, nullptr), 0)
      << std::strerror(errno);
  ScopeExit unmount([&] { ::umount2(shared.c_str(), MNT_DETACH); });
  ASSERT_EQ(::mount(nullptr, shared.c_str(), nullptr, MS_SHARED, nullptr), 0)
      << std::strerror(errno);

  FilesystemView v;
  v.binds.push_back(bind(shared, "/shared", false));
  auto p = plan_rootfs(v, staging.string());
  ASSERT_TRUE(p.ok()) << p.error().to_string();

  // The host side: once the sandbox is up, mount on the shared tree, look for
  // the sandbox's root in the host's mount table, then let the probe look.
  std::string host_error;
  std::vector<std::string> host_view_of_staging;
  std::thread host([&] {
    if (!wait_for_file((shared / "up").c_str(), std::chrono::seconds(20))) {
      host_error = "the sandbox never came up";
      return;
    }
    if (::mount("tmpfs", (shared / "sub").c_str(), "tmpfs", 0, "size=4096") != 0) {
      host_error = std::string("host mount: ") + std::strerror(errno);
    }
    for (const auto& line : mountinfo_lines()) {
      if (line.find(staging.string()) != std::string::npos) {
        host_view_of_staging.push_back(line);
      }
    }
    std::ofstream(shared / "mounted") << "1";
  });
  SandboxResult r = run_sandbox(*p, kIdCount, [](Facts& f) {
    f.add("up", write_file_errno("/shared/up", "1"));
    f.add("waited", wait_for_file("/shared/mounted", std::chrono::seconds(20)) ? "yes" : "no");
    struct stat top {};
    struct stat sub {};
    ::stat("/shared", &top);
    ::stat("/shared/sub", &sub);
    f.add("sub_is_mount", sub.st_dev != top.st_dev ? "yes" : "no");
  });
  host.join();
  ::umount2((shared / "sub").c_str(), MNT_DETACH);

  ASSERT_EQ(r.harness_error, "");
  ASSERT_TRUE(r.applied) << rootfs_error(*p, r.failure).to_string();
  ASSERT_EQ(host_error, "");
  EXPECT_EQ(r.facts["up"], "0");
  EXPECT_EQ(r.facts["waited"], "yes");
  EXPECT_EQ(r.facts["sub_is_mount"], "no");
  EXPECT_TRUE(host_view_of_staging.empty()) << host_view_of_staging.front();
  EXPECT_TRUE(fs::is_empty(staging));
}

// A tenant-writable bind holds a symlink pointing at a host directory; a later
// mount point below it must resolve inside the new root, never on the host.
TEST_F(RootfsTest, SymlinkInABindCannotRedirectAMountPoint) {
  fs::path victim = make_dir("victim", 0777, false);
  fs::path evil = make_dir("evil", 0755, true);
  fs::path src = make_dir("src", 0755, false);
  fs::create_directory_symlink(victim, evil / "absolute");
  fs::create_directory_symlink("../../../../../../../../" + victim.relative_path().string(),
                               evil / "relative");
  for (const char* link : {"absolute", "relative"}) {
    SCOPED_TRACE(link);
    FilesystemView v = base_view();
    v.binds.push_back(bind(evil, "/evil", false));
    v.binds.push_back(bind(src, std::string("/evil/") + link + "/sub", true));
    RootfsPlan p = plan(v);
    SandboxResult r = run_sandbox(p, kIdCount, [](Facts&) {});
    ASSERT_EQ(r.harness_error, "");
    ASSERT_FALSE(r.applied);
    EXPECT_EQ(r.failure.step, step_index(p, "/sub"));
    EXPECT_EQ(r.failure.err, ENOENT) << rootfs_error(p, r.failure).to_string();
    EXPECT_EQ(r.failure.op, static_cast<int>(RootfsOp::kCreateTarget));
    EXPECT_TRUE(fs::is_empty(victim));
    EXPECT_TRUE(staging_is_empty());
  }
}

}  // namespace
}  // namespace bulkhead::isolation
