// The server side of `events --follow`, in process: the agent's loop and the
// client are driven from the test thread in turns (the loop runs in bounded
// slices), so events are published exactly where the agent publishes them,
// on the loop thread. Checks what the end-to-end tests cannot see from
// outside: a stream outlives the client's shutdown(SHUT_WR), and a client
// that goes away leaves no subscription behind.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

#include "api/backend.h"
#include "api/client.h"
#include "api/server.h"
#include "daemon/event_loop.h"
#include "events/event_bus.h"
#include "kernel_test_env.h"
#include "sandbox_fixture.h"

namespace bulkhead::api {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// One tenant, "alpha", and an event bus; nothing else is used here.
class BusBackend final : public Backend {
 public:
  daemon::AgentStatus status() const override { return {}; }
  std::vector<daemon::TenantInfo> tenants() const override {
    daemon::TenantInfo t;
    t.name = "alpha";
    return {t};
  }
  std::vector<daemon::WorkloadInfo> workloads(const std::optional<std::string>&) const override {
    return {};
  }
  Result<daemon::StartedRun> run(const daemon::AdhocRun&, ExitCallback) override {
    return make_error("not here");
  }
  Status signal(const std::string&, const std::string&, int) override { return {}; }
  Status stop(const std::string&, const std::string&) override { return {}; }
  daemon::ReloadReport reload() override { return {}; }
  CheckReport check_profile(const std::string&, const std::string&) const override { return {}; }
  events::EventBus* event_bus() override { return &bus; }

  events::EventBus bus{events::BusOptions{"h", 16}};
};

class EventsStream : public ::testing::Test {
 protected:
  void SetUp() override {
    BULKHEAD_REQUIRE_ROOT();
    auto loop = daemon::EventLoop::create();
    ASSERT_TRUE(loop.ok());
    loop_ = std::move(*loop);
    ServerOptions o;
    o.access_group = "bulkhead-api-test-no-such-group";
    auto server = Server::create(dir_.path() + "/api.sock", backend_, *loop_, o);
    ASSERT_TRUE(server.ok()) << server.error().to_string();
    server_ = std::move(*server);
  }
  void TearDown() override {
    server_.reset();
    loop_.reset();
  }

  // Lets the loop serve what is pending, for a bounded slice.
  void pump(milliseconds slice = milliseconds(50)) {
    loop_->add_timer(slice, [this] { loop_->stop(); });
    ASSERT_TRUE(loop_->run().ok());
  }

  std::unique_ptr<Client> follow(const json& params) {
    auto c = Client::connect(server_->socket_path());
    EXPECT_TRUE(c.ok());
    pump();  // accept
    auto id = (*c)->send(Method::kEvents, params);
    EXPECT_TRUE(id.ok());
    pump();
    auto reply = (*c)->read(milliseconds(0));
    EXPECT_TRUE(reply.ok() && reply->result) << (reply.ok() ? "" : reply.error().to_string());
    return std::move(*c);
  }

  void publish(const std::string& tenant, int n) {
    events::Event e;
    e.type = events::EventType::kFileOpen;
    e.tenant = tenant;
    e.fields = {{"n", n}};
    backend_.bus.publish(std::move(e));
  }

  testing::TempDir dir_;
  BusBackend backend_;
  std::unique_ptr<daemon::EventLoop> loop_;
  std::unique_ptr<Server> server_;
};

TEST_F(EventsStream, SurvivesHalfCloseAndEndsWithTheClient) {
  auto client = follow(json{{"follow", true}, {"tenant", "alpha"}});
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(backend_.bus.subscriber_count(), 1U);

  // The client is done sending, not reading: the stream goes on.
  ASSERT_EQ(::shutdown(client->fd(), SHUT_WR), 0);
  pump();
  publish("alpha", 1);
  publish("beta", 2);  // another tenant: filtered out
  publish("alpha", 3);
  pump();
  for (int n : {1, 3}) {
    auto m = client->read(milliseconds(1000));
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    EXPECT_EQ(m->event, "record");
    EXPECT_EQ(m->body["record"]["fields"]["n"], n);
  }
  EXPECT_FALSE(client->read(milliseconds(0)).ok());  // nothing else
  EXPECT_EQ(server_->connection_count(), 1U);

  // Gone: the connection and its subscription are dropped.
  client.reset();
  pump();
  EXPECT_EQ(server_->connection_count(), 0U);
  EXPECT_EQ(backend_.bus.subscriber_count(), 0U);
  publish("alpha", 4);  // nobody to deliver to: nothing breaks
}

TEST_F(EventsStream, ServerGoingFirstUnsubscribes) {
  auto a = follow(json{{"follow", true}});
  auto b = follow(json{{"follow", true}, {"types", {"file.*"}}});
  EXPECT_EQ(backend_.bus.subscriber_count(), 2U);
  server_.reset();
  EXPECT_EQ(backend_.bus.subscriber_count(), 0U);
  publish("alpha", 1);
}

}  // namespace
}  // namespace bulkhead::api
