// connect() rate inside a tenant cgroup with the eBPF network policy holding
// 10, 1,000 and 100,000 CIDR rules, against the same tenant with no policy and
// against equivalent nftables rules (a set of the same addresses, matched on
// the tenant's cgroup with `socket cgroupv2`), all in one run, interleaved
// round by round so machine noise hits every configuration alike.
//
// Everything happens in a network namespace of the benchmark's own: the
// destination 10.231.255.1 is an address on its loopback, the listener
// belongs to the benchmark process (outside the tenant cgroup), the nft table
// lives in that namespace only.
//
//   net_policy_bench [--connects N] [--rounds R]
//
// Two figures per configuration, connects per second (median of the rounds):
//  tcp: socket + connect + close(RST) to a listener that accepts (packets pass
//       the cgroup_skb hooks or nft's output chain);
//  udp: connect() of one UDP socket, repeated (no packet: the connect4 hook only).
//
// Then, per policy size, one more pass with the kernel's BPF run-time statistics
// on (BPF_ENABLE_STATS): how often each hook ran per connect and how long it
// took, read from the programs attached to the tenant's cgroup. That is the
// policy's own CPU cost per connect, which machine noise barely moves.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "net/policy_compiler.h"
#include "net/tenant_policy.h"

namespace {

using bulkhead::UniqueFd;
namespace net = bulkhead::net;
namespace config = bulkhead::config;

constexpr const char* kDest = "10.231.255.1";
constexpr uint16_t kTcpPort = 8080;
constexpr uint16_t kUdpPort = 9;

bool sh(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

// Connects per second of wall-clock time, and per second of the measuring
// process's own CPU time (user + system, which includes the loopback
// softirq work done in its context). The CPU figure is what to compare on a
// shared machine: it does not count time spent waiting for a core.
struct Rates {
  double tcp = 0;
  double udp = 0;
  double tcp_cpu = 0;
  double udp_cpu = 0;
};

double cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// The i-th rule's address: 11.0.0.0 upwards, never the destination.
std::string rule_addr(int i) {
  return "11." + std::to_string((i >> 16) & 0xff) + "." + std::to_string((i >> 8) & 0xff) + "." +
         std::to_string(i & 0xff);
}

config::NetworkSpec policy_with(int rules) {
  config::NetworkSpec spec;
  spec.mode = config::NetworkMode::kIsolated;
  config::EgressRule tcp;
  tcp.protocols = config::kProtoTcp;
  tcp.ports = {{kTcpPort, kTcpPort}};
  config::EgressRule udp;
  udp.protocols = config::kProtoUdp;
  udp.ports = {{kUdpPort, kUdpPort}};
  for (int i = 0; i < rules - 1; ++i) {
    tcp.to.push_back(*net::parse_cidr(rule_addr(i) + "/32"));
  }
  tcp.to.push_back(*net::parse_cidr(std::string(kDest) + "/32"));
  udp.to = tcp.to;
  spec.egress = {tcp, udp};
  return spec;
}

std::string nft_ruleset(int rules, const std::string& cgroup_rel) {
  std::string s = "table inet bhbench {\n  set allowed {\n    type ipv4_addr\n    elements = { ";
  for (int i = 0; i < rules - 1; ++i) {
    s += rule_addr(i) + ", ";
  }
  s += std::string(kDest) + " }\n  }\n";
  std::string match = "socket cgroupv2 level 1 \"" + cgroup_rel + "\"";
  s += "  chain out {\n    type filter hook output priority 0; policy accept;\n";
  s += "    " + match + " ip daddr @allowed tcp dport " + std::to_string(kTcpPort) + " accept\n";
  s += "    " + match + " ip daddr @allowed udp dport " + std::to_string(kUdpPort) + " accept\n";
  s += "    " + match + " drop\n  }\n}\n";
  return s;
}

// In the child: connects per second for both figures (UDP unless `tcp_only`).
Rates measure_in_child(int connects, bool tcp_only) {
  sockaddr_in tcp{};
  tcp.sin_family = AF_INET;
  tcp.sin_port = htons(kTcpPort);
  ::inet_pton(AF_INET, kDest, &tcp.sin_addr);
  sockaddr_in udp = tcp;
  udp.sin_port = htons(kUdpPort);
  Rates r;
  auto start = std::chrono::steady_clock::now();
  double cpu_start = cpu_seconds();
  for (int i = 0; i < connects; ++i) {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    linger lg{1, 0};  // close with RST: no TIME_WAIT to exhaust ports
    ::setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    if (::connect(s, reinterpret_cast<sockaddr*>(&tcp), sizeof(tcp)) != 0) {
      ::_exit(2);
    }
    ::close(s);
  }
  std::chrono::duration<double> t = std::chrono::steady_clock::now() - start;
  r.tcp = connects / t.count();
  r.tcp_cpu = connects / (cpu_seconds() - cpu_start);
  if (tcp_only) {
    return r;
  }
  int u = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const int udp_connects = connects * 10;
  start = std::chrono::steady_clock::now();
  cpu_start = cpu_seconds();
  for (int i = 0; i < udp_connects; ++i) {
    if (::connect(u, reinterpret_cast<sockaddr*>(&udp), sizeof(udp)) != 0) {
      ::_exit(3);
    }
  }
  t = std::chrono::steady_clock::now() - start;
  r.udp = udp_connects / t.count();
  r.udp_cpu = udp_connects / (cpu_seconds() - cpu_start);
  return r;
}

struct Bench {
  std::string netns;
  std::string cgroup;
  std::string cgroup_rel;  // relative to /sys/fs/cgroup, for nft
  std::string pins;
  UniqueFd netns_fd;
  UniqueFd listener;
  std::atomic<bool> stop{false};
  std::thread acceptor;

  bool setup() {
    std::string id = std::to_string(::getpid());
    netns = "bhbench" + id;
    cgroup_rel = "unified/bulkhead-bench-" + id;
    cgroup = "/sys/fs/cgroup/" + cgroup_rel;
    pins = "/sys/fs/bpf/bulkhead-bench-" + id;
    if (!sh("ip netns add " + netns) || !sh("ip -n " + netns + " link set lo up") ||
        !sh("ip -n " + netns + " addr add " + kDest + "/32 dev lo") ||
        ::mkdir(cgroup.c_str(), 0755) != 0) {
      (void)std::fprintf(stderr, "setup failed (root? cgroup2 at /sys/fs/cgroup/unified?)\n");
      return false;
    }
    ::mkdir("/sys/fs/bpf", 0700);
    sh("mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf");
    ::mkdir(pins.c_str(), 0700);
    netns_fd.reset(::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC));
    UniqueFd self(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    ::setns(netns_fd.get(), CLONE_NEWNET);
    listener.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ::setns(self.get(), CLONE_NEWNET);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(kTcpPort);
    ::inet_pton(AF_INET, kDest, &a.sin_addr);
    if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
        ::listen(listener.get(), 4096) != 0) {
      std::perror("listener");
      return false;
    }
    acceptor = std::thread([this] {
      while (!stop) {
        int c = ::accept(listener.get(), nullptr, nullptr);
        if (c >= 0) {
          ::close(c);
        }
      }
    });
    return true;
  }

  ~Bench() {
    stop = true;
    if (listener) {
      ::shutdown(listener.get(), SHUT_RDWR);
    }
    if (acceptor.joinable()) {
      acceptor.join();
    }
    netns_fd.reset();
    sh("ip netns del " + netns);
    ::rmdir(cgroup.c_str());
    sh("rm -rf " + pins + " /tmp/" + netns + "-nft-*");
  }

  // nft input files (bpffs holds no regular files, hence /tmp).
  [[nodiscard]] std::string nft_file(int rules) const {
    return "/tmp/" + netns + "-nft-" + std::to_string(rules);
  }

  Rates run(int connects, bool tcp_only = false) {
    int p[2];
    if (::pipe(p) != 0) {
      return {};
    }
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(p[0]);
      std::string me = std::to_string(::getpid());
      int fd = ::open((cgroup + "/cgroup.procs").c_str(), O_WRONLY);
      if (fd < 0 || ::write(fd, me.data(), me.size()) < 0 ||
          ::setns(netns_fd.get(), CLONE_NEWNET) != 0) {
        ::_exit(1);
      }
      Rates r = measure_in_child(connects, tcp_only);
      (void)::write(p[1], &r, sizeof(r));
      ::_exit(0);
    }
    ::close(p[1]);
    Rates r;
    ssize_t n = ::read(p[0], &r, sizeof(r));
    ::close(p[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (n != sizeof(r) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      (void)std::fprintf(stderr, "measurement failed (status %d)\n", status);
      std::exit(1);
    }
    return r;
  }
};

// Run count and run time of every program attached to the cgroup, per hook.
struct HookStats {
  const char* hook;
  uint64_t runs = 0;
  uint64_t ns = 0;
};

std::vector<HookStats> hook_stats(const std::string& cgroup) {
  static constexpr std::pair<const char*, bpf_attach_type> kHooks[] = {
      {"sock_create", BPF_CGROUP_INET_SOCK_CREATE},
      {"connect4", BPF_CGROUP_INET4_CONNECT},
      {"connect6", BPF_CGROUP_INET6_CONNECT},
      {"sendmsg4", BPF_CGROUP_UDP4_SENDMSG},
      {"sendmsg6", BPF_CGROUP_UDP6_SENDMSG},
      {"bind4", BPF_CGROUP_INET4_BIND},
      {"bind6", BPF_CGROUP_INET6_BIND},
      {"skb_egress", BPF_CGROUP_INET_EGRESS},
      {"skb_ingress", BPF_CGROUP_INET_INGRESS}};
  std::vector<HookStats> out;
  UniqueFd cg(::open(cgroup.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  for (const auto& [name, type] : kHooks) {
    HookStats h{name};
    std::array<__u32, 8> ids{};
    __u32 count = ids.size();
    if (cg && bpf_prog_query(cg.get(), type, 0, nullptr, ids.data(), &count) == 0) {
      for (__u32 i = 0; i < count; ++i) {
        UniqueFd prog(bpf_prog_get_fd_by_id(ids[i]));
        bpf_prog_info info{};
        __u32 len = sizeof(info);
        if (prog && bpf_obj_get_info_by_fd(prog.get(), &info, &len) == 0) {
          h.runs += info.run_cnt;
          h.ns += info.run_time_ns;
        }
      }
    }
    out.push_back(h);
  }
  return out;
}

// One pass with run-time statistics on: programs' ns per connect, per hook.
void print_hook_costs(Bench& bench, const std::string& name, int connects) {
  UniqueFd stats(bpf_enable_stats(BPF_STATS_RUN_TIME));
  if (!stats) {
    (void)std::printf("%-11s (BPF_ENABLE_STATS refused: %s)\n", name.c_str(), std::strerror(errno));
    return;
  }
  auto before = hook_stats(bench.cgroup);
  Rates r = bench.run(connects, /*tcp_only=*/true);
  auto after = hook_stats(bench.cgroup);
  double total_ns = 0;
  std::string parts;
  for (size_t i = 0; i < after.size(); ++i) {
    const double runs = static_cast<double>(after[i].runs - before[i].runs);
    if (runs == 0) {
      continue;
    }
    const double ns = static_cast<double>(after[i].ns - before[i].ns);
    total_ns += ns / connects;
    char buf[96];
    (void)std::snprintf(buf, sizeof(buf), "  %s %.1fx%.0fns", after[i].hook, runs / connects,
                        ns / runs);
    parts += buf;
  }
  const double connect_ns = 1e9 / r.tcp_cpu;
  (void)std::printf("%-11s %7.0f ns of %6.0f ns (%4.1f %%)%s\n", name.c_str(), total_ns, connect_ns,
                    100.0 * total_ns / connect_ns, parts.c_str());
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int connects = 3000;
  int rounds = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--connects") {
      connects = std::atoi(argv[i + 1]);
    } else if (a == "--rounds") {
      rounds = std::atoi(argv[i + 1]);
    }
  }
  spdlog::set_level(spdlog::level::warn);
  Bench bench;
  if (!bench.setup()) {
    return 1;
  }
  const std::vector<int> sizes = {10, 1000, 100000};
  // name -> figure ("tcp", "udp", "tcp_cpu", "udp_cpu") -> one value per round
  std::map<std::string, std::map<std::string, std::vector<double>>> results;
  std::vector<std::string> order = {"none"};
  for (int n : sizes) {
    order.push_back("bpf " + std::to_string(n));
  }
  for (int n : sizes) {
    order.push_back("nft " + std::to_string(n));
  }
  std::map<int, net::CompiledPolicy> compiled;
  std::map<int, double> compile_ms;
  std::map<int, std::vector<double>> attach_ms;  // load + fill + attach 9 hooks + pin
  auto ms_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
  };
  for (int n : sizes) {
    auto spec = policy_with(n);
    auto t0 = std::chrono::steady_clock::now();
    compiled[n] = *net::compile_policy(spec, {});
    compile_ms[n] = ms_since(t0);
    std::ofstream(bench.nft_file(n)) << nft_ruleset(n, bench.cgroup_rel);
  }
  const std::string nsenter = "nsenter --net=/run/netns/" + bench.netns + " ";
  for (int round = 0; round < rounds; ++round) {
    auto record = [&](const std::string& name, const Rates& r) {
      results[name]["tcp"].push_back(r.tcp);
      results[name]["udp"].push_back(r.udp);
      results[name]["tcp_cpu"].push_back(r.tcp_cpu);
      results[name]["udp_cpu"].push_back(r.udp_cpu);
    };
    record("none", bench.run(connects));
    for (int n : sizes) {
      net::TenantPolicyOptions o;
      o.tenant = "bench";
      o.cgroup_dir = bench.cgroup;
      o.pin_root = bench.pins;
      auto t0 = std::chrono::steady_clock::now();
      auto policy = net::TenantNetPolicy::attach(o, compiled[n]);
      attach_ms[n].push_back(ms_since(t0));
      if (!policy.ok()) {
        (void)std::fprintf(stderr, "%s\n", policy.error().to_string().c_str());
        return 1;
      }
      record("bpf " + std::to_string(n), bench.run(connects));
    }
    for (int n : sizes) {
      if (!sh(nsenter + "nft -f " + bench.nft_file(n))) {
        (void)std::fprintf(stderr, "nft -f failed\n");
        return 1;
      }
      record("nft " + std::to_string(n), bench.run(connects));
      sh(nsenter + "nft delete table inet bhbench");
    }
  }
  (void)std::printf("%d rounds, %d TCP connects and %d UDP connects per round and configuration\n",
                    rounds, connects, connects * 10);
  (void)std::printf(
      "medians; rates per second of CPU time of the connecting process (wall-clock in [])\n");
  (void)std::printf("%-11s %9s %8s %8s %7s %10s %8s %9s\n", "config", "tcp/cpu-s", "vs none",
                    "vs nft", "[wall]", "udp/cpu-s", "vs none", "[wall]");
  for (int n : sizes) {
    (void)std::printf(
        "%6d rules: compile %.1f ms, attach (load, fill trie, 9 links, pins) %.1f ms\n", n,
        compile_ms[n], median(attach_ms[n]));
  }
  auto med = [&](const std::string& name, const char* fig) { return median(results[name][fig]); };
  for (const auto& name : order) {
    std::string vs_nft;
    if (name.rfind("bpf ", 0) == 0) {
      char buf[32];
      (void)std::snprintf(buf, sizeof(buf), "%.3f",
                          med(name, "tcp_cpu") / med("nft " + name.substr(4), "tcp_cpu"));
      vs_nft = buf;
    }
    (void)std::printf("%-11s %9.0f %8.3f %8s %7.0f %10.0f %8.3f %9.0f\n", name.c_str(),
                      med(name, "tcp_cpu"), med(name, "tcp_cpu") / med("none", "tcp_cpu"),
                      vs_nft.c_str(), med(name, "tcp"), med(name, "udp_cpu"),
                      med(name, "udp_cpu") / med("none", "udp_cpu"), med(name, "udp"));
  }
  (void)std::printf(
      "\nBPF programs' own time per TCP connect (kernel run-time statistics, one pass of %d "
      "connects;\nhook: runs per connect x ns per run; the share is of the connecting "
      "process's CPU time per connect)\n",
      connects);
  for (int n : sizes) {
    net::TenantPolicyOptions o;
    o.tenant = "bench";
    o.cgroup_dir = bench.cgroup;
    o.pin_root = bench.pins;
    auto policy = net::TenantNetPolicy::attach(o, compiled[n]);
    if (!policy.ok()) {
      (void)std::fprintf(stderr, "%s\n", policy.error().to_string().c_str());
      return 1;
    }
    print_hook_costs(bench, "bpf " + std::to_string(n), connects);
  }
  return 0;
}
