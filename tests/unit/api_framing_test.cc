// Line framing (partial lines, several lines per read, the size bound) and the
// server's per-connection buffering, over socketpairs: no root needed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <array>
#include <string>
#include <vector>

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
  return ConnectionLimits{/*max_line=*/32, /*max_output=*/64, /*read_budget=*/1024};
}

TEST_F(ApiSocketPair, ConnectionReadsLines) {
  Connection c(1, std::move(server_), PeerCredentials{}, small_limits());
  ASSERT_TRUE(send_all(client_.get(), "a\nb").ok());
  EXPECT_EQ(c.read_available(), Connection::ReadOutcome::kOpen);
  EXPECT_EQ(c.next_line(), "a");
  EXPECT_FALSE(c.next_line().has_value());
  ASSERT_TRUE(send_all(client_.get(), "\n").ok());
  EXPECT_EQ(c.read_available(), Connection::ReadOutcome::kOpen);
  EXPECT_EQ(c.next_line(), "b");
  client_.reset();
  EXPECT_EQ(c.read_available(), Connection::ReadOutcome::kEof);
}

// A client's descriptors are never taken (so none can be handed to a tenant):
// any that come end the connection, and are closed at once.
TEST_F(ApiSocketPair, ConnectionRefusesDescriptors) {
  Connection c(1, std::move(server_), PeerCredentials{}, small_limits());
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  UniqueFd rd(p[0]);
  UniqueFd wr(p[1]);
  std::array<int, 1> fds{wr.get()};
  ASSERT_TRUE(send_all(client_.get(), "a\n", fds).ok());
  wr.reset();
  EXPECT_EQ(c.read_available(), Connection::ReadOutcome::kDescriptors);
  char byte = 0;
  EXPECT_EQ(::read(rd.get(), &byte, 1), 0);  // no copy of the write end is left
}

// Descriptors queued with a line leave with that line's first byte: a reader
// that reads line by line gets them with that line, not before.
TEST_F(ApiSocketPair, ConnectionSendsDescriptorsWithTheirLine) {
  ConnectionLimits limits = small_limits();
  limits.max_output = 1024;
  Connection c(1, std::move(server_), PeerCredentials{}, limits);
  // Sent and compacted first, so the attachment's offset must survive that.
  ASSERT_TRUE(c.queue(std::string(20, 'x') + "\n"));
  ASSERT_TRUE(c.flush());
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  UniqueFd rd(p[0]);
  std::vector<UniqueFd> attached;
  attached.emplace_back(p[1]);
  ASSERT_TRUE(c.queue("one\n"));
  ASSERT_TRUE(c.queue("two\n", std::move(attached)));
  ASSERT_TRUE(c.queue("three\n"));
  ASSERT_TRUE(c.flush());
  EXPECT_EQ(c.unsent(), 0U);
  std::string data;
  std::vector<UniqueFd> fds;
  ASSERT_TRUE(recv_some(client_.get(), data, fds, 21).ok());
  ASSERT_TRUE(recv_some(client_.get(), data, fds, 4).ok());
  EXPECT_EQ(data, std::string(20, 'x') + "\none\n");
  EXPECT_TRUE(fds.empty());
  ASSERT_TRUE(recv_some(client_.get(), data, fds, 4).ok());
  EXPECT_EQ(data.substr(25), "two\n");
  ASSERT_EQ(fds.size(), 1U);
  ASSERT_EQ(::write(fds[0].get(), "!", 1), 1);
  char byte = 0;
  ASSERT_EQ(::read(rd.get(), &byte, 1), 1);
  EXPECT_EQ(byte, '!');
  ASSERT_TRUE(recv_some(client_.get(), data, fds, 64).ok());
  EXPECT_EQ(data.substr(29), "three\n");
  EXPECT_EQ(fds.size(), 1U);
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
