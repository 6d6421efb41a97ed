#include "bpf/exec_counter.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>

#include <cstring>

#include "bpf/skeleton.h"
#include "exec_count.h"
#include "exec_count.skel.h"

namespace bulkhead::bpf {

struct ExecCounter::Impl {
  Skeleton<exec_count> skel;
};

Result<std::unique_ptr<ExecCounter>> ExecCounter::create() {
  auto skel = Skeleton<exec_count>::create();
  if (!skel.ok()) {
    return skel.error().context("exec counter");
  }
  return std::unique_ptr<ExecCounter>(
      new ExecCounter(std::make_unique<Impl>(Impl{std::move(skel).value()})));
}

ExecCounter::ExecCounter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ExecCounter::~ExecCounter() = default;

Status ExecCounter::track(uint64_t cgroup_id) {
  const uint64_t zero = 0;
  int err = bpf_map__update_elem(impl_->skel->maps.exec_counts, &cgroup_id, sizeof(cgroup_id),
                                 &zero, sizeof(zero), BPF_NOEXIST);
  if (err == 0 || err == -EEXIST) {
    return {};
  }
  std::string what = "tracking execs of cgroup " + std::to_string(cgroup_id);
  if (err == -E2BIG) {
    what += ": all " + std::to_string(BULKHEAD_MAX_TRACKED_CGROUPS) + " slots in use";
  }
  return libbpf_error(err, what);
}

Status ExecCounter::untrack(uint64_t cgroup_id) {
  int err = bpf_map__delete_elem(impl_->skel->maps.exec_counts, &cgroup_id, sizeof(cgroup_id), 0);
  if (err == 0 || err == -ENOENT) {
    return {};
  }
  return libbpf_error(err, "untracking execs of cgroup " + std::to_string(cgroup_id));
}

Result<uint64_t> ExecCounter::count(uint64_t cgroup_id) const {
  uint64_t value = 0;
  int err = bpf_map__lookup_elem(impl_->skel->maps.exec_counts, &cgroup_id, sizeof(cgroup_id),
                                 &value, sizeof(value), 0);
  if (err == -ENOENT) {
    return Error{ENOENT, "exec count of cgroup " + std::to_string(cgroup_id) + ": not tracked"};
  }
  if (err != 0) {
    return libbpf_error(err, "reading exec count of cgroup " + std::to_string(cgroup_id));
  }
  return value;
}

Result<uint64_t> cgroup2_id(const std::string& dir) {
  struct statfs sfs {};
  if (::statfs(dir.c_str(), &sfs) != 0) {
    return errno_error("cgroup id of " + dir);
  }
  if (static_cast<unsigned long>(sfs.f_type) != CGROUP2_SUPER_MAGIC) {
    return Error{EINVAL,
                 "cgroup id of " + dir + ": not a cgroup2 directory (BPF sees cgroup2 ids)"};
  }
  // A cgroup2 directory's file handle is its 64-bit kernfs id, the value of
  // bpf_get_current_cgroup_id() (and the inode number on 64-bit hosts).
  alignas(file_handle) unsigned char buf[sizeof(file_handle) + sizeof(uint64_t)] = {};
  auto* handle = reinterpret_cast<file_handle*>(buf);
  handle->handle_bytes = sizeof(uint64_t);
  int mount_id = 0;
  if (::name_to_handle_at(AT_FDCWD, dir.c_str(), handle, &mount_id, 0) != 0) {
    return errno_error("cgroup id of " + dir + ": name_to_handle_at");
  }
  if (handle->handle_bytes != sizeof(uint64_t)) {
    return Error{EINVAL, "cgroup id of " + dir + ": unexpected handle size"};
  }
  uint64_t id = 0;
  std::memcpy(&id, handle->f_handle, sizeof(id));
  return id;
}

}  // namespace bulkhead::bpf
