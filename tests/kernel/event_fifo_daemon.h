// Shared by the end-to-end event tests: the real bulkheadd with its own socket,
// state, profiles and cgroup tree in a temp dir, a JSON-lines file sink, and
// its test hook (--test-event-fifo) to feed it synthetic events; the real
// bulkheadctl to read them back. The daemon is stopped cleanly (SIGTERM) in
// TearDown, which removes its cgroups, and its log is printed when a test failed.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "api/client.h"
#include "cgroup_test_support.h"
#include "child_process.h"
#include "common/unique_fd.h"
#include "sandbox_fixture.h"

namespace bulkhead::testing {

class EventFifoDaemonTest : public cgroup::testing::CgroupKernelTest {
 protected:
  using json = nlohmann::json;

  // Creates the directories; profiles and extra files go in before start_daemon().
  void SetUp() override {
    CgroupKernelTest::SetUp();
    if (HasFatalFailure() || IsSkipped()) {
      return;
    }
    daemon_bin_ = build_binary("bulkheadd");
    ctl_bin_ = build_binary("bulkheadctl");
    BULKHEAD_REQUIRE(::access(daemon_bin_.c_str(), X_OK) == 0, "bulkheadd not built");
    BULKHEAD_REQUIRE(::access(ctl_bin_.c_str(), X_OK) == 0, "bulkheadctl not built");
    socket_ = dir_.path() + "/api.sock";
    fifo_ = dir_.path() + "/events.fifo";
    std::filesystem::create_directories(dir_.path() + "/profiles");
    std::filesystem::create_directories(dir_.path() + "/state");
    ::chmod((dir_.path() + "/state").c_str(), 0755);
  }

  void TearDown() override {
    if (daemon_) {
      stop_daemon();
      if (HasFailure()) {
        std::cerr << "---- bulkheadd ----\n"
                  << daemon_log_.err << daemon_log_.out << "-------------------\n";
      }
    }
    CgroupKernelTest::TearDown();
  }

  // A tenant with read-only /usr and ids from `id_block` (a per-suite base)
  // plus the slot, away from other suites' ranges.
  void write_profile(const std::string& tenant, uint32_t id_block, uint32_t slot) const {
    const uint32_t base =
        id_block + ((static_cast<uint32_t>(::getpid()) % 64U) * 4U + slot) * 0x10000U;
    std::ofstream(dir_.path() + "/profiles/" + tenant + ".yaml")
        << "version: 1\ntenant: " << tenant << "\nids: {base: " << base << ", count: 65536}\n"
        << "filesystem:\n  read_only: [/usr]\n";
  }

  // Starts bulkheadd and waits until its API answers.
  void start_daemon(const std::vector<std::string>& extra_args = {}) {
    std::vector<std::string> args = {daemon_bin_,
                                     "--config",
                                     "/dev/null",
                                     "--profiles",
                                     dir_.path() + "/profiles",
                                     "--state-dir",
                                     dir_.path() + "/state",
                                     "--socket",
                                     socket_,
                                     "--cgroup-name",
                                     name_,
                                     "--test-event-fifo",
                                     fifo_,
                                     "--event-sink",
                                     "file:" + sink_file()};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    daemon_ = std::make_unique<Proc>(args);
    bool up = wait_for([&] {
      if (daemon_->exited()) {
        return true;
      }
      auto c = api::Client::connect(socket_);
      return c.ok() &&
             (*c)->call(api::Method::kStatus, json::object(), {}, milliseconds(1000)).ok();
    });
    ASSERT_TRUE(up && !daemon_->exited()) << "bulkheadd did not come up";
  }

  // SIGTERM (a clean shutdown removes its cgroups); the log lands in daemon_log_.
  void stop_daemon() {
    ::kill(daemon_->pid(), SIGTERM);
    daemon_log_ = daemon_->finish(milliseconds(10000));
    daemon_.reset();
  }

  [[nodiscard]] std::string sink_file() const { return dir_.path() + "/events.jsonl"; }

  // Writes event lines into the agent's test FIFO.
  void publish(const std::vector<json>& events) {
    std::string data;
    for (const auto& e : events) {
      data += e.dump() + "\n";
    }
    UniqueFd fd(::open(fifo_.c_str(), O_WRONLY | O_CLOEXEC));
    ASSERT_TRUE(fd) << "open " << fifo_ << ": " << std::strerror(errno);
    std::string_view rest = data;
    while (!rest.empty()) {
      ssize_t n = ::write(fd.get(), rest.data(), rest.size());
      ASSERT_GT(n, 0) << std::strerror(errno);
      rest.remove_prefix(static_cast<size_t>(n));
    }
  }

  [[nodiscard]] std::vector<std::string> ctl_args(std::vector<std::string> args) const {
    args.insert(args.begin(), {ctl_bin_, "--socket", socket_});
    return args;
  }
  Output ctl(std::vector<std::string> args) {
    Proc p(ctl_args(std::move(args)));
    return p.finish();
  }

  static std::vector<json> json_lines(const std::string& text) {
    std::vector<json> out;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);) {
      out.push_back(json::parse(l));
    }
    return out;
  }

  TempDir dir_;
  std::string daemon_bin_, ctl_bin_, socket_, fifo_;
  std::unique_ptr<Proc> daemon_;
  Output daemon_log_;
};

}  // namespace bulkhead::testing
