// The schema names of the event types (docs/events.md): one table, so that
// type_name, parse_type and all_types cannot disagree.
#include "events/event.h"

#include <array>
#include <utility>

namespace bulkhead::events {
namespace {

constexpr std::array<std::pair<EventType, std::string_view>, 26> kTypes{{
    {EventType::kProcessExec, "process.exec"},
    {EventType::kProcessFork, "process.fork"},
    {EventType::kProcessExit, "process.exit"},
    {EventType::kFileOpen, "file.open"},
    {EventType::kFileUnlink, "file.unlink"},
    {EventType::kFileRename, "file.rename"},
    {EventType::kFileChmod, "file.chmod"},
    {EventType::kFileChown, "file.chown"},
    {EventType::kNetConnect, "network.connect"},
    {EventType::kNetBind, "network.bind"},
    {EventType::kNetListen, "network.listen"},
    {EventType::kNetAccept, "network.accept"},
    {EventType::kNetDeny, "network.deny"},
    {EventType::kPrivSetuid, "privilege.setuid"},
    {EventType::kPrivSetgid, "privilege.setgid"},
    {EventType::kPrivCapset, "privilege.capset"},
    {EventType::kPtrace, "process.ptrace"},
    {EventType::kMount, "system.mount"},
    {EventType::kUmount, "system.umount"},
    {EventType::kUnshare, "system.unshare"},
    {EventType::kSetns, "system.setns"},
    {EventType::kBpf, "system.bpf"},
    {EventType::kModuleLoad, "system.module_load"},
    {EventType::kMemfdCreate, "file.memfd_create"},
    {EventType::kAlert, "alert"},
    {EventType::kDrop, "agent.drop"},
}};

// The table is indexed by the enum's value in type_name(): keep them aligned.
constexpr bool table_in_enum_order() {
  for (size_t i = 0; i < kTypes.size(); ++i) {
    if (static_cast<size_t>(kTypes[i].first) != i) {
      return false;
    }
  }
  return true;
}
static_assert(table_in_enum_order());

}  // namespace

std::string_view type_name(EventType type) {
  const auto i = static_cast<size_t>(type);
  return i < kTypes.size() ? kTypes[i].second : std::string_view("unknown");
}

std::optional<EventType> parse_type(std::string_view name) {
  for (const auto& [type, n] : kTypes) {
    if (n == name) {
      return type;
    }
  }
  return std::nullopt;
}

const std::vector<EventType>& all_types() {
  static const std::vector<EventType> all = [] {
    std::vector<EventType> v;
    v.reserve(kTypes.size());
    for (const auto& entry : kTypes) {
      v.push_back(entry.first);
    }
    return v;
  }();
  return all;
}

}  // namespace bulkhead::events
