// The client side of the control API (bulkheadctl and tests): a blocking
// connection that sends requests and reads the agent's replies and events in
// order, and the descriptors some replies carry (a run's stdio ends).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "api/framing.h"
#include "api/protocol.h"
#include "common/result.h"
#include "common/unique_fd.h"

namespace bulkhead::api {

class Client {
 public:
  // Fails with the connect() errno (ENOENT, ECONNREFUSED: no agent; EACCES: the
  // socket's mode keeps this user out) and the message "cannot connect to PATH".
  static Result<std::unique_ptr<Client>> connect(const std::string& socket_path);

  // Sends one request; `fds` ride with it (the agent takes none: tests check
  // that it refuses them). Returns its id.
  Result<int64_t> send(Method method, const nlohmann::json& params, std::span<const int> fds = {});
  // The next message: a reply or an event. ETIMEDOUT after `timeout` (0: only
  // what can be read without blocking); ECONNRESET
  // with "the agent closed the connection" at end of stream.
  Result<Message> read(std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  // Sends and waits for the reply to that request. Messages for other requests
  // that arrive meanwhile are kept for read(). An error with no id (the agent
  // refused the connection or the framing) is returned as the reply.
  Result<Message> call(Method method, const nlohmann::json& params, std::span<const int> fds = {},
                       std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  // For poll(): readable when read() may return without blocking. Check
  // has_buffered() first: a message may already wait in the buffer.
  [[nodiscard]] int fd() const { return fd_.get(); }
  [[nodiscard]] bool has_buffered();
  [[nodiscard]] const std::string& socket_path() const { return path_; }

  // Descriptors arrive no later than the reply that names them ("fds" in a
  // run's reply), in order: the oldest n received and not yet taken; fewer
  // when fewer came.
  std::vector<UniqueFd> take_fds(size_t n);

 private:
  Client(UniqueFd fd, std::string path);
  // One complete line from the buffer, if there is one.
  std::optional<Result<Message>> buffered_message();

  UniqueFd fd_;
  std::string path_;
  LineBuffer input_{kMaxResponseLine};
  std::deque<Message> stash_;  // read ahead by call()
  std::optional<Message> peeked_;
  std::deque<UniqueFd> fds_;
  int64_t next_id_ = 1;
  bool eof_ = false;
};

}  // namespace bulkhead::api
