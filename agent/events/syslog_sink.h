// Events to a syslog daemon, RFC 5424 messages (syslog_format.h) over:
// - a Unix datagram socket (syslog+unix:/dev/log): one message per datagram;
// - UDP (RFC 5426): one message per datagram;
// - TCP (RFC 6587, octet counting): a batch goes out as one stream of frames.
//   A lost connection is re-established with exponential backoff (100 ms up
//   to 5 s); meanwhile the writer waits and the bounded queue in front of it
//   absorbs the events, then drops them, counting. Frames the connection
//   accepted completely are not sent again; the one it broke off is.
// Sends time out (2 s), so a stuck collector costs events, never the agent.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"
#include "events/sink.h"
#include "events/sink_spec.h"
#include "events/syslog_format.h"

namespace bulkhead::events {

class SyslogSink final : public Sink {
 public:
  // Resolves the address; a Unix socket path must exist and be a socket. A TCP
  // collector that is down is not an error: it is retried.
  static Result<std::unique_ptr<SyslogSink>> create(const SinkSpec& spec, const std::string& host);
  void write(std::span<const EventPtr> batch, std::stop_token stop) override;

 private:
  SyslogSink(SinkKind kind, std::string target, SyslogHeader header, std::string host);
  Status connect_now();
  // TCP: connects, waiting out the backoff; false when stop was requested first.
  bool reconnect(const std::stop_token& stop);
  void write_datagrams(std::span<const EventPtr> batch);
  void write_stream(std::span<const EventPtr> batch, const std::stop_token& stop);

  SinkKind kind_;
  std::string target_;  // for messages: the path or host:port
  SyslogHeader header_;
  std::string host_;
  sockaddr_storage addr_{};
  socklen_t addr_len_ = 0;
  UniqueFd fd_;
  std::string buf_;
  std::vector<size_t> frame_starts_;
  std::chrono::milliseconds backoff_{0};
  bool warned_ = false;  // one warning per failure streak
};

}  // namespace bulkhead::events
