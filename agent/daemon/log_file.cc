#include "daemon/log_file.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace bulkhead::daemon {

LogFile::LogFile(std::string path, uint64_t max_bytes, int keep)
    : path_(std::move(path)),
      max_bytes_(std::max<uint64_t>(max_bytes, 1)),
      keep_(std::max(keep, 0)) {}

std::string LogFile::rotated_path(int n) const { return path_ + "." + std::to_string(n); }

void LogFile::drop(size_t n, const char* what, int err) {
  dropped_bytes_ += n;
  if (!warned_) {
    spdlog::warn("log {}: {}: {}; dropping output until it works again", path_, what,
                 std::strerror(err));
    warned_ = true;
  }
}

bool LogFile::ensure_open() {
  if (fd_) {
    return true;
  }
  // O_NOFOLLOW: the logs directory is the agent's, but never follow a planted link.
  fd_.reset(::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640));
  if (!fd_) {
    return false;
  }
  struct stat st {};
  size_ = ::fstat(fd_.get(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  return true;
}

bool LogFile::rotate() {
  fd_.reset();
  if (keep_ == 0) {
    if (::truncate(path_.c_str(), 0) != 0 && errno != ENOENT) {
      return false;
    }
  } else {
    // Missing generations (a young log) are not errors.
    (void)::unlink(rotated_path(keep_).c_str());
    for (int i = keep_ - 1; i >= 1; --i) {
      (void)::rename(rotated_path(i).c_str(), rotated_path(i + 1).c_str());
    }
    if (::rename(path_.c_str(), rotated_path(1).c_str()) != 0 && errno != ENOENT) {
      return false;
    }
  }
  ++rotations_;
  return ensure_open();
}

void LogFile::write(std::string_view data) {
  while (!data.empty()) {
    if (!ensure_open()) {
      drop(data.size(), "open", errno);
      return;
    }
    if (size_ >= max_bytes_ || (size_ > 0 && size_ + data.size() > max_bytes_)) {
      if (!rotate()) {
        int err = errno;
        fd_.reset();
        drop(data.size(), "rotate", err);
        return;
      }
    }
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(data.size(), max_bytes_ - size_));
    ssize_t n = ::write(fd_.get(), data.data(), chunk);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      // Reopened on the next write: the disk may have room again by then.
      fd_.reset();
      drop(data.size(), "write", err);
      return;
    }
    warned_ = false;
    size_ += static_cast<uint64_t>(n);
    data.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace bulkhead::daemon
