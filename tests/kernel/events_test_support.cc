#include "events_test_support.h"

#include <fcntl.h>
#include <unistd.h>

#include <thread>

namespace bulkhead::testing {

using namespace std::chrono_literals;
using events::EventType;

void EventsTest::SetUp() {
  BULKHEAD_REQUIRE_ROOT();
  host_ = std::make_unique<SandboxHost>();
  start_source();
}

void EventsTest::TearDown() {
  source_.reset();
  host_.reset();
}

void EventsTest::start_source(const events::KernelSourceOptions& options) {
  source_.reset();
  auto created = events::KernelEventSource::create(
      options, [this](events::Event&& e) { received_.push_back(std::move(e)); });
  ASSERT_TRUE(created.ok()) << created.error().to_string();
  source_ = std::move(*created);
}

std::unique_ptr<isolation::Tenant> EventsTest::tracked_tenant(const std::string& name,
                                                              const std::string& extra,
                                                              bool all_opens,
                                                              std::vector<std::string> sensitive) {
  auto t = host_->make_tenant(host_->profile_yaml(name, extra));
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().to_string());
  if (!t.ok() || !source_) {
    return nullptr;
  }
  events::TenantTracking tracking;
  tracking.name = name;
  tracking.cgroup2_dir = (*t)->cgroup().v2_path();
  tracking.ids = *(*t)->profile().ids;
  tracking.all_opens = all_opens;
  tracking.sensitive_paths = std::move(sensitive);
  auto tracked = source_->track_tenant(tracking);
  EXPECT_TRUE(tracked.ok()) << tracked.error().to_string();
  return tracked.ok() ? std::move(*t) : nullptr;
}

bool EventsTest::poll_until(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return false;
    }
    auto polled = source_->poll(static_cast<int>(std::min<int64_t>(left.count(), 50)));
    EXPECT_TRUE(polled.ok()) << polled.error().to_string();
    if (!polled.ok()) {
      return false;
    }
  }
  return true;
}

ActionRun EventsTest::run_action(isolation::Tenant& tenant, const std::string& workload,
                                 std::vector<std::string> args, std::optional<std::string> cwd) {
  ActionRun run;
  received_.clear();
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe";
    return run;
  }
  UniqueFd rd(p[0]);
  UniqueFd wr(p[1]);
  UniqueFd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  isolation::LaunchRequest req;
  req.name = workload;
  req.argv = {"/helpers/event_actions"};
  req.argv.insert(req.argv.end(), args.begin(), args.end());
  req.stdin_fd = devnull.get();
  req.stdout_fd = wr.get();
  req.stderr_fd = wr.get();
  req.die_with_parent = true;
  req.cwd = std::move(cwd);
  auto launched = tenant.launch(req);
  wr.reset();
  if (!launched.ok()) {
    ADD_FAILURE() << launched.error().to_string();
    return run;
  }
  const uint64_t cgroup_id = (*launched)->cgroup().v2_id();
  source_->name_workload(cgroup_id, workload);
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(rd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    run.out.append(buf, static_cast<size_t>(n));
  }
  auto status = (*launched)->wait();
  EXPECT_TRUE(status.ok()) << (status.ok() ? "" : status.error().to_string());
  const std::string tenant_name = tenant.profile().name;
  auto helper_pid = [&]() -> pid_t {
    for (const auto& e : received_) {
      if (e.type == EventType::kProcessExec && e.tenant == tenant_name &&
          e.process.exe == "/helpers/event_actions") {
        return e.process.pid;
      }
    }
    return 0;
  };
  // Everything the helper did is queued before its exit record.
  run.helper_exit_seen = poll_until(
      [&] {
        pid_t pid = helper_pid();
        if (pid == 0) {
          return false;
        }
        for (const auto& e : received_) {
          if (e.type == EventType::kProcessExit && e.process.pid == pid) {
            return true;
          }
        }
        return false;
      },
      1000ms);
  EXPECT_TRUE(run.helper_exit_seen)
      << "no exit event of the helper within 1 s; output: " << run.out;
  run.helper_pid = helper_pid();
  launched->reset();  // removes the cgroup
  source_->forget_workload(cgroup_id);
  for (auto& e : received_) {
    if (e.tenant == tenant_name) {
      run.events.push_back(std::move(e));
    }
  }
  received_.clear();
  return run;
}

std::vector<events::Event> select(const std::vector<events::Event>& events, EventType type,
                                  const std::function<bool(const events::Event&)>& match) {
  std::vector<events::Event> out;
  for (const auto& e : events) {
    if (e.type == type && match(e)) {
      out.push_back(e);
    }
  }
  return out;
}

}  // namespace bulkhead::testing
