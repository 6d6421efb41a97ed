#include "events/syscall_names.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/memfd.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <span>
#include <utility>

namespace bulkhead::events {
namespace {

struct Named {
  uint64_t value;
  const char* name;
};

#define BH_NAMED(x) \
  Named { static_cast<uint64_t>(x), #x }

// Built straight into the JSON array an event's fields hold, sized once: the
// decoder names the flags of every open, and an intermediate vector of strings
// cost its regrowth and a copy of every name. `first` (may be null) leads.
nlohmann::json bit_names(uint64_t flags, std::span<const Named> table,
                         const char* first = nullptr) {
  size_t count = first != nullptr ? 1 : 0;
  uint64_t rest = flags;
  for (const auto& n : table) {
    if (n.value != 0 && (flags & n.value) == n.value) {
      ++count;
      rest &= ~n.value;
    }
  }
  nlohmann::json::array_t out;
  out.reserve(count + (rest != 0 ? 1 : 0));
  if (first != nullptr) {
    out.emplace_back(first);
  }
  for (const auto& n : table) {
    if (n.value != 0 && (flags & n.value) == n.value) {
      out.emplace_back(n.name);
    }
  }
  if (rest != 0) {
    char buf[24];
    (void)std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(rest));
    out.emplace_back(buf);
  }
  return out;
}

const char* find_name(uint64_t value, std::span<const Named> table) {
  for (const auto& n : table) {
    if (n.value == value) {
      return n.name;
    }
  }
  return nullptr;
}

constexpr Named kSyscalls[] = {
    {SYS_open, "open"},
    {SYS_openat, "openat"},
    {SYS_openat2, "openat2"},
    {SYS_creat, "creat"},
    {SYS_unlink, "unlink"},
    {SYS_unlinkat, "unlinkat"},
    {SYS_rename, "rename"},
    {SYS_renameat, "renameat"},
    {SYS_renameat2, "renameat2"},
    {SYS_chmod, "chmod"},
    {SYS_fchmod, "fchmod"},
    {SYS_fchmodat, "fchmodat"},
    {452, "fchmodat2"},
    {SYS_chown, "chown"},
    {SYS_fchown, "fchown"},
    {SYS_lchown, "lchown"},
    {SYS_fchownat, "fchownat"},
    {SYS_connect, "connect"},
    {SYS_bind, "bind"},
    {SYS_listen, "listen"},
    {SYS_accept, "accept"},
    {SYS_accept4, "accept4"},
    {SYS_setuid, "setuid"},
    {SYS_setgid, "setgid"},
    {SYS_setreuid, "setreuid"},
    {SYS_setregid, "setregid"},
    {SYS_setresuid, "setresuid"},
    {SYS_setresgid, "setresgid"},
    {SYS_setfsuid, "setfsuid"},
    {SYS_setfsgid, "setfsgid"},
    {SYS_capset, "capset"},
    {SYS_ptrace, "ptrace"},
    {SYS_mount, "mount"},
    {SYS_umount2, "umount2"},
    {SYS_unshare, "unshare"},
    {SYS_setns, "setns"},
    {SYS_bpf, "bpf"},
    {SYS_init_module, "init_module"},
    {SYS_finit_module, "finit_module"},
    {SYS_memfd_create, "memfd_create"},
    {SYS_clone, "clone"},
    {SYS_clone3, "clone3"},
    {SYS_fork, "fork"},
    {SYS_vfork, "vfork"},
    {SYS_execve, "execve"},
    {SYS_execveat, "execveat"},
};

constexpr Named kOpenFlags[] = {
    BH_NAMED(O_WRONLY),    BH_NAMED(O_RDWR),     BH_NAMED(O_CREAT),     BH_NAMED(O_EXCL),
    BH_NAMED(O_NOCTTY),    BH_NAMED(O_TRUNC),    BH_NAMED(O_APPEND),    BH_NAMED(O_NONBLOCK),
    BH_NAMED(O_DSYNC),     BH_NAMED(O_DIRECT),   BH_NAMED(O_LARGEFILE), BH_NAMED(O_TMPFILE),
    BH_NAMED(O_DIRECTORY), BH_NAMED(O_NOFOLLOW), BH_NAMED(O_NOATIME),   BH_NAMED(O_CLOEXEC),
    BH_NAMED(O_SYNC),      BH_NAMED(O_PATH),     BH_NAMED(FASYNC),
};

constexpr Named kCloneFlags[] = {
    BH_NAMED(CLONE_VM),
    BH_NAMED(CLONE_FS),
    BH_NAMED(CLONE_FILES),
    BH_NAMED(CLONE_SIGHAND),
    BH_NAMED(CLONE_PIDFD),
    BH_NAMED(CLONE_PTRACE),
    BH_NAMED(CLONE_VFORK),
    BH_NAMED(CLONE_PARENT),
    BH_NAMED(CLONE_THREAD),
    BH_NAMED(CLONE_NEWNS),
    BH_NAMED(CLONE_SYSVSEM),
    BH_NAMED(CLONE_SETTLS),
    BH_NAMED(CLONE_PARENT_SETTID),
    BH_NAMED(CLONE_CHILD_CLEARTID),
    BH_NAMED(CLONE_UNTRACED),
    BH_NAMED(CLONE_CHILD_SETTID),
    BH_NAMED(CLONE_NEWCGROUP),
    BH_NAMED(CLONE_NEWUTS),
    BH_NAMED(CLONE_NEWIPC),
    BH_NAMED(CLONE_NEWUSER),
    BH_NAMED(CLONE_NEWPID),
    BH_NAMED(CLONE_NEWNET),
    BH_NAMED(CLONE_IO),
    BH_NAMED(CLONE_NEWTIME),
    BH_NAMED(CLONE_CLEAR_SIGHAND),
    BH_NAMED(CLONE_INTO_CGROUP),
};

constexpr Named kNamespaces[] = {
    {CLONE_NEWUSER, "user"},     {CLONE_NEWPID, "pid"},   {CLONE_NEWNET, "net"},
    {CLONE_NEWNS, "mnt"},        {CLONE_NEWUTS, "uts"},   {CLONE_NEWIPC, "ipc"},
    {CLONE_NEWCGROUP, "cgroup"}, {CLONE_NEWTIME, "time"},
};

constexpr Named kMountFlags[] = {
    BH_NAMED(MS_RDONLY),     BH_NAMED(MS_NOSUID),      BH_NAMED(MS_NODEV),
    BH_NAMED(MS_NOEXEC),     BH_NAMED(MS_SYNCHRONOUS), BH_NAMED(MS_REMOUNT),
    BH_NAMED(MS_MANDLOCK),   BH_NAMED(MS_DIRSYNC),     BH_NAMED(MS_NOSYMFOLLOW),
    BH_NAMED(MS_NOATIME),    BH_NAMED(MS_NODIRATIME),  BH_NAMED(MS_BIND),
    BH_NAMED(MS_MOVE),       BH_NAMED(MS_REC),         BH_NAMED(MS_SILENT),
    BH_NAMED(MS_UNBINDABLE), BH_NAMED(MS_PRIVATE),     BH_NAMED(MS_SLAVE),
    BH_NAMED(MS_SHARED),     BH_NAMED(MS_RELATIME),    BH_NAMED(MS_STRICTATIME),
    BH_NAMED(MS_LAZYTIME),
};

constexpr Named kUmountFlags[] = {
    BH_NAMED(MNT_FORCE),
    BH_NAMED(MNT_DETACH),
    BH_NAMED(MNT_EXPIRE),
    BH_NAMED(UMOUNT_NOFOLLOW),
};

constexpr Named kMemfdFlags[] = {
    BH_NAMED(MFD_CLOEXEC),        BH_NAMED(MFD_ALLOW_SEALING), BH_NAMED(MFD_HUGETLB),
    {0x0008U, "MFD_NOEXEC_SEAL"}, {0x0010U, "MFD_EXEC"},
};

constexpr Named kPtraceRequests[] = {
    BH_NAMED(PTRACE_TRACEME),    BH_NAMED(PTRACE_PEEKTEXT),    BH_NAMED(PTRACE_PEEKDATA),
    BH_NAMED(PTRACE_PEEKUSER),   BH_NAMED(PTRACE_POKETEXT),    BH_NAMED(PTRACE_POKEDATA),
    BH_NAMED(PTRACE_POKEUSER),   BH_NAMED(PTRACE_CONT),        BH_NAMED(PTRACE_KILL),
    BH_NAMED(PTRACE_SINGLESTEP), BH_NAMED(PTRACE_GETREGS),     BH_NAMED(PTRACE_SETREGS),
    BH_NAMED(PTRACE_ATTACH),     BH_NAMED(PTRACE_DETACH),      BH_NAMED(PTRACE_SYSCALL),
    BH_NAMED(PTRACE_SETOPTIONS), BH_NAMED(PTRACE_GETEVENTMSG), BH_NAMED(PTRACE_GETSIGINFO),
    BH_NAMED(PTRACE_SETSIGINFO), BH_NAMED(PTRACE_SEIZE),       BH_NAMED(PTRACE_INTERRUPT),
    BH_NAMED(PTRACE_LISTEN),
};

constexpr Named kBpfCommands[] = {
    BH_NAMED(BPF_MAP_CREATE),       BH_NAMED(BPF_MAP_LOOKUP_ELEM),
    BH_NAMED(BPF_MAP_UPDATE_ELEM),  BH_NAMED(BPF_MAP_DELETE_ELEM),
    BH_NAMED(BPF_MAP_GET_NEXT_KEY), BH_NAMED(BPF_PROG_LOAD),
    BH_NAMED(BPF_OBJ_PIN),          BH_NAMED(BPF_OBJ_GET),
    BH_NAMED(BPF_PROG_ATTACH),      BH_NAMED(BPF_PROG_DETACH),
    BH_NAMED(BPF_PROG_TEST_RUN),    BH_NAMED(BPF_PROG_GET_NEXT_ID),
    BH_NAMED(BPF_MAP_GET_NEXT_ID),  BH_NAMED(BPF_PROG_GET_FD_BY_ID),
    BH_NAMED(BPF_MAP_GET_FD_BY_ID), BH_NAMED(BPF_OBJ_GET_INFO_BY_FD),
    BH_NAMED(BPF_PROG_QUERY),       BH_NAMED(BPF_RAW_TRACEPOINT_OPEN),
    BH_NAMED(BPF_BTF_LOAD),         BH_NAMED(BPF_BTF_GET_FD_BY_ID),
    BH_NAMED(BPF_TASK_FD_QUERY),    BH_NAMED(BPF_LINK_CREATE),
    BH_NAMED(BPF_LINK_UPDATE),      BH_NAMED(BPF_ENABLE_STATS),
    BH_NAMED(BPF_ITER_CREATE),      BH_NAMED(BPF_PROG_BIND_MAP),
};

}  // namespace

std::string syscall_name(long nr) {
  if (const char* name = find_name(static_cast<uint64_t>(nr), kSyscalls)) {
    return name;
  }
  return "syscall_" + std::to_string(nr);
}

std::string errno_name(int err) {
  if (const char* name = ::strerrorname_np(err)) {
    return name;
  }
  return "E" + std::to_string(err);
}

nlohmann::json open_flag_names(uint64_t flags) {
  return bit_names(flags, kOpenFlags, (flags & O_ACCMODE) == O_RDONLY ? "O_RDONLY" : nullptr);
}

nlohmann::json clone_flag_names(uint64_t flags) {
  return bit_names(flags & ~uint64_t{CSIGNAL}, kCloneFlags);
}

nlohmann::json namespace_names(uint64_t flags) {
  nlohmann::json::array_t out;
  for (const auto& n : kNamespaces) {
    if ((flags & n.value) != 0) {
      out.emplace_back(n.name);
    }
  }
  return out;
}

nlohmann::json mount_flag_names(uint64_t flags) {
  // The magic number old callers put in the high half carries no meaning.
  if ((flags & 0xffff0000U) == 0xC0ED0000U) {
    flags &= 0xffffU;
  }
  return bit_names(flags, kMountFlags);
}

nlohmann::json umount_flag_names(uint64_t flags) { return bit_names(flags, kUmountFlags); }
nlohmann::json memfd_flag_names(uint64_t flags) { return bit_names(flags, kMemfdFlags); }

std::string ptrace_request_name(long request) {
  if (const char* name = find_name(static_cast<uint64_t>(request), kPtraceRequests)) {
    return name;
  }
  return std::to_string(request);
}

std::string bpf_command_name(long cmd) {
  if (const char* name = find_name(static_cast<uint64_t>(cmd), kBpfCommands)) {
    return name;
  }
  return std::to_string(cmd);
}

std::string signal_name(int sig) {
  if (const char* abbrev = ::sigabbrev_np(sig)) {
    return std::string("SIG") + abbrev;
  }
  return std::to_string(sig);
}

std::string octal_mode(uint32_t mode) {
  char buf[16];
  (void)std::snprintf(buf, sizeof(buf), "%04o", mode & 07777U);
  return buf;
}

bool describe_sockaddr(const uint8_t* data, size_t len, const std::string& prefix,
                       nlohmann::json& out) {
  if (len < sizeof(sa_family_t)) {
    return false;
  }
  sa_family_t family = 0;
  std::memcpy(&family, data, sizeof(family));
  if ((family == AF_INET && len < sizeof(sockaddr_in)) ||
      (family == AF_INET6 && len < sizeof(sockaddr_in6))) {
    return false;
  }
  if (family == AF_INET) {
    sockaddr_in sin{};
    std::memcpy(&sin, data, sizeof(sin));
    char buf[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &sin.sin_addr, buf, sizeof(buf));
    out[prefix + "family"] = "AF_INET";
    out[prefix + "address"] = buf;
    out[prefix + "port"] = ntohs(sin.sin_port);
    return true;
  }
  if (family == AF_INET6) {
    sockaddr_in6 sin6{};
    std::memcpy(&sin6, data, sizeof(sin6));
    char buf[INET6_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET6, &sin6.sin6_addr, buf, sizeof(buf));
    out[prefix + "family"] = "AF_INET6";
    out[prefix + "address"] = buf;
    out[prefix + "port"] = ntohs(sin6.sin6_port);
    return true;
  }
  if (family == AF_UNIX) {
    const size_t offset = offsetof(sockaddr_un, sun_path);
    std::string path;
    if (len > offset) {
      const char* p = reinterpret_cast<const char*>(data + offset);
      size_t n = len - offset;
      if (p[0] == '\0') {
        path = "@" + std::string(p + 1, n - 1);  // abstract: length-delimited
      } else {
        path.assign(p, strnlen(p, n));
      }
    }
    out[prefix + "family"] = "AF_UNIX";
    out[prefix + "path"] = path;
    return true;
  }
  if (family == AF_UNSPEC) {
    out[prefix + "family"] = "AF_UNSPEC";
    return true;
  }
  out[prefix + "family"] = std::to_string(family);
  return true;
}

}  // namespace bulkhead::events
