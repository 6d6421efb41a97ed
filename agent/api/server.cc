#include "api/server.h"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cstring>

#include "api/codec.h"

namespace bulkhead::api {
namespace {

constexpr size_t kReadBudget = size_t{256} * 1024;
constexpr int kBacklog = 64;

}  // namespace

Result<std::unique_ptr<Server>> Server::create(const std::string& socket_path, Backend& backend,
                                               daemon::EventLoop& loop, ServerOptions options) {
  std::optional<gid_t> gid = lookup_group(options.access_group);
  if (!gid) {
    spdlog::info("group '{}' does not exist: the API socket is root-only", options.access_group);
  }
  auto socket = ListeningSocket::create(socket_path, gid, kBacklog);
  if (!socket.ok()) {
    return socket.error().context("control socket");
  }
  std::unique_ptr<Server> server(
      new Server(std::move(*socket), backend, loop, std::move(options), gid));
  Server* raw = server.get();
  BULKHEAD_TRY_CTX(loop.add_fd(raw->socket_.fd(), EPOLLIN, [raw](uint32_t) { raw->on_accept(); }),
                   "watching the control socket");
  spdlog::debug("control API listening on {} ({})", socket_path, kApiVersion);
  return server;
}

Server::Server(ListeningSocket socket, Backend& backend, daemon::EventLoop& loop,
               ServerOptions options, std::optional<gid_t> access_gid)
    : socket_(std::move(socket)),
      backend_(backend),
      loop_(loop),
      options_(std::move(options)),
      access_gid_(access_gid),
      self_(std::make_shared<Server*>(this)) {}

Server::~Server() {
  self_.reset();
  for (const auto& [id, stream] : streams_) {
    backend_.event_bus()->unsubscribe(stream.subscription);
  }
  streams_.clear();
  for (auto& [id, c] : connections_) {
    loop_.remove_fd(c->fd());
  }
  connections_.clear();
  if (socket_.fd() >= 0) {
    loop_.remove_fd(socket_.fd());
  }
}

void Server::on_accept() {
  // Bounded, so that a connect storm still lets the loop serve everything else.
  for (int i = 0; i < kBacklog; ++i) {
    UniqueFd fd(::accept4(socket_.fd(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd) {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
        spdlog::warn("control API: accept: {}", std::strerror(errno));
      }
      return;
    }
    admit(std::move(fd));
  }
}

void Server::admit(UniqueFd fd) {
  auto peer = read_peer_credentials(fd.get());
  if (!peer.ok()) {
    spdlog::warn("control API: {}; closing the connection", peer.error().to_string());
    return;
  }
  if (!peer_allowed(*peer, access_gid_)) {
    spdlog::warn("control API: refused uid {} pid {} (needs root or group {})", peer->uid,
                 peer->pid, options_.access_group);
    ApiError e;
    e.code = ErrorCode::kPermissionDenied;
    e.message = "permission denied: the control API is for root and members of group " +
                options_.access_group;
    refuse(fd.get(), std::nullopt, e);
    return;
  }
  if (connections_.size() >= options_.max_connections) {
    spdlog::warn("control API: refused uid {} pid {}: {} connections already open", peer->uid,
                 peer->pid, connections_.size());
    ApiError e;
    e.code = ErrorCode::kInternal;
    e.message = "too many connections (limit " + std::to_string(options_.max_connections) + ")";
    refuse(fd.get(), std::nullopt, e);
    return;
  }
  const uint64_t id = next_connection_++;
  const int raw_fd = fd.get();
  ConnectionLimits limits{options_.max_request_line, options_.max_output, kReadBudget};
  auto conn = std::make_unique<Connection>(id, std::move(fd), std::move(*peer), limits);
  spdlog::debug("control API: connection {} from uid {} pid {}", id, conn->peer().uid,
                conn->peer().pid);
  connections_.emplace(id, std::move(conn));
  if (auto s = loop_.add_fd(raw_fd, EPOLLIN, [this, id](uint32_t ev) { on_client(id, ev); });
      !s.ok()) {
    spdlog::warn("control API: {}", s.error().to_string());
    connections_.erase(id);
  }
}

void Server::refuse(int fd, std::optional<int64_t> id, const ApiError& error) {
  // Best effort: one small line fits any fresh socket buffer; then the caller closes.
  std::string line = encode_error(id, error);
  (void)::send(fd, line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

void Server::on_client(uint64_t id, uint32_t events) {
  auto it = connections_.find(id);
  if (it == connections_.end()) {
    return;
  }
  Connection& c = *it->second;
  if ((events & EPOLLOUT) != 0) {
    if (!c.flush()) {
      close_connection(id);
      return;
    }
    send_drop_notices(c);  // a stream that dropped events has room again
  }
  // HUP: both directions are shut, i.e. the client closed its socket (a mere
  // shutdown(SHUT_WR) shows up as end of stream instead).
  bool gone = (events & (EPOLLHUP | EPOLLERR)) != 0;
  if (!c.closing && !c.eof && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
    switch (c.read_available()) {
      case Connection::ReadOutcome::kOpen:
        break;
      case Connection::ReadOutcome::kEof:
        c.eof = true;
        break;
      case Connection::ReadOutcome::kError:
        gone = true;
        break;
      case Connection::ReadOutcome::kDescriptors:
        // Fail closed: the agent never takes a client's descriptors, so none
        // can ever be handed on to a tenant.
        c.closing = true;
        send(c, encode_error(std::nullopt,
                             ApiError::field("fds",
                                             "the control API takes no file descriptors (run "
                                             "gives the workload a terminal or pipes of the "
                                             "agent's making and returns their other ends)")));
        break;
    }
  }
  // Also after EPOLLOUT: requests wait in the buffer while replies pile up.
  process_lines(c);
  if (gone) {
    close_connection(id);  // nobody is left to read replies; its runs are stopped
    return;
  }
  if (finished(c)) {
    close_connection(id);
    return;
  }
  update_interest(c);
}

bool Server::finished(const Connection& c) const {
  // Closed once everything owed was delivered: after a fatal error, the reply;
  // after the client's end of stream, the replies and its runs' exit events.
  // An event stream lasts until the client closes the connection.
  return c.unsent() == 0 &&
         (c.closing || (c.eof && runs_.count(c.id()) == 0 && !has_streams(c.id())));
}

void Server::process_lines(Connection& c) {
  while (!c.closing) {
    // Stop reading requests while replies pile up: the client is not reading them.
    if (c.unsent() > options_.max_output / 2) {
      return;
    }
    auto line = c.next_line();
    if (!line) {
      break;
    }
    if (line->find_first_not_of(" \t\r") == std::string::npos) {
      continue;  // blank lines are harmless (e.g. typed into socat)
    }
    ParsedLine parsed = parse_request_line(*line);
    if (!parsed.request) {
      if (parsed.fatal) {
        c.closing = true;
      }
      send(c, encode_error(parsed.id, *parsed.error));
      continue;
    }
    Reply reply("");
    try {
      reply = dispatch(c, *parsed.request);
    } catch (const std::exception& e) {
      // A bug or bad_alloc below must cost one request, not the agent.
      spdlog::error("control API: {} failed: {}", method_name(parsed.request->method), e.what());
      ApiError err;
      err.message = std::string("internal error: ") + e.what();
      reply = encode_error(parsed.request->id, err);
    }
    send(c, reply.line, std::move(reply.fds));
  }
  if (c.overflowed() && !c.closing) {
    c.closing = true;
    send(c, encode_error(std::nullopt,
                         ApiError::field("request", "line longer than " +
                                                        std::to_string(options_.max_request_line) +
                                                        " bytes")));
  }
}

void Server::send(Connection& c, const std::string& line, std::vector<UniqueFd> fds) {
  if (!c.queue(line, std::move(fds))) {
    spdlog::warn("control API: connection {} (uid {}) does not read its replies; dropping it",
                 c.id(), c.peer().uid);
    c.closing = true;
    return;
  }
  if (!c.flush()) {
    c.closing = true;
  }
}

void Server::update_interest(Connection& c) {
  uint32_t events = 0;
  if (!c.closing && !c.eof && c.unsent() <= options_.max_output / 2) {
    events |= EPOLLIN;
  }
  if (c.unsent() > 0) {
    events |= EPOLLOUT;
  }
  if (auto s = loop_.modify_fd(c.fd(), events); !s.ok()) {
    spdlog::warn("control API: {}", s.error().to_string());
  }
}

void Server::close_connection(uint64_t id) {
  auto it = connections_.find(id);
  if (it == connections_.end()) {
    return;
  }
  loop_.remove_fd(it->second->fd());
  connections_.erase(it);
  end_streams(id);
  // Like `docker run` without -d: when the client goes, its runs are stopped
  // (SIGTERM, then SIGKILL after the agent's grace period).
  auto [first, last] = runs_.equal_range(id);
  for (auto r = first; r != last; ++r) {
    RunWatch& w = *r->second;
    w.connection = 0;
    spdlog::info("control API: client of run {}/{} left; stopping it", w.tenant, w.workload);
    if (auto s = backend_.stop(w.tenant, w.workload); !s.ok()) {
      spdlog::warn("control API: stopping {}/{}: {}", w.tenant, w.workload, s.error().to_string());
    }
  }
  runs_.erase(id);
}

void Server::on_run_exit(const std::shared_ptr<RunWatch>& watch,
                         const isolation::ExitStatus& status) {
  if (!watch->started) {
    watch->early_exit = status;  // do_run sends it after the "started" reply
    return;
  }
  const uint64_t conn_id = watch->connection;
  auto [first, last] = runs_.equal_range(conn_id);
  for (auto r = first; r != last; ++r) {
    if (r->second == watch) {
      runs_.erase(r);
      break;
    }
  }
  auto it = connections_.find(conn_id);
  if (conn_id == 0 || it == connections_.end()) {
    return;
  }
  Connection& c = *it->second;
  send(c, encode_event(watch->request_id, "exit", nlohmann::json{{"status", to_json(status)}}));
  if (finished(c)) {
    close_connection(conn_id);
    return;
  }
  update_interest(c);
}

}  // namespace bulkhead::api
