// bulkheadctl's commands, apart from its argument parsing (cmd/bulkheadctl.cc)
// so that tests can drive them. Each returns the process exit code.
//
// Exit codes (docs/api.md): 0 success; 1 `check` found the profile invalid;
// 125 bulkheadctl or the agent failed (cannot connect, permission denied,
// unknown tenant, refused request, lost connection); `run` otherwise exits
// with the workload's own code (128+N when killed by signal N), like a shell.
#pragma once

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace bulkhead::api::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInvalid = 1;
inline constexpr int kExitError = 125;

struct Globals {
  std::string socket;
  bool json = false;  // print results as the agent sent them
};

struct Io {
  std::ostream& out;
  std::ostream& err;
};

// What the workload's stdio is (docs/api.md, "bulkheadctl"): a terminal of its
// own, like `docker exec -it`, or pipes, like `docker exec -i`. Either way
// bulkheadctl relays its own stdio; the workload never gets it.
enum class RunStdio {
  kAuto,      // a terminal when bulkheadctl's stdin and stdout both are terminals
  kTerminal,  // -t/--tty
  kPipes,     // -i/--interactive alone
};

struct RunOptions {
  std::string tenant;
  std::string name;
  std::map<std::string, std::string> env;
  std::optional<std::string> cwd;
  std::vector<std::string> argv;
  RunStdio stdio = RunStdio::kAuto;
};

struct EventsOptions {
  std::optional<std::string> tenant;
  std::vector<std::string> types;  // names or categories ("file.*"), validated by the agent
  bool follow = false;
};

int status(const Globals& g, Io io);
int tenants(const Globals& g, Io io);
int ps(const Globals& g, const std::optional<std::string>& tenant, Io io);
int stop(const Globals& g, const std::string& tenant, const std::string& workload, Io io);
int signal(const Globals& g, const std::string& tenant, const std::string& workload,
           const std::string& sig, Io io);
int reload(const Globals& g, Io io);
// Validates locally (no agent needed, the caller's own read access); with
// `in_agent` the file's text is sent to the agent, which checks it there.
int check(const Globals& g, const std::string& file, bool in_agent, Io io);
// Runs argv in a tenant with a terminal or pipes, relays this process's stdin,
// stdout and stderr to them, forwards SIGINT, SIGTERM, SIGHUP and SIGQUIT (and
// window size changes) to it, and returns its exit code.
int run(const Globals& g, const RunOptions& options, Io io);
// Prints the agent's recent events that match, or with `follow` streams them
// until the agent closes the connection (or the user interrupts).
int events(const Globals& g, const EventsOptions& options, Io io);

}  // namespace bulkhead::api::ctl
