// Who may use the control API: the decision as a pure function, and the
// parsing of /proc/<pid>/status groups used when SO_PEERGROUPS is missing.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/peer_cred.h"
#include "common/unique_fd.h"

namespace bulkhead::api {
namespace {

constexpr gid_t kBulkhead = 977;

TEST(ApiPeerCred, RootIsAlwaysAllowed) {
  EXPECT_TRUE(peer_allowed(0, 0, {}, std::nullopt));
  EXPECT_TRUE(peer_allowed(0, 1000, {}, kBulkhead));
}

TEST(ApiPeerCred, WithoutTheGroupOnlyRoot) {
  EXPECT_FALSE(peer_allowed(1000, kBulkhead, {kBulkhead}, std::nullopt));
}

TEST(ApiPeerCred, PrimaryOrSupplementaryGroupAllows) {
  EXPECT_TRUE(peer_allowed(1000, kBulkhead, {}, kBulkhead));
  EXPECT_TRUE(peer_allowed(1000, 1000, {4, 24, kBulkhead}, kBulkhead));
}

TEST(ApiPeerCred, OtherUsersAreRefused) {
  EXPECT_FALSE(peer_allowed(1000, 1000, {4, 24}, kBulkhead));
  EXPECT_FALSE(peer_allowed(65534, 65534, {}, kBulkhead));
  // A gid that only looks close (off by one) is not membership.
  EXPECT_FALSE(peer_allowed(1000, kBulkhead + 1, {kBulkhead - 1}, kBulkhead));
}

TEST(ApiPeerCred, ParsesStatusGroups) {
  const std::string status =
      "Name:\tbash\nUid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n"
      "FDSize:\t256\nGroups:\t4 24 27 977 \nNStgid:\t1\n";
  auto g = parse_status_groups(status);
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(*g, (std::vector<gid_t>{4, 24, 27, 977}));
}

TEST(ApiPeerCred, EmptyGroupsLine) {
  auto g = parse_status_groups("Name:\tx\nGroups:\t\nPid:\t1\n");
  ASSERT_TRUE(g.has_value());
  EXPECT_TRUE(g->empty());
}

TEST(ApiPeerCred, MissingOrMalformedGroupsLine) {
  EXPECT_FALSE(parse_status_groups("Name:\tx\n").has_value());
  EXPECT_FALSE(parse_status_groups("Groups:\t4 x 5\n").has_value());
  EXPECT_FALSE(parse_status_groups("Groups:\t99999999999999999999\n").has_value());
}

TEST(ApiPeerCred, ReadsOwnCredentialsOverASocketpair) {
  int sv[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd a(sv[0]);
  UniqueFd b(sv[1]);
  auto peer = read_peer_credentials(a.get());
  ASSERT_TRUE(peer.ok()) << peer.error().to_string();
  EXPECT_EQ(peer->pid, ::getpid());
  EXPECT_EQ(peer->uid, ::geteuid());
  EXPECT_EQ(peer->gid, ::getegid());
  EXPECT_TRUE(peer->groups_known);
  std::vector<gid_t> mine(static_cast<size_t>(::getgroups(0, nullptr)));
  ASSERT_EQ(::getgroups(static_cast<int>(mine.size()), mine.data()), static_cast<int>(mine.size()));
  std::sort(mine.begin(), mine.end());
  auto theirs = peer->groups;
  std::sort(theirs.begin(), theirs.end());
  EXPECT_EQ(theirs, mine);
}

TEST(ApiPeerCred, LooksUpGroups) {
  EXPECT_EQ(lookup_group("root"), 0U);
  EXPECT_FALSE(lookup_group("no-such-group-bulkhead-test").has_value());
}

}  // namespace
}  // namespace bulkhead::api
