// The control API server (protocol: docs/api.md, "bulkhead.api/v1"). It lives on
// the agent's EventLoop: every socket is non-blocking and every buffer bounded,
// so no client, slow or hostile, can stall the loop or grow the agent's memory.
//
// Lifetime: destroy the Server before the Backend and the EventLoop it was given.
// Runs still attached to a connection are left to the agent (whose shutdown
// stops every workload); exit callbacks that arrive after the Server is gone are
// ignored.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/backend.h"
#include "api/connection.h"
#include "api/listen_socket.h"
#include "api/protocol.h"
#include "common/result.h"
#include "daemon/event_loop.h"
#include "events/event_bus.h"

namespace bulkhead::api {

struct ServerOptions {
  // Members of this group may use the API (besides root). When the group does
  // not exist the socket is root-only (0600).
  std::string access_group = "bulkhead";
  size_t max_connections = 64;
  size_t max_request_line = kMaxRequestLine;
  size_t max_output = size_t{8} * 1024 * 1024;
  // An `events --follow` stream queues events only while the connection's
  // unsent output stays below this; beyond it they are dropped and counted,
  // and the client is told in-stream once it has caught up.
  size_t max_stream_buffer = size_t{1024} * 1024;
};

class Server {
 public:
  static Result<std::unique_ptr<Server>> create(const std::string& socket_path, Backend& backend,
                                                daemon::EventLoop& loop,
                                                ServerOptions options = {});
  ~Server();  // closes every connection and unlinks the socket
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  [[nodiscard]] const std::string& socket_path() const { return socket_.path(); }
  [[nodiscard]] size_t connection_count() const { return connections_.size(); }
  [[nodiscard]] std::optional<gid_t> access_gid() const { return access_gid_; }

 private:
  // A `run` whose exit event is still owed to the connection that started it.
  struct RunWatch {
    uint64_t connection = 0;  // 0 once the connection is gone
    int64_t request_id = 0;
    std::string tenant;
    std::string workload;
    bool started = false;                             // the "started" reply was queued
    std::optional<isolation::ExitStatus> early_exit;  // exited before started was sent
  };

  // One reply line, and the descriptors that go with it (a run's stdio ends).
  struct Reply {
    Reply(std::string l) : line(std::move(l)) {}  // NOLINT(google-explicit-constructor)
    std::string line;
    std::vector<UniqueFd> fds;
  };

  Server(ListeningSocket socket, Backend& backend, daemon::EventLoop& loop, ServerOptions options,
         std::optional<gid_t> access_gid);

  // server.cc: connections and I/O.
  void on_accept();
  void admit(UniqueFd fd);
  void refuse(int fd, std::optional<int64_t> id, const ApiError& error);
  void on_client(uint64_t id, uint32_t events);
  void process_lines(Connection& c);
  [[nodiscard]] bool finished(const Connection& c) const;
  void send(Connection& c, const std::string& line, std::vector<UniqueFd> fds = {});
  void update_interest(Connection& c);
  void close_connection(uint64_t id);
  void on_run_exit(const std::shared_ptr<RunWatch>& watch, const isolation::ExitStatus& status);

  // An `events --follow` subscription streaming to one connection.
  struct StreamWatch {
    uint64_t connection = 0;
    int64_t request_id = 0;
    events::EventBus::SubscriberId subscription = 0;
    uint64_t unreported = 0;  // dropped since the last notice
    uint64_t dropped = 0;     // in total
  };

  // server_events.cc: the events method and its streams.
  std::string do_events(Connection& c, const Request& req);
  void on_stream_event(uint64_t stream, const events::Event& event);
  void send_drop_notices(Connection& c);
  [[nodiscard]] bool has_streams(uint64_t connection) const;
  void end_streams(uint64_t connection);

  // server_dispatch.cc: one request in, one reply line out.
  Reply dispatch(Connection& c, const Request& req);
  std::string do_ps(const Request& req);
  Reply do_run(Connection& c, const Request& req);
  std::string do_signal(const Request& req);
  std::string do_stop(const Request& req);
  std::string do_reload(const Request& req);
  std::string do_check(const Request& req);
  std::optional<ApiError> check_tenant(const std::string& tenant) const;
  std::optional<ApiError> check_workload(const std::string& tenant,
                                         const std::string& workload) const;

  ListeningSocket socket_;
  Backend& backend_;
  daemon::EventLoop& loop_;
  ServerOptions options_;
  std::optional<gid_t> access_gid_;
  uint64_t next_connection_ = 1;
  std::map<uint64_t, std::unique_ptr<Connection>> connections_;
  std::multimap<uint64_t, std::shared_ptr<RunWatch>> runs_;  // by connection id
  std::map<uint64_t, StreamWatch> streams_;                  // by stream id
  uint64_t next_stream_ = 1;
  // Exit callbacks hold a weak reference: they may outlive the Server.
  std::shared_ptr<Server*> self_;
};

}  // namespace bulkhead::api
