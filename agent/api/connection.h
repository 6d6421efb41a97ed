// One client connection of the server: a non-blocking socket with bounded input
// (line framing; clients send no descriptors) and bounded output, which may
// carry descriptors (a run's stdio ends). It never blocks: what the socket does
// not take now waits in the output buffer, and a client that lets that buffer
// fill up is dropped instead of stalling the agent's loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/framing.h"
#include "api/peer_cred.h"
#include "common/unique_fd.h"

namespace bulkhead::api {

struct ConnectionLimits {
  size_t max_line = 0;     // request line bound
  size_t max_output = 0;   // buffered, unsent reply bytes before the client is dropped
  size_t read_budget = 0;  // bytes read per wake-up, so one client cannot hog the loop
};

class Connection {
 public:
  Connection(uint64_t id, UniqueFd fd, PeerCredentials peer, ConnectionLimits limits);

  enum class ReadOutcome {
    kOpen,         // read what there was; the peer may send more
    kEof,          // the peer closed (or shut down) its side
    kDescriptors,  // the peer sent file descriptors: protocol violation (closed at once)
    kError,        // the socket failed
  };
  // Reads until EAGAIN or the read budget is spent.
  ReadOutcome read_available();
  // The next complete request line; nullopt when none or the line bound was exceeded.
  std::optional<std::string> next_line() { return input_.next_line(); }
  [[nodiscard]] bool overflowed() const { return input_.overflowed(); }

  // Queues one encoded line and the descriptors that go with its first byte;
  // false (nothing queued) when that would exceed the output bound.
  bool queue(const std::string& line, std::vector<UniqueFd> fds = {});
  // Sends what the socket takes now; false when the peer is gone.
  bool flush();
  [[nodiscard]] size_t unsent() const { return output_.size() - sent_; }

  [[nodiscard]] uint64_t id() const { return id_; }
  [[nodiscard]] int fd() const { return fd_.get(); }
  [[nodiscard]] const PeerCredentials& peer() const { return peer_; }

  // Set when no more requests are read: the reply in flight is the last.
  bool closing = false;
  // The peer shut down its sending side: no more requests, but it may still
  // be reading replies and exit events.
  bool eof = false;

 private:
  uint64_t id_;
  UniqueFd fd_;
  PeerCredentials peer_;
  ConnectionLimits limits_;
  // Descriptors to send with the byte at `offset` of the output stream; held
  // until the kernel has them (or the connection goes).
  struct Attachment {
    uint64_t offset = 0;
    std::vector<UniqueFd> fds;
  };

  LineBuffer input_;
  std::string output_;
  size_t sent_ = 0;
  uint64_t dropped_ = 0;  // stream offset of output_[0]
  std::deque<Attachment> attachments_;
};

}  // namespace bulkhead::api
