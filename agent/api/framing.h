// Framing of newline-delimited JSON on a stream socket, and moving file
// descriptors with SCM_RIGHTS. A stream has no message boundaries: a line can
// arrive in pieces and several lines in one read, so both sides buffer.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace bulkhead::api {

// Splits a byte stream into lines, refusing any line longer than max_line
// (counted without its '\n'), whether or not its end has arrived yet.
class LineBuffer {
 public:
  explicit LineBuffer(size_t max_line) : max_line_(max_line) {}

  void append(std::string_view data);
  // The next complete line without "\n" (or "\r\n"); nullopt when none is complete
  // or the buffer overflowed.
  std::optional<std::string> next_line();
  // Once true, stays true: the stream cannot be resynchronised.
  [[nodiscard]] bool overflowed() const { return overflow_; }
  // Bytes of a line not yet complete (for "the peer closed mid-line").
  [[nodiscard]] size_t pending() const { return buf_.size() - start_; }

 private:
  size_t max_line_;
  std::string buf_;
  size_t start_ = 0;  // first byte not yet returned
  size_t scan_ = 0;   // bytes before this are known to hold no '\n'
  bool overflow_ = false;
};

// The most descriptors one message may carry (a run's reply carries 1 or 3).
inline constexpr size_t kMaxFdsPerMessage = 8;

// Writes all of `data`; `fds` ride with its first byte. For blocking sockets
// (the client); retries partial writes and EINTR. Never raises SIGPIPE.
Status send_all(int sock, std::string_view data, std::span<const int> fds = {});

// One non-blocking sendmsg of (a prefix of) `data`, `fds` riding with its first
// byte (the agent's side). Returns the bytes sent; EAGAIN when the socket is
// full (nothing was sent, and the descriptors were not either). Never raises SIGPIPE.
Result<size_t> send_some(int sock, std::string_view data, std::span<const int> fds = {});

// One recvmsg of up to `max` bytes appended to `out`. Descriptors that came
// with them are appended to `fds` (close-on-exec). Returns the byte count, 0 at
// end of stream. Fails with EAGAIN on an empty non-blocking socket, and with
// EMSGSIZE when more descriptors came than a message may carry (those that fit
// are still returned in `fds`, so they get closed).
Result<size_t> recv_some(int sock, std::string& out, std::vector<UniqueFd>& fds, size_t max);

}  // namespace bulkhead::api
