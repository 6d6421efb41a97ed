// Launch latency of /bin/true: a workload in an existing tenant (the common
// case: the tenant's user/net/ipc/uts namespaces exist), a workload in a new
// tenant, and bubblewrap with every namespace, measured in the same run.
//
//   sudo build/tests/bench/launch_bench [--runs N]
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "cgroup/tree.h"
#include "config/profile_loader.h"
#include "isolation/tenant.h"

namespace {

using namespace bulkhead;  // NOLINT(google-build-using-namespace): a main
using Clock = std::chrono::steady_clock;

struct Figures {
  double median_ms;
  double p99_ms;
};

Figures measure(int runs, const std::function<bool()>& once) {
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    auto start = Clock::now();
    if (!once()) {
      (void)std::fprintf(stderr, "run %d failed\n", i);
      std::exit(1);
    }
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(q * static_cast<double>(ms.size())))];
  };
  return {at(0.5), at(0.99)};
}

bool run_bwrap() {
  const char* argv[] = {"bwrap", "--unshare-all", "--ro-bind", "/",         "/",    "--proc",
                        "/proc", "--dev",         "/dev",      "/bin/true", nullptr};
  pid_t pid = 0;
  if (posix_spawnp(&pid, "bwrap", nullptr, nullptr, const_cast<char**>(argv), environ) != 0) {
    return false;
  }
  int status = 0;
  return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

const char* kProfile = R"(version: 1
tenant: bench
ids: {base: 1862270976, count: 65536}
filesystem:
  read_only: [/usr]
  symlinks:
    - {path: /bin, target: usr/bin}
    - {path: /lib, target: usr/lib}
    - {path: /lib64, target: usr/lib64}
  tmpfs: [{target: /tmp, size: 16Mi}]
  data: {host_path: /tmp/bulkhead-bench-data}
limits:
  memory: {max: 256Mi}
  pids: 64
)";

}  // namespace

int main(int argc, char** argv) {
  int runs = 300;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0) {
      runs = std::atoi(argv[i + 1]);
    }
  }
  if (runs < 10) {
    (void)std::fprintf(stderr, "--runs must be at least 10\n");
    return 2;
  }
  auto loaded = config::load_profile_string(kProfile, "bench-profile");
  if (!loaded.ok()) {
    (void)std::fprintf(stderr, "%s\n", loaded.errors.front().to_string().c_str());
    return 1;
  }
  char staging[] = "/tmp/bulkhead-bench-XXXXXX";
  if (mkdtemp(staging) == nullptr) {
    return 1;
  }
  auto host = cgroup::detect_host_cgroups();
  auto tree = host.ok() ? cgroup::CgroupTree::create(*host, "bulkhead-bench")
                        : Result<std::unique_ptr<cgroup::CgroupTree>>(host.error());
  if (!tree.ok()) {
    (void)std::fprintf(stderr, "%s\n", tree.error().to_string().c_str());
    return 1;
  }
  UniqueFd devnull(open("/dev/null", O_RDWR | O_CLOEXEC));
  auto launch_true = [&](isolation::Tenant& tenant) {
    isolation::LaunchRequest req;
    req.name = "true";
    req.argv = {"/bin/true"};
    req.stdin_fd = req.stdout_fd = req.stderr_fd = devnull.get();
    auto w = tenant.launch(req);
    if (!w.ok()) {
      (void)std::fprintf(stderr, "%s\n", w.error().to_string().c_str());
      return false;
    }
    auto s = (*w)->wait();
    return s.ok() && s->shell_code() == 0;
  };

  auto tenant = isolation::Tenant::create(*loaded.profile, **tree, {staging});
  if (!tenant.ok()) {
    (void)std::fprintf(stderr, "%s\n", tenant.error().to_string().c_str());
    return 1;
  }
  // Warm-up: page cache, dentry cache.
  measure(10, [&] { return launch_true(**tenant); });
  measure(10, run_bwrap);

  Figures second = measure(runs, [&] { return launch_true(**tenant); });
  tenant->reset();
  Figures fresh = measure(runs / 3, [&] {
    auto t = isolation::Tenant::create(*loaded.profile, **tree, {staging});
    return t.ok() && launch_true(**t);
  });
  Figures bwrap = measure(runs, run_bwrap);
  rmdir(staging);
  std::filesystem::remove_all("/tmp/bulkhead-bench-data");

  std::printf("launch of /bin/true, median and p99 over %d runs (%ld cores)\n", runs,
              sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("%-44s %9s %9s %14s\n", "", "median", "p99", "median/bwrap");
  auto row = [&](const char* name, Figures f) {
    std::printf("%-44s %7.2fms %7.2fms %13.2fx\n", name, f.median_ms, f.p99_ms,
                f.median_ms / bwrap.median_ms);
  };
  row("bulkhead: workload in an existing tenant", second);
  row("bulkhead: new tenant + workload", fresh);
  row("bwrap --unshare-all --ro-bind / / ...", bwrap);
  return 0;
}
