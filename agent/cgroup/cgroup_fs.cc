#include "cgroup/cgroup_fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <csignal>
#include <memory>

#include "common/file_util.h"

namespace bulkhead::cgroup {
namespace {

constexpr size_t kMaxNameLength = 128;

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t')) {
      ++i;
    }
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\n' && text[i] != '\t') {
      ++i;
    }
    if (i > start) {
      out.push_back(text.substr(start, i - start));
    }
  }
  return out;
}

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

// Subdirectory names of a cgroup directory.
Result<std::vector<std::string>> list_subdirs(const std::string& path) {
  std::unique_ptr<DIR, DirCloser> dir(::opendir(path.c_str()));
  if (!dir) {
    return errno_error("opendir " + path);
  }
  std::vector<std::string> out;
  errno = 0;
  while (struct dirent* e = ::readdir(dir.get())) {
    std::string name = e->d_name;
    if (e->d_type == DT_DIR && name != "." && name != "..") {
      out.push_back(std::move(name));
    }
  }
  if (errno != 0) {
    return errno_error("readdir " + path);
  }
  return out;
}

}  // namespace

bool is_valid_cgroup_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) {
    return false;
  }
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(name[0])) {
    return false;
  }
  for (char c : name) {
    if (!lower_or_digit(c) && c != '_' && c != '.' && c != '-') {
      return false;
    }
  }
  return name.find("..") == std::string_view::npos;
}

Status check_cgroup_name(std::string_view what, std::string_view name) {
  if (!is_valid_cgroup_name(name)) {
    return make_error("invalid " + std::string(what) + " cgroup name '" + std::string(name) +
                      "' (want [a-z0-9][a-z0-9_.-]*, at most 128 characters, no '..')");
  }
  return {};
}

Result<bool> parse_populated(std::string_view cgroup_events) {
  std::vector<std::string_view> w = words(cgroup_events);
  for (size_t i = 0; i + 1 < w.size(); i += 2) {
    if (w[i] == "populated") {
      if (w[i + 1] == "0" || w[i + 1] == "1") {
        return w[i + 1] == "1";
      }
      break;
    }
  }
  return make_error("cgroup.events has no valid 'populated' line");
}

Result<std::vector<pid_t>> parse_pid_list(std::string_view procs) {
  std::vector<pid_t> out;
  for (std::string_view w : words(procs)) {
    pid_t pid = 0;
    auto [ptr, ec] = std::from_chars(w.data(), w.data() + w.size(), pid);
    if (ec != std::errc() || ptr != w.data() + w.size() || pid <= 0) {
      return make_error("bad pid '" + std::string(w) + "' in cgroup.procs");
    }
    out.push_back(pid);
  }
  return out;
}

std::set<std::string> parse_controller_list(std::string_view text) {
  std::set<std::string> out;
  for (std::string_view w : words(text)) {
    out.emplace(w);
  }
  return out;
}

namespace detail {

Result<CgroupDir> make_dir(const std::string& path, IfExists if_exists) {
  CgroupDir d;
  d.path = path;
  if (::mkdir(path.c_str(), 0755) == 0) {
    d.created = true;
  } else if (errno != EEXIST || if_exists == IfExists::kFail) {
    return errno_error("mkdir " + path);
  }
  auto fd = open_dir(path);
  if (!fd) {
    if (d.created) {
      ::rmdir(path.c_str());
    }
    return fd.error();
  }
  d.fd = std::move(*fd);
  return d;
}

Status remove_dir(const std::string& path) {
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) {
    return errno_error("rmdir " + path);
  }
  return {};
}

Result<std::vector<pid_t>> read_procs(int dirfd, const std::string& path) {
  auto text = read_file_at(dirfd, "cgroup.procs");
  if (!text) {
    return text.error().context(path);
  }
  return parse_pid_list(*text);
}

Result<bool> read_populated(int dirfd, const std::string& path) {
  auto text = read_file_at(dirfd, "cgroup.events");
  if (!text) {
    return text.error().context(path);
  }
  auto populated = parse_populated(*text);
  if (!populated) {
    return populated.error().context(path);
  }
  return populated;
}

Result<std::set<std::string>> read_controllers(int dirfd, const std::string& path,
                                               const char* file) {
  auto text = read_file_at(dirfd, file);
  if (!text) {
    return text.error().context(path);
  }
  return parse_controller_list(*text);
}

void enable_subtree_controllers(int dirfd, const std::string& path,
                                const std::set<std::string>& wanted) {
  auto available = read_controllers(dirfd, path);
  auto enabled = read_controllers(dirfd, path, "cgroup.subtree_control");
  if (!available || !enabled) {
    spdlog::warn("cgroup: cannot read the controllers of {}: {}", path,
                 (!available ? available.error() : enabled.error()).to_string());
    return;
  }
  for (const std::string& c : wanted) {
    if (available->count(c) == 0 || enabled->count(c) != 0) {
      continue;
    }
    Status st = write_file_at(dirfd, "cgroup.subtree_control", "+" + c);
    if (!st) {
      spdlog::warn("cgroup: cannot enable controller {} below {}: {}", c, path,
                   st.error().to_string());
    }
  }
}

Result<bool> subtree_has_procs(const std::string& path) {
  auto text = read_file(path + "/cgroup.procs");
  if (!text) {
    return text.error();
  }
  if (!words(*text).empty()) {
    return true;
  }
  auto subdirs = list_subdirs(path);
  if (!subdirs) {
    return subdirs.error();
  }
  for (const std::string& s : *subdirs) {
    auto below = subtree_has_procs(path + "/" + s);
    if (!below || *below) {
      return below;
    }
  }
  return false;
}

Status remove_children(const std::string& path) {
  auto subdirs = list_subdirs(path);
  if (!subdirs) {
    return subdirs.error();
  }
  for (const std::string& s : *subdirs) {
    const std::string child = path + "/" + s;
    BULKHEAD_TRY(remove_children(child));
    BULKHEAD_TRY(remove_dir(child));
  }
  return {};
}

Result<size_t> kill_listed_procs(int dirfd, const std::string& path) {
  auto first = read_procs(dirfd, path);
  if (!first) {
    return first.error();
  }
  std::vector<std::pair<pid_t, UniqueFd>> targets;
  bool have_pidfd = true;
  for (pid_t pid : *first) {
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    if (fd < 0 && errno == ENOSYS) {
      have_pidfd = false;  // kernel < 5.3: plain kill() below
    }
    if (fd >= 0 || !have_pidfd) {
      targets.emplace_back(pid, UniqueFd(fd));
    }
  }
  // Only processes still listed now: a pid that left (and may have been reused
  // by a process elsewhere) is not in the list, and the pidfd pins the process
  // it was opened on.
  auto second = read_procs(dirfd, path);
  if (!second) {
    return second.error();
  }
  for (const auto& [pid, fd] : targets) {
    if (std::find(second->begin(), second->end(), pid) == second->end()) {
      continue;
    }
    if (fd.valid()) {
      ::syscall(SYS_pidfd_send_signal, fd.get(), SIGKILL, nullptr, 0);
    } else {
      ::kill(pid, SIGKILL);
    }
  }
  return first->size();
}

Result<uint64_t> cgroup_id(int dirfd, const std::string& path) {
  struct stat st {};
  if (::fstat(dirfd, &st) != 0) {
    return errno_error("fstat " + path);
  }
  return static_cast<uint64_t>(st.st_ino);
}

}  // namespace detail
}  // namespace bulkhead::cgroup
