// bulkheadctl run: hands this process's stdio to a workload in a tenant, relays
// signals to it, and exits with its status, so that `bulkheadctl run` can stand
// in for the command in scripts and pipelines.
#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>

#include <array>
#include <csignal>
#include <vector>

#include "api/ctl.h"
#include "api/ctl_common.h"
#include "api/ctl_format.h"
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

// A closed stdio descriptor (`bulkheadctl run ... <&-`) cannot be passed: the
// workload gets /dev/null in its place, as a shell would have it fail reads.
Result<std::vector<UniqueFd>> stdio_fds(std::array<int, 3>& fds) {
  std::vector<UniqueFd> opened;
  for (int i = 0; i < 3; ++i) {
    fds[static_cast<size_t>(i)] = i;
    if (::fcntl(i, F_GETFD) == -1) {
      UniqueFd null(::open("/dev/null", (i == 0 ? O_RDONLY : O_WRONLY) | O_CLOEXEC));
      if (!null) {
        return errno_error("open /dev/null");
      }
      fds[static_cast<size_t>(i)] = null.get();
      opened.push_back(std::move(null));
    }
  }
  return opened;
}

}  // namespace

int run(const Globals& g, const RunOptions& options, Io io) {
  if (options.argv.empty()) {
    return report_failure("run: no command given (bulkheadctl run --tenant T -- CMD ARGS...)", io);
  }
  auto sigfd = block_forwarded_signals();
  if (!sigfd.ok()) {
    return report_failure(sigfd.error().to_string(), io);
  }
  auto client = connect_or_report(g, io);
  if (!client) {
    return kExitError;
  }
  std::array<int, 3> fds{};
  auto keep = stdio_fds(fds);
  if (!keep.ok()) {
    return report_failure(keep.error().to_string(), io);
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
  auto run_id = client->send(Method::kRun, params, fds);
  keep->clear();
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
  auto forward = [&](int sig) {
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

  for (;;) {
    if (!client->has_buffered()) {
      std::array<pollfd, 2> p{{{client->fd(), POLLIN, 0}, {sigfd->get(), POLLIN, 0}}};
      if (::poll(p.data(), p.size(), -1) < 0 && errno != EINTR) {
        return report_failure(std::string("poll: ") + std::strerror(errno), io);
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
      if ((p[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        continue;
      }
    }
    // Never blocks: a line still incomplete is finished on a later round,
    // so signals are not held up meanwhile.
    auto m = client->read(std::chrono::milliseconds(0));
    if (!m.ok() && m.error().code == ETIMEDOUT) {
      continue;
    }
    if (!m.ok()) {
      return report_failure("lost the connection to the agent while waiting for the workload: " +
                                m.error().to_string(),
                            io);
    }
    if (!m->id && m->error) {
      return report_api_error(g, *m->error, io);  // refused: permission, garbage, limits
    }
    if (m->id != *run_id) {
      continue;  // replies to forwarded signals
    }
    if (m->error) {
      return report_api_error(g, *m->error, io);
    }
    if (m->result) {
      auto started = m->result->find("started");
      if (started == m->result->end() || !started->is_object() || !started->contains("name") ||
          !(*started)["name"].is_string()) {
        return report_failure("malformed reply to run from the agent", io);
      }
      workload = (*started)["name"].get<std::string>();
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
        return report_failure("malformed exit event from the agent", io);
      }
      return (*st)["shell_code"].get<int>();
    }
  }
}

}  // namespace bulkhead::api::ctl
