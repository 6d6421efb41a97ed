#include "bpf/fs_mounts.h"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include <climits>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "common/file_util.h"

namespace bulkhead::bpf {
namespace {

struct PseudoFs {
  const char* type;    // as mountinfo and mount(2) name it
  const char* source;  // conventional device name, shown by mount(8)
  unsigned long magic;
  const char* data;  // mount options
};

constexpr PseudoFs kBpfFs{"bpf", "bpf", BPF_FS_MAGIC, "mode=0700"};
constexpr PseudoFs kTraceFs{"tracefs", "tracefs", TRACEFS_MAGIC, nullptr};
constexpr PseudoFs kSecurityFs{"securityfs", "securityfs", SECURITYFS_MAGIC, nullptr};

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  size_t pos = 0;
  while (pos < line.size()) {
    size_t end = line.find(' ', pos);
    if (end == std::string_view::npos) {
      end = line.size();
    }
    if (end > pos) {
      fields.push_back(line.substr(pos, end - pos));
    }
    pos = end + 1;
  }
  return fields;
}

Result<std::string> resolve(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) {
    return errno_error("resolving " + path);
  }
  return std::string(buf);
}

// Serialises ensure_* within the process so two threads cannot stack two
// mounts on one mount point.
std::mutex& mount_mutex() {
  static std::mutex m;
  return m;
}

Status ensure_fs(const std::string& path, const PseudoFs& fs) {
  std::lock_guard lock(mount_mutex());
  const std::string what = "mounting " + std::string(fs.type) + " on " + path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      return errno_error(what + ": stat");
    }
    BULKHEAD_TRY_CTX(make_dirs(path, 0755), what);
  } else if (!S_ISDIR(st.st_mode)) {
    return Error{ENOTDIR, what};
  }
  auto real = resolve(path);
  if (!real.ok()) {
    return real.error().context(what);
  }
  auto mounted = mounted_fs_type(*real);
  if (!mounted.ok()) {
    return mounted.error().context(what);
  }
  if (mounted->has_value()) {
    if (**mounted == fs.type) {
      return {};
    }
    return Error{EBUSY, what + ": a " + **mounted + " filesystem is already mounted there"};
  }
  // Not a mount point itself, but maybe inside such a filesystem already (a
  // subdirectory of a mounted bpffs, tracefs automounted under debugfs).
  struct statfs sfs {};
  if (::statfs(real->c_str(), &sfs) == 0 && static_cast<unsigned long>(sfs.f_type) == fs.magic) {
    return {};
  }
  if (::mount(fs.source, real->c_str(), fs.type, MS_NOSUID | MS_NODEV | MS_NOEXEC, fs.data) != 0) {
    return errno_error(what);
  }
  return {};
}

}  // namespace

Status ensure_bpffs(const std::string& path) { return ensure_fs(path, kBpfFs); }
Status ensure_tracefs(const std::string& path) { return ensure_fs(path, kTraceFs); }
Status ensure_securityfs(const std::string& path) { return ensure_fs(path, kSecurityFs); }

Result<std::optional<std::string>> mounted_fs_type(const std::string& path) {
  auto real = resolve(path);
  if (!real.ok()) {
    return real.error();
  }
  auto mountinfo = read_file("/proc/self/mountinfo");
  if (!mountinfo.ok()) {
    return mountinfo.error();
  }
  return detail::find_mount_fs_type(*mountinfo, *real);
}

namespace detail {

std::string unescape_mount_field(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && field[i + 1] >= '0' && field[i + 1] <= '3' &&
        field[i + 2] >= '0' && field[i + 2] <= '7' && field[i + 3] >= '0' && field[i + 3] <= '7') {
      out.push_back(static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                                      (field[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(field[i]);
    }
  }
  return out;
}

std::optional<std::string> find_mount_fs_type(std::string_view mountinfo,
                                              std::string_view mount_point) {
  // "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
  // Field 5 is the mount point; after the optional fields, "-" then the type.
  // Later lines are mounted later, so the last match is the one on top.
  std::optional<std::string> found;
  size_t pos = 0;
  while (pos < mountinfo.size()) {
    size_t end = mountinfo.find('\n', pos);
    if (end == std::string_view::npos) {
      end = mountinfo.size();
    }
    auto fields = split_fields(mountinfo.substr(pos, end - pos));
    pos = end + 1;
    if (fields.size() < 7 || unescape_mount_field(fields[4]) != mount_point) {
      continue;
    }
    for (size_t i = 6; i + 1 < fields.size(); ++i) {
      if (fields[i] == "-") {
        found = unescape_mount_field(fields[i + 1]);
        break;
      }
    }
  }
  return found;
}

}  // namespace detail
}  // namespace bulkhead::bpf
