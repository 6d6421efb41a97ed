// The operator's terminal and `bulkheadctl run`, end to end (e2e_fixture.h):
// the attacks of a tenant that tries to keep the caller's terminal or pipes
// after the run, and what interactive use must still do (a pty for the
// workload, window size, Ctrl-C, EOF, binary and large output, exit codes).
//
// "The caller's terminal" is a pty this test owns: bulkheadctl runs as the
// session leader on its slave, as under a terminal emulator, and the test
// types into the master and reads what would appear on the screen.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "e2e_fixture.h"

namespace bulkhead::api {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using testing::E2E;
using testing::eventually;
using testing::Output;
using testing::Proc;
using Clock = std::chrono::steady_clock;

// A file's identity: what /proc/PID/fd/N resolves to.
struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator<(const FileId& o) const { return std::tie(dev, ino) < std::tie(o.dev, o.ino); }
};

FileId id_of_fd(int fd) {
  struct stat st {};
  EXPECT_EQ(::fstat(fd, &st), 0);
  return FileId{st.st_dev, st.st_ino};
}

// The descriptor numbers the keeper logged as received ("got N ...").
std::vector<std::string> received_fds(const std::string& log) {
  std::vector<std::string> out;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("got ", 0) == 0) {
      out.push_back(line.substr(4, line.find(' ', 4) - 4));
    }
  }
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// bulkheadctl on a pty of the test's own, as its controlling terminal.
class TerminalCtl {
 public:
  explicit TerminalCtl(const std::vector<std::string>& argv, winsize size = {24, 80, 0, 0}) {
    master_.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    EXPECT_TRUE(master_) << std::strerror(errno);
    EXPECT_EQ(::grantpt(master_.get()), 0);
    EXPECT_EQ(::unlockpt(master_.get()), 0);
    EXPECT_EQ(::ioctl(master_.get(), TIOCSWINSZ, &size), 0);
    slave_.reset(::open(::ptsname(master_.get()), O_RDWR | O_NOCTTY | O_CLOEXEC));
    EXPECT_TRUE(slave_) << std::strerror(errno);
    std::vector<char*> args;
    for (const auto& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));  // NOLINT: execv's signature
    }
    args.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setsid();
      (void)::ioctl(slave_.get(), TIOCSCTTY, 0);
      ::dup2(slave_.get(), 0);
      ::dup2(slave_.get(), 1);
      ::dup2(slave_.get(), 2);
      ::execv(args[0], args.data());
      ::_exit(98);
    }
    // The test keeps its slave open: a run that ended must not see the
    // terminal's hang-up just because the last slave went.
  }
  ~TerminalCtl() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  TerminalCtl(const TerminalCtl&) = delete;
  TerminalCtl& operator=(const TerminalCtl&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] int master() const { return master_.get(); }
  [[nodiscard]] FileId terminal() const { return id_of_fd(slave_.get()); }
  std::string& screen() { return screen_; }

  // Types into the terminal.
  void type(const std::string& keys) {
    ASSERT_EQ(::write(master_.get(), keys.data(), keys.size()), static_cast<ssize_t>(keys.size()));
  }
  // Reads what appears on the terminal for `d`, or until `done(screen)`.
  bool read_for(milliseconds d, const std::function<bool(const std::string&)>& done = nullptr) {
    const auto deadline = Clock::now() + d;
    while (Clock::now() < deadline) {
      if (done && done(screen_)) {
        return true;
      }
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      pollfd p{master_.get(), POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(std::max<int64_t>(left, 1))) == 1) {
        char buf[4096];
        ssize_t n = ::read(master_.get(), buf, sizeof(buf));
        if (n > 0) {
          screen_.append(buf, static_cast<size_t>(n));
        } else {
          std::this_thread::sleep_for(milliseconds(10));  // EIO: no slave open now
        }
      }
    }
    return done && done(screen_);
  }
  // Waits for bulkheadctl to exit (reading the screen meanwhile); its shell-style code.
  std::optional<int> wait(milliseconds timeout = testing::kWait) {
    const auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      read_for(milliseconds(20));
    }
    return std::nullopt;
  }

 private:
  UniqueFd master_;
  UniqueFd slave_;
  pid_t pid_ = -1;
  std::string screen_;
};

class E2ETerminal : public E2E {
 protected:
  void SetUp() override {
    E2E::SetUp();
    if (IsSkipped() || HasFatalFailure()) {
      return;
    }
    socket_name_ = "bulkhead-keeper-" + std::to_string(::getpid());
  }

  // alpha with /helpers and, optionally, the declared workload that collects
  // descriptors from runs (fd_keeper hold) for `seconds`.
  void with_keeper(int seconds) {
    write_profile("alpha", 0,
                  "    - {source: " + std::string(BULKHEAD_HELPER_DIR) + ", target: /helpers}\n",
                  "workloads:\n"
                  "  - name: keeper\n"
                  "    command: [/helpers/fd_keeper, hold, " +
                      socket_name_ + ", \"" + std::to_string(seconds) +
                      "\"]\n"
                      "    restart: {policy: \"no\"}\n");
    Output r = ctl({"reload"});
    ASSERT_EQ(r.code, 0) << r.err;
    ASSERT_TRUE(eventually([&] { return keeper_log().find("ready") != std::string::npos; }))
        << "keeper did not start: " << keeper_log();
  }
  std::string keeper_log() { return read_file(log_path("alpha", "keeper")); }
  std::vector<std::string> give_argv() {
    return ctl_args({"run", "--tenant", "alpha", "--", "/helpers/fd_keeper", "give", socket_name_});
  }

  // Every open descriptor of every process in the tenant's cgroups.
  std::set<FileId> tenant_fds(std::string* listing) {
    std::set<FileId> out;
    const std::string marker = "/" + cgroup_name_ + "/alpha";
    std::error_code ec;
    for (const auto& proc : fs::directory_iterator("/proc", ec)) {
      const std::string pid = proc.path().filename();
      if (pid.find_first_not_of("0123456789") != std::string::npos) {
        continue;
      }
      if (read_file(proc.path() / "cgroup").find(marker) == std::string::npos) {
        continue;
      }
      std::error_code fd_ec;
      for (const auto& fd : fs::directory_iterator(proc.path() / "fd", fd_ec)) {
        struct stat st {};
        if (::stat(fd.path().c_str(), &st) == 0) {
          out.insert(FileId{st.st_dev, st.st_ino});
          *listing += pid + ":" + fd.path().filename().string() + "->" +
                      fs::read_symlink(fd.path(), fd_ec).string() + " ";
        }
      }
    }
    return out;
  }

  std::string socket_name_;
};

// ATTACK: a run hands its stdio and /dev/tty to a workload that outlives it
// (any workload of the tenant shares its network namespace, hence abstract
// unix sockets). After bulkheadctl returned, the keeper must neither read
// what the operator types nor write to the operator's screen, and no tenant
// process may hold the operator's terminal.
TEST_F(E2ETerminal, AttackKeepingTheCallersTerminalAfterTheRun) {
  with_keeper(30);
  TerminalCtl t(give_argv());
  auto code = t.wait();
  ASSERT_TRUE(code.has_value()) << "bulkheadctl did not return; screen: " << t.screen();
  EXPECT_EQ(*code, 0) << t.screen();
  ASSERT_TRUE(eventually([&] { return keeper_log().find("got ") != std::string::npos; }))
      << "the attack did not run: " << keeper_log();

  std::string fds;
  std::set<FileId> held = tenant_fds(&fds);
  EXPECT_EQ(held.count(t.terminal()), 0U)
      << "a tenant process holds the caller's terminal: " << fds;

  // What is on the screen from here on was written after the run.
  t.read_for(milliseconds(200));
  t.screen().clear();
  t.type("secret typed after the run\n");
  // The keeper probes its descriptors from 1.5 s after it got them.
  t.read_for(milliseconds(2500));
  const std::string log = keeper_log();
  EXPECT_EQ(log.find("secret"), std::string::npos) << "the keeper read the keyboard:\n" << log;
  EXPECT_EQ(t.screen().find("KEEPER-WRITE"), std::string::npos)
      << "the keeper wrote to the screen:\n"
      << t.screen();
  // It got the run's own terminal, hung up since: its writes fail. (One that
  // made it while the run was still going is the run's own output.)
  for (const std::string& fd : received_fds(log)) {
    EXPECT_NE(log.find("write " + fd + " error"), std::string::npos) << fd << ":\n" << log;
  }
}

// ATTACK, the same with pipes: a pipeline around bulkheadctl must end when it
// ends, and what is written into its stdin afterwards reaches nobody.
TEST_F(E2ETerminal, AttackKeepingTheCallersPipesAfterTheRun) {
  with_keeper(30);
  Proc p(give_argv());
  const FileId in = id_of_fd(p.stdin_fd());
  ASSERT_TRUE(eventually([&] { return p.exited(); })) << "bulkheadctl did not return";
  ASSERT_TRUE(eventually([&] { return keeper_log().find("got ") != std::string::npos; }))
      << "the attack did not run: " << keeper_log();
  std::string fds;
  std::set<FileId> held = tenant_fds(&fds);
  EXPECT_EQ(held.count(in), 0U) << "a tenant process holds the caller's stdin: " << fds;
  // Nobody may read this any more: the write fails (EPIPE) or reaches nobody.
  sighandler_t old = std::signal(SIGPIPE, SIG_IGN);
  (void)!::write(p.stdin_fd(), "secret\n", 7);
  (void)std::signal(SIGPIPE, old);
  std::this_thread::sleep_for(milliseconds(2000));
  // The caller's stdout and stderr end with bulkheadctl: nobody else holds them.
  Output o = p.finish(milliseconds(3000));
  EXPECT_FALSE(o.timed_out) << "bulkheadctl's output did not end with it: a tenant holds it";
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out.find("KEEPER-WRITE"), std::string::npos) << o.out;
  EXPECT_EQ(o.err.find("KEEPER-WRITE"), std::string::npos) << o.err;
  EXPECT_EQ(keeper_log().find("secret"), std::string::npos) << keeper_log();
}

// While a run is going on, its processes have a terminal or pipes of the
// agent's making, never the caller's own descriptors.
TEST_F(E2ETerminal, TenantProcessesNeverHoldTheCallersDescriptors) {
  TerminalCtl t(
      ctl_args({"run", "--tenant", "alpha", "--name", "tty-sleeper", "--", "sleep", "30"}));
  Proc p(ctl_args({"run", "--tenant", "alpha", "--name", "pipe-sleeper", "--", "sleep", "30"}));
  ASSERT_TRUE(eventually([&] {
    return workload_state("tty-sleeper") == "running" &&
           workload_state("pipe-sleeper") == "running";
  }));
  std::string fds;
  std::set<FileId> held;
  // Both sleepers must be visible with their stdio before looking.
  ASSERT_TRUE(eventually([&] {
    fds.clear();
    held = tenant_fds(&fds);
    return held.size() >= 2;
  }));
  EXPECT_EQ(held.count(t.terminal()), 0U) << fds;
  EXPECT_EQ(held.count(id_of_fd(p.stdin_fd())), 0U) << fds;
}

// Interactive use: a terminal of the workload's own (its devpts instance, so
// `tty` names it), of the caller's window size, and the caller's terminal in
// its own mode again afterwards.
TEST_F(E2ETerminal, ATerminalOfItsOwnWithTheCallersSize) {
  TerminalCtl t(ctl_args({"run", "--tenant", "alpha", "--", "sh", "-c",
                          "test -t 0 && test -t 1 && test -t 2 && echo all-tty; stty size; tty"}),
                winsize{41, 123, 0, 0});
  auto code = t.wait();
  ASSERT_TRUE(code.has_value()) << t.screen();
  EXPECT_EQ(*code, 0) << t.screen();
  t.read_for(milliseconds(100));
  EXPECT_NE(t.screen().find("all-tty\r\n41 123\r\n/dev/pts/0\r\n"), std::string::npos)
      << t.screen();
  // Canonical mode with echo again: bulkheadctl restored what it found.
  termios after{};
  ASSERT_EQ(::tcgetattr(t.master(), &after), 0);
  EXPECT_NE(after.c_lflag & ICANON, 0U);
  EXPECT_NE(after.c_lflag & ECHO, 0U);
  EXPECT_NE(after.c_oflag & OPOST, 0U);
}

TEST_F(E2ETerminal, WindowChangesFollow) {
  TerminalCtl t(ctl_args({"run", "--tenant", "alpha", "--", "sh", "-c",
                          "echo ready; while read line; do stty size; done"}));
  ASSERT_TRUE(t.read_for(testing::kWait, [](const std::string& s) {
    return s.find("ready") != std::string::npos;
  })) << t.screen();
  // The operator's window changes: its terminal signals bulkheadctl (SIGWINCH),
  // which passes the size on; the workload asks for it until it shows (the
  // relay is asynchronous, so a loaded machine may need a few rounds).
  winsize bigger{50, 160, 0, 0};
  ASSERT_EQ(::ioctl(t.master(), TIOCSWINSZ, &bigger), 0);
  bool seen = false;
  for (int round = 0; round < 50 && !seen; ++round) {
    t.type("\r");
    seen = t.read_for(milliseconds(200),
                      [](const std::string& s) { return s.find("50 160") != std::string::npos; });
  }
  EXPECT_TRUE(seen) << t.screen();
  t.type("\x04");  // end of file: the loop ends, and so does the run
  auto code = t.wait();
  ASSERT_TRUE(code.has_value()) << t.screen();
  EXPECT_EQ(*code, 0);
}

// Ctrl-C goes through the workload's terminal: SIGINT to its foreground
// process group, and the exit status says so.
TEST_F(E2ETerminal, CtrlCInterruptsTheWorkload) {
  TerminalCtl t(ctl_args({"run", "--tenant", "alpha", "--name", "sleeper", "--", "sh", "-c",
                          "echo ready; exec sleep 30"}));
  ASSERT_TRUE(t.read_for(testing::kWait, [](const std::string& s) {
    return s.find("ready") != std::string::npos;
  })) << t.screen();
  t.type("\x03");
  auto code = t.wait();
  ASSERT_TRUE(code.has_value()) << t.screen();
  EXPECT_EQ(*code, 128 + SIGINT) << t.screen();
}

// Ctrl-D at the start of a line is end of file for the workload.
TEST_F(E2ETerminal, CtrlDIsEndOfFile) {
  TerminalCtl t(
      ctl_args({"run", "--tenant", "alpha", "--", "sh", "-c", "echo ready; cat; echo cat-ended"}));
  ASSERT_TRUE(t.read_for(testing::kWait, [](const std::string& s) {
    return s.find("ready") != std::string::npos;
  })) << t.screen();
  t.type("typed\r");
  // The terminal's echo, then cat's copy. Only the count is asserted: the
  // line discipline writes "ready" and its "\r\n" in two steps, and the echo
  // of what is typed as soon as "ready" shows may land between them.
  ASSERT_TRUE(t.read_for(testing::kWait, [](const std::string& s) {
    const size_t first = s.find("typed");
    return first != std::string::npos && s.find("typed", first + 1) != std::string::npos;
  })) << t.screen();
  t.type("\x04");
  auto code = t.wait();
  ASSERT_TRUE(code.has_value()) << t.screen();
  EXPECT_EQ(*code, 0);
  EXPECT_NE(t.screen().find("cat-ended"), std::string::npos) << t.screen();
}

// -t without a terminal on our side: the input still ends (the terminal's
// end-of-file character), and -i keeps pipes even on a terminal.
TEST_F(E2ETerminal, ForcedModes) {
  Output forced = ctl({"run", "-t", "--tenant", "alpha", "--", "sh", "-c",
                       "test -t 0 && test -t 1 && cat >/dev/null && echo tty-and-eof"},
                      "some input without a newline at the end");
  EXPECT_EQ(forced.code, 0) << forced.err;
  EXPECT_NE(forced.out.find("tty-and-eof\r\n"), std::string::npos) << forced.out;

  TerminalCtl t(ctl_args({"run", "-i", "--tenant", "alpha", "--", "sh", "-c",
                          "test -t 0 || test -t 1 || echo pipes; echo err >&2"}));
  auto code = t.wait();
  ASSERT_TRUE(code.has_value()) << t.screen();
  EXPECT_EQ(*code, 0);
  t.read_for(milliseconds(100));
  EXPECT_NE(t.screen().find("pipes"), std::string::npos) << t.screen();
}

// Pipes: every byte value through stdin and back, 4 MiB (more than any pipe
// or socket buffer, both directions at once), stderr apart, end of input,
// and the exit code.
TEST_F(E2ETerminal, PipesAreBinarySafeAndCarryLargeOutput) {
  std::string data(size_t{4} << 20, '\0');
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<char>((i * 131) ^ (i >> 9));
  }
  Proc p(ctl_args({"run", "--tenant", "alpha", "--", "sh", "-c", "cat; echo done >&2; exit 7"}));
  std::thread writer([&] {
    sighandler_t old = std::signal(SIGPIPE, SIG_IGN);
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::write(p.stdin_fd(), data.data() + off, data.size() - off);
      if (n <= 0) {
        break;
      }
      off += static_cast<size_t>(n);
    }
    (void)std::signal(SIGPIPE, old);
  });
  // finish() closes stdin only after the writer is done with it.
  std::string out;
  EXPECT_TRUE(p.read_stdout_until(
      out, [&](const std::string& s) { return s.size() >= data.size(); }, milliseconds(60000)));
  writer.join();
  Output o = p.finish();
  out += o.out;
  EXPECT_EQ(o.code, 7) << o.err;
  EXPECT_EQ(out.size(), data.size());
  EXPECT_TRUE(out == data) << "the bytes differ";
  EXPECT_EQ(o.err, "done\n");
}

}  // namespace
}  // namespace bulkhead::api
