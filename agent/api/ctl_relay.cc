#include "api/ctl_relay.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace bulkhead::api::ctl {
namespace {

constexpr size_t kChunk = size_t{64} * 1024;
// What finish() passes on at most per stream: far above what a pipe or a pty
// buffers, so a workload's last output is never cut, while a tenant process
// that kept the other end and keeps writing cannot hold bulkheadctl.
constexpr size_t kDrainLimit = size_t{16} * 1024 * 1024;

// To our own stdout or stderr. Left non-blocking by whoever started us, it may
// say EAGAIN: then wait until it takes more.
bool write_all(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) {
        continue;
      }
      if (errno == EAGAIN) {
        pollfd p{fd, POLLOUT, 0};
        (void)::poll(&p, 1, -1);
        continue;
      }
      return false;
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

Status StdioRelay::make_nonblocking(int fd) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return errno_error("making the workload's stdio non-blocking");
  }
  return {};
}

Result<StdioRelay> StdioRelay::terminal(UniqueFd master, int in, int out) {
  BULKHEAD_TRY(make_nonblocking(master.get()));
  StdioRelay r;
  r.tty_ = true;
  r.in_ = in;
  r.out_ = out;
  r.err_ = -1;
  r.out_src_ = master.get();
  r.to_workload_ = std::move(master);
  return r;
}

Result<StdioRelay> StdioRelay::pipes(UniqueFd workload_in, UniqueFd workload_out,
                                     UniqueFd workload_err, int in, int out, int err) {
  for (int fd : {workload_in.get(), workload_out.get(), workload_err.get()}) {
    BULKHEAD_TRY(make_nonblocking(fd));
  }
  StdioRelay r;
  r.in_ = in;
  r.out_ = out;
  r.err_ = err;
  r.out_src_ = workload_out.get();
  r.err_src_ = workload_err.get();
  r.to_workload_ = std::move(workload_in);
  r.from_out_ = std::move(workload_out);
  r.from_err_ = std::move(workload_err);
  return r;
}

void StdioRelay::add_pollfds(std::vector<pollfd>& fds) {
  slots_.clear();
  if (input_sink_) {
    if (pending_off_ < pending_.size()) {
      fds.push_back(pollfd{to_workload_.get(), POLLOUT, 0});
      slots_.push_back(Slot::kWriteInput);
    } else if (input_open_) {
      fds.push_back(pollfd{in_, POLLIN, 0});
      slots_.push_back(Slot::kReadInput);
    }
  }
  if (out_src_ >= 0) {
    fds.push_back(pollfd{out_src_, POLLIN, 0});
    slots_.push_back(Slot::kOutput);
  }
  if (err_src_ >= 0) {
    fds.push_back(pollfd{err_src_, POLLIN, 0});
    slots_.push_back(Slot::kError);
  }
}

void StdioRelay::handle(std::span<const pollfd> polled) {
  const std::vector<Slot> slots = slots_;
  for (size_t i = 0; i < slots.size() && i < polled.size(); ++i) {
    if (polled[i].revents == 0) {
      continue;
    }
    switch (slots[i]) {
      case Slot::kReadInput:
        read_input();
        break;
      case Slot::kWriteInput:
        write_input();
        break;
      case Slot::kOutput:
        (void)copy_output(out_src_, tty_ ? nullptr : &from_out_, out_, out_broken_);
        break;
      case Slot::kError:
        (void)copy_output(err_src_, &from_err_, err_, err_broken_);
        break;
    }
  }
}

void StdioRelay::read_input() {
  std::array<char, kChunk> buf;
  ssize_t n = ::read(in_, buf.data(), buf.size());
  if (n > 0) {
    pending_.assign(buf.data(), static_cast<size_t>(n));
    pending_off_ = 0;
    const char last = pending_.back();
    last_was_newline_ = last == '\n' || last == '\r';
    write_input();
    return;
  }
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
    return;
  }
  // End of our stdin, or our own terminal went away (EIO).
  input_open_ = false;
  end_input();
}

void StdioRelay::end_input() {
  if (!input_sink_) {
    return;
  }
  if (!tty_) {
    to_workload_.reset();  // the workload reads end of file
    input_sink_ = false;
    return;
  }
  // A terminal has no end of its own: type its end-of-file character, twice
  // after a partial line (the first only ends that line).
  termios t{};
  char eof = 4;  // Ctrl-D
  if (::tcgetattr(to_workload_.get(), &t) == 0 && t.c_cc[VEOF] != _POSIX_VDISABLE) {
    eof = static_cast<char>(t.c_cc[VEOF]);
  }
  pending_.assign(last_was_newline_ ? 1 : 2, eof);
  pending_off_ = 0;
  write_input();
}

void StdioRelay::write_input() {
  while (pending_off_ < pending_.size()) {
    ssize_t n =
        ::write(to_workload_.get(), pending_.data() + pending_off_, pending_.size() - pending_off_);
    if (n > 0) {
      pending_off_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && errno == EAGAIN) {
      return;  // the workload has not read enough yet: poll for room
    }
    // EPIPE: the workload closed its stdin; EIO: nothing has the terminal
    // open. Either way its input is over.
    input_sink_ = false;
    input_open_ = false;
    if (!tty_) {
      to_workload_.reset();
    }
    break;
  }
  pending_.clear();
  pending_off_ = 0;
}

bool StdioRelay::copy_output(int& src, UniqueFd* owner, int dst, bool& dst_broken) {
  std::array<char, kChunk> buf;
  ssize_t n = ::read(src, buf.data(), buf.size());
  if (n > 0) {
    if (!dst_broken && !write_all(dst, buf.data(), static_cast<size_t>(n))) {
      dst_broken = true;
      if (owner != nullptr) {
        // As in a shell pipeline: the workload's next write fails (EPIPE).
        owner->reset();
        src = -1;
        return false;
      }
      // A terminal is read on and its output dropped, so the workload never
      // blocks on a full terminal.
    }
    return true;
  }
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
    return true;
  }
  // End of file (pipes), or EIO: no process has the terminal open.
  src = -1;
  if (owner != nullptr) {
    owner->reset();
  }
  return false;
}

void StdioRelay::finish() {
  pending_.clear();
  pending_off_ = 0;
  input_sink_ = false;
  input_open_ = false;
  std::array<char, kChunk> buf;
  auto drain = [&buf](int& src, int dst, bool& broken) {
    size_t moved = 0;
    while (src >= 0 && moved < kDrainLimit) {
      ssize_t n = ::read(src, buf.data(), buf.size());
      if (n > 0) {
        if (!broken && !write_all(dst, buf.data(), static_cast<size_t>(n))) {
          broken = true;
        }
        moved += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) {
        continue;
      }
      break;  // EAGAIN: nothing is left; 0 or EIO: the end
    }
    src = -1;
  };
  drain(out_src_, out_, out_broken_);
  drain(err_src_, err_, err_broken_);
  // Closing the master hangs the terminal up (SIGHUP to its session, EIO or
  // end of file for whoever kept the slave); closing the pipes breaks them.
  to_workload_.reset();
  from_out_.reset();
  from_err_.reset();
}

}  // namespace bulkhead::api::ctl
