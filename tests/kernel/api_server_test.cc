// The control API server over a fake Backend, in-process (no sandboxes): socket
// mode and ownership, stale and live sockets, peer credentials with real
// unprivileged peers, framing limits, slow clients, and the stdio ends a run's
// reply carries (and the descriptors a client may not send).
// Root: the tests chown sockets and fork children that drop to uid 65534.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <array>
#include <csignal>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "api/client.h"
#include "api/server.h"
#include "kernel_test_env.h"
#include "sandbox_fixture.h"

namespace bulkhead::api {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using testing::TempDir;

constexpr milliseconds kWait{5000};
constexpr gid_t kNobody = 65534;
const char* const kNoGroup = "bulkhead-api-test-no-such-group";

// The name of group 65534 on this host ("nogroup" on Debian, "nobody" elsewhere),
// looked up rather than assumed; empty when the host has no such group.
std::string nobody_group() {
  const group* g = ::getgrgid(kNobody);
  return g != nullptr ? g->gr_name : "";
}

// Records what the server asked for; all state behind a mutex because the
// server calls it on the loop thread while the test thread inspects it.
class FakeBackend final : public Backend {
 public:
  struct Run {
    daemon::AdhocRun request;
    std::vector<UniqueFd> workload;  // the workload's ends of its stdio (socketpairs here)
    ExitCallback on_exit;
    std::string name;
  };

  daemon::AgentStatus status() const override {
    daemon::AgentStatus s;
    s.version = "test";
    s.pid = ::getpid();
    s.tenants = 1;
    return s;
  }
  std::vector<daemon::TenantInfo> tenants() const override {
    daemon::TenantInfo t;
    t.name = "alpha";
    return {t};
  }
  std::vector<daemon::WorkloadInfo> workloads(
      const std::optional<std::string>& tenant) const override {
    std::lock_guard lock(mu_);
    std::vector<daemon::WorkloadInfo> out;
    for (const auto& [name, run] : runs_) {
      if (!tenant || *tenant == run->request.tenant) {
        daemon::WorkloadInfo w;
        w.tenant = run->request.tenant;
        w.name = name;
        w.kind = daemon::WorkloadKind::kAdhoc;
        w.state = "running";
        w.command = run->request.argv;
        out.push_back(w);
      }
    }
    for (size_t i = 0; i < padding_workloads_; ++i) {
      daemon::WorkloadInfo w;
      w.tenant = "alpha";
      w.name = "pad-" + std::to_string(i);
      w.command = {std::string(200, 'p')};
      out.push_back(w);
    }
    return out;
  }
  Result<daemon::StartedRun> run(const daemon::AdhocRun& req, ExitCallback on_exit) override {
    std::lock_guard lock(mu_);
    if (req.argv.at(0) == "fail") {
      return make_error("cannot exec fail");
    }
    auto r = std::make_shared<Run>();
    r->request = req;
    // As the agent: a terminal's master, or three pipes' other ends.
    daemon::StartedRun started;
    for (size_t i = 0; i < (req.tty ? 1U : 3U); ++i) {
      int sv[2];
      EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
      r->workload.emplace_back(sv[0]);
      started.stdio.emplace_back(sv[1]);
    }
    r->name = req.name.empty() ? "run-" + std::to_string(++counter_) : req.name;
    r->on_exit = std::move(on_exit);
    runs_[r->name] = r;
    daemon::WorkloadInfo w;
    w.tenant = req.tenant;
    w.name = r->name;
    w.kind = daemon::WorkloadKind::kAdhoc;
    w.state = "running";
    w.pid = 1234;
    w.command = req.argv;
    if (req.argv.at(0) == "instant") {
      // Ends before run() returns: the server must still answer "started" first.
      r->on_exit(isolation::ExitStatus{false, 7});
      runs_.erase(r->name);
    }
    started.info = w;
    return started;
  }
  Status signal(const std::string& tenant, const std::string& workload, int sig) override {
    std::lock_guard lock(mu_);
    signals_.push_back(tenant + "/" + workload + ":" + std::to_string(sig));
    return {};
  }
  Status stop(const std::string& tenant, const std::string& workload) override {
    std::lock_guard lock(mu_);
    stops_.push_back(tenant + "/" + workload);
    return {};
  }
  daemon::ReloadReport reload() override {
    daemon::ReloadReport r;
    r.ok = false;
    r.errors.push_back(config::ProfileError{"/etc/bulkhead/a.yaml", 3, 7, "limits.pids", "bad"});
    return r;
  }
  CheckReport check_profile(const std::string& yaml, const std::string& name) const override {
    return check_profile_text(yaml, name);
  }

  // Test side: what has happened so far.
  std::shared_ptr<Run> find_run(const std::string& name) {
    std::lock_guard lock(mu_);
    auto it = runs_.find(name);
    return it == runs_.end() ? nullptr : it->second;
  }
  // Loop side: ends a run as the agent would.
  void finish(const std::string& name, isolation::ExitStatus status) {
    std::shared_ptr<Run> r;
    {
      std::lock_guard lock(mu_);
      r = runs_.at(name);
      runs_.erase(name);
    }
    r->on_exit(status);
  }
  std::vector<std::string> stops() {
    std::lock_guard lock(mu_);
    return stops_;
  }
  std::vector<std::string> signals() {
    std::lock_guard lock(mu_);
    return signals_;
  }
  void set_padding(size_t n) {
    std::lock_guard lock(mu_);
    padding_workloads_ = n;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Run>> runs_;
  std::vector<std::string> stops_;
  std::vector<std::string> signals_;
  size_t padding_workloads_ = 0;
  int counter_ = 0;
};

// An EventLoop on its own thread, with a way to run code on it.
class LoopThread {
 public:
  LoopThread() {
    auto loop = daemon::EventLoop::create();
    EXPECT_TRUE(loop.ok());
    loop_ = std::move(*loop);
    wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    EXPECT_TRUE(loop_->add_fd(wake_.get(), EPOLLIN, [this](uint32_t) { drain(); }).ok());
  }
  ~LoopThread() { stop(); }

  void start() {
    thread_ = std::thread([this] { (void)loop_->run(); });
  }
  void stop() {
    if (thread_.joinable()) {
      post([this] { loop_->stop(); });
      thread_.join();
    }
  }
  // Runs fn on the loop thread (or directly when the loop is not running).
  void post(std::function<void()> fn) {
    {
      std::lock_guard lock(mu_);
      posted_.push_back(std::move(fn));
    }
    uint64_t one = 1;
    (void)::write(wake_.get(), &one, sizeof(one));
  }
  daemon::EventLoop& loop() { return *loop_; }

 private:
  void drain() {
    uint64_t n;
    (void)::read(wake_.get(), &n, sizeof(n));
    std::deque<std::function<void()>> todo;
    {
      std::lock_guard lock(mu_);
      todo.swap(posted_);
    }
    for (auto& fn : todo) {
      fn();
    }
  }

  std::unique_ptr<daemon::EventLoop> loop_;
  UniqueFd wake_;
  std::mutex mu_;
  std::deque<std::function<void()>> posted_;
  std::thread thread_;
};

class ApiServer : public ::testing::Test {
 protected:
  void SetUp() override {
    BULKHEAD_REQUIRE_ROOT();
    socket_ = dir_.path() + "/run/bulkhead.sock";
  }
  void TearDown() override {
    loop_.stop();
    server_.reset();
  }

  void start(ServerOptions options = {}) {
    if (options.access_group == "bulkhead") {
      options.access_group = kNoGroup;  // the host's real group must not matter here
    }
    auto s = Server::create(socket_, backend_, loop_.loop(), options);
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    server_ = std::move(*s);
    loop_.start();
  }

  std::unique_ptr<Client> connect() {
    auto c = Client::connect(socket_);
    EXPECT_TRUE(c.ok()) << c.error().to_string();
    return c.ok() ? std::move(*c) : nullptr;
  }

  // Waits (bounded) until pred holds.
  static bool eventually(const std::function<bool()>& pred) {
    auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) {
        return true;
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    return pred();
  }

  TempDir dir_;
  std::string socket_;
  FakeBackend backend_;
  LoopThread loop_;
  std::unique_ptr<Server> server_;
};

struct stat stat_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path << ": " << std::strerror(errno);
  return st;
}

// Reads from a raw socket until EOF (bounded): what a refused client sees.
std::string read_to_eof(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(kWait.count())) <= 0) {
      out += "<timeout>";
      return out;
    }
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0) {
      return out;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

UniqueFd raw_connect(const std::string& path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0)
      << std::strerror(errno);
  return fd;
}

struct ChildResult {
  int connect_errno = 0;
  std::string received;
};

// Forks a child that takes uid 65534 with the given gid and groups, connects,
// sends a status request and reports what it read. Only async-signal-safe calls
// run in the child: the parent has a second thread (the loop).
ChildResult connect_as_nobody(const std::string& path, gid_t gid, std::vector<gid_t> groups) {
  ChildResult result;
  int p[2];
  EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
  UniqueFd rd(p[0]);
  UniqueFd wr(p[1]);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  static const char kRequest[] = "{\"id\":1,\"method\":\"status\"}\n";
  pid_t pid = ::fork();
  if (pid == 0) {
    int out = wr.get();
    if (::setgroups(groups.size(), groups.data()) != 0 || ::setgid(gid) != 0 ||
        ::setuid(kNobody) != 0) {
      ::_exit(90);
    }
    int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      int e = errno;
      (void)::write(out, &e, sizeof(e));
      ::_exit(0);
    }
    int zero = 0;
    (void)::write(out, &zero, sizeof(zero));
    (void)::send(s, kRequest, sizeof(kRequest) - 1, MSG_NOSIGNAL);
    (void)::shutdown(s, SHUT_WR);  // done sending: the server answers, then closes
    char buf[4096];
    ssize_t n;
    while ((n = ::read(s, buf, sizeof(buf))) > 0) {
      (void)::write(out, buf, static_cast<size_t>(n));
    }
    ::_exit(0);
  }
  wr.reset();
  EXPECT_GT(pid, 0);
  EXPECT_EQ(::read(rd.get(), &result.connect_errno, sizeof(int)),
            static_cast<ssize_t>(sizeof(int)));
  result.received = read_to_eof(rd.get());
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  return result;
}

TEST_F(ApiServer, RootOnlySocketWithoutTheGroup) {
  start();
  struct stat dir = stat_of(dir_.path() + "/run");
  EXPECT_EQ(dir.st_mode & 07777, 0750U);
  EXPECT_EQ(dir.st_uid, 0U);
  EXPECT_EQ(dir.st_gid, 0U);
  struct stat sock = stat_of(socket_);
  EXPECT_TRUE(S_ISSOCK(sock.st_mode));
  EXPECT_EQ(sock.st_mode & 07777, 0600U);
  EXPECT_EQ(sock.st_uid, 0U);
  EXPECT_EQ(sock.st_gid, 0U);
  EXPECT_FALSE(server_->access_gid().has_value());
  // No temporary name is left behind.
  size_t entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir_.path() + "/run")) {
    ++entries;
  }
  EXPECT_EQ(entries, 1U);
}

TEST_F(ApiServer, GroupSocketIs0660) {
  const std::string group_name = nobody_group();
  BULKHEAD_REQUIRE(!group_name.empty(), "the host has no group 65534");
  start(ServerOptions{.access_group = group_name});
  struct stat dir = stat_of(dir_.path() + "/run");
  EXPECT_EQ(dir.st_mode & 07777, 0750U);
  EXPECT_EQ(dir.st_gid, kNobody);
  struct stat sock = stat_of(socket_);
  EXPECT_EQ(sock.st_mode & 07777, 0660U);
  EXPECT_EQ(sock.st_uid, 0U);
  EXPECT_EQ(sock.st_gid, kNobody);
}

TEST_F(ApiServer, ExistingParentDirIsLeftAlone) {
  ASSERT_EQ(::mkdir((dir_.path() + "/run").c_str(), 0711), 0);
  start();
  EXPECT_EQ(stat_of(dir_.path() + "/run").st_mode & 07777, 0711U);
}

TEST_F(ApiServer, SocketRemovedOnDestruction) {
  start();
  loop_.stop();
  server_.reset();
  struct stat st {};
  EXPECT_NE(::lstat(socket_.c_str(), &st), 0);
}

TEST_F(ApiServer, StaleSocketIsReplaced) {
  std::filesystem::create_directories(dir_.path() + "/run");
  {
    // Bound, never listened on, closed: what a crashed agent leaves.
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  }
  auto old_ino = stat_of(socket_).st_ino;
  start();
  EXPECT_NE(stat_of(socket_).st_ino, old_ino);
  auto c = connect();
  ASSERT_TRUE(c);
  auto r = c->call(Method::kStatus, json::object(), {}, kWait);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_TRUE(r->result.has_value());
}

TEST_F(ApiServer, LiveSocketIsNotTakenOver) {
  start();
  auto ino = stat_of(socket_).st_ino;
  FakeBackend other_backend;
  auto other_loop = daemon::EventLoop::create();
  ASSERT_TRUE(other_loop.ok());
  auto second =
      Server::create(socket_, other_backend, **other_loop, ServerOptions{.access_group = kNoGroup});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().to_string().find("another agent is using " + socket_), std::string::npos)
      << second.error().to_string();
  // The first agent's socket is untouched and still answers.
  EXPECT_EQ(stat_of(socket_).st_ino, ino);
  auto c = connect();
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->call(Method::kStatus, json::object(), {}, kWait).ok());
}

TEST_F(ApiServer, NonSocketAtThePathIsNeverRemoved) {
  std::filesystem::create_directories(dir_.path() + "/run");
  std::ofstream(socket_) << "precious";
  auto loop = daemon::EventLoop::create();
  ASSERT_TRUE(loop.ok());
  auto s = Server::create(socket_, backend_, **loop, ServerOptions{.access_group = kNoGroup});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().to_string().find("not a socket"), std::string::npos);
  std::ifstream in(socket_);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "precious");
}

TEST_F(ApiServer, RootIsServed) {
  start();
  auto c = connect();
  ASSERT_TRUE(c);
  auto r = c->call(Method::kStatus, json::object(), {}, kWait);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_TRUE(r->result.has_value());
  EXPECT_EQ((*r->result)["api"], "bulkhead.api/v1");
  EXPECT_EQ((*r->result)["version"], "test");
  auto t = c->call(Method::kTenants, json::object(), {}, kWait);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ((*t->result)["tenants"][0]["name"], "alpha");
}

TEST_F(ApiServer, FileModeKeepsUnprivilegedUsersOut) {
  start();
  auto r = connect_as_nobody(socket_, kNobody, {});
  EXPECT_EQ(r.connect_errno, EACCES);
}

TEST_F(ApiServer, PeerCheckRefusesUnprivilegedUsers) {
  start();
  // As if an administrator had loosened the modes: the credential check still holds.
  ASSERT_EQ(::chmod((dir_.path() + "/run").c_str(), 0755), 0);
  ASSERT_EQ(::chmod(socket_.c_str(), 0666), 0);
  auto r = connect_as_nobody(socket_, 12345, {12346});
  ASSERT_EQ(r.connect_errno, 0);
  ASSERT_FALSE(r.received.empty());
  ASSERT_EQ(r.received.find("<timeout>"), std::string::npos) << "not disconnected";
  auto m = parse_message_line(r.received.substr(0, r.received.find('\n')));
  ASSERT_TRUE(m.ok()) << r.received;
  ASSERT_TRUE(m->error.has_value()) << r.received;
  EXPECT_EQ(m->error->code, ErrorCode::kPermissionDenied);
  // One line, then the connection was closed: the status request got no answer.
  EXPECT_EQ(r.received.find('\n'), r.received.size() - 1) << r.received;
  EXPECT_EQ(server_->connection_count(), 0U);
}

TEST_F(ApiServer, AccessGroupMembersAreServed) {
  const std::string group_name = nobody_group();
  BULKHEAD_REQUIRE(!group_name.empty(), "the host has no group 65534");
  start(ServerOptions{.access_group = group_name});
  ASSERT_EQ(::chmod(dir_.path().c_str(), 0755), 0);
  // A supplementary group is enough; so is the primary group.
  for (auto [gid, groups] : {std::pair<gid_t, std::vector<gid_t>>{12345, {kNobody}},
                             std::pair<gid_t, std::vector<gid_t>>{kNobody, {}}}) {
    auto r = connect_as_nobody(socket_, gid, groups);
    ASSERT_EQ(r.connect_errno, 0);
    auto m = parse_message_line(r.received.substr(0, r.received.find('\n')));
    ASSERT_TRUE(m.ok()) << r.received;
    EXPECT_TRUE(m->result.has_value()) << r.received;
  }
  // Not a member: the 0660 socket keeps it out even before the credential check.
  EXPECT_EQ(connect_as_nobody(socket_, 12345, {12346}).connect_errno, EACCES);
}

TEST_F(ApiServer, OversizeRequestIsRefusedAndDisconnected) {
  start(ServerOptions{.max_request_line = size_t{64} * 1024});
  UniqueFd fd = raw_connect(socket_);
  std::string big(size_t{256} * 1024, 'x');
  // The server may close while we are still sending: ignore EPIPE.
  (void)::send(fd.get(), big.data(), big.size(), MSG_NOSIGNAL);
  std::string got = read_to_eof(fd.get());
  ASSERT_EQ(got.find("<timeout>"), std::string::npos) << "not disconnected";
  auto m = parse_message_line(got.substr(0, got.find('\n')));
  ASSERT_TRUE(m.ok()) << got;
  ASSERT_TRUE(m->error.has_value());
  EXPECT_EQ(m->error->code, ErrorCode::kInvalidRequest);
  EXPECT_NE(m->error->message.find("longer than 65536"), std::string::npos);
  // Others are still served.
  auto c = connect();
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->call(Method::kStatus, json::object(), {}, kWait).ok());
}

TEST_F(ApiServer, GarbageIsAnsweredThenDisconnected) {
  start();
  UniqueFd fd = raw_connect(socket_);
  const std::string line = "this is not json\n{\"id\":2,\"method\":\"status\"}\n";
  ASSERT_EQ(::send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(line.size()));
  std::string got = read_to_eof(fd.get());
  ASSERT_EQ(got.find("<timeout>"), std::string::npos);
  EXPECT_EQ(got.find('\n'), got.size() - 1) << "only the error line: " << got;
  auto m = parse_message_line(got.substr(0, got.size() - 1));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->error->code, ErrorCode::kInvalidRequest);
  EXPECT_FALSE(m->id.has_value());
}

TEST_F(ApiServer, BadFieldsKeepTheConnection) {
  start();
  auto c = connect();
  ASSERT_TRUE(c);
  auto bad = c->call(Method::kPs, json{{"tenant", 5}}, {}, kWait);
  ASSERT_TRUE(bad.ok());
  ASSERT_TRUE(bad->error.has_value());
  EXPECT_EQ(bad->error->code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(bad->error->details[0]["field"], "params.tenant");
  auto unknown = c->call(Method::kPs, json{{"tenant", "nope"}}, {}, kWait);
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->error->code, ErrorCode::kTenantUnknown);
  auto good = c->call(Method::kPs, json{{"tenant", "alpha"}}, {}, kWait);
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(good->result.has_value());
}

TEST_F(ApiServer, UnknownMethodNamesTheField) {
  start();
  UniqueFd fd = raw_connect(socket_);
  const std::string line = "{\"id\":9,\"method\":\"launch\"}\n";
  ASSERT_EQ(::send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(line.size()));
  ::shutdown(fd.get(), SHUT_WR);
  std::string got = read_to_eof(fd.get());
  auto m = parse_message_line(got.substr(0, got.find('\n')));
  ASSERT_TRUE(m.ok()) << got;
  EXPECT_EQ(m->id, 9);
  EXPECT_EQ(m->error->code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(m->error->details[0]["field"], "method");
}

struct Pipe {
  UniqueFd rd, wr;
  Pipe() {
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    rd.reset(p[0]);
    wr.reset(p[1]);
  }
};

TEST_F(ApiServer, RunHandsBackTheWorkloadsStdioAndReportsTheExit) {
  start();
  auto c = connect();
  ASSERT_TRUE(c);
  auto r = c->call(Method::kRun,
                   json{{"tenant", "alpha"},
                        {"name", "job"},
                        {"argv", {"sh", "-c", "exit 3"}},
                        {"env", {{"A", "1"}}},
                        {"cwd", "/tmp"}},
                   {}, kWait);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_TRUE(r->result.has_value()) << (r->error ? r->error->message : "");
  EXPECT_EQ((*r->result)["started"]["name"], "job");
  EXPECT_EQ((*r->result)["started"]["kind"], "adhoc");
  EXPECT_EQ((*r->result)["fds"], json::array({"stdin", "stdout", "stderr"}));
  const int64_t run_id = *r->id;

  auto run = backend_.find_run("job");
  ASSERT_TRUE(run);
  EXPECT_EQ(run->request.argv, (std::vector<std::string>{"sh", "-c", "exit 3"}));
  EXPECT_EQ(run->request.env.at("A"), "1");
  EXPECT_EQ(run->request.cwd, "/tmp");
  EXPECT_FALSE(run->request.tty);
  // The descriptors that came with the reply are the other ends of the workload's.
  std::vector<UniqueFd> stdio = c->take_fds(3);
  ASSERT_EQ(stdio.size(), 3U);
  ASSERT_EQ(run->workload.size(), 3U);
  ASSERT_EQ(::write(run->workload[1].get(), "out", 3), 3);
  ASSERT_EQ(::write(run->workload[2].get(), "err", 3), 3);
  ASSERT_EQ(::write(stdio[0].get(), "in", 2), 2);
  char buf[8] = {};
  ASSERT_EQ(::read(stdio[1].get(), buf, sizeof(buf)), 3);
  EXPECT_EQ(std::string(buf, 3), "out");
  ASSERT_EQ(::read(stdio[2].get(), buf, sizeof(buf)), 3);
  EXPECT_EQ(std::string(buf, 3), "err");
  ASSERT_EQ(::read(run->workload[0].get(), buf, sizeof(buf)), 2);
  EXPECT_EQ(std::string(buf, 2), "in");

  loop_.post([this] { backend_.finish("job", isolation::ExitStatus{false, 3}); });
  auto ev = c->read(kWait);
  ASSERT_TRUE(ev.ok()) << ev.error().to_string();
  EXPECT_EQ(ev->id, run_id);
  EXPECT_EQ(ev->event, "exit");
  EXPECT_EQ(ev->body["status"]["shell_code"], 3);
  EXPECT_EQ(ev->body["status"]["signaled"], false);
  EXPECT_TRUE(backend_.stops().empty());
}

TEST_F(ApiServer, RunWithATerminalGetsItsMasterAndSize) {
  start();
  auto c = connect();
  ASSERT_TRUE(c);
  auto r = c->call(Method::kRun,
                   json{{"tenant", "alpha"},
                        {"name", "shell"},
                        {"argv", {"sh"}},
                        {"tty", true},
                        {"tty_size", {{"rows", 40}, {"cols", 132}}}},
                   {}, kWait);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_TRUE(r->result.has_value()) << (r->error ? r->error->message : "");
  EXPECT_EQ((*r->result)["fds"], json::array({"terminal"}));
  auto run = backend_.find_run("shell");
  ASSERT_TRUE(run);
  ASSERT_TRUE(run->request.tty);
  EXPECT_EQ(run->request.tty->rows, 40);
  EXPECT_EQ(run->request.tty->cols, 132);
  EXPECT_EQ(c->take_fds(3).size(), 1U);
}

// The agent never takes a client's descriptors, so none can reach a tenant:
// a request that carries any is refused and the connection closed.
TEST_F(ApiServer, DescriptorsFromAClientAreRefused) {
  start();
  auto c = connect();
  ASSERT_TRUE(c);
  Pipe p;
  std::array<int, 3> fds{p.rd.get(), p.wr.get(), p.wr.get()};
  auto r = c->call(Method::kRun, json{{"tenant", "alpha"}, {"argv", {"true"}}}, fds, kWait);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  ASSERT_TRUE(r->error.has_value());
  EXPECT_EQ(r->error->code, ErrorCode::kInvalidRequest);
  EXPECT_EQ(r->error->details[0]["field"], "fds");
  EXPECT_FALSE(backend_.find_run("run-1"));
  auto closed = c->read(kWait);
  EXPECT_FALSE(closed.ok());
  // The server kept no copy: with ours closed, the pipe's read end sees EOF.
  p.wr.reset();
  char byte;
  EXPECT_EQ(::read(p.rd.get(), &byte, 1), 0);
}

TEST_F(ApiServer, RunErrors) {
  start();
  auto c = connect();
  ASSERT_TRUE(c);
  auto unknown = c->call(Method::kRun, json{{"tenant", "beta"}, {"argv", {"true"}}}, {}, kWait);
  ASSERT_TRUE(unknown.ok());
  EXPECT_EQ(unknown->error->code, ErrorCode::kTenantUnknown);
  auto failed = c->call(Method::kRun, json{{"tenant", "alpha"}, {"argv", {"fail"}}}, {}, kWait);
  ASSERT_TRUE(failed.ok());
  EXPECT_EQ(failed->error->code, ErrorCode::kLaunchFailed);
  EXPECT_NE(failed->error->message.find("cannot exec fail"), std::string::npos);
  auto bad = c->call(Method::kRun, json{{"tenant", "alpha"}, {"argv", "true"}}, {}, kWait);
  ASSERT_TRUE(bad.ok());
  EXPECT_EQ(bad->error->details[0]["field"], "params.argv");
  // A size without a terminal, or a malformed one, is refused, naming the field.
  auto size = c->call(
      Method::kRun,
      json{{"tenant", "alpha"}, {"argv", {"true"}}, {"tty_size", {{"rows", 1}, {"cols", 1}}}}, {},
      kWait);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(size->error->details[0]["field"], "params.tty_size");
  auto big = c->call(Method::kRun,
                     json{{"tenant", "alpha"},
                          {"argv", {"true"}},
                          {"tty", true},
                          {"tty_size", {{"rows", 70000}, {"cols", 1}}}},
                     {}, kWait);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->error->details[0]["field"], "params.tty_size.rows");
  // None of them left a descriptor behind.
  EXPECT_TRUE(c->take_fds(1).empty());
}

TEST_F(ApiServer, ExitBeforeStartedStillComesAfterIt) {
  start();
  auto c = connect();
  ASSERT_TRUE(c);
  auto r = c->call(Method::kRun, json{{"tenant", "alpha"}, {"argv", {"instant"}}}, {}, kWait);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->result.has_value());
  auto ev = c->read(kWait);
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->event, "exit");
  EXPECT_EQ(ev->id, r->id);
  EXPECT_EQ(ev->body["status"]["code"], 7);
}

TEST_F(ApiServer, ClientLeavingStopsItsRun) {
  start();
  auto c = connect();
  ASSERT_TRUE(c);
  auto r = c->call(Method::kRun, json{{"tenant", "alpha"}, {"name", "orphan"}, {"argv", {"x"}}}, {},
                   kWait);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->result.has_value());
  c.reset();
  EXPECT_TRUE(
      eventually([&] { return backend_.stops() == std::vector<std::string>{"alpha/orphan"}; }));
  // The exit that follows has nobody to go to and must not trip the server.
  loop_.post([this] { backend_.finish("orphan", isolation::ExitStatus{true, SIGTERM}); });
  auto c2 = connect();
  ASSERT_TRUE(c2);
  EXPECT_TRUE(c2->call(Method::kStatus, json::object(), {}, kWait).ok());
}

TEST_F(ApiServer, SignalAndStop) {
  start();
  auto c = connect();
  ASSERT_TRUE(c);
  ASSERT_TRUE(
      c->call(Method::kRun, json{{"tenant", "alpha"}, {"name", "w"}, {"argv", {"x"}}}, {}, kWait)
          .ok());
  auto sig = c->call(Method::kSignal,
                     json{{"tenant", "alpha"}, {"workload", "w"}, {"signal", "HUP"}}, {}, kWait);
  ASSERT_TRUE(sig.ok());
  EXPECT_TRUE(sig->result.has_value());
  EXPECT_EQ(backend_.signals(), std::vector<std::string>{"alpha/w:" + std::to_string(SIGHUP)});
  auto missing = c->call(Method::kStop, json{{"tenant", "alpha"}, {"workload", "nope"}}, {}, kWait);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->error->code, ErrorCode::kNotFound);
  auto bad_tenant =
      c->call(Method::kSignal, json{{"tenant", "x"}, {"workload", "w"}, {"signal", 15}}, {}, kWait);
  ASSERT_TRUE(bad_tenant.ok());
  EXPECT_EQ(bad_tenant->error->code, ErrorCode::kTenantUnknown);
  auto stop = c->call(Method::kStop, json{{"tenant", "alpha"}, {"workload", "w"}}, {}, kWait);
  ASSERT_TRUE(stop.ok());
  EXPECT_TRUE(stop->result.has_value());
  EXPECT_EQ(backend_.stops(), std::vector<std::string>{"alpha/w"});
}

TEST_F(ApiServer, ReloadAndCheckReportProfileErrors) {
  start();
  auto c = connect();
  ASSERT_TRUE(c);
  auto r = c->call(Method::kReload, json::object(), {}, kWait);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->error.has_value());
  EXPECT_EQ(r->error->code, ErrorCode::kInvalidProfile);
  ASSERT_EQ(r->error->details.size(), 1U);
  EXPECT_EQ(r->error->details[0], (json{{"file", "/etc/bulkhead/a.yaml"},
                                        {"line", 3},
                                        {"column", 7},
                                        {"field", "limits.pids"},
                                        {"message", "bad"}}));

  auto bad = c->call(
      Method::kCheck,
      json{{"content", "version: 1\ntenant: t\nlimits:\n  pids: lots\n"}, {"name", "t.yaml"}}, {},
      kWait);
  ASSERT_TRUE(bad.ok());
  ASSERT_TRUE(bad->error.has_value());
  EXPECT_EQ(bad->error->code, ErrorCode::kInvalidProfile);
  ASSERT_FALSE(bad->error->details.empty());
  EXPECT_EQ(bad->error->details[0]["file"], "t.yaml");
  EXPECT_EQ(bad->error->details[0]["line"], 4);
  EXPECT_EQ(bad->error->details[0]["field"], "limits.pids");

  auto good = c->call(Method::kCheck, json{{"content", "version: 1\ntenant: t\n"}}, {}, kWait);
  ASSERT_TRUE(good.ok());
  ASSERT_TRUE(good->result.has_value()) << good->error->message;
  EXPECT_EQ((*good->result)["tenant"], "t");
}

TEST_F(ApiServer, ConnectionLimit) {
  start(ServerOptions{.max_connections = 2});
  auto a = connect();
  auto b = connect();
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->call(Method::kStatus, json::object(), {}, kWait).ok());
  ASSERT_TRUE(b->call(Method::kStatus, json::object(), {}, kWait).ok());
  UniqueFd third = raw_connect(socket_);
  std::string got = read_to_eof(third.get());
  ASSERT_EQ(got.find("<timeout>"), std::string::npos);
  EXPECT_NE(got.find("too many connections"), std::string::npos) << got;
  a.reset();
  EXPECT_TRUE(eventually([&] { return server_->connection_count() == 1; }));
  auto d = connect();
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->call(Method::kStatus, json::object(), {}, kWait).ok());
}

TEST_F(ApiServer, ClientThatDoesNotReadDoesNotStallOthers) {
  backend_.set_padding(200);  // ps replies of ~50 KiB
  start(ServerOptions{.max_output = size_t{256} * 1024});
  UniqueFd slow = raw_connect(socket_);
  std::string requests;
  for (int i = 0; i < 200; ++i) {
    requests += "{\"id\":" + std::to_string(i) + ",\"method\":\"ps\"}\n";
  }
  // Non-blocking: the server stops reading from us once replies pile up.
  ASSERT_EQ(::fcntl(slow.get(), F_SETFL, O_NONBLOCK), 0);
  (void)::send(slow.get(), requests.data(), requests.size(), MSG_NOSIGNAL);
  auto c = connect();
  ASSERT_TRUE(c);
  auto started = std::chrono::steady_clock::now();
  auto r = c->call(Method::kStatus, json::object(), {}, kWait);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_LT(std::chrono::steady_clock::now() - started, milliseconds(2000));
  // The slow client is paused at the output bound; once it reads, it gets every reply.
  ASSERT_EQ(::fcntl(slow.get(), F_SETFL, 0), 0);
  ::shutdown(slow.get(), SHUT_WR);
  size_t lines = 0;
  std::string got = read_to_eof(slow.get());
  for (char ch : got) {
    lines += ch == '\n' ? 1 : 0;
  }
  EXPECT_EQ(got.find("<timeout>"), std::string::npos);
  EXPECT_EQ(lines, 200U);
}

TEST_F(ApiServer, PipelinedRequestsAreAnsweredInOrder) {
  start();
  UniqueFd fd = raw_connect(socket_);
  std::string requests;
  for (int i = 1; i <= 50; ++i) {
    requests += "{\"id\":" + std::to_string(i) + ",\"method\":\"tenants\"}\n";
  }
  ASSERT_EQ(::send(fd.get(), requests.data(), requests.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(requests.size()));
  ::shutdown(fd.get(), SHUT_WR);
  std::string got = read_to_eof(fd.get());
  int expect = 1;
  size_t pos = 0;
  while (pos < got.size()) {
    size_t nl = got.find('\n', pos);
    ASSERT_NE(nl, std::string::npos) << got.substr(pos);
    auto m = parse_message_line(got.substr(pos, nl - pos));
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->id, expect++);
    pos = nl + 1;
  }
  EXPECT_EQ(expect, 51);
}

}  // namespace
}  // namespace bulkhead::api
