#include "api/ctl_terminal.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>

namespace bulkhead::api::ctl {

Result<std::unique_ptr<RawTerminal>> RawTerminal::enter(int fd) {
  termios saved{};
  if (::tcgetattr(fd, &saved) != 0) {
    if (errno == ENOTTY || errno == EBADF) {
      return std::unique_ptr<RawTerminal>();
    }
    return errno_error("reading the terminal's mode");
  }
  termios raw = saved;
  ::cfmakeraw(&raw);
  raw.c_cc[VMIN] = 1;
  raw.c_cc[VTIME] = 0;
  if (::tcsetattr(fd, TCSADRAIN, &raw) != 0) {
    return errno_error("setting the terminal to raw mode");
  }
  return std::unique_ptr<RawTerminal>(new RawTerminal(fd, saved));
}

RawTerminal::~RawTerminal() {
  int rc;
  do {
    rc = ::tcsetattr(fd_, TCSADRAIN, &saved_);
  } while (rc != 0 && errno == EINTR);
}

std::optional<isolation::TerminalSize> window_size(std::initializer_list<int> fds) {
  for (int fd : fds) {
    winsize ws{};
    if (::ioctl(fd, TIOCGWINSZ, &ws) == 0) {
      return isolation::TerminalSize{ws.ws_row, ws.ws_col};
    }
  }
  return std::nullopt;
}

}  // namespace bulkhead::api::ctl
