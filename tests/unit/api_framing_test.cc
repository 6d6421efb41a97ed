// Line framing (partial lines, several lines per read, the size bound) and the
// server's per-connection buffering, over socketpairs: no root needed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <array>

#include "api/connection.h"
#include "api/framing.h"

namespace bulkhead::api {
namespace {

TEST(ApiFraming, SplitsLinesAcrossAppends) {
  LineBuffer b(100);
  b.append("{\"a\":");
  EXPECT_FALSE(b.next_line().has_value());
  EXPECT_EQ(b.pending(), 5U);
  b.append("1}\n{\"b\"");
  EXPECT_EQ(b.next_line(), "{\"a\":1}");
  EXPECT_FALSE(b.next_line().has_value());
  b.append(":2}\r\n\n");
  EXPECT_EQ(b.next_line(), "{\"b\":2}");
  EXPECT_EQ(b.next_line(), "");
  EXPECT_FALSE(b.next_line().has_value());
  EXPECT_EQ(b.pending(), 0U);
  EXPECT_FALSE(b.overflowed());
}

TEST(ApiFraming, ManyLinesInOneAppend) {
  LineBuffer b(10);
  b.append("1\n22\n333\n");
  EXPECT_EQ(b.next_line(), "1");
  EXPECT_EQ(b.next_line(), "22");
  EXPECT_EQ(b.next_line(), "333");
  EXPECT_FALSE(b.next_line().has_value());
}

TEST(ApiFraming, ALineOfExactlyTheBoundIsFine) {
  LineBuffer b(4);
  b.append("abcd\n");
  EXPECT_EQ(b.next_line(), "abcd");
  EXPECT_FALSE(b.overflowed());
}

TEST(ApiFraming, OversizeCompleteLineOverflows) {
  LineBuffer b(4);
  b.append("ok\nabcde\nnext\n");
  EXPECT_EQ(b.next_line(), "ok");
  EXPECT_FALSE(b.next_line().has_value());
  EXPECT_TRUE(b.overflowed());
  EXPECT_FALSE(b.next_line().has_value());  // sticky: the stream is lost
}

TEST(ApiFraming, OversizePartialLineOverflowsBeforeItsEnd) {
  LineBuffer b(8);
  b.append("123456");
  EXPECT_FALSE(b.next_line().has_value());
  EXPECT_FALSE(b.overflowed());
  b.append("789");
  EXPECT_FALSE(b.next_line().has_value());
  EXPECT_TRUE(b.overflowed());
}

TEST(ApiFraming, BufferDoesNotGrowWithConsumedLines) {
  LineBuffer b(16);
  for (int i = 0; i < 100000; ++i) {
    b.append("0123456789\n");
    ASSERT_EQ(b.next_line(), "0123456789");
  }
  EXPECT_FALSE(b.overflowed());
}

class ApiSocketPair : public ::testing::Test {
 protected:
  void SetUp() override {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
    server_.reset(sv[0]);
    client_.reset(sv[1]);
  }
  UniqueFd server_;
  UniqueFd client_;
};

TEST_F(ApiSocketPair, FdsTravelWithTheirBytes) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  UniqueFd rd(p[0]);
  UniqueFd wr(p[1]);
  std::array<int, 3> fds{wr.get(), wr.get(), rd.get()};
  ASSERT_TRUE(send_all(client_.get(), "line\n", fds).ok());
  std::string data;
  std::vector<UniqueFd> got;
  auto n = recv_some(server_.get(), data, got, 1024);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(data, "line\n");
  ASSERT_EQ(got.size(), 3U);
  EXPECT_EQ(::fcntl(got[0].get(), F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  ASSERT_EQ(::write(got[0].get(), "x", 1), 1);
  char c = 0;
  ASSERT_EQ(::read(rd.get(), &c, 1), 1);
  EXPECT_EQ(c, 'x');
}

TEST_F(ApiSocketPair, RecvReportsEagainAndEof) {
  std::string data;
  std::vector<UniqueFd> fds;
  auto empty = recv_some(server_.get(), data, fds, 16);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, EAGAIN);
  client_.reset();
  auto eof = recv_some(server_.get(), data, fds, 16);
  ASSERT_TRUE(eof.ok());
  EXPECT_EQ(*eof, 0U);
}

TEST_F(ApiSocketPair, TooManyFdsAreRefused) {
  std::vector<int> many(kMaxFdsPerMessage + 1, 0);
  EXPECT_FALSE(send_all(client_.get(), "x\n", many).ok());
}

ConnectionLimits small_limits() {
  return ConnectionLimits{/*max_line=*/32, /*max_output=*/64, /*max_pending_fds=*/3,
                          /*read_budget=*/1024};
}

TEST_F(ApiSocketPair, ConnectionReadsLinesAndKeepsFdsInOrder) {
  Connection c(1, std::move(server_), PeerCredentials{}, small_limits());
  std::array<int, 3> fds{0, 1, 2};
  ASSERT_TRUE(send_all(client_.get(), "a\nb", fds).ok());
  EXPECT_EQ(c.read_available(), Connection::ReadOutcome::kOpen);
  EXPECT_EQ(c.next_line(), "a");
  EXPECT_FALSE(c.next_line().has_value());
  EXPECT_EQ(c.pending_fds(), 3U);
  auto taken = c.take_fds(2);
  EXPECT_EQ(taken.size(), 2U);
  EXPECT_EQ(c.pending_fds(), 1U);
  ASSERT_TRUE(send_all(client_.get(), "\n").ok());
  EXPECT_EQ(c.read_available(), Connection::ReadOutcome::kOpen);
  EXPECT_EQ(c.next_line(), "b");
  client_.reset();
  EXPECT_EQ(c.read_available(), Connection::ReadOutcome::kEof);
}

TEST_F(ApiSocketPair, ConnectionRefusesHoardedFds) {
  Connection c(1, std::move(server_), PeerCredentials{}, small_limits());
  std::array<int, 3> fds{0, 1, 2};
  ASSERT_TRUE(send_all(client_.get(), "a\n", fds).ok());
  ASSERT_TRUE(send_all(client_.get(), "b\n", fds).ok());
  EXPECT_EQ(c.read_available(), Connection::ReadOutcome::kTooMany);
}

TEST_F(ApiSocketPair, ConnectionStopsAtAnOversizeLine) {
  Connection c(1, std::move(server_), PeerCredentials{}, small_limits());
  ASSERT_TRUE(send_all(client_.get(), std::string(100, 'x')).ok());
  EXPECT_EQ(c.read_available(), Connection::ReadOutcome::kOpen);
  EXPECT_FALSE(c.next_line().has_value());
  EXPECT_TRUE(c.overflowed());
}

TEST_F(ApiSocketPair, ConnectionBoundsUnsentOutput) {
  // A peer that never reads: fill the socket buffer, then the output bound.
  ASSERT_EQ(::shutdown(client_.get(), SHUT_WR), 0);
  Connection c(1, std::move(server_), PeerCredentials{}, small_limits());
  std::string line(16, 'y');
  size_t queued = 0;
  for (int i = 0; i < 1000000 && c.queue(line); ++i) {
    ASSERT_TRUE(c.flush());
    queued += line.size();
  }
  EXPECT_GT(queued, 0U);
  EXPECT_LE(c.unsent(), 64U);
  EXPECT_FALSE(c.queue(std::string(65, 'z')));
}

TEST_F(ApiSocketPair, ConnectionFlushFailsWhenThePeerIsGone) {
  Connection c(1, std::move(server_), PeerCredentials{}, small_limits());
  client_.reset();
  ASSERT_TRUE(c.queue("hello\n"));
  EXPECT_FALSE(c.flush());
}

}  // namespace
}  // namespace bulkhead::api
