#include "sandbox_fixture.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>

namespace bulkhead::testing {
namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "bulkhead-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
    return;
  }
  ::chmod(tmpl.c_str(), 0755);
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (!path_.empty()) {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
}

namespace {
std::atomic<int> g_instance{0};
}  // namespace

SandboxHost::SandboxHost() {
  int n = g_instance++;
  tree_name_ = "bulkhead-test-" + std::to_string(::getpid()) + "-" + std::to_string(n);
  // A uid range per fixture that no other concurrent test run picks: derived from the pid.
  next_base_ = 0x60000000U + (static_cast<uint32_t>(::getpid()) % 2048U) * 0x100000U +
               static_cast<uint32_t>(n % 8) * 0x20000U;
  auto host = cgroup::detect_host_cgroups();
  if (!host.ok()) {
    ADD_FAILURE() << host.error().to_string();
    return;
  }
  host_ = *host;
  auto tree = cgroup::CgroupTree::create(host_, tree_name_);
  if (!tree.ok()) {
    ADD_FAILURE() << tree.error().to_string();
    return;
  }
  tree_ = std::move(*tree);
  fs::create_directories(work_.path() + "/rootfs");
}

SandboxHost::~SandboxHost() = default;

std::string SandboxHost::profile_yaml(const std::string& tenant, const std::string& extra,
                                      const std::string& extra_read_only) const {
  std::string y;
  y += "version: 1\n";
  y += "tenant: " + tenant + "\n";
  y += "filesystem:\n";
  y += "  read_only:\n";
  y += "    - /usr\n";
  y += "    - {source: " + std::string(BULKHEAD_HELPER_DIR) + ", target: /helpers}\n";
  y += extra_read_only;
  y += "  symlinks:\n";
  y += "    - {path: /bin, target: usr/bin}\n";
  y += "    - {path: /sbin, target: usr/sbin}\n";
  y += "    - {path: /lib, target: usr/lib}\n";
  y += "    - {path: /lib64, target: usr/lib64}\n";
  y += "  tmpfs:\n";
  y += "    - {target: /tmp, size: 16Mi}\n";
  y += "  data: {target: /data, host_path: " + work_.path() + "/data/" + tenant + "}\n";
  y += "process:\n";
  y += "  env: {PATH: /usr/bin:/bin:/helpers}\n";
  y += extra;
  return y;
}

Result<std::unique_ptr<isolation::Tenant>> SandboxHost::make_tenant(const std::string& yaml,
                                                                    net::NetworkHost* network) {
  auto loaded = config::load_profile_string(yaml, "test-profile.yaml");
  if (!loaded.ok()) {
    std::string all;
    for (const auto& e : loaded.errors) {
      all += e.to_string() + "\n";
    }
    return make_error("profile invalid:\n" + all);
  }
  config::Profile profile = *loaded.profile;
  if (!profile.ids) {
    profile.ids = config::IdRange{next_base_, 65536};
    next_base_ += 0x10000U;
  }
  if (!tree_) {
    return make_error("no cgroup tree");
  }
  return isolation::Tenant::create(profile, *tree_,
                                   isolation::TenantOptions{work_.path() + "/rootfs", network});
}

Result<RunResult> SandboxHost::run(isolation::Tenant& tenant, std::vector<std::string> argv,
                                   const std::string& name) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    return errno_error("pipe");
  }
  UniqueFd rd(p[0]);
  UniqueFd wr(p[1]);
  UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  isolation::LaunchRequest req;
  req.name = name;
  req.argv = std::move(argv);
  req.stdin_fd = devnull.get();
  req.stdout_fd = wr.get();
  req.stderr_fd = wr.get();
  req.die_with_parent = true;
  auto workload = tenant.launch(req);
  wr.reset();
  if (!workload.ok()) {
    return workload.error();
  }
  RunResult result;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(rd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    result.out.append(buf, static_cast<size_t>(n));
  }
  auto status = (*workload)->wait();
  if (!status.ok()) {
    return status.error();
  }
  result.status = *status;
  return result;
}

}  // namespace bulkhead::testing
