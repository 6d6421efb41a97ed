#include "api/peer_cred.h"

#include <grp.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>

#include "common/file_util.h"

namespace bulkhead::api {

bool peer_allowed(uid_t uid, gid_t gid, const std::vector<gid_t>& groups,
                  std::optional<gid_t> access_gid) {
  if (uid == 0) {
    return true;
  }
  if (!access_gid) {
    return false;
  }
  return gid == *access_gid || std::find(groups.begin(), groups.end(), *access_gid) != groups.end();
}

std::optional<std::vector<gid_t>> parse_status_groups(std::string_view status_text) {
  size_t pos = 0;
  while (pos < status_text.size()) {
    size_t eol = status_text.find('\n', pos);
    std::string_view line =
        status_text.substr(pos, eol == std::string_view::npos ? std::string_view::npos : eol - pos);
    pos = eol == std::string_view::npos ? status_text.size() : eol + 1;
    constexpr std::string_view kKey = "Groups:";
    if (line.substr(0, kKey.size()) != kKey) {
      continue;
    }
    std::vector<gid_t> groups;
    line.remove_prefix(kKey.size());
    while (!line.empty()) {
      size_t start = line.find_first_not_of(" \t");
      if (start == std::string_view::npos) {
        break;
      }
      line.remove_prefix(start);
      gid_t g = 0;
      auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), g);
      if (ec != std::errc()) {
        return std::nullopt;  // malformed: trust nothing from it
      }
      groups.push_back(g);
      line.remove_prefix(static_cast<size_t>(end - line.data()));
    }
    return groups;
  }
  return std::nullopt;
}

Result<PeerCredentials> read_peer_credentials(int sock) {
  struct ucred cred {};
  socklen_t len = sizeof(cred);
  if (::getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return errno_error("getsockopt(SO_PEERCRED)");
  }
  PeerCredentials peer;
  peer.pid = cred.pid;
  peer.uid = cred.uid;
  peer.gid = cred.gid;

  // SO_PEERGROUPS reports the groups of the connecting credentials, which a
  // later setgroups() or a recycled pid cannot change; /proc is the fallback.
  std::vector<gid_t> groups(64);
  for (int attempt = 0; attempt < 3; ++attempt) {
    socklen_t glen = static_cast<socklen_t>(groups.size() * sizeof(gid_t));
    if (::getsockopt(sock, SOL_SOCKET, SO_PEERGROUPS, groups.data(), &glen) == 0) {
      groups.resize(glen / sizeof(gid_t));
      peer.groups = std::move(groups);
      peer.groups_known = true;
      return peer;
    }
    if (errno != ERANGE) {
      break;
    }
    groups.resize(glen / sizeof(gid_t) + 1);  // the kernel said how much it needs
  }
  if (peer.pid > 0) {
    auto status = read_file("/proc/" + std::to_string(peer.pid) + "/status");
    if (status.ok()) {
      if (auto g = parse_status_groups(*status)) {
        peer.groups = std::move(*g);
        peer.groups_known = true;
      }
    }
  }
  return peer;
}

std::optional<gid_t> lookup_group(const std::string& name) {
  struct group grp {};
  struct group* found = nullptr;
  std::vector<char> buf(4096);
  for (;;) {
    int rc = ::getgrnam_r(name.c_str(), &grp, buf.data(), buf.size(), &found);
    if (rc == ERANGE && buf.size() < (1U << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc != 0 || found == nullptr) {
      return std::nullopt;
    }
    return found->gr_gid;
  }
}

}  // namespace bulkhead::api
