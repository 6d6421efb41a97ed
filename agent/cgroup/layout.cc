#include "cgroup/layout.h"

#include <array>
#include <optional>
#include <vector>

#include "common/file_util.h"

namespace bulkhead::cgroup {
namespace {

// The controllers a cgroup v1 mount can carry; other mount options ("rw",
// "name=systemd", "clone_children", ...) are not controllers.
constexpr std::array<std::string_view, 15> kV1Controllers = {
    "cpuset",     "cpu",      "cpuacct", "blkio", "memory", "devices", "freezer", "net_cls",
    "perf_event", "net_prio", "hugetlb", "pids",  "rdma",   "misc",    "debug"};

struct MountEntry {
  std::string root;
  std::string mount_point;
  std::string fstype;
  std::string super_options;
};

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) {
      end = s.size();
    }
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// "36 25 0:31 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory"
std::optional<MountEntry> parse_line(std::string_view line) {
  std::vector<std::string_view> fields;
  for (std::string_view f : split(line, ' ')) {
    if (!f.empty()) {
      fields.push_back(f);
    }
  }
  if (fields.size() < 7) {
    return std::nullopt;
  }
  size_t sep = 6;  // optional fields end with a lone "-"
  while (sep < fields.size() && fields[sep] != "-") {
    ++sep;
  }
  if (sep + 1 >= fields.size()) {
    return std::nullopt;
  }
  MountEntry e;
  e.root = unescape_mountinfo_path(fields[3]);
  e.mount_point = unescape_mountinfo_path(fields[4]);
  e.fstype = std::string(fields[sep + 1]);
  e.super_options = sep + 3 < fields.size() ? std::string(fields[sep + 3]) : std::string();
  return e;
}

bool is_same_or_ancestor(const std::string& ancestor, const std::string& path) {
  if (ancestor == path || ancestor == "/") {
    return true;
  }
  return path.size() > ancestor.size() && path.compare(0, ancestor.size(), ancestor) == 0 &&
         path[ancestor.size()] == '/';
}

// A mount is hidden when a later mount sits on the same directory or on a parent
// (a tmpfs mounted over /sys/fs/cgroup hides what was mounted below it). A later
// mount on "/" is not taken to hide anything: the process root stays where it is.
bool is_visible(const std::vector<MountEntry>& all, size_t i) {
  for (size_t j = i + 1; j < all.size(); ++j) {
    if (all[j].mount_point == "/" && all[i].mount_point != "/") {
      continue;
    }
    if (is_same_or_ancestor(all[j].mount_point, all[i].mount_point)) {
      return false;
    }
  }
  return true;
}

int preference(const MountEntry& e) {
  int score = 0;
  if (e.root == "/") {
    score += 2;
  }
  if (is_same_or_ancestor("/sys/fs/cgroup", e.mount_point)) {
    score += 1;
  }
  return score;
}

bool is_v1_controller(std::string_view opt) {
  for (std::string_view c : kV1Controllers) {
    if (c == opt) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string unescape_mountinfo_path(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      std::string_view oct = s.substr(i + 1, 3);
      bool ok = true;
      int v = 0;
      for (char c : oct) {
        if (c < '0' || c > '7') {
          ok = false;
          break;
        }
        v = v * 8 + (c - '0');
      }
      if (ok && v < 256) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

Result<HostCgroups> parse_mountinfo(std::string_view content) {
  std::vector<MountEntry> entries;
  for (std::string_view line : split(content, '\n')) {
    if (auto e = parse_line(line)) {
      entries.push_back(std::move(*e));
    }
  }

  const MountEntry* v2 = nullptr;
  std::map<std::string, const MountEntry*> v1;
  for (size_t i = 0; i < entries.size(); ++i) {
    const MountEntry& e = entries[i];
    if ((e.fstype != "cgroup2" && e.fstype != "cgroup") || !is_visible(entries, i)) {
      continue;
    }
    if (e.fstype == "cgroup2") {
      if (v2 == nullptr || preference(e) > preference(*v2)) {
        v2 = &e;
      }
      continue;
    }
    for (std::string_view opt : split(e.super_options, ',')) {
      if (!is_v1_controller(opt)) {
        continue;
      }
      auto [it, inserted] = v1.emplace(std::string(opt), &e);
      if (!inserted && preference(e) > preference(*it->second)) {
        it->second = &e;
      }
    }
  }

  if (v2 == nullptr) {
    if (!v1.empty()) {
      return make_error(
          "cgroup v1 only host (legacy layout, no cgroup2 mount): the agent needs cgroup2 to place "
          "processes and attach BPF programs; boot with systemd.unified_cgroup_hierarchy=1 "
          "(unified) "
          "or mount cgroup2 (hybrid)");
    }
    return make_error("no cgroup2 mount found in mountinfo");
  }
  HostCgroups host;
  host.unified_mount = v2->mount_point;
  for (const auto& [controller, entry] : v1) {
    host.v1_mounts[controller] = entry->mount_point;
  }
  host.layout = host.v1_mounts.empty() ? Layout::kUnified : Layout::kHybrid;
  return host;
}

Result<HostCgroups> detect_host_cgroups(const std::string& mountinfo) {
  auto content = read_file(mountinfo);
  if (!content) {
    return content.error().context("detecting cgroup layout");
  }
  auto host = parse_mountinfo(*content);
  if (!host) {
    return host.error().context("detecting cgroup layout from " + mountinfo);
  }
  return host;
}

std::string describe(const HostCgroups& host) {
  if (host.layout == Layout::kUnified) {
    return "cgroups: unified, cgroup2 at " + host.unified_mount;
  }
  std::string out =
      "cgroups: hybrid, cgroup2 at " + host.unified_mount + " (placement and BPF), v1 controllers:";
  for (const auto& [controller, mount] : host.v1_mounts) {
    out += " " + controller + "=" + mount;
  }
  return out;
}

}  // namespace bulkhead::cgroup
