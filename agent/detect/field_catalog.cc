#include "detect/field_catalog.h"

#include <algorithm>
#include <utility>

namespace bulkhead::detect {
namespace {

using events::EventType;
using Entry = std::pair<std::string_view, ValueKind>;
using Entries = std::vector<Entry>;

constexpr ValueKind S = ValueKind::kString;
constexpr ValueKind I = ValueKind::kInteger;
constexpr ValueKind B = ValueKind::kBool;
constexpr ValueKind L = ValueKind::kStringList;
constexpr ValueKind O = ValueKind::kObject;

// Every system-call event has these besides its own (docs/events.md).
Entries with_syscall(Entries own) {
  own.insert(own.end(), {{"syscall", S}, {"result", I}, {"error", S}});
  return own;
}

Entries own_fields(EventType type) {
  switch (type) {
    case EventType::kProcessExec:
      return {{"filename", S}, {"fileless", B}, {"by_fd", B}, {"cwd_truncated", B}};
    case EventType::kProcessFork:
      return {{"child_pid", I}, {"syscall", S}, {"clone_flags", L}, {"namespaces", L}};
    case EventType::kProcessExit:
      return {{"code", I},
              {"signal", S},
              {"signal_number", I},
              {"core_dumped", B},
              {"seccomp_kill", B}};
    case EventType::kFileOpen:
      return with_syscall({{"path", S}, {"flags", L}, {"mode", S}, {"dirfd", I}});
    case EventType::kFileUnlink:
      return with_syscall({{"path", S}, {"directory", B}, {"dirfd", I}});
    case EventType::kFileRename:
      return with_syscall({{"path", S}, {"new_path", S}, {"rename_flags", I}});
    case EventType::kFileChmod:
      return with_syscall({{"path", S}, {"fd", I}, {"name", S}, {"mode", S}, {"dirfd", I}});
    case EventType::kFileChown:
      return with_syscall(
          {{"path", S}, {"fd", I}, {"name", S}, {"uid", I}, {"gid", I}, {"dirfd", I}});
    case EventType::kNetConnect:
    case EventType::kNetBind:
      return with_syscall(
          {{"fd", I}, {"family", S}, {"address", S}, {"port", I}, {"path", S}, {"verdict", S}});
    case EventType::kNetListen:
      return with_syscall(
          {{"fd", I}, {"backlog", I}, {"family", S}, {"address", S}, {"port", I}, {"verdict", S}});
    case EventType::kNetAccept:
      return with_syscall({{"fd", I},
                           {"family", S},
                           {"address", S},
                           {"port", I},
                           {"peer_family", S},
                           {"peer_address", S},
                           {"peer_port", I},
                           {"verdict", S}});
    case EventType::kNetDeny:
      return {{"hook", S}, {"verdict", S}, {"protocol", S},   {"family", S},
              {"src", O},  {"dst", O},     {"suppressed", I}, {"cgroup_id", I}};
    case EventType::kPrivSetuid:
      return with_syscall({{"uid", I}, {"ruid", I}, {"euid", I}, {"suid", I}});
    case EventType::kPrivSetgid:
      return with_syscall({{"gid", I}, {"rgid", I}, {"egid", I}, {"sgid", I}});
    case EventType::kPrivCapset:
      return with_syscall({{"version", S}, {"effective", S}, {"permitted", S}, {"inheritable", S}});
    case EventType::kPtrace:
      return with_syscall({{"request", S}, {"target_pid", I}});
    case EventType::kMount:
      return with_syscall({{"source", S}, {"target", S}, {"fstype", S}, {"flags", L}});
    case EventType::kUmount:
      return with_syscall({{"target", S}, {"flags", L}});
    case EventType::kUnshare:
      return with_syscall({{"flags", L}, {"namespaces", L}});
    case EventType::kSetns:
      return with_syscall({{"fd", I}, {"namespaces", L}});
    case EventType::kBpf:
      return with_syscall({{"command", S}});
    case EventType::kModuleLoad:
      return with_syscall({{"size", I}, {"params", S}, {"fd", I}, {"name", S}});
    case EventType::kMemfdCreate:
      return with_syscall({{"name", S}, {"flags", L}});
    case EventType::kDrop:
      return {{"source", S}, {"lost", I},          {"lost_total", I},
              {"sink", S},   {"dropped_total", I}, {"failed_total", I}};
    case EventType::kAlert:
      break;  // rules never apply to alerts
  }
  return {};
}

const std::vector<Entries>& catalog() {
  static const std::vector<Entries> all = [] {
    std::vector<Entries> v;
    for (EventType t : events::all_types()) {
      Entries e = own_fields(t);
      std::sort(e.begin(), e.end());
      v.push_back(std::move(e));
    }
    return v;
  }();
  return all;
}

}  // namespace

std::optional<ValueKind> field_kind(EventType type, std::string_view field) {
  const auto i = static_cast<size_t>(type);
  if (i >= catalog().size()) {
    return std::nullopt;
  }
  for (const auto& [name, kind] : catalog()[i]) {
    if (name == field) {
      return kind;
    }
  }
  return std::nullopt;
}

std::vector<std::string> field_names(EventType type) {
  std::vector<std::string> out;
  const auto i = static_cast<size_t>(type);
  if (i < catalog().size()) {
    for (const auto& entry : catalog()[i]) {
      out.emplace_back(entry.first);
    }
  }
  return out;
}

std::string_view kind_name(ValueKind kind) {
  switch (kind) {
    case ValueKind::kString:
      return "a string";
    case ValueKind::kInteger:
      return "an integer";
    case ValueKind::kBool:
      return "true or false";
    case ValueKind::kStringList:
      return "a list of strings";
    case ValueKind::kObject:
      return "an object";
  }
  return "?";
}

}  // namespace bulkhead::detect
