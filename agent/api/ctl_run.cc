// bulkheadctl run: runs a command in a tenant and exits with its status, so that
// `bulkheadctl run` can stand in for the command in scripts and pipelines, and
// be used interactively like `docker exec -it`.
//
// The workload gets a terminal or pipes of the agent's making, never this
// process's own stdin, stdout and stderr: the agent hands back their other
// ends with the "started" reply and this process relays (ctl_relay.h). With a
// terminal, this process's own terminal is in raw mode meanwhile, so Ctrl-C,
// Ctrl-D and Ctrl-Z reach the workload's terminal, and window size changes
// follow. Other signals bulkheadctl gets are forwarded to the workload.
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "api/ctl.h"
#include "api/ctl_common.h"
#include "api/ctl_format.h"
#include "api/ctl_relay.h"
#include "api/ctl_terminal.h"
#include "api/params.h"
#include "common/unique_fd.h"

namespace bulkhead::api::ctl {
namespace {

using nlohmann::json;

constexpr std::array<int, 5> kForwarded{SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH};

// Signals are blocked and read from a signalfd, so one that arrives while the
// run request is in flight is kept and forwarded once the workload exists.
Result<UniqueFd> block_forwarded_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : kForwarded) {
    sigaddset(&set, s);
  }
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) {
    return errno_error("sigprocmask");
  }
  UniqueFd fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd) {
    return errno_error("signalfd");
  }
  return fd;
}

// A closed stdio descriptor (`bulkheadctl run ... <&-`) would be taken by the
// next open() (the agent's socket as our "stdin"): /dev/null takes its place,
// as a shell would have reads fail.
Status fill_closed_stdio() {
  for (int i = 0; i < 3; ++i) {
    if (::fcntl(i, F_GETFD) != -1 || errno != EBADF) {
      continue;
    }
    int fd = ::open("/dev/null", i == 0 ? O_RDONLY : O_WRONLY);
    if (fd < 0) {
      return errno_error("open /dev/null");
    }
    if (fd != i) {
      (void)::dup2(fd, i);
      ::close(fd);
    }
  }
  return {};
}

bool wants_terminal(RunStdio stdio) {
  switch (stdio) {
    case RunStdio::kTerminal:
      return true;
    case RunStdio::kPipes:
      return false;
    case RunStdio::kAuto:
      break;
  }
  return ::isatty(STDIN_FILENO) == 1 && ::isatty(STDOUT_FILENO) == 1;
}

// The workload's terminal follows ours.
void resize(const StdioRelay& relay) {
  auto size = window_size({STDIN_FILENO, STDOUT_FILENO});
  if (size && relay.terminal_fd() >= 0) {
    winsize ws{size->rows, size->cols, 0, 0};
    (void)::ioctl(relay.terminal_fd(), TIOCSWINSZ, &ws);
  }
}

// The relay over the ends the "started" reply names in its "fds".
Result<StdioRelay> take_stdio(Client& client, const json& result, bool tty) {
  const json expected =
      tty ? json::array({"terminal"}) : json::array({"stdin", "stdout", "stderr"});
  auto it = result.find("fds");
  if (it == result.end() || *it != expected) {
    return make_error("malformed reply to run from the agent: fds should be " + expected.dump());
  }
  std::vector<UniqueFd> fds = client.take_fds(expected.size());
  if (fds.size() != expected.size()) {
    return make_error("the agent's reply to run came without the workload's stdio");
  }
  if (tty) {
    return StdioRelay::terminal(std::move(fds[0]));
  }
  return StdioRelay::pipes(std::move(fds[0]), std::move(fds[1]), std::move(fds[2]));
}

}  // namespace

int run(const Globals& g, const RunOptions& options, Io io) {
  if (options.argv.empty()) {
    return report_failure("run: no command given (bulkheadctl run --tenant T -- CMD ARGS...)", io);
  }
  if (auto s = fill_closed_stdio(); !s.ok()) {
    return report_failure(s.error().to_string(), io);
  }
  const bool tty = wants_terminal(options.stdio);
  auto sigfd = block_forwarded_signals();
  if (!sigfd.ok()) {
    return report_failure(sigfd.error().to_string(), io);
  }
  // A reader of our stdout that goes away is an EPIPE for the relay to handle.
  (void)std::signal(SIGPIPE, SIG_IGN);
  auto client = connect_or_report(g, io);
  if (!client) {
    return kExitError;
  }
  json params{{"tenant", options.tenant}, {"argv", options.argv}};
  if (!options.name.empty()) {
    params["name"] = options.name;
  }
  if (!options.env.empty()) {
    params["env"] = options.env;
  }
  if (options.cwd) {
    params["cwd"] = *options.cwd;
  }
  if (tty) {
    params["tty"] = true;
    if (auto size = window_size({STDIN_FILENO, STDOUT_FILENO})) {
      params["tty_size"] = json{{"rows", size->rows}, {"cols", size->cols}};
    }
  }
  auto run_id = client->send(Method::kRun, params);
  if (!run_id.ok()) {
    // The agent may have refused the connection before reading the request.
    auto m = client->read(std::chrono::milliseconds(500));
    if (m.ok() && m->error) {
      return report_api_error(g, *m->error, io);
    }
    return report_failure(run_id.error().to_string(), io);
  }

  std::string workload;   // known once the agent says "started"
  std::vector<int> held;  // signals that arrived before that
  std::optional<StdioRelay> relay;
  std::unique_ptr<RawTerminal> raw;
  // Every way out gives the terminal its mode back before printing, and
  // closes the workload's ends (which hangs its terminal up).
  auto end = [&] {
    if (relay) {
      relay->finish();
      relay.reset();
    }
    raw.reset();
  };
  auto forward = [&](int sig) {
    if (sig == SIGWINCH && relay && relay->terminal_fd() >= 0) {
      resize(*relay);  // the kernel tells the workload (SIGWINCH to its foreground group)
      return;
    }
    // Not waited for: the reply (or a not_found once the workload is gone) is
    // read and dropped by the loop below.
    auto s = client->send(
        Method::kSignal,
        json{{"tenant", options.tenant}, {"workload", workload}, {"signal", signal_name(sig)}});
    if (!s.ok()) {
      io.err << "bulkheadctl: forwarding " << signal_name(sig) << ": " << s.error().to_string()
             << "\n";
    }
  };

  std::vector<pollfd> p;
  for (;;) {
    if (!client->has_buffered()) {
      p.assign({{client->fd(), POLLIN, 0}, {sigfd->get(), POLLIN, 0}});
      if (relay) {
        relay->add_pollfds(p);
      }
      if (::poll(p.data(), p.size(), -1) < 0 && errno != EINTR) {
        const int err = errno;
        end();
        return report_failure(std::string("poll: ") + std::strerror(err), io);
      }
      if ((p[1].revents & POLLIN) != 0) {
        signalfd_siginfo si{};
        while (::read(sigfd->get(), &si, sizeof(si)) == static_cast<ssize_t>(sizeof(si))) {
          if (workload.empty()) {
            held.push_back(static_cast<int>(si.ssi_signo));
          } else {
            forward(static_cast<int>(si.ssi_signo));
          }
        }
      }
      if (relay) {
        relay->handle(std::span<const pollfd>(p).subspan(2));
      }
      if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        continue;
      }
    }
    // Never blocks: a line still incomplete is finished on a later round,
    // so signals and the relay are not held up meanwhile.
    auto m = client->read(std::chrono::milliseconds(0));
    if (!m.ok() && m.error().code == ETIMEDOUT) {
      continue;
    }
    if (!m.ok()) {
      end();
      return report_failure("lost the connection to the agent while waiting for the workload: " +
                                m.error().to_string(),
                            io);
    }
    if (!m->id && m->error) {
      end();
      return report_api_error(g, *m->error, io);  // refused: permission, garbage, limits
    }
    if (m->id != *run_id) {
      continue;  // replies to forwarded signals
    }
    if (m->error) {
      end();
      return report_api_error(g, *m->error, io);
    }
    if (m->result) {
      auto started = m->result->find("started");
      if (started == m->result->end() || !started->is_object() || !started->contains("name") ||
          !(*started)["name"].is_string()) {
        end();
        return report_failure("malformed reply to run from the agent", io);
      }
      workload = (*started)["name"].get<std::string>();
      auto r = take_stdio(*client, *m->result, tty);
      if (!r.ok()) {
        end();
        return report_failure(r.error().to_string(), io);
      }
      relay.emplace(std::move(*r));
      if (tty) {
        // Only now: a run that could not start leaves the terminal alone.
        auto entered = RawTerminal::enter(STDIN_FILENO);
        if (!entered.ok()) {
          end();
          return report_failure(entered.error().to_string(), io);
        }
        raw = std::move(*entered);
      }
      for (int sig : held) {
        forward(sig);
      }
      held.clear();
      continue;
    }
    if (m->event == "exit") {
      auto st = m->body.find("status");
      if (st == m->body.end() || !st->is_object() || !st->contains("shell_code") ||
          !(*st)["shell_code"].is_number_integer()) {
        end();
        return report_failure("malformed exit event from the agent", io);
      }
      // What the workload wrote before it ended is passed on first.
      end();
      return (*st)["shell_code"].get<int>();
    }
  }
}

}  // namespace bulkhead::api::ctl
