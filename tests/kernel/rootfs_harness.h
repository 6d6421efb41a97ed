// A stand-in for the launcher in rootfs tests: a child joins a new user
// namespace (tenant root = an unprivileged host uid, mapped by the test process)
// and new net/ipc/uts namespaces, unshares a pid namespace and forks its PID 1,
// which unshares the mount namespace and calls apply_rootfs, as the launcher's
// init does. A probe then runs inside as that PID 1 and reports "key=value"
// facts through a pipe, so the assertions are made in the test process.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/file_util.h"
#include "common/unique_fd.h"
#include "isolation/rootfs.h"

namespace bulkhead::isolation::rootfs_testing {

inline constexpr uint32_t kIdCount = 65536;
inline constexpr auto kSandboxDeadline = std::chrono::seconds(30);

// A high host id range per test process, away from real users and other tenants.
inline uint32_t id_base() {
  return 0x7F000000u + (static_cast<uint32_t>(::getpid()) % 128u) * kIdCount;
}

// ---------------------------------------------------------------- probes (inside)

// Facts a probe reports: "key=value" lines.
class Facts {
 public:
  void add(const std::string& key, const std::string& value) { out_ += key + "=" + value + "\n"; }
  void add(const std::string& key, long value) { add(key, std::to_string(value)); }
  [[nodiscard]] const std::string& text() const { return out_; }

 private:
  std::string out_;
};

inline std::string list_dir(const char* path) {
  DIR* d = ::opendir(path);
  if (d == nullptr) {
    return std::string("error:") + std::strerror(errno);
  }
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") {
      names.push_back(n);
    }
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  std::string joined;
  for (const auto& n : names) {
    joined += (joined.empty() ? "" : ",") + n;
  }
  return joined;
}

// 0 on success, else errno.
inline int open_errno(const char* path, int flags, mode_t mode = 0644) {
  int fd = ::open(path, flags | O_CLOEXEC, mode);
  if (fd < 0) {
    return errno;
  }
  ::close(fd);
  return 0;
}

inline int stat_errno(const char* path) {
  struct stat sb {};
  return ::lstat(path, &sb) == 0 ? 0 : errno;
}

inline int write_file_errno(const char* path, const std::string& data) {
  int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return errno;
  }
  ssize_t n = ::write(fd, data.data(), data.size());
  int err = n == static_cast<ssize_t>(data.size()) ? 0 : (n < 0 ? errno : EIO);
  ::close(fd);
  return err;
}

inline std::string read_text(const char* path) {
  auto r = read_file(path);
  return r.ok() ? *r : "error:" + std::string(std::strerror(r.error().code));
}

// "chr:1:3,read:0" for a file masked with /dev/null.
inline std::string describe_masked(const char* path) {
  struct stat sb {};
  if (::stat(path, &sb) != 0) {
    return std::string("missing:") + std::strerror(errno);
  }
  std::string out = S_ISCHR(sb.st_mode) ? "chr:" + std::to_string(major(sb.st_rdev)) + ":" +
                                              std::to_string(minor(sb.st_rdev))
                                        : "mode:" + std::to_string(sb.st_mode & S_IFMT);
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return out + ",open:" + std::strerror(errno);
  }
  char buf[64];
  ssize_t n = ::read(fd, buf, sizeof(buf));
  ::close(fd);
  return out + ",read:" + std::to_string(n);
}

// Fills a file in steps of 64 KiB until the filesystem says no.
inline std::string fill(const char* path) {
  int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return std::string("open:") + std::strerror(errno);
  }
  std::string chunk(size_t{64} * 1024, 'x');
  size_t total = 0;
  int err = 0;
  while (total < (64u << 20)) {
    ssize_t n = ::write(fd, chunk.data(), chunk.size());
    if (n < 0) {
      err = errno;
      break;
    }
    total += static_cast<size_t>(n);
  }
  ::close(fd);
  ::unlink(path);
  return std::to_string(total) + "," + (err == 0 ? "no-error" : std::strerror(err));
}

// Opens a pty through /dev/ptmx: "pts=<entries>;gid=<group of the new pty>".
inline std::string open_pty() {
  int fd = ::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    return std::string("open:") + std::strerror(errno);
  }
  struct stat sb {};
  std::string s = "pts=" + list_dir("/dev/pts") +
                  ";gid=" + (::stat("/dev/pts/0", &sb) == 0 ? std::to_string(sb.st_gid) : "?");
  ::close(fd);
  return s;
}

// Runs argv inside the sandbox; "<exit status>:<stdout>".
inline std::string run_program(const std::vector<const char*>& argv) {
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) {
    return "pipe failed";
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const char* a : argv) {
      args.push_back(const_cast<char*>(a));
    }
    args.push_back(nullptr);
    char* envp[] = {const_cast<char*>("PATH=/usr/bin:/bin"), nullptr};
    ::execve(args[0], args.data(), envp);
    _exit(127);
  }
  ::close(out[1]);
  std::string text;
  char buf[256];
  ssize_t n;
  while ((n = ::read(out[0], buf, sizeof(buf))) > 0) {
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)) + ":" +
         trim(text);
}

// ---------------------------------------------------------------- harness (outside)

struct SandboxResult {
  std::string harness_error;  // the test setup failed, not the code under test
  bool applied = false;
  RootfsFailure failure{};
  std::map<std::string, std::string> facts;
  int exit_code = -1;
};

using Probe = std::function<void(Facts&)>;

inline bool wait_readable(int fd, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return false;
    }
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc > 0) {
      return true;
    }
    if (rc < 0 && errno != EINTR) {
      return false;
    }
  }
}

// Reads until EOF or the deadline.
inline bool read_all(int fd, std::chrono::steady_clock::time_point deadline, std::string* out) {
  char buf[4096];
  for (;;) {
    if (!wait_readable(fd, deadline)) {
      return false;
    }
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return n == 0;
    }
    out->append(buf, static_cast<size_t>(n));
  }
}

// Waits for `pid` until the deadline, then kills it; always reaps. Exit code or 128+signal.
inline int reap(pid_t pid, std::chrono::steady_clock::time_point deadline) {
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      break;
    }
    if (r < 0 && errno != EINTR) {
      return -1;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    ::usleep(2000);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// PID 1 of the new pid namespace: what the launcher's init does up to the workload fork.
[[noreturn]] inline void sandbox_init(const RootfsPlan& plan, const Probe& probe, int out) {
  (void)::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (::unshare(CLONE_NEWNS) != 0) {
    std::string msg = std::string("H") + "unshare(CLONE_NEWNS): " + std::strerror(errno);
    (void)!::write(out, msg.data(), msg.size());
    _exit(2);
  }
  ::umask(077);  // a strict agent umask must not leak into the new root's directories
  RootfsFailure failure{};
  if (apply_rootfs(plan, &failure) < 0) {
    char msg[1 + sizeof(failure)] = {'F'};
    std::memcpy(msg + 1, &failure, sizeof(failure));
    (void)!::write(out, msg, sizeof(msg));
    _exit(3);
  }
  Facts facts;
  probe(facts);
  std::string msg = "R" + facts.text();
  (void)!::write(out, msg.data(), msg.size());
  _exit(0);
}

// Stage 1: joins a new user namespace (plus net/ipc/uts, like a tenant), becomes
// tenant root, unshares the pid namespace and forks its init.
[[noreturn]] inline void sandbox_stage1(const RootfsPlan& plan, const Probe& probe, int ready,
                                        int go, int out) {
  (void)::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (::unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) != 0) {
    _exit(10);
  }
  char c = 'u';
  if (::write(ready, &c, 1) != 1 || ::read(go, &c, 1) != 1) {
    _exit(11);
  }
  if (::setgroups(0, nullptr) != 0 || ::setresgid(0, 0, 0) != 0 || ::setresuid(0, 0, 0) != 0) {
    _exit(12);
  }
  if (::unshare(CLONE_NEWPID) != 0) {
    _exit(13);
  }
  pid_t init = ::fork();
  if (init < 0) {
    _exit(14);
  }
  if (init == 0) {
    sandbox_init(plan, probe, out);
  }
  ::close(out);
  int status = 0;
  while (::waitpid(init, &status, 0) < 0 && errno == EINTR) {
  }
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

inline SandboxResult run_sandbox(const RootfsPlan& plan, uint32_t id_count, const Probe& probe) {
  SandboxResult result;
  int ready[2];
  int go[2];
  int out[2];
  if (::pipe2(ready, O_CLOEXEC) != 0 || ::pipe2(go, O_CLOEXEC) != 0 ||
      ::pipe2(out, O_CLOEXEC) != 0) {
    result.harness_error = "pipe2 failed";
    return result;
  }
  UniqueFd ready_r(ready[0]), ready_w(ready[1]), go_r(go[0]), go_w(go[1]), out_r(out[0]),
      out_w(out[1]);
  const auto deadline = std::chrono::steady_clock::now() + kSandboxDeadline;
  pid_t pid = ::fork();
  if (pid < 0) {
    result.harness_error = "fork failed";
    return result;
  }
  if (pid == 0) {
    sandbox_stage1(plan, probe, ready_w.get(), go_r.get(), out_w.get());
  }
  ready_w.reset();
  go_r.reset();
  out_w.reset();

  char c = 0;
  if (!wait_readable(ready_r.get(), deadline) || ::read(ready_r.get(), &c, 1) != 1) {
    result.harness_error = "stage 1 did not unshare its user namespace";
  } else {
    const std::string proc = "/proc/" + std::to_string(pid);
    const std::string map =
        "0 " + std::to_string(id_base()) + " " + std::to_string(id_count) + "\n";
    auto st = write_file(proc + "/uid_map", map);
    if (st.ok()) {
      st = write_file(proc + "/gid_map", map);
    }
    if (!st.ok()) {
      result.harness_error = st.error().to_string();
    } else if (::write(go_w.get(), &c, 1) != 1) {
      result.harness_error = "go pipe";
    }
  }
  go_w.reset();  // on any harness error stage 1 exits instead of waiting

  std::string text;
  if (result.harness_error.empty() && !read_all(out_r.get(), deadline, &text)) {
    result.harness_error = "timed out waiting for the sandbox report";
  }
  result.exit_code = reap(pid, deadline);
  if (!result.harness_error.empty()) {
    return result;
  }
  if (text.empty()) {
    result.harness_error = "no report, exit code " + std::to_string(result.exit_code);
  } else if (text[0] == 'H') {
    result.harness_error = text.substr(1);
  } else if (text[0] == 'F' && text.size() == 1 + sizeof(RootfsFailure)) {
    std::memcpy(&result.failure, text.data() + 1, sizeof(RootfsFailure));
  } else if (text[0] == 'R') {
    result.applied = true;
    std::istringstream lines(text.substr(1));
    for (std::string line; std::getline(lines, line);) {
      auto eq = line.find('=');
      result.facts[line.substr(0, eq)] = eq == std::string::npos ? "" : line.substr(eq + 1);
    }
  } else {
    result.harness_error = "garbled report: " + text;
  }
  return result;
}

inline std::vector<std::string> mountinfo_lines() {
  std::vector<std::string> lines;
  std::ifstream in("/proc/self/mountinfo");
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

inline bool wait_for_file(const char* path, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::access(path, F_OK) == 0) {
      return true;
    }
    ::usleep(5000);
  }
  return false;
}

}  // namespace bulkhead::isolation::rootfs_testing
