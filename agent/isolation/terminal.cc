#include "isolation/terminal.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bulkhead::isolation {
namespace {

// The devpts instance the sandbox mounted (rootfs_plan.cc); /dev/ptmx is a
// symlink to it, opened directly so no link is followed.
constexpr const char* kPtmx = "/dev/pts/ptmx";

int send_fd(int sock, int fd) noexcept {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  char byte = 't';
  iovec iov{&byte, 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  ssize_t n;
  do {
    n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n == 1 ? 0 : -errno;
}

// Unlocks the pty, sizes it, and opens its slave through the master
// (TIOCGPTPEER: no path lookup) for the workload's uid. The slave or -errno.
int open_slave(int master, TerminalSize size, uid_t uid) noexcept {
  int unlock = 0;
  winsize ws{size.rows, size.cols, 0, 0};
  if (::ioctl(master, TIOCSPTLCK, &unlock) != 0 || ::ioctl(master, TIOCSWINSZ, &ws) != 0) {
    return -errno;
  }
  int slave = ::ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) {
    return -errno;
  }
  // The workload user owns its terminal, as login(1) does it, so that it can
  // open it again by name (ttyname, /dev/pts/N).
  if (uid != 0 && ::fchown(slave, uid, static_cast<gid_t>(-1)) != 0) {
    int err = errno;
    ::close(slave);
    return -err;
  }
  return slave;
}

}  // namespace

int open_workload_terminal(int console_fd, TerminalSize size, uid_t uid) noexcept {
  int master = ::open(kPtmx, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) {
    return -errno;
  }
  int slave = open_slave(master, size, uid);
  int rc = slave < 0 ? slave : send_fd(console_fd, master);
  ::close(master);  // the agent has its own now; nothing in the sandbox keeps one
  if (rc < 0) {
    if (slave >= 0) {
      ::close(slave);
    }
    return rc;
  }
  return slave;
}

int attach_workload_terminal(int slave) noexcept {
  if (::ioctl(slave, TIOCSCTTY, 0) != 0) {
    return -errno;
  }
  for (int fd = 0; fd <= 2; ++fd) {
    if (::dup2(slave, fd) < 0) {
      return -errno;
    }
  }
  if (slave > 2) {
    ::close(slave);
  }
  return 0;
}

Result<UniqueFd> receive_workload_terminal(int console_fd) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 2)];
  char byte = 0;
  iovec iov{&byte, 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = ::recvmsg(console_fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return errno_error("receiving the workload's terminal");
  }
  UniqueFd master;
  size_t count = 0;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
      continue;
    }
    size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < k; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      UniqueFd owned(fd);
      if (count++ == 0) {
        master = std::move(owned);
      }
    }
  }
  if (count != 1 || (msg.msg_flags & MSG_CTRUNC) != 0) {
    return make_error("receiving the workload's terminal: expected one descriptor, got " +
                      std::to_string(count));
  }
  unsigned int number = 0;
  if (::ioctl(master.get(), TIOCGPTN, &number) != 0) {
    return errno_error("receiving the workload's terminal: not a pty master");
  }
  return master;
}

}  // namespace bulkhead::isolation
