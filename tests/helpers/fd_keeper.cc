// A tenant that tries to keep the operator's terminal: one workload ("hold")
// waits on an abstract unix socket for descriptors; a run ("give") sends it
// its stdin, stdout, stderr and /dev/tty, then exits. The holder then keeps
// reading from and writing to every descriptor it got, long after the run has
// ended, and logs on its stdout what it could do:
//
//   fd_keeper hold NAME SECONDS   listen on @NAME; "ready", then per descriptor
//                                 "got N dev=D ino=I" and each change of
//                                 "read N: <bytes, escaped>" / "read N eof" /
//                                 "read N error E" / "write N ok" / "write N error E"
//   fd_keeper give NAME           send fds 0, 1, 2 (and /dev/tty when it opens)
//
// The write is a marker the test looks for on the operator's side.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr const char* kMarker = "KEEPER-WRITE\n";
constexpr size_t kMaxFds = 8;
constexpr int kRoundMs = 50;
// Probing starts 1.5 s after a hand-over: by then the run that gave the
// descriptors has ended, so whatever the holder manages is after the run.
constexpr int kDelayRounds = 1500 / kRoundMs;

void say(const std::string& line) {
  std::string l = line + "\n";
  (void)!::write(STDOUT_FILENO, l.data(), l.size());
}

socklen_t abstract_address(const char* name, sockaddr_un* addr) {
  std::memset(addr, 0, sizeof(*addr));
  addr->sun_family = AF_UNIX;
  size_t len = std::strlen(name);
  if (len + 1 > sizeof(addr->sun_path)) {
    len = sizeof(addr->sun_path) - 1;
  }
  std::memcpy(addr->sun_path + 1, name, len);  // sun_path[0] = 0: abstract
  return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + len);
}

std::string escaped(const char* data, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(data[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

int give(const char* name) {
  int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  socklen_t len = abstract_address(name, &addr);
  if (s < 0 || ::connect(s, reinterpret_cast<sockaddr*>(&addr), len) != 0) {
    return 2;
  }
  std::vector<int> fds = {0, 1, 2};
  int tty = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (tty >= 0) {
    fds.push_back(tty);
  }
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  char byte = 'x';
  iovec iov{&byte, 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  if (::sendmsg(s, &msg, MSG_NOSIGNAL) != 1) {
    return 3;
  }
  // Wait until the holder has them, so the run cannot end before the hand-over.
  (void)!::read(s, &byte, 1);
  return 0;
}

struct Kept {
  int fd;
  int received_round;  // probed from kDelayRounds after this
  std::string last_read;
  std::string last_write;
  bool done_reading = false;
};

void receive(int listener, int round, std::vector<Kept>& kept) {
  int conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (conn < 0) {
    return;
  }
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  char byte = 0;
  iovec iov{&byte, 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  pollfd p{conn, POLLIN, 0};
  if (::poll(&p, 1, 2000) == 1 && ::recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) == 1) {
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
        continue;
      }
      size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < n; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        struct stat st {};
        (void)::fstat(fd, &st);
        say("got " + std::to_string(fd) + " dev=" + std::to_string(st.st_dev) +
            " ino=" + std::to_string(st.st_ino));
        kept.push_back(Kept{fd, round, "", "", false});
      }
    }
    (void)!::write(conn, &byte, 1);
  }
  ::close(conn);
}

void probe(Kept& k) {
  if (!k.done_reading) {
    pollfd p{k.fd, POLLIN, 0};
    if (::poll(&p, 1, 0) == 1 && (p.revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      // Never blocks for long: the fd may be a blocking tty, so read only
      // what poll promised (a tty in canonical mode: one line).
      char buf[256];
      ssize_t n = ::read(k.fd, buf, sizeof(buf));
      std::string now;
      if (n > 0) {
        now = "read " + std::to_string(k.fd) + ": " + escaped(buf, static_cast<size_t>(n));
      } else if (n == 0) {
        now = "read " + std::to_string(k.fd) + " eof";
        k.done_reading = true;
      } else {
        now = "read " + std::to_string(k.fd) + " error " + std::strerror(errno);
        k.done_reading = errno == EIO || errno == EBADF || errno == EINVAL;
      }
      if (now != k.last_read || n > 0) {
        say(now);
        k.last_read = now;
      }
    }
  }
  pollfd w{k.fd, POLLOUT, 0};
  std::string now;
  if (::poll(&w, 1, 0) == 1 && (w.revents & POLLOUT) != 0) {
    ssize_t n = ::write(k.fd, kMarker, std::strlen(kMarker));
    now = n > 0 ? "write " + std::to_string(k.fd) + " ok"
                : "write " + std::to_string(k.fd) + " error " + std::strerror(errno);
  } else {
    now = "write " + std::to_string(k.fd) + " not writable";
  }
  if (now != k.last_write) {
    say(now);
    k.last_write = now;
  }
}

int hold(const char* name, int seconds) {
  int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_un addr{};
  socklen_t len = abstract_address(name, &addr);
  if (s < 0 || ::bind(s, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(s, 4) != 0) {
    say(std::string("listen failed: ") + std::strerror(errno));
    return 2;
  }
  // A write to a pipe nobody reads must fail with EPIPE, not end the holder.
  (void)std::signal(SIGPIPE, SIG_IGN);
  say("ready");
  std::vector<Kept> kept;
  // Bounded: `seconds` of rounds.
  for (int round = 0; round < seconds * (1000 / kRoundMs); ++round) {
    pollfd p{s, POLLIN, 0};
    if (::poll(&p, 1, kRoundMs) == 1) {
      receive(s, round, kept);
    }
    for (auto& k : kept) {
      if (round - k.received_round >= kDelayRounds) {
        probe(k);
      }
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "give") == 0) {
    return give(argv[2]);
  }
  if (argc >= 4 && std::strcmp(argv[1], "hold") == 0) {
    return hold(argv[2], std::atoi(argv[3]));
  }
  std::fputs("usage: fd_keeper hold NAME SECONDS | give NAME\n", stderr);
  return 64;
}
