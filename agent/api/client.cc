#include "api/client.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace bulkhead::api {
namespace {

// Received but not yet taken: a few runs' replies.
constexpr size_t kMaxPendingFds = size_t{4} * kMaxFdsPerMessage;

}  // namespace

Client::Client(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}

Result<std::unique_ptr<Client>> Client::connect(const std::string& socket_path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof(addr.sun_path)) {
    return Error{ENAMETOOLONG, "cannot connect to " + socket_path};
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    return errno_error("socket");
  }
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    return errno_error("cannot connect to " + socket_path);
  }
  return std::unique_ptr<Client>(new Client(std::move(fd), socket_path));
}

Result<int64_t> Client::send(Method method, const nlohmann::json& params,
                             std::span<const int> fds) {
  const int64_t id = next_id_++;
  BULKHEAD_TRY(send_all(fd_.get(), encode_request(id, method, params), fds));
  return id;
}

std::optional<Result<Message>> Client::buffered_message() {
  while (auto line = input_.next_line()) {
    if (line->empty()) {
      continue;
    }
    auto m = parse_message_line(*line);
    if (!m.ok()) {
      return Result<Message>(make_error("bad message from the agent: " + m.error().message));
    }
    return Result<Message>(std::move(*m));
  }
  if (input_.overflowed()) {
    return Result<Message>(make_error("message from the agent longer than " +
                                      std::to_string(kMaxResponseLine) + " bytes"));
  }
  return std::nullopt;
}

bool Client::has_buffered() {
  if (!stash_.empty() || peeked_) {
    return true;
  }
  auto m = buffered_message();
  if (m && m->ok()) {
    peeked_ = std::move(m->value());
    return true;
  }
  return m.has_value();  // an error is also something read() returns at once
}

Result<Message> Client::read(std::optional<std::chrono::milliseconds> timeout) {
  if (!stash_.empty()) {
    Message m = std::move(stash_.front());
    stash_.pop_front();
    return m;
  }
  if (peeked_) {
    Message m = std::move(*peeked_);
    peeked_.reset();
    return m;
  }
  const auto deadline = timeout ? std::chrono::steady_clock::now() + *timeout
                                : std::chrono::steady_clock::time_point{};
  for (;;) {
    if (auto m = buffered_message()) {
      return std::move(*m);
    }
    if (eof_) {
      return Error{ECONNRESET, "the agent closed the connection"};
    }
    if (timeout) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd_.get(), POLLIN, 0};
      int rc = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
      if (rc < 0 && errno != EINTR) {
        return errno_error("poll");
      }
      if (rc <= 0) {
        if (left.count() <= 0) {
          return Error{ETIMEDOUT, "waiting for the agent"};
        }
        continue;
      }
    }
    std::string chunk;
    std::vector<UniqueFd> fds;
    auto n = recv_some(fd_.get(), chunk, fds, size_t{64} * 1024);
    for (auto& fd : fds) {
      fds_.push_back(std::move(fd));
    }
    if (fds_.size() > kMaxPendingFds) {
      return make_error("the agent sent more file descriptors than its replies name");
    }
    if (!n.ok()) {
      if (n.error().code == ECONNRESET) {
        eof_ = true;
        continue;
      }
      return n.error().context("reading from the agent");
    }
    if (*n == 0) {
      eof_ = true;
      continue;
    }
    input_.append(chunk);
  }
}

std::vector<UniqueFd> Client::take_fds(size_t n) {
  std::vector<UniqueFd> out;
  while (out.size() < n && !fds_.empty()) {
    out.push_back(std::move(fds_.front()));
    fds_.pop_front();
  }
  return out;
}

Result<Message> Client::call(Method method, const nlohmann::json& params, std::span<const int> fds,
                             std::optional<std::chrono::milliseconds> timeout) {
  auto id = send(method, params, fds);
  if (!id.ok()) {
    // The agent may have refused us and closed already: its reason beats EPIPE.
    auto m = read(std::chrono::milliseconds(100));
    if (m.ok() && m->error && !m->id) {
      return m;
    }
    return id.error();
  }
  std::deque<Message> other;
  for (;;) {
    // Read past the stash: it holds messages of other requests.
    std::deque<Message> saved;
    saved.swap(stash_);
    auto m = read(timeout);
    saved.swap(stash_);
    if (!m.ok()) {
      for (auto& o : other) {
        stash_.push_back(std::move(o));
      }
      return m.error();
    }
    if ((m->id == *id && !m->is_event()) || (!m->id && m->error)) {
      for (auto& o : other) {
        stash_.push_back(std::move(o));
      }
      return m;
    }
    other.push_back(std::move(*m));
  }
}

}  // namespace bulkhead::api
