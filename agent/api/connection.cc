#include "api/connection.h"

#include <sys/socket.h>

namespace bulkhead::api {

namespace {
constexpr size_t kReadChunk = size_t{64} * 1024;
}  // namespace

Connection::Connection(uint64_t id, UniqueFd fd, PeerCredentials peer, ConnectionLimits limits)
    : id_(id),
      fd_(std::move(fd)),
      peer_(std::move(peer)),
      limits_(limits),
      input_(limits.max_line) {}

Connection::ReadOutcome Connection::read_available() {
  size_t budget = limits_.read_budget;
  std::string chunk;
  std::vector<UniqueFd> fds;
  while (budget > 0 && !input_.overflowed()) {
    chunk.clear();
    auto n = recv_some(fd_.get(), chunk, fds, std::min(kReadChunk, budget));
    for (auto& fd : fds) {
      fds_.push_back(std::move(fd));
    }
    fds.clear();
    if (fds_.size() > limits_.max_pending_fds) {
      return ReadOutcome::kTooMany;
    }
    if (!n.ok()) {
      if (n.error().code == EAGAIN) {
        return ReadOutcome::kOpen;
      }
      return n.error().code == EMSGSIZE ? ReadOutcome::kTooMany : ReadOutcome::kError;
    }
    if (*n == 0) {
      return ReadOutcome::kEof;
    }
    input_.append(chunk);
    budget -= *n;
  }
  return ReadOutcome::kOpen;
}

std::vector<UniqueFd> Connection::take_fds(size_t n) {
  std::vector<UniqueFd> out;
  for (size_t i = 0; i < n && !fds_.empty(); ++i) {
    out.push_back(std::move(fds_.front()));
    fds_.pop_front();
  }
  return out;
}

bool Connection::queue(const std::string& line) {
  if (unsent() + line.size() > limits_.max_output) {
    return false;
  }
  if (sent_ > 0 && sent_ >= output_.size() / 2) {
    output_.erase(0, sent_);  // keep the buffer near what is really unsent
    sent_ = 0;
  }
  output_ += line;
  return true;
}

bool Connection::flush() {
  while (sent_ < output_.size()) {
    ssize_t n = ::send(fd_.get(), output_.data() + sent_, output_.size() - sent_,
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno == EAGAIN;
    }
    sent_ += static_cast<size_t>(n);
  }
  output_.clear();
  sent_ = 0;
  return true;
}

}  // namespace bulkhead::api
