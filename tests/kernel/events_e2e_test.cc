// End to end for the event output: the real bulkheadd, fed synthetic events
// through its test hook (--test-event-fifo), read back with the real
// bulkheadctl and a raw API client: filters, recent events, unknown types and
// tenants refused with a clear error and exit code, and a client that does
// not read losing events, counted exactly and told in-stream.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/client.h"
#include "cgroup_test_support.h"
#include "child_process.h"
#include "event_fifo_daemon.h"
#include "events/event.h"
#include "sandbox_fixture.h"

namespace bulkhead::api {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::milliseconds;
using testing::Output;
using testing::Proc;

class EventsE2E : public testing::EventFifoDaemonTest {
 protected:
  void SetUp() override {
    EventFifoDaemonTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) {
      return;
    }
    write_profile("alpha", kIdBlock, 0);
    write_profile("beta", kIdBlock, 1);
    start_daemon();
  }

  static constexpr uint32_t kIdBlock = 0x5C000000U;

  static json event(const std::string& type, const std::string& tenant, int n) {
    json e{
        {"type", type}, {"process", {{"pid", 100 + n}, {"exe", "/bin/x"}}}, {"fields", {{"n", n}}}};
    if (!tenant.empty()) {
      e["tenant"] = tenant;
    }
    return e;
  }
};

TEST_F(EventsE2E, UnknownTypeOrTenantIsAClearErrorAndExitCode) {
  Output o = ctl({"events", "--follow", "--type", "process.exce"});
  EXPECT_EQ(o.code, 125);
  EXPECT_FALSE(o.timed_out);
  EXPECT_EQ(o.err.rfind("bulkheadctl: --type: unknown event type 'process.exce' (valid types: "
                        "process.exec, process.fork, ",
                        0),
            0U)
      << o.err;
  EXPECT_TRUE(o.out.empty());

  o = ctl({"--json", "events", "--follow", "--type", "file.open", "--type", "bogus.*"});
  EXPECT_EQ(o.code, 125);
  json err = json::parse(o.out)["error"];
  EXPECT_EQ(err["code"], "invalid_request");
  EXPECT_EQ(err["details"][0]["field"], "params.types[1]");
  EXPECT_EQ(err["details"][0]["valid"].size(), events::all_types().size());

  o = ctl({"events", "--follow", "--tenant", "gamma"});
  EXPECT_EQ(o.code, 125);
  EXPECT_NE(o.err.find("unknown tenant 'gamma'"), std::string::npos) << o.err;
}

TEST_F(EventsE2E, FollowStreamsOnlyWhatTheFiltersSelect) {
  Proc follow(ctl_args({"--json", "events", "--follow", "--tenant", "alpha", "--type", "file.*"}));
  // Until the stream is up, a sync event is sent now and then; the first one
  // that comes back proves the subscription.
  std::string out;
  bool synced = false;
  for (int i = 0; i < 50 && !synced; ++i) {
    publish({event("file.open", "alpha", -1)});
    synced = follow.read_stdout_until(
        out, [](const std::string& s) { return !s.empty() && s.back() == '\n'; },
        milliseconds(200));
  }
  ASSERT_TRUE(synced) << "the stream never delivered";
  publish({event("file.open", "alpha", 1), event("process.exec", "alpha", 2),
           event("file.open", "beta", 3), event("file.unlink", "alpha", 4),
           event("file.open", "", 5), event("file.rename", "alpha", 6)});
  ASSERT_TRUE(follow.read_stdout_until(out, [](const std::string& s) {
    return s.find("\"n\":6") != std::string::npos;
  })) << out;
  std::vector<int> got;
  for (const json& r : json_lines(out)) {
    EXPECT_EQ(r["tenant"], "alpha");
    EXPECT_EQ(r["schema"], events::kEventSchemaVersion);
    if (r["fields"]["n"] != -1) {
      got.push_back(r["fields"]["n"].get<int>());
    }
  }
  EXPECT_EQ(got, (std::vector<int>{1, 4, 6}));

  // The file sink took everything, unfiltered.
  ASSERT_TRUE(testing::wait_for([&] {
    std::ifstream in(sink_file());
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return all.find("\"n\":6") != std::string::npos;
  }));
  std::ifstream in(sink_file());
  std::stringstream ss;
  ss << in.rdbuf();
  for (int n = 1; n <= 6; ++n) {
    EXPECT_NE(ss.str().find("\"fields\":{\"n\":" + std::to_string(n) + "}"), std::string::npos)
        << n;
  }
}

TEST_F(EventsE2E, WithoutFollowPrintsTheRecentEvents) {
  publish({event("process.exec", "beta", 1), event("network.deny", "alpha", 2),
           event("process.exit", "beta", 3)});
  ASSERT_TRUE(testing::wait_for([&] {
    return ctl({"--json", "events"}).out.find("\"n\":3") != std::string::npos;
  }));
  Output o = ctl({"--json", "events", "--tenant", "beta"});
  ASSERT_EQ(o.code, 0) << o.err;
  auto records = json_lines(o.out);
  ASSERT_EQ(records.size(), 2U) << o.out;
  EXPECT_EQ(records[0]["type"], "process.exec");
  EXPECT_EQ(records[1]["type"], "process.exit");

  o = ctl({"events", "--type", "network.deny"});  // the human format
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_NE(o.out.find(" network.deny alpha pid=102 exe=/bin/x n=2\n"), std::string::npos) << o.out;
}

TEST_F(EventsE2E, SlowStreamReaderLosesEventsCountedExactly) {
  auto client = Client::connect(socket_);
  ASSERT_TRUE(client.ok());
  auto reply = (*client)->call(Method::kEvents, json{{"follow", true}, {"tenant", "alpha"}});
  ASSERT_TRUE(reply.ok() && reply->result) << (reply.ok() ? reply->error->message : "");
  // About 8 MiB of events while the client reads nothing: far beyond the
  // stream's 1 MiB bound plus the socket's buffer.
  constexpr int kEvents = 8000;
  const std::string pad(900, 'x');
  std::vector<json> batch;
  for (int i = 0; i < kEvents; ++i) {
    json e = event("file.open", "alpha", i);
    e["fields"]["pad"] = pad;
    batch.push_back(std::move(e));
  }
  publish(batch);
  // Everything is accounted for: delivered records plus the counts of the
  // drop notices add up to what was published, in order, with gaps only
  // where a notice says so.
  uint64_t records = 0;
  uint64_t dropped = 0;
  uint64_t notices = 0;
  int last_n = -1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (records + dropped < kEvents && std::chrono::steady_clock::now() < deadline) {
    auto m = (*client)->read(milliseconds(5000));
    ASSERT_TRUE(m.ok()) << m.error().to_string() << " after " << records << " records, " << dropped
                        << " dropped";
    if (m->event == "record") {
      int n = m->body["record"]["fields"]["n"].get<int>();
      EXPECT_GT(n, last_n);
      last_n = n;
      ++records;
    } else if (m->event == "dropped") {
      dropped += m->body["count"].get<uint64_t>();
      EXPECT_EQ(m->body["total"].get<uint64_t>(), dropped);
      ++notices;
    }
  }
  EXPECT_EQ(records + dropped, static_cast<uint64_t>(kEvents));
  EXPECT_GT(dropped, 0U);
  EXPECT_GE(notices, 1U);
  EXPECT_GT(records, 100U);  // the bound is a buffer, not a trickle
}

}  // namespace
}  // namespace bulkhead::api
