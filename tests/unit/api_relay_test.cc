// bulkheadctl run's relay between its own stdio and the workload's terminal or
// pipes, over pipes and a pty of the test's own: no root, no agent.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <termios.h>

#include <chrono>
#include <csignal>
#include <functional>
#include <string>
#include <vector>

#include "api/ctl_relay.h"

namespace bulkhead::api::ctl {
namespace {

struct Pipe {
  UniqueFd rd, wr;
  Pipe() {
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    rd.reset(p[0]);
    wr.reset(p[1]);
  }
};

// Runs the relay's poll loop until `done` holds (bounded: 2 s).
bool pump(StdioRelay& relay, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::vector<pollfd> p;
    relay.add_pollfds(p);
    if (::poll(p.data(), p.size(), 20) > 0) {
      relay.handle(p);
    }
  }
  return true;
}

// What a pipe holds now, without waiting (its write end may still be open).
std::string drain(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 0) != 1 || (p.revents & POLLIN) == 0) {
      return out;
    }
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) {
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

class RelayPipes : public ::testing::Test {
 protected:
  void SetUp() override {
    old_ = std::signal(SIGPIPE, SIG_IGN);
    auto r = StdioRelay::pipes(std::move(w_in_.wr), std::move(w_out_.rd), std::move(w_err_.rd),
                               in_.rd.get(), out_.wr.get(), err_.wr.get());
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    relay_.emplace(std::move(*r));
  }
  void TearDown() override { std::signal(SIGPIPE, old_); }

  Pipe in_, out_, err_;        // bulkheadctl's own stdin, stdout, stderr
  Pipe w_in_, w_out_, w_err_;  // the workload's
  std::optional<StdioRelay> relay_;
  sighandler_t old_ = SIG_DFL;
};

TEST_F(RelayPipes, CopyBothWaysAndEndOfInputClosesTheWorkloadsStdin) {
  ASSERT_EQ(::write(in_.wr.get(), "hello", 5), 5);
  in_.wr.reset();
  std::string got;
  bool eof = false;
  ASSERT_TRUE(pump(*relay_, [&] {
    char buf[64];
    pollfd p{w_in_.rd.get(), POLLIN, 0};
    if (::poll(&p, 1, 0) == 1) {
      ssize_t n = ::read(w_in_.rd.get(), buf, sizeof(buf));
      if (n > 0) {
        got.append(buf, static_cast<size_t>(n));
      } else {
        eof = n == 0;
      }
    }
    return eof;
  }));
  EXPECT_EQ(got, "hello");

  // Binary, both streams apart.
  const std::string bytes("\x00\xff\r\n\x1b[2J", 8);
  ASSERT_EQ(::write(w_out_.wr.get(), bytes.data(), bytes.size()), 8);
  ASSERT_EQ(::write(w_err_.wr.get(), "err", 3), 3);
  std::string out;
  std::string err;
  ASSERT_TRUE(pump(*relay_, [&] {
    out += drain(out_.rd.get());
    err += drain(err_.rd.get());
    return out.size() == 8 && err.size() == 3;
  }));
  EXPECT_EQ(out, bytes);
  EXPECT_EQ(err, "err");
}

// The run ended: what the workload left is passed on at once, even though a
// process of the tenant still holds the write end (no wait for its end).
TEST_F(RelayPipes, FinishPassesOnWhatIsLeftWithoutWaitingForTheEnd) {
  ASSERT_EQ(::write(w_out_.wr.get(), "last words", 10), 10);
  relay_->finish();
  EXPECT_EQ(drain(out_.rd.get()), "last words");
  // Its ends are closed: the holder's next write breaks.
  EXPECT_EQ(::write(w_out_.wr.get(), "x", 1), -1);
  EXPECT_EQ(errno, EPIPE);
  char byte;
  EXPECT_EQ(::read(w_in_.rd.get(), &byte, 1), 0);
}

// As in a shell pipeline: once our stdout is gone, the workload's next write
// to its stdout fails with EPIPE.
TEST_F(RelayPipes, ABrokenStdoutBreaksTheWorkloadsStdout) {
  out_.rd.reset();
  ASSERT_EQ(::write(w_out_.wr.get(), "x", 1), 1);
  ASSERT_TRUE(pump(*relay_, [&] {
    ssize_t n = ::write(w_out_.wr.get(), "y", 1);
    return n < 0 && errno == EPIPE;
  }));
}

class RelayTerminal : public ::testing::Test {
 protected:
  void SetUp() override {
    UniqueFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    ASSERT_TRUE(master);
    ASSERT_EQ(::grantpt(master.get()), 0);
    ASSERT_EQ(::unlockpt(master.get()), 0);
    slave_.reset(::open(::ptsname(master.get()), O_RDWR | O_NOCTTY | O_CLOEXEC));
    ASSERT_TRUE(slave_);
    auto r = StdioRelay::terminal(std::move(master), in_.rd.get(), out_.wr.get());
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    relay_.emplace(std::move(*r));
  }

  Pipe in_, out_;   // bulkheadctl's own stdin and stdout
  UniqueFd slave_;  // the workload's terminal
  std::optional<StdioRelay> relay_;
};

// The end of our input is typed as the terminal's end-of-file character: a
// partial line first comes through whole, then the reader sees end of file.
TEST_F(RelayTerminal, EndOfInputIsEndOfFileAfterAPartialLine) {
  ASSERT_EQ(::write(in_.wr.get(), "abc", 3), 3);
  in_.wr.reset();
  std::vector<std::string> reads;
  ASSERT_TRUE(pump(*relay_, [&] {
    pollfd p{slave_.get(), POLLIN, 0};
    if (::poll(&p, 1, 0) == 1) {
      char buf[64];
      ssize_t n = ::read(slave_.get(), buf, sizeof(buf));
      reads.emplace_back(buf, static_cast<size_t>(std::max<ssize_t>(n, 0)));
    }
    return !reads.empty() && reads.back().empty();
  }));
  ASSERT_EQ(reads.size(), 2U);
  EXPECT_EQ(reads[0], "abc");
}

TEST_F(RelayTerminal, OutputGoesToStdoutAndFinishHangsTheTerminalUp) {
  ASSERT_EQ(::write(slave_.get(), "hi\n", 3), 3);
  std::string out;
  ASSERT_TRUE(pump(*relay_, [&] {
    out += drain(out_.rd.get());
    return out == "hi\r\n";
  }));
  ASSERT_EQ(::write(slave_.get(), "bye\n", 4), 4);
  relay_->finish();
  EXPECT_EQ(drain(out_.rd.get()), "bye\r\n");
  // The master is closed: the slave is hung up for whoever holds it.
  char byte;
  EXPECT_LE(::read(slave_.get(), &byte, 1), 0);
  EXPECT_EQ(::write(slave_.get(), "x", 1), -1);
  EXPECT_EQ(errno, EIO);
}

}  // namespace
}  // namespace bulkhead::api::ctl
