// Child processes for the end-to-end tests: the real bulkheadd and
// bulkheadctl (found next to the test binary: <build>/tests/.. -> <build>/agent/),
// run with pipes for their stdio. Every wait is bounded; a Proc still running
// when it goes out of scope is killed and reaped.
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.h"

namespace bulkhead::testing {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

inline constexpr milliseconds kWait{15000};

// Polls `pred` until it holds or the timeout passes (then once more).
inline bool wait_for(const std::function<bool()>& pred, milliseconds timeout = kWait) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (pred()) {
      return true;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  return pred();
}

inline std::string build_binary(const std::string& name) {
  std::error_code ec;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (self.parent_path().parent_path() / "agent" / name).string();
}

struct Output {
  int code = -1;  // exit code, or 128+N when killed by signal N
  std::string out;
  std::string err;
  bool timed_out = false;
};

// A child process with pipes for its stdio.
class Proc {
 public:
  // `drop_to_nobody`: setgroups/setgid/setuid 65534 before exec.
  explicit Proc(const std::vector<std::string>& argv, bool drop_to_nobody = false) {
    int in[2], out[2], err[2];
    EXPECT_EQ(::pipe2(in, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
    EXPECT_EQ(::pipe2(err, O_CLOEXEC), 0);
    std::vector<char*> args;
    for (const auto& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));  // NOLINT: execv's signature
    }
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(in[0], 0);
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      if (drop_to_nobody) {
        gid_t none = 65534;
        if (::setgroups(1, &none) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) {
          ::_exit(99);
        }
      }
      ::execv(args[0], args.data());
      ::_exit(98);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    in_.reset(in[1]);
    out_.reset(out[0]);
    err_.reset(err[0]);
  }
  ~Proc() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Proc(const Proc&) = delete;
  Proc& operator=(const Proc&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  // The write end of its stdin (closed by finish()).
  [[nodiscard]] int stdin_fd() const { return in_.get(); }
  // Whether it has exited, without reaping it.
  [[nodiscard]] bool exited() const {
    siginfo_t info{};
    return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
           info.si_pid == pid_;
  }
  void write_stdin(const std::string& data) {
    EXPECT_EQ(::write(in_.get(), data.data(), data.size()), static_cast<ssize_t>(data.size()));
  }

  // Reads stdout into `acc` until done(acc) holds, the stream ends or the
  // timeout passes; returns done(acc). For a long-running child (a stream).
  bool read_stdout_until(std::string& acc, const std::function<bool(const std::string&)>& done,
                         milliseconds timeout = kWait) {
    const auto deadline = Clock::now() + timeout;
    while (out_ && !done(acc)) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) {
        break;
      }
      pollfd p{out_.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) {
        continue;
      }
      char buf[4096];
      ssize_t n = ::read(out_.get(), buf, sizeof(buf));
      if (n <= 0) {
        out_.reset();
        break;
      }
      acc.append(buf, static_cast<size_t>(n));
    }
    return done(acc);
  }

  // Closes stdin, collects stdout/stderr until EOF and reaps; SIGKILL at the deadline.
  Output finish(milliseconds timeout = kWait) {
    in_.reset();
    Output o;
    const auto deadline = Clock::now() + timeout;
    while (out_ || err_) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) {
        o.timed_out = true;
        ::kill(pid_, SIGKILL);
        break;
      }
      pollfd p[2] = {{out_.get(), POLLIN, 0}, {err_.get(), POLLIN, 0}};
      if (::poll(p, 2, static_cast<int>(left)) <= 0) {
        continue;
      }
      for (int i = 0; i < 2; ++i) {
        UniqueFd& fd = i == 0 ? out_ : err_;
        if (p[i].fd >= 0 && p[i].revents != 0) {
          char buf[4096];
          ssize_t n = ::read(fd.get(), buf, sizeof(buf));
          if (n <= 0) {
            fd.reset();
          } else {
            (i == 0 ? o.out : o.err).append(buf, static_cast<size_t>(n));
          }
        }
      }
    }
    o.code = reap(deadline);
    return o;
  }

  // Waits for the exit (SIGKILL at the deadline); the shell-style code.
  int reap(Clock::time_point deadline) {
    int status = 0;
    for (;;) {
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_ || r < 0) {
        break;
      }
      if (Clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  UniqueFd in_, out_, err_;
};

}  // namespace bulkhead::testing
