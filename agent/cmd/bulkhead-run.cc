// bulkhead-run: starts one command in a tenant sandbox built from a profile file
// and exits with its status (exit code, or 128+signal). For trying a profile and
// for benchmarks; the agent (bulkheadd) uses the same library calls.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <csignal>
#include <iostream>

#include "cgroup/tree.h"
#include "common/file_util.h"
#include "common/log.h"
#include "common/scope_exit.h"
#include "config/id_allocator.h"
#include "config/profile_loader.h"
#include "isolation/tenant.h"
#include "net/network_host.h"
#include "net/tenant_network.h"

namespace po = boost::program_options;
using namespace bulkhead;  // NOLINT(google-build-using-namespace): a main

namespace {

int fail(const std::string& message) {
  std::cerr << "bulkhead-run: " << message << "\n";
  return 125;  // like env(1)/docker run: the launcher failed, not the command
}

}  // namespace

int main(int argc, char** argv) {
  std::string profile_path;
  std::string state_dir;
  std::string cgroup_name;
  std::string name;
  std::string log_level;
  net::NetworkHostConfig net_config;
  std::string pool_ipv4;
  std::string pool_ipv6;
  int repeat = 1;
  std::vector<std::string> command;

  po::options_description opts("Usage: bulkhead-run --profile FILE [options] -- COMMAND [ARGS...]");
  opts.add_options()                                                                //
      ("help,h", "show this help")                                                  //
      ("profile,p", po::value(&profile_path)->required(), "tenant profile (YAML)")  //
      ("state-dir", po::value(&state_dir)->default_value("/var/lib/bulkhead/run"),
       "where uid range assignments and the staging dir live")  //
      ("cgroup-name", po::value(&cgroup_name)->default_value("bulkhead-run"),
       "name of the cgroup subtree to create")                           //
      ("name", po::value(&name)->default_value("run"), "workload name")  //
      ("repeat", po::value(&repeat)->default_value(1),
       "run the command N times in the same tenant (benchmarks)")  //
      ("check", "validate the profile and exit")                   //
      ("bridge", po::value(&net_config.bridge)->default_value("bh0"),
       "host bridge for network mode isolated")  //
      ("address-pool", po::value(&pool_ipv4)->default_value("10.200.0.0/16"),
       "IPv4 prefix for network mode isolated")  //
      ("address-pool6", po::value(&pool_ipv6)->default_value("fd00:b0b0::/64"),
       "IPv6 prefix for network mode isolated (empty: IPv4 only)")  //
      ("log-level", po::value(&log_level)->default_value("warn"), "trace|debug|info|warn|error");
  po::options_description hidden;
  hidden.add_options()("command", po::value(&command));
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description positional;
  positional.add("command", -1);

  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
    if (vm.count("help") != 0U) {
      std::cout << opts << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    return fail(std::string(e.what()) + " (see --help)");
  }
  if (auto s = init_logging(log_level); !s.ok()) {
    return fail(s.error().to_string());
  }
  bridge_libbpf_logging();

  auto loaded = config::load_profile_file(profile_path);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) {
      std::cerr << e.to_string() << "\n";
    }
    return fail("invalid profile " + profile_path);
  }
  std::vector<config::Profile> profiles{*loaded.profile};
  if (vm.count("check") != 0U) {
    // Planning needs an existing staging directory; nothing is mounted on it here.
    char staging[] = "/tmp/bulkhead-check-XXXXXX";
    if (::mkdtemp(staging) == nullptr) {
      return fail("cannot create a staging directory in /tmp");
    }
    auto plan = isolation::plan_sandbox(profiles[0], staging);
    ::rmdir(staging);
    if (!plan.ok()) {
      return fail(plan.error().to_string());
    }
    std::cout << profile_path << ": ok\n";
    return 0;
  }
  if (command.empty()) {
    return fail("no command given (bulkhead-run --profile FILE -- COMMAND ARGS...)");
  }
  if (repeat < 1) {
    return fail("--repeat must be at least 1");
  }
  if (auto s = make_dirs(state_dir + "/rootfs", 0755); !s.ok()) {
    return fail(s.error().to_string());
  }
  if (auto s = config::assign_id_ranges(profiles, state_dir + "/id-ranges.json"); !s.ok()) {
    return fail(s.error().to_string());
  }
  auto host = cgroup::detect_host_cgroups();
  if (!host.ok()) {
    return fail(host.error().to_string());
  }
  auto tree = cgroup::CgroupTree::create(*host, cgroup_name);
  if (!tree.ok()) {
    return fail(tree.error().to_string());
  }
  // Only an isolated tenant needs the bridge and an address.
  std::unique_ptr<net::NetworkHost> network;
  if (profiles[0].network.mode == config::NetworkMode::kIsolated) {
    auto pool = net::parse_pool_config(pool_ipv4, pool_ipv6);
    if (!pool.ok()) {
      return fail(pool.error().context("address pool").to_string());
    }
    net_config.pool = *pool;
    net_config.state_file = state_dir + "/addresses.json";
    auto opened = net::NetworkHost::open(net_config);
    if (!opened.ok()) {
      return fail(opened.error().to_string());
    }
    network = std::move(*opened);
  }
  auto tenant = isolation::Tenant::create(
      profiles[0], **tree, isolation::TenantOptions{state_dir + "/rootfs", network.get()});
  if (!tenant.ok()) {
    return fail(tenant.error().context("tenant " + profiles[0].name).to_string());
  }
  for (const auto& w : (*tenant)->plan().warnings) {
    spdlog::warn("{}", w);
  }
  // Fail closed: no workload runs without the tenant's network policy. The
  // policy removes its own pins; the per-tree root goes after it.
  const std::string pin_root = "/sys/fs/bpf/" + cgroup_name;
  ScopeExit remove_pin_root([&pin_root] { ::rmdir(pin_root.c_str()); });
  auto policy = net::attach_tenant_network(
      profiles[0], (*tenant)->cgroup().v2_path(), pin_root,
      net::tenant_policy_context({}, network.get(), (*tenant)->network()));
  if (!policy.ok()) {
    return fail(policy.error().to_string());
  }

  // The workload gets the terminal's signals through init; we only wait.
  (void)std::signal(SIGINT, SIG_IGN);
  (void)std::signal(SIGQUIT, SIG_IGN);
  int code = 0;
  for (int i = 0; i < repeat; ++i) {
    isolation::LaunchRequest req;
    req.name = repeat == 1 ? name : name + "-" + std::to_string(i);
    req.argv = command;
    req.die_with_parent = true;
    auto workload = (*tenant)->launch(req);
    if (!workload.ok()) {
      return fail(workload.error().to_string());
    }
    auto status = (*workload)->wait();
    if (!status.ok()) {
      return fail(status.error().to_string());
    }
    code = status->shell_code();
  }
  return code;
}
