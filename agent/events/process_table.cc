#include "events/process_table.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <memory>
#include <sstream>

#include "common/file_util.h"

namespace bulkhead::events {
namespace {

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};

std::string read_link(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

}  // namespace

namespace detail {

bool parse_proc_stat(const std::string& text, std::string* comm, pid_t* ppid,
                     uint64_t* start_ticks) {
  // "pid (comm) state ppid ..." and comm may itself hold ") ".
  auto open = text.find('(');
  auto close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) {
    return false;
  }
  *comm = text.substr(open + 1, close - open - 1);
  std::istringstream rest(text.substr(close + 1));
  std::string field;
  // Field 3 is the state; ppid is field 4, starttime field 22.
  for (int index = 3; index <= 22; ++index) {
    if (!(rest >> field)) {
      return false;
    }
    if (index == 4) {
      *ppid = static_cast<pid_t>(std::strtol(field.c_str(), nullptr, 10));
    }
  }
  *start_ticks = std::strtoull(field.c_str(), nullptr, 10);
  return true;
}

}  // namespace detail

uint64_t ProcessTable::seeded_exec_id(uint64_t start_ticks, long ticks_per_second, pid_t pid) {
  const uint64_t per_tick = ticks_per_second > 0 ? 1000000000ULL / ticks_per_second : 10000000ULL;
  return start_ticks * per_tick + static_cast<uint64_t>(pid);
}

Status ProcessTable::seed_from_proc(const std::string& proc) {
  std::unique_ptr<DIR, DirCloser> dir(::opendir(proc.c_str()));
  if (!dir) {
    return errno_error("seeding the process table: opendir " + proc);
  }
  const long ticks = ::sysconf(_SC_CLK_TCK);
  while (dirent* entry = ::readdir(dir.get())) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (end == entry->d_name || *end != '\0' || pid <= 0) {
      continue;
    }
    const std::string base = proc + "/" + entry->d_name;
    auto stat = read_file(base + "/stat");
    if (!stat.ok()) {
      continue;  // exited meanwhile
    }
    ProcessEntry e;
    uint64_t start = 0;
    if (!detail::parse_proc_stat(*stat, &e.comm, &e.ppid, &start)) {
      continue;
    }
    e.pid = static_cast<pid_t>(pid);
    e.exec_id = seeded_exec_id(start, ticks, e.pid);
    e.exe = read_link(base + "/exe");
    entries_[e.pid] = std::move(e);
  }
  for (auto& [pid, e] : entries_) {
    if (auto it = entries_.find(e.ppid); it != entries_.end()) {
      e.parent_exec_id = it->second.exec_id;
    }
  }
  return {};
}

const ProcessEntry& ProcessTable::on_exec(pid_t pid, pid_t ppid, uint64_t exec_id, std::string exe,
                                          std::string comm) {
  prune();
  ProcessEntry& e = entries_[pid];
  e.pid = pid;
  e.ppid = ppid;
  e.exec_id = exec_id;
  const ProcessEntry* parent = find(ppid);
  e.parent_exec_id = parent != nullptr ? parent->exec_id : 0;
  e.exe = std::move(exe);
  e.comm = std::move(comm);
  return e;
}

const ProcessEntry& ProcessTable::on_fork(pid_t parent, pid_t child, const std::string& comm) {
  prune();
  ProcessEntry e;
  e.pid = child;
  e.ppid = parent;
  e.comm = comm;
  if (const ProcessEntry* p = find(parent)) {
    e.exec_id = p->exec_id;
    e.parent_exec_id = p->exec_id;
    e.exe = p->exe;
  }
  // An exec of the child can be read before its fork (vfork: the parent's
  // clone returns, and its fork record is written, only after the child's
  // exec): keep what the exec said.
  auto [it, inserted] = entries_.try_emplace(child, e);
  return it->second;
}

void ProcessTable::on_exit(pid_t pid) { entries_.erase(pid); }

const ProcessEntry* ProcessTable::find(pid_t pid) const {
  auto it = entries_.find(pid);
  return it == entries_.end() ? nullptr : &it->second;
}

std::vector<uint64_t> ProcessTable::ancestry(pid_t pid) const {
  return ancestry_from(pid, find(pid));
}

std::vector<uint64_t> ProcessTable::ancestry_from(pid_t pid, const ProcessEntry* e) const {
  // Called for every event: walk into fixed arrays (the walk is bounded) and
  // allocate the result once, at its final size. A cycle shows as a pid seen
  // before; with at most kMaxAncestry + 1 of them a linear scan is cheapest.
  uint64_t ids[kMaxAncestry];
  pid_t seen[kMaxAncestry + 1];
  size_t n = 0;
  seen[0] = pid;
  while (e != nullptr && n < kMaxAncestry) {
    const pid_t ppid = e->ppid;
    if (ppid <= 0 || std::find(seen, seen + n + 1, ppid) != seen + n + 1) {
      break;
    }
    const ProcessEntry* parent = find(ppid);
    if (parent == nullptr) {
      break;
    }
    seen[n + 1] = ppid;
    ids[n++] = parent->exec_id;
    e = parent;
  }
  return {ids, ids + n};
}

void ProcessTable::annotate(ProcessInfo& info) const {
  const ProcessEntry* e = find(info.pid);
  if (e == nullptr) {
    return;
  }
  info.exec_id = e->exec_id;
  info.parent_exec_id = e->parent_exec_id;
  if (info.exe.empty()) {
    info.exe = e->exe;
  }
  if (info.ppid == 0) {
    info.ppid = e->ppid;
  }
  if (info.comm.empty()) {
    info.comm = e->comm;
  }
  info.ancestry = ancestry_from(info.pid, e);
}

void ProcessTable::prune() {
  if (entries_.size() <= kPruneAbove) {
    return;
  }
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (::access(("/proc/" + std::to_string(it->first)).c_str(), F_OK) != 0) {
      it = entries_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace bulkhead::events
