// Shared by the network policy kernel tests: network namespaces and veth
// pairs the test creates (unique names, removed by RAII even when a test
// fails), a cgroup2 directory of the test's own, a bpffs pin root of its own,
// and socket probes run by a forked "tenant" process that joins the cgroup and
// the namespace and reports the errno of one call through its exit status.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>

#include "bpf/fs_mounts.h"
#include "cgroup/layout.h"
#include "common/file_util.h"
#include "common/unique_fd.h"
#include "kernel_test_env.h"

namespace bulkhead::net::testing {

inline std::string unique_suffix() {
  static std::atomic<int> counter{0};
  return std::to_string(::getpid() % 100000) + "x" + std::to_string(counter++);
}

// Runs a command line quietly; true on exit status 0.
inline bool sh(const std::string& cmd) {
  return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0;
}

// `ip netns add`; deleted (with every veth end inside it) on destruction.
class NetNs {
 public:
  explicit NetNs(const std::string& name) : name_(name) {
    ok_ = sh("ip netns add " + name_) && sh("ip -n " + name_ + " link set lo up");
    if (ok_) {
      fd_.reset(::open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC));
      ok_ = fd_.valid();
    }
  }
  ~NetNs() {
    fd_.reset();
    sh("ip netns del " + name_);
  }
  NetNs(const NetNs&) = delete;
  NetNs& operator=(const NetNs&) = delete;
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] int fd() const { return fd_.get(); }
  [[nodiscard]] const std::string& name() const { return name_; }

 private:
  std::string name_;
  UniqueFd fd_;
  bool ok_ = false;
};

// A veth pair with one end in each namespace, IPv4 /24 and IPv6 /64 on both,
// and permanent neighbour entries both ways: without them the first IPv6
// connection on a fresh veth waits about a second for neighbour discovery
// (measured with no policy attached), which would look like a dropped SYN.
inline bool link_namespaces(const NetNs& a, const std::string& a_if, const std::string& a_v4,
                            const std::string& a_v6, const NetNs& b, const std::string& b_if,
                            const std::string& b_v4, const std::string& b_v6) {
  const std::string a_mac = "02:00:0a:e7:00:01";
  const std::string b_mac = "02:00:0a:e7:00:02";
  auto neigh = [](const NetNs& ns, const std::string& ip, const std::string& mac,
                  const std::string& dev) {
    return sh("ip -n " + ns.name() + " neigh replace " + ip + " lladdr " + mac + " dev " + dev +
              " nud permanent");
  };
  return sh("ip link add " + a_if + " address " + a_mac + " netns " + a.name() +
            " type veth peer name " + b_if + " address " + b_mac + " netns " + b.name()) &&
         neigh(a, b_v4, b_mac, a_if) && neigh(a, b_v6, b_mac, a_if) &&
         neigh(b, a_v4, a_mac, b_if) && neigh(b, a_v6, a_mac, b_if) &&
         sh("ip -n " + a.name() + " addr add " + a_v4 + "/24 dev " + a_if) &&
         sh("ip -n " + b.name() + " addr add " + b_v4 + "/24 dev " + b_if) &&
         sh("ip -n " + a.name() + " addr add " + a_v6 + "/64 dev " + a_if + " nodad") &&
         sh("ip -n " + b.name() + " addr add " + b_v6 + "/64 dev " + b_if + " nodad") &&
         sh("ip -n " + a.name() + " link set " + a_if + " up") &&
         sh("ip -n " + b.name() + " link set " + b_if + " up");
}

// A cgroup2 directory of the test's own (the tenant cgroup), removed at the end.
class TestCgroup2 {
 public:
  // At the cgroup2 root, wherever the host mounts it (/sys/fs/cgroup/unified
  // on hybrid hosts, /sys/fs/cgroup on unified ones such as the VM matrix's).
  TestCgroup2() : path_(unified_mount() + "/bulkhead-nettest-" + unique_suffix()) {
    ok_ = !unified_mount().empty() && ::mkdir(path_.c_str(), 0755) == 0;
  }
  // Empty when the host has no cgroup2 mount.
  static std::string unified_mount() {
    auto host = cgroup::detect_host_cgroups();
    return host.ok() ? host->unified_mount : std::string();
  }
  ~TestCgroup2() {
    for (int i = 0; i < 200 && ::rmdir(path_.c_str()) != 0 && errno == EBUSY; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  TestCgroup2(const TestCgroup2&) = delete;
  TestCgroup2& operator=(const TestCgroup2&) = delete;
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool ok_ = false;
};

// A pin root on bpffs of the test's own; whatever is left in it is reported
// by the test (the policy must remove its pins) and then removed.
class TestPinRoot {
 public:
  TestPinRoot() : path_("/sys/fs/bpf/bulkhead-nettest-" + unique_suffix()) {
    ok_ = bpf::ensure_bpffs().ok() && ::mkdir(path_.c_str(), 0700) == 0;
  }
  ~TestPinRoot() {
    std::string cmd = "rm -rf " + path_;
    sh(cmd);
  }
  TestPinRoot(const TestPinRoot&) = delete;
  TestPinRoot& operator=(const TestPinRoot&) = delete;
  [[nodiscard]] bool ok() const { return ok_; }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool ok_ = false;
};

// Runs `fn` in a forked child that joined `cgroup_dir` and, if netns_fd >= 0,
// that network namespace; returns fn's result (an errno, 0 = success), or -1
// if the child could not be set up or did not finish within 5 s.
inline int run_in_tenant(const std::string& cgroup_dir, int netns_fd,
                         const std::function<int()>& fn) {
  pid_t pid = ::fork();
  if (pid < 0) {
    return -1;
  }
  if (pid == 0) {
    std::string me = std::to_string(::getpid());
    int fd = ::open((cgroup_dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 || ::write(fd, me.data(), me.size()) != static_cast<ssize_t>(me.size())) {
      ::_exit(250);
    }
    ::close(fd);
    if (netns_fd >= 0 && ::setns(netns_fd, CLONE_NEWNET) != 0) {
      ::_exit(251);
    }
    ::_exit(fn() & 0xff);
  }
  int status = 0;
  for (int i = 0; i < 1000; ++i) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) && WEXITSTATUS(status) < 250 ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

// A forked process that is SIGKILLed and reaped when the test ends.
class KilledChild {
 public:
  explicit KilledChild(pid_t pid) : pid_(pid) {}
  ~KilledChild() {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  KilledChild(const KilledChild&) = delete;
  KilledChild& operator=(const KilledChild&) = delete;

 private:
  pid_t pid_;
};

// sockaddr for "10.0.0.1", "fd00::1" or "::ffff:10.0.0.1".
inline socklen_t make_addr(const std::string& ip, uint16_t port, sockaddr_storage* out) {
  std::memset(out, 0, sizeof(*out));
  if (ip.find(':') == std::string::npos) {
    auto* sin = reinterpret_cast<sockaddr_in*>(out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    ::inet_pton(AF_INET, ip.c_str(), &sin->sin_addr);
    return sizeof(*sin);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(out);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  ::inet_pton(AF_INET6, ip.c_str(), &sin6->sin6_addr);
  return sizeof(*sin6);
}

// Waits for traffic that should arrive: generous, as a loaded machine may
// take long, and an arrival ends the wait at once. A test that expects a drop
// passes a short bound of its own.
inline constexpr int kArrivalMs = 2000;

// The errno of a TCP connect (0 = connected); a handshake that does not
// complete within `timeout_ms` is ETIMEDOUT (a dropped SYN).
inline int tcp_connect(const std::string& ip, uint16_t port, int timeout_ms = kArrivalMs) {
  sockaddr_storage sa{};
  socklen_t len = make_addr(ip, port, &sa);
  UniqueFd s(::socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!s) {
    return errno;
  }
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&sa), len) == 0) {
    return 0;
  }
  if (errno != EINPROGRESS) {
    return errno;
  }
  pollfd p{s.get(), POLLOUT, 0};
  if (::poll(&p, 1, timeout_ms) != 1) {
    return ETIMEDOUT;
  }
  int err = 0;
  socklen_t elen = sizeof(err);
  ::getsockopt(s.get(), SOL_SOCKET, SO_ERROR, &err, &elen);
  return err;
}

inline int udp_connect(const std::string& ip, uint16_t port) {
  sockaddr_storage sa{};
  socklen_t len = make_addr(ip, port, &sa);
  UniqueFd s(::socket(sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) {
    return errno;
  }
  return ::connect(s.get(), reinterpret_cast<sockaddr*>(&sa), len) == 0 ? 0 : errno;
}

inline int udp_sendto(const std::string& ip, uint16_t port, const std::string& payload = "x") {
  sockaddr_storage sa{};
  socklen_t len = make_addr(ip, port, &sa);
  UniqueFd s(::socket(sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) {
    return errno;
  }
  ssize_t n =
      ::sendto(s.get(), payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&sa), len);
  return n >= 0 ? 0 : errno;
}

// A socket bound (and, for TCP, listening) in `netns_fd` (-1 = the test's own
// netns), made by the test process itself: it belongs to no tenant cgroup.
inline UniqueFd listen_in(int netns_fd, int type, const std::string& ip, uint16_t port) {
  UniqueFd self(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
  if (netns_fd >= 0 && ::setns(netns_fd, CLONE_NEWNET) != 0) {
    return UniqueFd();
  }
  sockaddr_storage sa{};
  socklen_t len = make_addr(ip, port, &sa);
  UniqueFd s(::socket(sa.ss_family, type | SOCK_CLOEXEC, 0));
  int one = 1;
  ::setsockopt(s.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (!s || ::bind(s.get(), reinterpret_cast<sockaddr*>(&sa), len) != 0 ||
      (type == SOCK_STREAM && ::listen(s.get(), 64) != 0)) {
    s.reset();
  }
  if (netns_fd >= 0) {
    ::setns(self.get(), CLONE_NEWNET);
  }
  return s;
}

// The port a socket got bound to.
inline uint16_t local_port(int fd) {
  sockaddr_storage sa{};
  socklen_t len = sizeof(sa);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return sa.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&sa)->sin_port)
                                 : ntohs(reinterpret_cast<sockaddr_in6*>(&sa)->sin6_port);
}

// Whether a datagram is waiting on `fd` within `timeout_ms`.
inline bool datagram_arrives(int fd, int timeout_ms = kArrivalMs) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) != 1) {
    return false;
  }
  char buf[64];
  return ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0;
}

}  // namespace bulkhead::net::testing
