// Small operations on cgroupfs directories shared by the tree, tenant and
// workload code (internal to agent/cgroup; pure parsers are unit tested).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace bulkhead::cgroup {

// Names of the agent's cgroups (tree, tenant, workload): [a-z0-9][a-z0-9_.-]*,
// at most 128 characters, without "..".
bool is_valid_cgroup_name(std::string_view name);
Status check_cgroup_name(std::string_view what, std::string_view name);

// "populated 1\nfrozen 0\n" -> true.
Result<bool> parse_populated(std::string_view cgroup_events);
// The pids of a cgroup.procs file.
Result<std::vector<pid_t>> parse_pid_list(std::string_view procs);
// "cpuset cpu io memory pids" -> the set of names.
std::set<std::string> parse_controller_list(std::string_view text);

namespace detail {

// One cgroup directory in one hierarchy, kept open.
struct CgroupDir {
  std::string path;
  UniqueFd fd;
  bool created = false;  // made by us (false: adopted)
};

enum class IfExists { kAdopt, kFail };
// mkdir (mode 0755) and open the directory.
Result<CgroupDir> make_dir(const std::string& path, IfExists if_exists);
// rmdir; a directory already gone is not an error.
Status remove_dir(const std::string& path);

Result<std::vector<pid_t>> read_procs(int dirfd, const std::string& path);
Result<bool> read_populated(int dirfd, const std::string& path);
Result<std::set<std::string>> read_controllers(int dirfd, const std::string& path,
                                               const char* file = "cgroup.controllers");
// Writes "+c" to cgroup.subtree_control for each of `wanted` listed in the
// directory's cgroup.controllers and not yet enabled; one write per controller so
// one refusal (logged) does not stop the others.
void enable_subtree_controllers(int dirfd, const std::string& path,
                                const std::set<std::string>& wanted);
// True when the directory or any directory below it lists a process (cgroup v1
// has no cgroup.events; also used for cgroup2 when its events file is missing).
Result<bool> subtree_has_procs(const std::string& path);
// Removes every directory below `path` (deepest first); they must be empty.
Status remove_children(const std::string& path);

// Sends SIGKILL to each process listed in the cgroup.procs of `dirfd`, with a
// pidfd taken before the list is read again, so a pid that was recycled after the
// first read is never signalled. Returns how many processes were listed.
Result<size_t> kill_listed_procs(int dirfd, const std::string& path);

// The cgroup2 id of a directory (its inode number, as bpf_get_current_cgroup_id()).
Result<uint64_t> cgroup_id(int dirfd, const std::string& path);

}  // namespace detail
}  // namespace bulkhead::cgroup
