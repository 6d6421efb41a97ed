// Who is on the other end of an API connection, and may they use it. Zero
// standing access: only root and members of the access group (`bulkhead`) may
// talk to the agent; the socket's mode says the same, this is the second lock.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace bulkhead::api {

struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups
  bool groups_known = false;  // false when neither SO_PEERGROUPS nor /proc could tell
};

// The decision alone, without the kernel: root always; otherwise only when the
// access group exists and is the peer's primary or a supplementary group.
bool peer_allowed(uid_t uid, gid_t gid, const std::vector<gid_t>& groups,
                  std::optional<gid_t> access_gid);
inline bool peer_allowed(const PeerCredentials& peer, std::optional<gid_t> access_gid) {
  return peer_allowed(peer.uid, peer.gid, peer.groups, access_gid);
}

// SO_PEERCRED, then the supplementary groups as they were at connect() time
// (SO_PEERGROUPS); on kernels without it, the Groups: line of /proc/<pid>/status.
Result<PeerCredentials> read_peer_credentials(int sock);

// Parses the "Groups:" line of a /proc/<pid>/status text; nullopt when absent.
std::optional<std::vector<gid_t>> parse_status_groups(std::string_view status_text);

// The gid of a group by name, nullopt when no such group exists.
std::optional<gid_t> lookup_group(const std::string& name);

}  // namespace bulkhead::api
