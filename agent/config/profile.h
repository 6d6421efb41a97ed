// The in-memory form of a tenant profile (docs/profiles.md documents the YAML).
// Parsing and validation fill it; nothing downstream re-validates user input, so
// every field here is already checked and normalised (absolute paths, known
// names, sizes in bytes).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bulkhead::config {

inline constexpr int kProfileVersion = 1;
// Host uids below this are the host's own users and never given to a tenant.
inline constexpr uint32_t kFirstTenantHostId = 65536;
inline constexpr uint32_t kDefaultIdCount = 65536;

// The host uid and gid range of a tenant: tenant id N is host id base + N.
struct IdRange {
  uint32_t base = 0;
  uint32_t count = kDefaultIdCount;
  [[nodiscard]] uint64_t end() const { return uint64_t{base} + count; }  // one past the last
  [[nodiscard]] bool overlaps(const IdRange& o) const { return base < o.end() && o.base < end(); }
};

// Every namespace is on by default. Validation allows turning off only uts and
// cgroup (sharing those with the host exposes nothing writable to a tenant);
// net is off exactly when network.mode is host, which sets it.
struct Namespaces {
  bool user = true;
  bool pid = true;
  bool mount = true;
  bool net = true;
  bool uts = true;
  bool ipc = true;
  bool cgroup = true;
};

struct BindMount {
  std::string source;  // host path, absolute
  std::string target;  // path inside the tenant, absolute
  bool read_only = true;
  bool optional = false;  // a missing source is skipped instead of an error
};

struct TmpfsMount {
  std::string target;
  uint64_t size_bytes = 0;
  uint32_t mode = 01777;
};

struct Symlink {
  std::string target;  // what the link points to, e.g. "usr/bin"
  std::string path;    // where the link is, e.g. "/bin"
};

// The tenant's own persistent directory on the host, chowned to tenant root.
struct DataDir {
  std::string host_path;  // default /var/lib/bulkhead/tenants/<name>
  std::string target;     // where it appears inside; empty = not mounted
};

struct FilesystemView {
  std::vector<BindMount> binds;  // read-only and read-write, in profile order
  std::vector<TmpfsMount> tmpfs;
  std::vector<Symlink> symlinks;
  DataDir data;
};

struct Rlimit {
  std::string name;  // "nofile", "nproc", ...
  int resource = 0;  // RLIMIT_*
  uint64_t soft = 0;
  uint64_t hard = 0;  // RLIM_INFINITY is represented as UINT64_MAX
};

// The process a workload starts as; workloads may override env and cwd.
struct ProcessSpec {
  std::map<std::string, std::string> env;  // the whole environment (clean by default)
  std::string cwd = "/";
  uint32_t uid = 0;  // inside the tenant
  uint32_t gid = 0;
  std::vector<std::string> capabilities;  // canonical "CAP_NET_BIND_SERVICE" form; none by default
  std::vector<Rlimit> rlimits;
};

struct LandlockSpec {
  bool enabled = true;
  // When both lists are empty the rules are derived from the filesystem view:
  // read-only binds are read/execute, read-write binds, tmpfs and the data dir are
  // read-write, /proc and /dev read-write.
  std::vector<std::string> read_only;
  std::vector<std::string> read_write;
};

enum class SeccompAction { kErrno, kKill, kLog };

struct SeccompSpec {
  std::string base = "default";    // "default", or the absolute path of an OCI/Docker JSON file
  std::vector<std::string> allow;  // syscall names added to the allowed set
  std::vector<std::string> deny;   // syscall names removed (denied with `action`)
  SeccompAction action = SeccompAction::kErrno;
  int errno_value = 1;             // EPERM
  bool allow_foreign_abi = false;  // x32 and 32-bit x86 entry points
};

struct CpuLimit {
  std::optional<uint64_t> quota_us;  // with period_us: at most quota per period
  uint64_t period_us = 100000;
  std::optional<uint32_t> weight;  // 1..10000, cgroup2 scale (default 100)
};

// A throttle on one block device: io.max on cgroup2, blkio.throttle.* on v1.
// Every kernel with the io/blkio controller and blk-throttle enforces it,
// whatever the I/O scheduler (unlike weights, which need BFQ or blk-iocost).
struct IoDeviceLimit {
  std::string device;                // a block device node of the host (a whole disk): "/dev/vda"
  std::optional<uint64_t> read_bps;  // bytes per second
  std::optional<uint64_t> write_bps;
  std::optional<uint64_t> read_iops;  // operations per second
  std::optional<uint64_t> write_iops;
  bool operator==(const IoDeviceLimit&) const = default;
};

struct Limits {
  std::optional<uint64_t> memory_max;   // bytes
  std::optional<uint64_t> memory_high;  // bytes
  std::optional<uint64_t> memory_swap_max;
  std::optional<uint64_t> pids_max;
  CpuLimit cpu;
  std::optional<uint32_t> io_weight;  // 1..10000
  std::vector<IoDeviceLimit> io_devices;
};

// Whether the profile sets any io limit (a weight or a device throttle): on
// hybrid hosts only then does the tenant get a blkio cgroup.
inline bool has_io_limit(const Limits& l) { return l.io_weight || !l.io_devices.empty(); }

// --- network (issue: network boundaries enforced in eBPF) -------------------
//
// `none`: own netns with loopback only. `isolated`: own netns plus a veth to a
// host bridge the agent owns, with an address from the agent's pool. `host`:
// the host's netns, with the eBPF policy as the only boundary.
enum class NetworkMode { kNone, kIsolated, kHost };

// An address prefix in canonical form (host bits zero). IPv4 is kept as IPv4
// (family AF_INET, addr[0..3]); the enforcement decodes IPv4-mapped IPv6 into it.
struct Cidr {
  int family = 0;                  // AF_INET or AF_INET6
  std::array<uint8_t, 16> addr{};  // network byte order, first 4 bytes for IPv4
  uint8_t prefix_len = 0;          // 0..32 or 0..128
  bool operator==(const Cidr&) const = default;
};

struct PortRange {
  uint16_t first = 1;
  uint16_t last = 65535;  // inclusive; first == last for one port
  bool operator==(const PortRange&) const = default;
};

// Bit set of transport protocols a rule covers.
enum NetProtocol : uint8_t { kProtoTcp = 1, kProtoUdp = 2, kProtoAny = kProtoTcp | kProtoUdp };

// Outgoing connections and datagrams the tenant may make: any address in `to`,
// any port in `ports` (empty = every port), over `protocols`.
struct EgressRule {
  std::vector<Cidr> to;
  std::vector<PortRange> ports;
  uint8_t protocols = kProtoAny;
  bool operator==(const EgressRule&) const = default;
};

// Ports the tenant may listen on (bind) and the sources allowed to reach them
// (empty `from` = nobody beyond the tenant itself; 0.0.0.0/0 and ::/0 = anyone
// the other boundaries let through).
struct IngressRule {
  std::vector<PortRange> ports;
  std::vector<Cidr> from;
  uint8_t protocols = kProtoAny;
  bool operator==(const IngressRule&) const = default;
};

struct NetworkSpec {
  NetworkMode mode = NetworkMode::kNone;
  std::vector<EgressRule> egress;    // default deny: nothing outside the tenant
  std::vector<IngressRule> ingress;  // default deny
  // Socket families the tenant may create, canonical "AF_INET" form. Default
  // AF_UNIX, AF_INET, AF_INET6 (plus AF_NETLINK for `ip`); never AF_PACKET or
  // raw sockets (SOCK_RAW) unless `raw_sockets` is set.
  std::vector<std::string> socket_families{"AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK"};
  bool raw_sockets = false;
  bool operator==(const NetworkSpec&) const = default;
};

// What the kernel event stream reports of the tenant's file opens beyond
// writes (docs/profiles.md, section `events`).
struct EventsSpec {
  // Absolute paths; opening one of them, or anything below a directory listed,
  // is reported even read-only.
  std::vector<std::string> sensitive_paths;
  bool all_opens = false;  // report every open, reads included
  bool operator==(const EventsSpec&) const = default;
};

enum class RestartPolicy { kNo, kOnFailure, kAlways };

// A workload the agent starts for the tenant (issue: agent supervision).
struct WorkloadSpec {
  std::string name;
  std::vector<std::string> command;        // argv, command[0] absolute inside the tenant
  std::map<std::string, std::string> env;  // added to the profile's env
  std::optional<std::string> cwd;
  RestartPolicy restart = RestartPolicy::kNo;
  uint32_t restart_limit = 5;
  uint64_t restart_backoff_ms = 1000;
};

struct Profile {
  std::string source_file;     // where it was read from, for error messages
  std::string name;            // tenant name: [a-z0-9][a-z0-9-]{0,31}
  std::optional<IdRange> ids;  // absent = auto-assigned by the agent
  std::string hostname;        // default: the tenant name
  Namespaces namespaces;
  FilesystemView filesystem;
  ProcessSpec process;
  LandlockSpec landlock;
  SeccompSpec seccomp;
  Limits limits;
  NetworkSpec network;
  std::vector<WorkloadSpec> workloads;
  EventsSpec events;
};

}  // namespace bulkhead::config
