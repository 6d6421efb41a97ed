#include "net_test_support.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <thread>

namespace bulkhead::testing {

Result<UniqueFd> new_netns() {
  Result<UniqueFd> out = make_error("not run");
  std::thread t([&] {
    if (::unshare(CLONE_NEWNET) != 0) {
      out = errno_error("unshare(CLONE_NEWNET)");
      return;
    }
    UniqueFd fd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!fd) {
      out = errno_error("open /proc/thread-self/ns/net");
      return;
    }
    int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    if (s < 0 || ::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
      out = errno_error("lo flags");
    } else {
      ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
      (void)::ioctl(s, SIOCSIFFLAGS, &ifr);
      out = std::move(fd);
    }
    if (s >= 0) {
      ::close(s);
    }
  });
  t.join();
  return out;
}

void in_netns(int netns_fd, const std::function<void()>& body) {
  std::thread t([&] {
    if (::setns(netns_fd, CLONE_NEWNET) != 0) {
      ADD_FAILURE() << "setns: " << std::strerror(errno);
      return;
    }
    body();
  });
  t.join();
}

namespace {

int run_with_stdout(int netns_fd, const std::vector<std::string>& argv, int out_fd) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::setns(netns_fd, CLONE_NEWNET) != 0) {
      _exit(127);
    }
    ::dup2(out_fd, STDOUT_FILENO);
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

}  // namespace

int run_in_netns(int netns_fd, const std::vector<std::string>& argv) {
  UniqueFd devnull(::open("/dev/null", O_WRONLY | O_CLOEXEC));
  return run_with_stdout(netns_fd, argv, devnull.get());
}

std::string output_in_netns(int netns_fd, const std::vector<std::string>& argv) {
  // In memory: no dependence on what /tmp is (O_TMPFILE needs its filesystem's support).
  UniqueFd file(::memfd_create("netns-output", MFD_CLOEXEC));
  if (!file || run_with_stdout(netns_fd, argv, file.get()) != 0) {
    return "";
  }
  std::string out;
  char buf[4096];
  ssize_t n = 0;
  off_t off = 0;
  while ((n = ::pread(file.get(), buf, sizeof(buf), off)) > 0) {
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
  return out;
}

std::string mac_address(int netns_fd, const std::string& name) {
  std::string out;
  in_netns(netns_fd, [&] {
    UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
    if (!s || ::ioctl(s.get(), SIOCGIFHWADDR, &ifr) != 0) {
      return;
    }
    char buf[32];
    const auto* m = reinterpret_cast<const unsigned char*>(ifr.ifr_hwaddr.sa_data);
    (void)std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
                        m[4], m[5]);
    out = buf;
  });
  return out;
}

std::vector<std::string> link_names(int netns_fd) {
  std::vector<std::string> out;
  in_netns(netns_fd, [&] {
    struct if_nameindex* list = ::if_nameindex();
    for (auto* i = list; i != nullptr && i->if_index != 0; ++i) {
      out.emplace_back(i->if_name);
    }
    ::if_freenameindex(list);
  });
  return out;
}

bool has_address_and_up(int netns_fd, const std::string& name, const std::string& address) {
  bool found = false;
  in_netns(netns_fd, [&] {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) {
      return;
    }
    for (auto* a = list; a != nullptr; a = a->ifa_next) {
      if (a->ifa_addr == nullptr || name != a->ifa_name || (a->ifa_flags & IFF_UP) == 0) {
        continue;
      }
      char buf[INET6_ADDRSTRLEN] = {};
      if (a->ifa_addr->sa_family == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, buf,
                    sizeof(buf));
      } else if (a->ifa_addr->sa_family == AF_INET6) {
        ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr, buf,
                    sizeof(buf));
      }
      found = found || address == buf;
    }
    ::freeifaddrs(list);
  });
  return found;
}

bool udp_reaches(int from_ns, int to_ns, const std::string& address, uint16_t port,
                 int timeout_ms) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  const int family = address.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    len = sizeof(sockaddr_in);
    if (::inet_pton(AF_INET, address.c_str(), &sin->sin_addr) != 1) {
      len = 0;
    }
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
    if (::inet_pton(AF_INET6, address.c_str(), &sin6->sin6_addr) != 1) {
      len = 0;
    }
  }
  if (len == 0) {
    ADD_FAILURE() << "bad address " << address;
    return false;
  }
  auto* sa = reinterpret_cast<sockaddr*>(&ss);
  UniqueFd receiver;
  in_netns(to_ns, [&] {
    receiver = UniqueFd(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!receiver || ::bind(receiver.get(), sa, len) != 0) {
      ADD_FAILURE() << "bind " << address << ": " << std::strerror(errno);
      receiver.reset();
    }
  });
  if (!receiver) {
    return false;
  }
  UniqueFd sender;
  in_netns(from_ns, [&] { sender = UniqueFd(::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0)); });
  // One datagram per round, so a first one lost while neighbours are resolved
  // on a loaded machine does not fail the test; bounded by timeout_ms.
  constexpr int kRoundMs = 100;
  for (int waited = 0; waited < timeout_ms; waited += kRoundMs) {
    const char msg[] = "bulkhead";
    (void)::sendto(sender.get(), msg, sizeof(msg), 0, sa, len);
    pollfd p{receiver.get(), POLLIN, 0};
    if (::poll(&p, 1, kRoundMs) == 1) {
      return true;
    }
  }
  return false;
}

}  // namespace bulkhead::testing
