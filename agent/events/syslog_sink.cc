#include "events/syslog_sink.h"

#include <netdb.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>

namespace bulkhead::events {
namespace {

constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{5000};
constexpr timeval kSendTimeout{2, 0};

// Sleeps for `d` unless stop is requested first; false then.
bool sleep_unless_stopped(std::chrono::milliseconds d, const std::stop_token& stop) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  return !cv.wait_for(lock, stop, d, [] { return false; }) && !stop.stop_requested();
}

}  // namespace

SyslogSink::SyslogSink(SinkKind kind, std::string target, SyslogHeader header, std::string host)
    : kind_(kind), target_(std::move(target)), header_(std::move(header)), host_(std::move(host)) {}

Result<std::unique_ptr<SyslogSink>> SyslogSink::create(const SinkSpec& spec,
                                                       const std::string& host) {
  SyslogHeader header;
  header.facility = spec.facility;
  header.hostname = host;
  header.procid = ::getpid();
  const bool unix_socket = spec.kind == SinkKind::kSyslogUnix;
  std::string target = unix_socket ? spec.path : spec.host + ":" + std::to_string(spec.port);
  std::unique_ptr<SyslogSink> sink(new SyslogSink(spec.kind, target, header, host));
  if (unix_socket) {
    struct stat st {};
    if (::stat(spec.path.c_str(), &st) != 0) {
      return errno_error(spec.path);
    }
    if (!S_ISSOCK(st.st_mode)) {
      return make_error(spec.path + ": not a socket");
    }
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (spec.path.size() >= sizeof(sun.sun_path)) {
      return make_error(spec.path + ": path too long for a Unix socket");
    }
    std::memcpy(sun.sun_path, spec.path.c_str(), spec.path.size() + 1);
    std::memcpy(&sink->addr_, &sun, sizeof(sun));
    sink->addr_len_ = sizeof(sun);
  } else {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = spec.kind == SinkKind::kSyslogTcp ? SOCK_STREAM : SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(spec.port);
    if (int rc = ::getaddrinfo(spec.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
      return make_error("cannot resolve " + spec.host + ": " + ::gai_strerror(rc));
    }
    std::memcpy(&sink->addr_, found->ai_addr, found->ai_addrlen);
    sink->addr_len_ = found->ai_addrlen;
    ::freeaddrinfo(found);
  }
  if (auto s = sink->connect_now(); !s.ok()) {
    if (spec.kind != SinkKind::kSyslogTcp) {
      return s.error();
    }
    spdlog::warn("event sink {}: {}; retrying when events come", spec.text, s.error().to_string());
  }
  return sink;
}

Status SyslogSink::connect_now() {
  fd_.reset();
  const int type = kind_ == SinkKind::kSyslogTcp ? SOCK_STREAM : SOCK_DGRAM;
  UniqueFd fd(::socket(addr_.ss_family, type | SOCK_CLOEXEC, 0));
  if (!fd) {
    return errno_error("socket for " + target_);
  }
  // Bounds connect() (TCP) and every send: a stuck collector costs events only.
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &kSendTimeout, sizeof(kSendTimeout));
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr_), addr_len_) != 0) {
    return errno_error("cannot connect to " + target_);
  }
  fd_ = std::move(fd);
  return {};
}

void SyslogSink::write(std::span<const EventPtr> batch, std::stop_token stop) {
  if (kind_ == SinkKind::kSyslogTcp) {
    write_stream(batch, stop);
  } else {
    write_datagrams(batch);
  }
}

void SyslogSink::write_datagrams(std::span<const EventPtr> batch) {
  for (const EventPtr& e : batch) {
    buf_.clear();
    append_syslog_message(buf_, *e, header_, host_);
    bool sent = false;
    // A restarted syslog daemon has a new socket: reconnect once and retry.
    for (int attempt = 0; attempt < 2 && !sent; ++attempt) {
      if (!fd_ && !connect_now().ok()) {
        continue;
      }
      ssize_t n;
      do {
        n = ::send(fd_.get(), buf_.data(), buf_.size(), MSG_NOSIGNAL);
      } while (n < 0 && errno == EINTR);
      if (n >= 0) {
        sent = true;
      } else if (errno == ECONNREFUSED || errno == ENOTCONN || errno == ENOENT) {
        fd_.reset();
      } else {
        break;  // EMSGSIZE, a timeout: this message is lost, the socket is fine
      }
    }
    if (!sent) {
      count_failed(1);
      if (!warned_) {
        spdlog::warn("event sink syslog {}: send failed: {}; counting lost events", target_,
                     std::strerror(errno));
        warned_ = true;
      }
    } else {
      warned_ = false;
    }
  }
}

bool SyslogSink::reconnect(const std::stop_token& stop) {
  while (!stop.stop_requested()) {
    if (backoff_.count() > 0 && !sleep_unless_stopped(backoff_, stop)) {
      return false;
    }
    auto s = connect_now();
    if (s.ok()) {
      if (warned_) {
        spdlog::info("event sink syslog {}: connected again", target_);
      }
      backoff_ = std::chrono::milliseconds(0);
      warned_ = false;
      return true;
    }
    if (!warned_) {
      spdlog::warn("event sink syslog {}: {}; retrying with backoff", target_,
                   s.error().to_string());
      warned_ = true;
    }
    backoff_ = std::clamp(backoff_ * 2, kFirstBackoff, kMaxBackoff);
  }
  return false;
}

void SyslogSink::write_stream(std::span<const EventPtr> batch, const std::stop_token& stop) {
  buf_.clear();
  frame_starts_.clear();
  std::string message;
  for (const EventPtr& e : batch) {
    message.clear();
    append_syslog_message(message, *e, header_, host_);
    frame_starts_.push_back(buf_.size());
    append_octet_counted(buf_, message);
  }
  size_t sent = 0;
  while (sent < buf_.size()) {
    if (!fd_ && !reconnect(stop)) {
      break;
    }
    ssize_t n = ::send(fd_.get(), buf_.data() + sent, buf_.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (!warned_) {
      spdlog::warn("event sink syslog {}: send failed: {}; reconnecting", target_,
                   n < 0 ? std::strerror(errno) : "closed");
      warned_ = true;
    }
    fd_.reset();
    backoff_ = std::max(backoff_, kFirstBackoff);
    // Resend from the start of the frame that was broken off.
    auto it = std::upper_bound(frame_starts_.begin(), frame_starts_.end(), sent);
    sent = *std::prev(it);
  }
  if (sent < buf_.size()) {
    // Stopped before everything went out: the frames not completely sent are lost.
    auto it = std::upper_bound(frame_starts_.begin(), frame_starts_.end(), sent);
    const auto complete = static_cast<size_t>(std::distance(frame_starts_.begin(), it)) - 1;
    count_failed(frame_starts_.size() - complete);
  }
}

}  // namespace bulkhead::events
