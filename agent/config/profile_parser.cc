// The top level of a profile: version, tenant, ids, hostname and namespaces,
// dispatch to the other sections, and the checks that need several sections.
#include "config/profile_parser.h"

#include <algorithm>
#include <map>
#include <utility>

#include "config/path_rules.h"
#include "config/units.h"

namespace bulkhead::config::detail {
namespace {

bool is_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

// RFC 1123 host name: dot-separated labels of 1-63 letters, digits and '-', not
// starting or ending with '-'. 64 is the size of the kernel's utsname nodename.
bool is_valid_hostname(const std::string& h) {
  if (h.empty() || h.size() > 64) {
    return false;
  }
  size_t start = 0;
  while (start <= h.size()) {
    size_t end = h.find('.', start);
    if (end == std::string::npos) {
      end = h.size();
    }
    std::string_view label(h.data() + start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!is_label_char(c)) {
        return false;
      }
    }
    start = end + 1;
  }
  return true;
}

// True (reported) when the document declares a version other than 1. The rest
// of it then follows a schema this code does not know, and checking it against
// version 1 would only bury the one error that matters under noise.
bool is_other_version(ErrorSink& sink, const YAML::Node& root) {
  if (!root.IsMap()) {
    return false;
  }
  for (const auto& kv : root) {
    YAML::Node k = kv.first;
    YAML::Node v = kv.second;
    if (!k.IsScalar() || k.Scalar() != "version" || !v.IsScalar()) {
      continue;
    }
    auto n = parse_uint(v.Scalar());
    if (n.ok() && *n != static_cast<uint64_t>(kProfileVersion)) {
      sink.add(v.Mark(), "version",
               "unsupported profile version " + std::to_string(*n) + " (this agent reads version " +
                   std::to_string(kProfileVersion) + ")");
      return true;
    }
  }
  return false;
}

void parse_version(ErrorSink& sink, const MapFields& m) {
  if (const Field* f = m.require(sink, "version")) {
    read_uint(sink, *f, kProfileVersion, kProfileVersion);
  }
}

void parse_tenant(ErrorSink& sink, const MapFields& m, Profile& p, ProfileMarks& marks) {
  const Field* f = m.require(sink, "tenant");
  if (f == nullptr) {
    return;
  }
  auto name = read_string(sink, *f);
  if (!name) {
    return;
  }
  if (!is_valid_name(*name)) {
    // The name becomes part of cgroup paths, the data directory and the id state file.
    sink.add(*f,
             "tenant name \"" + *name +
                 "\" must be 1-32 characters of a-z, 0-9 and '-', starting with a letter or digit");
    return;
  }
  p.name = *name;
  marks.tenant = *f;
}

void parse_ids(ErrorSink& sink, const Field& f, Profile& p, ProfileMarks& marks) {
  auto m = MapFields::read(sink, f, {"base", "count"});
  if (!m) {
    return;
  }
  IdRange r;
  std::optional<uint64_t> base;
  if (const Field* b = m->require(sink, "base")) {
    // Host ids below 65536 belong to the host's own users and system accounts.
    base = read_uint(sink, *b, kFirstTenantHostId, kTenantIdLimit - 1);
  }
  std::optional<uint64_t> count = kDefaultIdCount;
  if (const Field* c = m->get("count")) {
    count = read_uint(sink, *c, 1, kTenantIdLimit);
  }
  if (!base || !count) {
    return;
  }
  if (*base + *count > kTenantIdLimit) {
    sink.add(f, "ids.base + ids.count = " + std::to_string(*base + *count) + " is above " +
                    std::to_string(kTenantIdLimit) +
                    ": ids (uid_t)-1 and -2 must stay outside every range");
    return;
  }
  r.base = static_cast<uint32_t>(*base);
  r.count = static_cast<uint32_t>(*count);
  p.ids = r;
  marks.ids = f;
}

void parse_hostname(ErrorSink& sink, const Field& f, Profile& p) {
  auto h = read_string(sink, f);
  if (!h) {
    return;
  }
  if (!is_valid_hostname(*h)) {
    sink.add(f, "\"" + *h +
                    "\" is not an RFC 1123 host name (labels of 1-63 letters, digits and '-', "
                    "separated by '.', at most 64 characters)");
    return;
  }
  p.hostname = *h;
}

// A tenant user or group must map to a host id inside the tenant's range.
void check_inside_range(ErrorSink& sink, const std::optional<Field>& f, uint32_t id,
                        const Profile& p) {
  uint32_t count = p.ids ? p.ids->count : kDefaultIdCount;
  if (f && id >= count) {
    sink.add(*f, std::to_string(id) + " is outside the tenant's id range (ids.count = " +
                     std::to_string(count) + ")");
  }
}

void check_targets(ErrorSink& sink, const Profile& p, ProfileMarks& marks) {
  // Document order, so the second spelling of a target is the one reported.
  std::stable_sort(marks.targets.begin(), marks.targets.end(), [](const auto& a, const auto& b) {
    return std::pair(a.field.mark().line, a.field.mark().column) <
           std::pair(b.field.mark().line, b.field.mark().column);
  });
  std::map<std::string, const Field*> seen;
  for (const auto& t : marks.targets) {
    auto [it, inserted] = seen.emplace(t.path, &t.field);
    if (!inserted) {
      sink.add(t.field, "\"" + t.path + "\" is already used by " + it->second->path + " (line " +
                            std::to_string(it->second->mark().line + 1) + ")");
    }
  }
  // Mounting below a symlink would follow it to wherever it points.
  for (const auto& link : p.filesystem.symlinks) {
    for (const auto& t : marks.targets) {
      if (t.path != link.path && path_is_under(t.path, link.path)) {
        sink.add(t.field, "\"" + t.path + "\" is below the symlink " + link.path);
      }
    }
  }
}

// The checks between the network section and the others.
void check_network(ErrorSink& sink, Profile& p, const ProfileMarks& marks) {
  if (p.network.mode == NetworkMode::kHost) {
    // Host mode is the one way to share the host's network namespace.
    p.namespaces.net = false;
    if (marks.namespaces_net) {
      sink.add(*marks.namespaces_net,
               "network.mode host shares the host network namespace; leave namespaces.net out");
    }
  }
  if (marks.vsock_family && p.seccomp.base == "default") {
    sink.add(*marks.vsock_family,
             "the default seccomp base always denies AF_VSOCK (it reaches the hypervisor); "
             "import a seccomp base that allows it");
  }
}

}  // namespace

bool is_valid_name(const std::string& name) {
  if (name.empty() || name.size() > 32 || name[0] == '-') {
    return false;
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return false;
    }
  }
  return true;
}

void parse_namespaces(ErrorSink& sink, const Field& f, Namespaces& out, ProfileMarks& marks) {
  // Why each of these may not be shared with the host; uts and cgroup may.
  static const std::pair<const char*, const char*> kRequired[] = {
      {"user",
       "the user namespace is the uid boundary between tenant and host; without it tenant root "
       "is host root"},
      {"pid", "without a pid namespace the tenant sees and can signal host processes"},
      {"mount",
       "without a mount namespace the tenant's filesystem view cannot be built and it would see "
       "and change host mounts"},
      {"net",
       "set network.mode: host instead, which shares the host network namespace with the "
       "network policy as the tenant's only network boundary"},
      {"ipc",
       "sharing the ipc namespace would share host SysV IPC objects and POSIX message queues"},
  };
  auto m = MapFields::read(sink, f, {"user", "pid", "mount", "net", "uts", "ipc", "cgroup"});
  if (!m) {
    return;
  }
  for (const auto& [name, why] : kRequired) {
    if (const Field* e = m->get(name)) {
      auto on = read_bool(sink, *e);
      if (on && !*on) {
        sink.add(*e, std::string("cannot be turned off: ") + why);
      }
    }
  }
  if (const Field* e = m->get("net")) {
    marks.namespaces_net = *e;
  }
  if (const Field* e = m->get("uts")) {
    out.uts = read_bool(sink, *e).value_or(true);
  }
  if (const Field* e = m->get("cgroup")) {
    out.cgroup = read_bool(sink, *e).value_or(true);
  }
}

Profile parse_profile(ErrorSink& sink, const YAML::Node& root, ProfileMarks& marks) {
  Profile p;
  if (is_other_version(sink, root)) {
    return p;
  }
  auto m = MapFields::read(
      sink, Field{"", YAML::Node(), root},
      {"version", "tenant", "ids", "hostname", "namespaces", "filesystem", "process", "landlock",
       "seccomp", "limits", "network", "workloads", "events"});
  if (!m) {
    return p;
  }
  parse_version(sink, *m);
  parse_tenant(sink, *m, p, marks);
  if (const Field* f = m->get("ids")) {
    parse_ids(sink, *f, p, marks);
  }
  if (const Field* f = m->get("hostname")) {
    parse_hostname(sink, *f, p);
  }
  if (const Field* f = m->get("namespaces")) {
    parse_namespaces(sink, *f, p.namespaces, marks);
  }
  if (const Field* f = m->get("filesystem")) {
    parse_filesystem(sink, *f, p.filesystem, marks);
  }
  if (const Field* f = m->get("process")) {
    parse_process(sink, *f, p.process, marks);
  }
  if (const Field* f = m->get("landlock")) {
    parse_landlock(sink, *f, p.landlock);
  }
  if (const Field* f = m->get("seccomp")) {
    parse_seccomp(sink, *f, p.seccomp);
  }
  if (const Field* f = m->get("limits")) {
    parse_limits(sink, *f, p.limits);
  }
  if (const Field* f = m->get("network")) {
    parse_network(sink, *f, p.network, marks);
  }
  if (const Field* f = m->get("workloads")) {
    parse_workloads(sink, *f, p.workloads);
  }
  if (const Field* f = m->get("events")) {
    parse_events(sink, *f, p.events);
  }

  // Defaults that depend on the tenant name.
  if (p.hostname.empty() && !p.name.empty()) {
    p.hostname = p.name;
    if (!is_valid_hostname(p.hostname)) {
      sink.add(*marks.tenant, "tenant name \"" + p.name +
                                  "\" is not a valid host name (it ends with '-'); set hostname");
    }
  }
  if (p.filesystem.data.host_path.empty() && !p.name.empty()) {
    p.filesystem.data.host_path = "/var/lib/bulkhead/tenants/" + p.name;
  }
  check_inside_range(sink, marks.user, p.process.uid, p);
  check_inside_range(sink, marks.group, p.process.gid, p);
  check_targets(sink, p, marks);
  check_network(sink, p, marks);
  return p;
}

}  // namespace bulkhead::config::detail
