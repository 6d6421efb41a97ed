#include "events/record_decoder.h"

#include <fcntl.h>
#include <linux/types.h>
#include <signal.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "events.h"
#include "events/syscall_names.h"

namespace bulkhead::events {
namespace {

// The kernel writes EventType values (bpf/shared/events.h); they must agree.
static_assert(BH_EV_PROCESS_EXEC == static_cast<int>(EventType::kProcessExec));
static_assert(BH_EV_PROCESS_FORK == static_cast<int>(EventType::kProcessFork));
static_assert(BH_EV_PROCESS_EXIT == static_cast<int>(EventType::kProcessExit));
static_assert(BH_EV_FILE_OPEN == static_cast<int>(EventType::kFileOpen));
static_assert(BH_EV_FILE_UNLINK == static_cast<int>(EventType::kFileUnlink));
static_assert(BH_EV_FILE_RENAME == static_cast<int>(EventType::kFileRename));
static_assert(BH_EV_FILE_CHMOD == static_cast<int>(EventType::kFileChmod));
static_assert(BH_EV_FILE_CHOWN == static_cast<int>(EventType::kFileChown));
static_assert(BH_EV_NET_CONNECT == static_cast<int>(EventType::kNetConnect));
static_assert(BH_EV_NET_BIND == static_cast<int>(EventType::kNetBind));
static_assert(BH_EV_NET_LISTEN == static_cast<int>(EventType::kNetListen));
static_assert(BH_EV_NET_ACCEPT == static_cast<int>(EventType::kNetAccept));
static_assert(BH_EV_PRIV_SETUID == static_cast<int>(EventType::kPrivSetuid));
static_assert(BH_EV_PRIV_SETGID == static_cast<int>(EventType::kPrivSetgid));
static_assert(BH_EV_PRIV_CAPSET == static_cast<int>(EventType::kPrivCapset));
static_assert(BH_EV_PTRACE == static_cast<int>(EventType::kPtrace));
static_assert(BH_EV_MOUNT == static_cast<int>(EventType::kMount));
static_assert(BH_EV_UMOUNT == static_cast<int>(EventType::kUmount));
static_assert(BH_EV_UNSHARE == static_cast<int>(EventType::kUnshare));
static_assert(BH_EV_SETNS == static_cast<int>(EventType::kSetns));
static_assert(BH_EV_BPF == static_cast<int>(EventType::kBpf));
static_assert(BH_EV_MODULE_LOAD == static_cast<int>(EventType::kModuleLoad));
static_assert(BH_EV_MEMFD_CREATE == static_cast<int>(EventType::kMemfdCreate));
static_assert(BH_DROP_SLOTS > static_cast<int>(EventType::kDrop));

constexpr int kAtFdcwd = -100;
constexpr int kAtRemovedir = 0x200;

template <size_t N>
std::string bounded(const char (&buf)[N]) {
  return std::string(buf, strnlen(buf, N));
}

// A view of a NUL-padded buffer: the paths go straight into the fields, with
// no intermediate string (a second allocation and copy for long paths).
template <size_t N>
std::string_view bounded_view(const char (&buf)[N]) {
  return {buf, strnlen(buf, N)};
}

// Result of a call: the return value, and the errno name when it failed.
void put_result(nlohmann::json& f, int64_t ret) {
  f["result"] = ret;
  if (ret < 0 && ret > -4096) {
    f["error"] = errno_name(static_cast<int>(-ret));
  }
}

// "denied": refused by a policy (the BPF network policy's connect/bind hooks
// and seccomp answer EPERM); "failed": any other error.
std::string net_verdict(int64_t ret) {
  if (ret >= 0 || ret == -EINPROGRESS) {
    return "allowed";
  }
  if (ret == -EPERM || ret == -EACCES) {
    return "denied";
  }
  return "failed";
}

// A path relative to a directory fd other than the cwd names that fd.
void put_dirfd(nlohmann::json& f, uint64_t dirfd, std::string_view path) {
  const int fd = static_cast<int>(dirfd);
  if (fd != kAtFdcwd && (path.empty() || path[0] != '/')) {
    f["dirfd"] = fd;
  }
}

std::string hex64(uint64_t v) {
  char buf[24];
  (void)std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

// uid arguments: -1 (as the call's 32-bit type) means "unchanged".
nlohmann::json id_arg(uint64_t v) {
  auto id = static_cast<uint32_t>(v);
  return id == UINT32_MAX ? nlohmann::json(-1) : nlohmann::json(id);
}

}  // namespace

uint32_t inside_id(const config::IdRange& ids, uint32_t host_id) {
  if (host_id >= ids.base && uint64_t{host_id} < ids.end()) {
    return host_id - ids.base;
  }
  return 65534;
}

void RecordDecoder::set_workload(uint64_t cgroup_id, std::string name) {
  workloads_[cgroup_id] = std::move(name);
  while (workloads_.size() > kMaxWorkloadNames) {
    workloads_.erase(workloads_.begin());
  }
}

Result<Event> RecordDecoder::decode(const void* data, size_t size) {
  if (size < sizeof(bh_event_header)) {
    return make_error("event record of " + std::to_string(size) + " bytes: shorter than a header");
  }
  bh_event_header h{};
  std::memcpy(&h, data, sizeof(h));
  auto need = [&](size_t want) -> Status {
    if (size < want) {
      return make_error("event record kind " + std::to_string(h.kind) + ": " +
                        std::to_string(size) + " bytes, expected " + std::to_string(want));
    }
    return {};
  };
  // The records are large (exec ~2.4 KB): decode in place rather than copy.
  switch (h.kind) {
    case BH_REC_EXEC:
      BULKHEAD_TRY(need(sizeof(bh_exec_record)));
      return decode_exec(*static_cast<const bh_exec_record*>(data));
    case BH_REC_FORK:
      BULKHEAD_TRY(need(sizeof(bh_fork_record)));
      return decode_fork(*static_cast<const bh_fork_record*>(data));
    case BH_REC_EXIT:
      BULKHEAD_TRY(need(sizeof(bh_exit_record)));
      return decode_exit(*static_cast<const bh_exit_record*>(data));
    case BH_REC_SYSCALL: {
      // Cut after its last used byte (bpf/events.bpf.c): what is missing is
      // empty (NUL strings, no extra bytes).
      BULKHEAD_TRY(need(offsetof(bh_syscall_record, path)));
      if (size > sizeof(bh_syscall_record)) {
        return make_error("syscall record of " + std::to_string(size) + " bytes, at most " +
                          std::to_string(sizeof(bh_syscall_record)) + " expected");
      }
      syscall_scratch_.resize((sizeof(bh_syscall_record) + 7) / 8);
      auto* rec = reinterpret_cast<bh_syscall_record*>(syscall_scratch_.data());
      std::memcpy(rec, data, size);
      std::memset(reinterpret_cast<char*>(rec) + size, 0, sizeof(*rec) - size);
      if (rec->extra_len > sizeof(rec->extra) ||
          offsetof(bh_syscall_record, extra) + rec->extra_len > size) {
        rec->extra_len = 0;  // not sent: nothing to trust
      }
      return decode_syscall(*rec);
    }
    default:
      return make_error("event record of unknown kind " + std::to_string(h.kind));
  }
}

Event RecordDecoder::header_event(const bh_event_header& h) const {
  Event e;
  e.time_ns = static_cast<uint64_t>(static_cast<int64_t>(h.boot_ns) + clock_offset_);
  e.type = static_cast<EventType>(h.type);
  ProcessInfo& p = e.process;
  p.pid = static_cast<pid_t>(h.pid);
  p.tid = static_cast<pid_t>(h.tid);
  p.ppid = static_cast<pid_t>(h.ppid);
  p.comm = bounded(h.comm);
  p.uid = h.uid;
  p.gid = h.gid;
  p.euid = h.euid;
  p.egid = h.egid;
  if (auto t = tenants_.find(h.tenant_slot); h.tenant_slot != 0 && t != tenants_.end()) {
    e.tenant = t->second.name;
    const auto& ids = t->second.ids;
    p.uid_inside = inside_id(ids, h.uid);
    p.gid_inside = inside_id(ids, h.gid);
    p.euid_inside = inside_id(ids, h.euid);
    p.egid_inside = inside_id(ids, h.egid);
  }
  if (auto w = workloads_.find(h.workload_cgroup); w != workloads_.end()) {
    e.workload = w->second;
  }
  return e;
}

Event RecordDecoder::decode_exec(const bh_exec_record& r) {
  Event e = header_event(r.h);
  ProcessInfo& p = e.process;
  p.exe = bounded(r.filename);
  size_t len = r.args_len < sizeof(r.args) ? r.args_len : sizeof(r.args);
  size_t pos = 0;
  while (pos < len) {
    size_t end = pos;
    while (end < len && r.args[end] != '\0') {
      ++end;
    }
    p.args.emplace_back(r.args + pos, end - pos);
    pos = end + 1;
  }
  // A cut in the middle of the last argument shows as a missing NUL at the end.
  p.args_truncated = r.args_truncated != 0 || (len > 0 && r.args[len - 1] != '\0');
  // Appended in place: no temporary string per component.
  std::string& cwd = p.cwd;
  if (r.cwd_complete == 0) {
    cwd = "...";  // deeper than the walk goes: only the innermost part
    e.fields["cwd_truncated"] = true;
  }
  const unsigned depth = r.cwd_depth < BH_CWD_DEPTH ? r.cwd_depth : BH_CWD_DEPTH;
  for (unsigned i = depth; i-- > 0;) {
    cwd += '/';
    cwd += bounded_view(r.cwd[i]);
  }
  if (cwd.empty()) {
    cwd = "/";
  }
  e.fields["filename"] = p.exe;
  e.fields["fileless"] = r.fileless != 0;
  e.fields["by_fd"] = r.by_fd != 0;

  processes_.on_exec(p.pid, p.ppid, r.h.boot_ns, p.exe, p.comm);
  processes_.annotate(p);
  return e;
}

Event RecordDecoder::decode_fork(const bh_fork_record& r) {
  Event e = header_event(r.h);
  const auto child = static_cast<pid_t>(r.child_pid);
  processes_.on_fork(e.process.pid, child, e.process.comm);
  processes_.annotate(e.process);
  e.fields["child_pid"] = child;
  e.fields["syscall"] = syscall_name(r.syscall_nr);
  e.fields["clone_flags"] = clone_flag_names(r.clone_flags);
  e.fields["namespaces"] = namespace_names(r.clone_flags);
  return e;
}

Event RecordDecoder::decode_exit(const bh_exit_record& r) {
  Event e = header_event(r.h);
  processes_.annotate(e.process);
  processes_.on_exit(e.process.pid);
  const int sig = static_cast<int>(r.exit_code & 0x7f);
  if (sig == 0) {
    e.fields["code"] = (r.exit_code >> 8) & 0xff;
  } else {
    e.fields["signal"] = signal_name(sig);
    e.fields["signal_number"] = sig;
    e.fields["core_dumped"] = (r.exit_code & 0x80) != 0;
  }
  // seccomp's kill actions end the process with SIGSYS; nothing else in a
  // sandbox sends it (docs/events-sources.md).
  e.fields["seccomp_kill"] = sig == SIGSYS;
  return e;
}

Event RecordDecoder::decode_syscall(const bh_syscall_record& r) {
  Event e = header_event(r.h);
  processes_.annotate(e.process);
  nlohmann::json& f = e.fields;
  const long nr = static_cast<long>(r.nr);
  const auto* a = r.args;
  const std::string_view path0 = bounded_view(r.path[0]);
  const std::string_view path1 = bounded_view(r.path[1]);
  const size_t extra_len = r.extra_len < sizeof(r.extra) ? r.extra_len : sizeof(r.extra);
  f["syscall"] = syscall_name(nr);

  switch (nr) {
    case SYS_open:
    case SYS_creat:
    case SYS_openat:
    case SYS_openat2: {
      uint64_t flags = a[1];
      uint64_t mode = a[2];
      if (nr == SYS_creat) {
        flags = O_CREAT | O_WRONLY | O_TRUNC;
        mode = a[1];
      } else if (nr == SYS_openat) {
        flags = a[2];
        mode = a[3];
      } else if (nr == SYS_openat2) {
        uint64_t how[3] = {};
        std::memcpy(how, r.extra, extra_len >= sizeof(how) ? sizeof(how) : 0);
        flags = how[0];
        mode = how[1];
      }
      f["path"] = path0;
      if (nr == SYS_openat || nr == SYS_openat2) {
        put_dirfd(f, a[0], path0);
      }
      f["flags"] = open_flag_names(flags);
      if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
        f["mode"] = octal_mode(static_cast<uint32_t>(mode));
      }
      break;
    }
    case SYS_unlink:
      f["path"] = path0;
      f["directory"] = false;
      break;
    case SYS_unlinkat:
      f["path"] = path0;
      put_dirfd(f, a[0], path0);
      f["directory"] = (a[2] & kAtRemovedir) != 0;
      break;
    case SYS_rename:
      f["path"] = path0;
      f["new_path"] = path1;
      break;
    case SYS_renameat:
    case SYS_renameat2:
      f["path"] = path0;
      f["new_path"] = path1;
      if (nr == SYS_renameat2 && a[4] != 0) {
        f["rename_flags"] = a[4];
      }
      break;
    case SYS_chmod:
      f["path"] = path0;
      f["mode"] = octal_mode(static_cast<uint32_t>(a[1]));
      break;
    case SYS_fchmod:
      f["fd"] = static_cast<int>(a[0]);
      f["name"] = path0;
      f["mode"] = octal_mode(static_cast<uint32_t>(a[1]));
      break;
    case SYS_fchmodat:
    case 452:  // fchmodat2
      f["path"] = path0;
      put_dirfd(f, a[0], path0);
      f["mode"] = octal_mode(static_cast<uint32_t>(a[2]));
      break;
    case SYS_chown:
    case SYS_lchown:
      f["path"] = path0;
      f["uid"] = id_arg(a[1]);
      f["gid"] = id_arg(a[2]);
      break;
    case SYS_fchown:
      f["fd"] = static_cast<int>(a[0]);
      f["name"] = path0;
      f["uid"] = id_arg(a[1]);
      f["gid"] = id_arg(a[2]);
      break;
    case SYS_fchownat:
      f["path"] = path0;
      put_dirfd(f, a[0], path0);
      f["uid"] = id_arg(a[2]);
      f["gid"] = id_arg(a[3]);
      break;
    case SYS_connect:
    case SYS_bind:
      f["fd"] = static_cast<int>(a[0]);
      describe_sockaddr(r.extra, extra_len, "", f);
      f["verdict"] = net_verdict(r.ret);
      break;
    case SYS_listen:
      f["fd"] = static_cast<int>(a[0]);
      f["backlog"] = static_cast<int>(a[1]);
      if (extra_len >= 64) {
        describe_sockaddr(r.extra, 28, "", f);
      }
      f["verdict"] = net_verdict(r.ret);
      break;
    case SYS_accept:
    case SYS_accept4:
      f["fd"] = static_cast<int>(a[0]);
      if (extra_len >= 64) {
        describe_sockaddr(r.extra, 28, "", f);
        describe_sockaddr(r.extra + 32, 28, "peer_", f);
      }
      f["verdict"] = net_verdict(r.ret);
      break;
    case SYS_setuid:
    case SYS_setgid:
    case SYS_setfsuid:
    case SYS_setfsgid:
      f[nr == SYS_setuid || nr == SYS_setfsuid ? "uid" : "gid"] = id_arg(a[0]);
      break;
    case SYS_setreuid:
    case SYS_setregid: {
      const bool u = nr == SYS_setreuid;
      f[u ? "ruid" : "rgid"] = id_arg(a[0]);
      f[u ? "euid" : "egid"] = id_arg(a[1]);
      break;
    }
    case SYS_setresuid:
    case SYS_setresgid: {
      const bool u = nr == SYS_setresuid;
      f[u ? "ruid" : "rgid"] = id_arg(a[0]);
      f[u ? "euid" : "egid"] = id_arg(a[1]);
      f[u ? "suid" : "sgid"] = id_arg(a[2]);
      break;
    }
    case SYS_capset:
      if (extra_len >= 32) {
        uint32_t hdr[2];
        uint32_t data[6];
        std::memcpy(hdr, r.extra, sizeof(hdr));
        std::memcpy(data, r.extra + 8, sizeof(data));
        // Two 32-bit halves per set (version 2 and 3 headers).
        f["version"] = hex64(hdr[0]);
        f["effective"] = hex64(uint64_t{data[3]} << 32 | data[0]);
        f["permitted"] = hex64(uint64_t{data[4]} << 32 | data[1]);
        f["inheritable"] = hex64(uint64_t{data[5]} << 32 | data[2]);
      }
      break;
    case SYS_ptrace:
      f["request"] = ptrace_request_name(static_cast<long>(a[0]));
      f["target_pid"] = static_cast<int>(a[1]);  // in the caller's pid namespace
      break;
    case SYS_mount:
      f["source"] = path0;
      f["target"] = path1;
      f["fstype"] = std::string(reinterpret_cast<const char*>(r.extra),
                                strnlen(reinterpret_cast<const char*>(r.extra), extra_len));
      f["flags"] = mount_flag_names(a[3]);
      break;
    case SYS_umount2:
      f["target"] = path0;
      f["flags"] = umount_flag_names(a[1]);
      break;
    case SYS_unshare:
      f["flags"] = clone_flag_names(a[0]);
      f["namespaces"] = namespace_names(a[0]);
      break;
    case SYS_setns:
      f["fd"] = static_cast<int>(a[0]);
      f["namespaces"] = namespace_names(a[1]);
      break;
    case SYS_bpf:
      f["command"] = bpf_command_name(static_cast<long>(a[0]));
      break;
    case SYS_init_module:
      f["size"] = a[1];
      f["params"] = path1;
      break;
    case SYS_finit_module:
      f["fd"] = static_cast<int>(a[0]);
      f["name"] = path0;
      f["params"] = path1;
      break;
    case SYS_memfd_create:
      f["name"] = path0;
      f["flags"] = memfd_flag_names(a[1]);
      break;
    default:
      break;
  }
  put_result(f, r.ret);
  return e;
}

}  // namespace bulkhead::events
