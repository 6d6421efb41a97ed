// Shared by the cgroup kernel tests: a fixture that gives every test its own
// tree name ("bulkhead-test-<pid>-<n>"), checks at the end that the test left no
// directory of that tree in any hierarchy, and cleans up (only that tree) if it
// did; plus a forked-child helper that is always killed and reaped.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cgroup/layout.h"
#include "cgroup/tree.h"
#include "common/file_util.h"
#include "kernel_test_env.h"

namespace bulkhead::cgroup::testing {

inline bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

inline std::string slurp(const std::string& path) {
  auto r = read_file(path);
  return r ? trim(*r) : std::string("<unreadable: ") + r.error().to_string() + ">";
}

// The line of /proc/<pid>/cgroup for a v1 controller ("memory") or cgroup2 ("").
inline std::string proc_cgroup_path(pid_t pid, const std::string& controller) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    // "4:memory:/a/b", "0::/a/b", "1:cpu,cpuacct:/x"
    size_t a = line.find(':');
    size_t b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) {
      continue;
    }
    std::string ctrls = line.substr(a + 1, b - a - 1);
    std::string path = line.substr(b + 1);
    if (controller.empty()) {
      if (line.compare(0, 3, "0::") == 0) {
        return path;
      }
      continue;
    }
    std::stringstream ss(ctrls);
    std::string c;
    while (std::getline(ss, c, ',')) {
      if (c == controller) {
        return path;
      }
    }
  }
  return "<none>";
}

// Whether the host accounts swap per cgroup, i.e. whether the file a swap
// limit is written to exists: memory.memsw.limit_in_bytes in the v1 memory
// hierarchy, or memory.swap.max in `v2_dir` (a cgroup2 directory below the
// root with the memory controller enabled, e.g. a tree's). Missing on kernels
// without CONFIG_MEMCG_SWAP or booted with swapaccount=0.
inline bool swap_accounted(const HostCgroups& host, const std::string& v2_dir) {
  auto memory = host.v1_mounts.find("memory");
  if (memory != host.v1_mounts.end()) {
    return exists(memory->second + "/memory.memsw.limit_in_bytes");
  }
  return exists(v2_dir + "/memory.swap.max");
}

// Whether the host has an active swap area (/proc/swaps lists more than its header).
inline bool swap_active() {
  auto swaps = read_file("/proc/swaps");
  return swaps.ok() && std::count(swaps->begin(), swaps->end(), '\n') > 1;
}

// Polls `cond` for up to `timeout`.
inline bool eventually(const std::function<bool()>& cond,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return cond();
}

// A forked child, SIGKILLed and reaped when the test ends whatever happens.
class Child {
 public:
  Child() = default;
  explicit Child(pid_t pid) : pid_(pid) {}
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  [[nodiscard]] pid_t pid() const { return pid_; }
  // Waits for the exit and returns the waitpid status (bounded).
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    int status = -1;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return status;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ADD_FAILURE() << "child " << pid_ << " did not exit";
    return -1;
  }

 private:
  pid_t pid_ = -1;
};

// A pipe with both ends owned.
struct Pipe {
  UniqueFd r, w;
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) == 0) {
      r.reset(fds[0]);
      w.reset(fds[1]);
    }
  }
};

// Forks a child that blocks until a byte arrives on `go`, then runs `body` and
// exits (with 0, unless `body` exits itself). Only async-signal-safe work
// belongs in `body`.
template <typename F>
pid_t spawn_after_go(Pipe& go, F body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    char c = 0;
    if (::read(go.r.get(), &c, 1) != 1) {
      ::_exit(120);
    }
    body();
    ::_exit(0);
  }
  return pid;
}

inline void release(Pipe& go) { ASSERT_EQ(::write(go.w.get(), "g", 1), 1); }

class CgroupKernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    BULKHEAD_REQUIRE_ROOT();
    auto host = detect_host_cgroups();
    ASSERT_TRUE(host.ok()) << host.error().to_string();
    host_ = *host;
    static int counter = 0;
    name_ = "bulkhead-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    ready_ = true;
    // The layout decides where every limit and placement below is checked.
    ::bulkhead::testing::record_branch(describe(host_));
  }

  void TearDown() override {
    if (!ready_) {
      return;
    }
    std::vector<std::string> left;
    for (const std::string& p : tree_paths()) {
      if (exists(p)) {
        left.push_back(p);
      }
    }
    EXPECT_TRUE(left.empty()) << "the test left " << left.size() << " cgroup dir(s), e.g. "
                              << (left.empty() ? "" : left[0]);
    for (const std::string& p : left) {
      force_remove(p);
    }
  }

  // The tree's directory in cgroup2 and in every v1 hierarchy that could get one.
  [[nodiscard]] std::vector<std::string> tree_paths() const {
    std::set<std::string> out = {host_.unified_mount + "/" + name_};
    for (const auto& [controller, mount] : host_.v1_mounts) {
      out.insert(mount + "/" + name_);
    }
    return {out.begin(), out.end()};
  }

  [[nodiscard]] bool hybrid() const { return host_.layout == Layout::kHybrid; }
  [[nodiscard]] std::string v1(const std::string& controller) const {
    auto it = host_.v1_mounts.find(controller);
    return it == host_.v1_mounts.end() ? std::string() : it->second;
  }

  // Last resort after a failed test: kill what is in OUR tree, remove its dirs.
  static void force_remove(const std::string& path) {
    if (exists(path + "/cgroup.kill")) {
      (void)write_file(path + "/cgroup.kill", "1");
    }
    auto procs = read_file(path + "/cgroup.procs");
    if (procs) {
      std::stringstream ss(*procs);
      pid_t pid = 0;
      while (ss >> pid) {
        ::kill(pid, SIGKILL);
      }
    }
    if (DIR* d = ::opendir(path.c_str())) {
      std::vector<std::string> subs;
      while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (e->d_type == DT_DIR && n != "." && n != "..") {
          subs.push_back(path + "/" + n);
        }
      }
      ::closedir(d);
      for (const auto& s : subs) {
        force_remove(s);
      }
    }
    eventually([&] { return ::rmdir(path.c_str()) == 0 || errno == ENOENT; },
               std::chrono::seconds(2));
  }

  HostCgroups host_;
  std::string name_;
  bool ready_ = false;
};

}  // namespace bulkhead::cgroup::testing
