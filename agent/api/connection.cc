#include "api/connection.h"

#include <sys/socket.h>

#include <string_view>

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
    if (!fds.empty() || (!n.ok() && n.error().code == EMSGSIZE)) {
      return ReadOutcome::kDescriptors;  // `fds` closes them on the way out
    }
    if (!n.ok()) {
      return n.error().code == EAGAIN ? ReadOutcome::kOpen : ReadOutcome::kError;
    }
    if (*n == 0) {
      return ReadOutcome::kEof;
    }
    input_.append(chunk);
    budget -= *n;
  }
  return ReadOutcome::kOpen;
}

bool Connection::queue(const std::string& line, std::vector<UniqueFd> fds) {
  if (unsent() + line.size() > limits_.max_output) {
    return false;
  }
  if (sent_ > 0 && sent_ >= output_.size() / 2) {
    output_.erase(0, sent_);  // keep the buffer near what is really unsent
    dropped_ += sent_;
    sent_ = 0;
  }
  if (!fds.empty()) {
    attachments_.push_back(Attachment{dropped_ + output_.size(), std::move(fds)});
  }
  output_ += line;
  return true;
}

bool Connection::flush() {
  while (sent_ < output_.size()) {
    // Up to the next line with descriptors, or from its first byte with them:
    // the client finds them with the line they belong to.
    std::string_view rest(output_.data() + sent_, output_.size() - sent_);
    std::vector<int> fds;
    if (!attachments_.empty()) {
      const size_t at = attachments_.front().offset - dropped_;
      if (at > sent_) {
        rest = rest.substr(0, at - sent_);
      } else {
        for (const auto& fd : attachments_.front().fds) {
          fds.push_back(fd.get());
        }
      }
    }
    auto n = send_some(fd_.get(), rest, fds);
    if (!n.ok()) {
      return n.error().code == EAGAIN;
    }
    if (!fds.empty()) {
      attachments_.pop_front();  // the kernel holds its own references now
    }
    sent_ += *n;
  }
  dropped_ += output_.size();
  output_.clear();
  sent_ = 0;
  return true;
}

}  // namespace bulkhead::api
