#include "daemon/workload_log.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

namespace bulkhead::daemon {
namespace {

// One pipe buffer's worth (the default pipe size) per wake-up.
constexpr size_t kReadChunk = 64 * 1024;
// The final drain stops after this much: the pipe holds at most its buffer,
// unless a process outside the agent keeps writing to a copy of the write end.
constexpr int kMaxDrainReads = 16;

}  // namespace

Result<std::unique_ptr<WorkloadLog>> WorkloadLog::create(EventLoop& loop, const std::string& path,
                                                         uint64_t max_bytes, int keep) {
  std::unique_ptr<WorkloadLog> log(new WorkloadLog(loop, LogFile(path, max_bytes, keep)));
  int fds[2];
  // Both ends CLOEXEC: the launcher dup2()s the write end to 1 and 2 of the
  // sandbox, and no other workload may inherit either end.
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return errno_error("log pipe for " + path);
  }
  log->read_.reset(fds[0]);
  log->write_.reset(fds[1]);
  int flags = ::fcntl(log->read_.get(), F_GETFL);
  if (flags < 0 || ::fcntl(log->read_.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return errno_error("log pipe for " + path + ": O_NONBLOCK");
  }
  WorkloadLog* self = log.get();
  BULKHEAD_TRY_CTX(loop.add_fd(log->read_.get(), EPOLLIN, [self](uint32_t) { self->pump(); }),
                   "log pipe for " + path);
  log->registered_ = true;
  return log;
}

WorkloadLog::~WorkloadLog() {
  if (registered_) {
    loop_.remove_fd(read_.get());
  }
  for (int i = 0; i < kMaxDrainReads && pump(); ++i) {
  }
}

bool WorkloadLog::pump() {
  if (!read_) {
    return false;
  }
  char buf[kReadChunk];
  ssize_t n;
  do {
    n = ::read(read_.get(), buf, sizeof(buf));
  } while (n < 0 && errno == EINTR);
  if (n <= 0) {
    // EAGAIN: empty. EOF cannot happen while we hold the write end.
    return false;
  }
  file_.write(std::string_view(buf, static_cast<size_t>(n)));
  return true;
}

}  // namespace bulkhead::daemon
