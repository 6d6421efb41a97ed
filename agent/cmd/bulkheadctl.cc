// bulkheadctl: the operator's client of the agent's control API (docs/api.md).
// Parses the command line and hands over to api/ctl_*.cc.
#include <boost/program_options.hpp>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "api/ctl.h"
#include "api/protocol.h"

namespace po = boost::program_options;
using namespace bulkhead::api;  // NOLINT(google-build-using-namespace): a main

namespace {

constexpr const char* kUsage =
    "Usage: bulkheadctl [--socket PATH] [--json] COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  status                           the agent's version, uptime, counts, kernel features\n"
    "  tenants                          the tenants and their id ranges and cgroups\n"
    "  ps [--tenant T]                  workloads (declared and ad-hoc)\n"
    "  run --tenant T [-t|-i] [--name N] [--env K=V]... [--cwd DIR] -- CMD [ARGS...]\n"
    "                                   run CMD in tenant T, relaying this process's stdio:\n"
    "                                   -t/--tty: CMD gets a terminal of its own (the default\n"
    "                                   when stdin and stdout are terminals); -i/--interactive\n"
    "                                   alone: pipes; exits with CMD's code (128+N when killed\n"
    "                                   by signal N)\n"
    "  stop --tenant T WORKLOAD         stop a workload (SIGTERM, then SIGKILL after the grace)\n"
    "  signal --tenant T [--signal SIG] WORKLOAD\n"
    "                                   send SIG (default SIGTERM) to a workload\n"
    "  reload                           re-read the profiles and detection rules (all or nothing)\n"
    "  check [--agent] FILE             validate a profile file here (--agent: in the agent)\n"
    "  events [--follow] [--tenant T] [--type TYPE]...\n"
    "                                   kernel events: without --follow the agent's most recent\n"
    "                                   (up to 1024), with --follow a live stream until "
    "interrupted;\n"
    "                                   TYPE is a name (process.exec, file.open, network.deny, "
    "...)\n"
    "                                   or a category (file.*); an unknown one lists the valid "
    "ones\n"
    "\n"
    "Global options:\n"
    "  --socket PATH   the agent's socket (default /run/bulkhead/bulkhead.sock)\n"
    "  --json          print results as the agent's JSON\n"
    "\n"
    "Exit status: 0 ok; 1 check found the profile invalid; 125 bulkheadctl or the agent\n"
    "failed; run: the workload's own status.\n";

int usage_error(const std::string& message) {
  std::cerr << "bulkheadctl: " << message << " (see bulkheadctl --help)\n";
  return ctl::kExitError;
}

// Parses one command's options; positional names get the remaining words.
struct Parsed {
  po::variables_map vm;
  std::optional<std::string> error;
};

Parsed parse(const std::vector<std::string>& args, const po::options_description& opts,
             const po::positional_options_description& positional) {
  Parsed p;
  try {
    po::store(po::command_line_parser(args).options(opts).positional(positional).run(), p.vm);
    po::notify(p.vm);
  } catch (const po::error& e) {
    p.error = e.what();
  }
  return p;
}

std::optional<std::string> opt(const po::variables_map& vm, const char* key) {
  return vm.count(key) != 0U ? std::optional<std::string>(vm[key].as<std::string>()) : std::nullopt;
}

int cmd_run(const ctl::Globals& g, const std::vector<std::string>& args) {
  // Everything after "--" is the command, dashes and all.
  std::vector<std::string> own = args;
  std::vector<std::string> command;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--") {
      own.assign(args.begin(), args.begin() + static_cast<std::ptrdiff_t>(i));
      command.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
  }
  std::vector<std::string> env_args;
  bool tty = false;
  bool interactive = false;
  po::options_description opts("run");
  opts.add_options()("tenant", po::value<std::string>()->required())(
      "name", po::value<std::string>())("env", po::value(&env_args)->composing())(
      "cwd", po::value<std::string>())("tty,t", po::bool_switch(&tty))(
      "interactive,i", po::bool_switch(&interactive))("command",
                                                      po::value<std::vector<std::string>>());
  po::positional_options_description pos;
  pos.add("command", -1);
  auto p = parse(own, opts, pos);
  if (p.error) {
    return usage_error("run: " + *p.error);
  }
  ctl::RunOptions o;
  o.tenant = p.vm["tenant"].as<std::string>();
  o.name = opt(p.vm, "name").value_or("");
  o.cwd = opt(p.vm, "cwd");
  // As with docker exec: -t is a terminal (-it the same), -i alone pipes.
  if (tty) {
    o.stdio = ctl::RunStdio::kTerminal;
  } else if (interactive) {
    o.stdio = ctl::RunStdio::kPipes;
  }
  if (p.vm.count("command") != 0U) {
    o.argv = p.vm["command"].as<std::vector<std::string>>();
  }
  o.argv.insert(o.argv.end(), command.begin(), command.end());
  for (const auto& e : env_args) {
    auto eq = e.find('=');
    if (eq == 0) {
      return usage_error("run: --env " + e + ": empty variable name");
    }
    if (eq == std::string::npos) {
      // --env NAME passes this process's value on, as docker run -e does.
      if (const char* v = std::getenv(e.c_str())) {
        o.env[e] = v;
      }
      continue;
    }
    o.env[e.substr(0, eq)] = e.substr(eq + 1);
  }
  if (o.argv.empty()) {
    return usage_error("run: no command given (bulkheadctl run --tenant T -- CMD ARGS...)");
  }
  return ctl::run(g, o, ctl::Io{std::cout, std::cerr});
}

int cmd_workload(const ctl::Globals& g, const std::string& name,
                 const std::vector<std::string>& args) {
  po::options_description opts(name);
  opts.add_options()("tenant", po::value<std::string>()->required())(
      "workload", po::value<std::string>()->required());
  if (name == "signal") {
    opts.add_options()("signal,s", po::value<std::string>()->default_value("SIGTERM"));
  }
  po::positional_options_description pos;
  pos.add("workload", 1);
  auto p = parse(args, opts, pos);
  if (p.error) {
    return usage_error(name + ": " + *p.error);
  }
  const auto tenant = p.vm["tenant"].as<std::string>();
  const auto workload = p.vm["workload"].as<std::string>();
  ctl::Io io{std::cout, std::cerr};
  if (name == "stop") {
    return ctl::stop(g, tenant, workload, io);
  }
  return ctl::signal(g, tenant, workload, p.vm["signal"].as<std::string>(), io);
}

int dispatch(const ctl::Globals& g, const std::string& command,
             const std::vector<std::string>& args) {
  ctl::Io io{std::cout, std::cerr};
  po::positional_options_description none;
  if (command == "run") {
    return cmd_run(g, args);
  }
  if (command == "stop" || command == "signal") {
    return cmd_workload(g, command, args);
  }
  if (command == "ps") {
    po::options_description opts("ps");
    opts.add_options()("tenant", po::value<std::string>());
    auto p = parse(args, opts, none);
    if (p.error) {
      return usage_error("ps: " + *p.error);
    }
    return ctl::ps(g, opt(p.vm, "tenant"), io);
  }
  if (command == "events") {
    po::options_description opts("events");
    opts.add_options()("follow,f", "stream")("tenant", po::value<std::string>())(
        "type", po::value<std::vector<std::string>>()->composing());
    auto p = parse(args, opts, none);
    if (p.error) {
      return usage_error("events: " + *p.error);
    }
    ctl::EventsOptions o;
    o.follow = p.vm.count("follow") != 0U;
    o.tenant = opt(p.vm, "tenant");
    if (p.vm.count("type") != 0U) {
      o.types = p.vm["type"].as<std::vector<std::string>>();
    }
    return ctl::events(g, o, io);
  }
  if (command == "check") {
    po::options_description opts("check");
    opts.add_options()("agent", "validate in the agent")("file",
                                                         po::value<std::string>()->required());
    po::positional_options_description pos;
    pos.add("file", 1);
    auto p = parse(args, opts, pos);
    if (p.error) {
      return usage_error("check: " + *p.error);
    }
    return ctl::check(g, p.vm["file"].as<std::string>(), p.vm.count("agent") != 0U, io);
  }
  if (command == "status" || command == "tenants" || command == "reload") {
    if (!args.empty()) {
      return usage_error(command + " takes no arguments");
    }
    if (command == "status") {
      return ctl::status(g, io);
    }
    return command == "tenants" ? ctl::tenants(g, io) : ctl::reload(g, io);
  }
  return usage_error("unknown command '" + command + "'");
}

}  // namespace

int main(int argc, char** argv) {
  ctl::Globals g;
  g.socket = std::string(kDefaultSocket);
  // Global options come before the command; the command's own follow it.
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    }
    if (a == "--json") {
      g.json = true;
    } else if (a == "--socket") {
      if (i + 1 >= argc) {
        return usage_error("--socket needs a path");
      }
      g.socket = argv[++i];
    } else if (a.rfind("--socket=", 0) == 0) {
      g.socket = a.substr(9);
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("unknown option " + a);
    } else {
      break;
    }
  }
  if (i >= argc) {
    std::cerr << kUsage;
    return ctl::kExitError;
  }
  const std::string command = argv[i];
  std::vector<std::string> args(argv + i + 1, argv + argc);
  // `bulkheadctl events --help`: the usage, which lists every command's
  // options; words after `--` belong to the workload (`run -- ls --help`).
  for (const auto& a : args) {
    if (a == "--") {
      break;
    }
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    }
  }
  return dispatch(g, command, args);
}
