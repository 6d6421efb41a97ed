#include "common/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bulkhead {
namespace {

Result<std::string> read_all(int fd, const std::string& what) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error("read " + what);
    }
    if (n == 0) {
      break;
    }
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status write_once(int fd, const std::string& data, const std::string& what) {
  ssize_t n = ::write(fd, data.data(), data.size());
  if (n < 0) {
    return errno_error("write '" + trim(data) + "' to " + what);
  }
  if (static_cast<size_t>(n) != data.size()) {
    return make_error("short write to " + what);
  }
  return {};
}

}  // namespace

Result<std::string> read_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return errno_error("open " + path);
  }
  return read_all(fd.get(), path);
}

Status write_file(const std::string& path, const std::string& data) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) {
    return errno_error("open " + path);
  }
  return write_once(fd.get(), data, path);
}

Status write_file_at(int dirfd, const std::string& name, const std::string& data) {
  UniqueFd fd(::openat(dirfd, name.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) {
    return errno_error("open " + name);
  }
  return write_once(fd.get(), data, name);
}

Result<std::string> read_file_at(int dirfd, const std::string& name) {
  UniqueFd fd(::openat(dirfd, name.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return errno_error("open " + name);
  }
  return read_all(fd.get(), name);
}

Status make_dirs(const std::string& path, unsigned mode) {
  if (path.empty()) {
    return make_error("make_dirs: empty path");
  }
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    size_t next = path.find('/', pos + 1);
    cur = path.substr(0, next);
    pos = next;
    if (cur.empty() || cur == "/") {
      continue;
    }
    if (::mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) {
      return errno_error("mkdir " + cur);
    }
  }
  return {};
}

Result<UniqueFd> open_dir(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    return errno_error("open directory " + path);
  }
  return fd;
}

std::string trim(std::string s) {
  while (!s.empty() &&
         (s.back() == '\n' || s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.pop_back();
  }
  return s;
}

}  // namespace bulkhead
