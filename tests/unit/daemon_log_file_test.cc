// Workload logs: rotation at the size bound, the number of files kept, and
// failures counted instead of blocking. WorkloadLog drains its pipe on the loop.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "daemon/event_loop.h"
#include "daemon/log_file.h"
#include "daemon/workload_log.h"

namespace bulkhead::daemon {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class LogFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "bulkhead-logtest-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/w.log";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string dir_;
  std::string path_;
};

TEST_F(LogFileTest, AppendsBelowTheBound) {
  LogFile log(path_, 100, 2);
  log.write("hello\n");
  log.write("world\n");
  EXPECT_EQ(slurp(path_), "hello\nworld\n");
  EXPECT_EQ(log.size(), 12U);
  EXPECT_EQ(log.rotations(), 0U);
  EXPECT_FALSE(fs::exists(path_ + ".1"));
}

TEST_F(LogFileTest, RotatesBeforeAWriteThatWouldPassTheBound) {
  LogFile log(path_, 10, 2);
  log.write("aaaa\n");  // 5
  log.write("bbbb\n");  // 10: exactly at the bound, still one file
  log.write("cccc\n");  // would be 15: rotate first
  EXPECT_EQ(slurp(path_ + ".1"), "aaaa\nbbbb\n");
  EXPECT_EQ(slurp(path_), "cccc\n");
  log.write("dddddd\n");    // 5 + 7 > 10
  log.write("eeeeeeeeee");  // exactly 10: a fresh file
  EXPECT_EQ(slurp(path_), "eeeeeeeeee");
  EXPECT_EQ(slurp(path_ + ".1"), "dddddd\n");
  EXPECT_EQ(slurp(path_ + ".2"), "cccc\n");
  EXPECT_FALSE(fs::exists(path_ + ".3"));  // keep = 2: the oldest was dropped
  EXPECT_EQ(log.rotations(), 3U);
  for (const auto& p : {path_, path_ + ".1", path_ + ".2"}) {
    EXPECT_LE(fs::file_size(p), 10U) << p;
  }
}

TEST_F(LogFileTest, SplitsAChunkLargerThanTheBound) {
  LogFile log(path_, 4, 5);
  log.write("0123456789");
  EXPECT_EQ(slurp(path_), "89");
  EXPECT_EQ(slurp(path_ + ".1"), "4567");
  EXPECT_EQ(slurp(path_ + ".2"), "0123");
  EXPECT_EQ(log.dropped_bytes(), 0U);
}

TEST_F(LogFileTest, KeepZeroTruncates) {
  LogFile log(path_, 6, 0);
  log.write("abcde\n");
  log.write("xy\n");
  EXPECT_EQ(slurp(path_), "xy\n");
  EXPECT_FALSE(fs::exists(path_ + ".1"));
}

TEST_F(LogFileTest, ContinuesAnExistingFileAndRotatesAnOversizedOne) {
  { std::ofstream(path_) << "0123456789ABCDEF"; }  // 16 bytes, bound 10
  LogFile log(path_, 10, 1);
  log.write("new\n");
  EXPECT_EQ(slurp(path_ + ".1"), "0123456789ABCDEF");
  EXPECT_EQ(slurp(path_), "new\n");
}

TEST_F(LogFileTest, FailuresAreCountedNotFatal) {
  LogFile log(dir_ + "/no/such/dir/w.log", 100, 2);
  log.write("lost\n");
  log.write("lost too\n");
  EXPECT_EQ(log.dropped_bytes(), 14U);
}

TEST_F(LogFileTest, WorkloadLogDrainsThePipeOnTheLoop) {
  auto loop = EventLoop::create();
  ASSERT_TRUE(loop.ok());
  {
    auto wl = WorkloadLog::create(**loop, path_, 1 << 20, 1);
    ASSERT_TRUE(wl.ok()) << wl.error().to_string();
    EXPECT_EQ(::write((*wl)->write_fd(), "out\n", 4), 4);
    EXPECT_EQ(::write((*wl)->write_fd(), "err\n", 4), 4);
    (*loop)->add_timer(std::chrono::milliseconds(20), [&] { (*loop)->stop(); });
    ASSERT_TRUE((*loop)->run().ok());
    EXPECT_EQ(slurp(path_), "out\nerr\n");
    // What is still in the pipe when the log goes is written, not lost.
    EXPECT_EQ(::write((*wl)->write_fd(), "last\n", 5), 5);
    // The write end is close-on-exec: workloads other than the one launched with it never get it.
    EXPECT_EQ(::fcntl((*wl)->write_fd(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  }
  EXPECT_EQ(slurp(path_), "out\nerr\nlast\n");
  EXPECT_EQ((*loop)->fd_count(), 0U);
}

}  // namespace
}  // namespace bulkhead::daemon
