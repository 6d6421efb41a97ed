// The event model every source produces and every sink consumes: one security-
// relevant action of a process, attributed to its tenant and workload.
//
// Sources (the eBPF tracepoint programs, the network policy's deny records, the
// agent itself for drops) build Events; the bus hands them to the sinks, which
// serialise them as JSON lines (docs/events.md is the schema, versioned by
// kEventSchemaVersion). Kernel-side record layouts live in bpf/shared/*.h; this
// is the decoded, userspace form.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulkhead::events {

inline constexpr int kEventSchemaVersion = 1;

enum class EventType : uint8_t {
  kProcessExec,  // "process.exec"
  kProcessFork,  // "process.fork"   (fork/clone, with namespace flags)
  kProcessExit,  // "process.exit"   (code, signal; SIGSYS = seccomp kill)
  kFileOpen,     // "file.open"      (writes, sensitive paths, or all when asked)
  kFileUnlink,   // "file.unlink"
  kFileRename,   // "file.rename"
  kFileChmod,    // "file.chmod"
  kFileChown,    // "file.chown"
  kNetConnect,   // "network.connect"
  kNetBind,      // "network.bind"
  kNetListen,    // "network.listen"
  kNetAccept,    // "network.accept"
  kNetDeny,      // "network.deny"   (the eBPF network policy refused)
  kPrivSetuid,   // "privilege.setuid" (setuid/setreuid/setresuid)
  kPrivSetgid,   // "privilege.setgid"
  kPrivCapset,   // "privilege.capset"
  kPtrace,       // "process.ptrace"
  kMount,        // "system.mount"
  kUmount,       // "system.umount"
  kUnshare,      // "system.unshare"
  kSetns,        // "system.setns"
  kBpf,          // "system.bpf"
  kModuleLoad,   // "system.module_load" (init_module/finit_module)
  kMemfdCreate,  // "file.memfd_create"
  kAlert,        // "alert"          (a detection rule matched)
  kDrop,         // "agent.drop"     (events lost: where, how many)
};

// "process.exec" etc.; the names are part of the schema.
std::string_view type_name(EventType type);
// The inverse, for `--type` filters; nullopt for an unknown name.
std::optional<EventType> parse_type(std::string_view name);
// Every type, in declaration order (for help texts and errors).
const std::vector<EventType>& all_types();

// The acting process. Fields the source could not know stay at their defaults
// and are omitted from the JSON.
struct ProcessInfo {
  pid_t pid = 0;  // host pid namespace (the agent's view)
  pid_t tid = 0;
  pid_t ppid = 0;
  uint64_t exec_id = 0;         // unique per exec on this host boot; 0 = unknown
  uint64_t parent_exec_id = 0;  // the parent's, for ancestry
  std::string comm;
  std::string exe;
  std::vector<std::string> args;
  bool args_truncated = false;
  std::string cwd;
  // Ids as the kernel holds them (host) and as the tenant sees them (inside its
  // user namespace); `inside` is absent for host processes.
  uint32_t uid = 0, gid = 0, euid = 0, egid = 0;
  std::optional<uint32_t> uid_inside, gid_inside, euid_inside, egid_inside;
  std::vector<uint64_t> ancestry;  // exec ids of the ancestors, nearest first
};

struct Event {
  uint64_t time_ns = 0;  // CLOCK_REALTIME, nanoseconds since the epoch
  EventType type = EventType::kProcessExec;
  std::string tenant;    // empty for host processes (host-wide mode only)
  std::string workload;  // empty when not attributable to one
  ProcessInfo process;
  // The type's own fields, already in schema form (docs/events.md), e.g.
  // {"path": "/etc/shadow", "flags": ["O_WRONLY"], "result": 0}.
  nlohmann::json fields = nlohmann::json::object();
};

// Where sources deliver; called on the agent's event loop thread.
using EventHandler = std::function<void(Event&&)>;

}  // namespace bulkhead::events
