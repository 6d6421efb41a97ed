#include "api/framing.h"

#include <sys/socket.h>

#include <cstring>

namespace bulkhead::api {

void LineBuffer::append(std::string_view data) {
  if (overflow_) {
    return;
  }
  // Drop what was consumed before growing, so the buffer stays near max_line.
  if (start_ > 0 && start_ >= buf_.size() / 2) {
    buf_.erase(0, start_);
    scan_ -= start_;
    start_ = 0;
  }
  buf_.append(data);
}

std::optional<std::string> LineBuffer::next_line() {
  if (overflow_) {
    return std::nullopt;
  }
  size_t nl = buf_.find('\n', scan_);
  if (nl == std::string::npos) {
    scan_ = buf_.size();
    if (buf_.size() - start_ > max_line_) {
      overflow_ = true;
    }
    return std::nullopt;
  }
  if (nl - start_ > max_line_) {
    overflow_ = true;
    return std::nullopt;
  }
  size_t end = nl;
  if (end > start_ && buf_[end - 1] == '\r') {
    --end;
  }
  std::string line = buf_.substr(start_, end - start_);
  start_ = nl + 1;
  scan_ = start_;
  return line;
}

namespace {

// One sendmsg with `fds` attached to the first byte.
ssize_t send_with_fds(int sock, std::string_view data, std::span<const int> fds, int flags) {
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)] = {};
  // iovec has no const variant; sendmsg only reads through it.
  iovec iov{const_cast<char*>(data.data()), data.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  return ::sendmsg(sock, &msg, flags | MSG_NOSIGNAL);
}

}  // namespace

Status send_all(int sock, std::string_view data, std::span<const int> fds) {
  if (fds.size() > kMaxFdsPerMessage) {
    return make_error("too many descriptors for one message");
  }
  bool fds_pending = !fds.empty();
  while (!data.empty()) {
    ssize_t n = send_with_fds(sock, data, fds_pending ? fds : std::span<const int>(), 0);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error("sending to the agent socket");
    }
    fds_pending = false;  // the kernel attached them to the bytes just sent
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<size_t> send_some(int sock, std::string_view data, std::span<const int> fds) {
  if (fds.size() > kMaxFdsPerMessage) {
    return make_error("too many descriptors for one message");
  }
  ssize_t n;
  do {
    n = send_with_fds(sock, data, fds, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return errno_error("sending to the client");
  }
  return static_cast<size_t>(n);
}

Result<size_t> recv_some(int sock, std::string& out, std::vector<UniqueFd>& fds, size_t max) {
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
  size_t old = out.size();
  out.resize(old + max);
  iovec iov{out.data() + old, max};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do {
    n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    int saved = errno;
    out.resize(old);
    return Error{saved, "recvmsg"};
  }
  out.resize(old + static_cast<size_t>(n));
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int fd;
        std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        fds.emplace_back(fd);
      }
    }
  }
  if ((msg.msg_flags & MSG_CTRUNC) != 0) {
    return Error{EMSGSIZE, "more than " + std::to_string(kMaxFdsPerMessage) +
                               " file descriptors in one message"};
  }
  return static_cast<size_t>(n);
}

}  // namespace bulkhead::api
