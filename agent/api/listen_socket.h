// The agent's listening socket, created so that only root and the access group
// can reach it and so that two agents can never share one path.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace bulkhead::api {

// Bound, listening, non-blocking; removed from the file system on destruction
// only if the path still names this socket (not a successor's).
class ListeningSocket {
 public:
  // - The parent directory is created 0750 (root:group, or root:root without a
  //   group) when missing; an existing one is left as its owner set it.
  // - An existing socket file is replaced only when nobody listens on it
  //   (connect() is refused); a live one means "another agent is using PATH".
  //   Anything other than a socket at PATH is never removed.
  // - The socket is bound under a temporary name, given mode 0660 root:group
  //   (0600 root:root without a group), and only then renamed onto PATH, so no
  //   one can connect while its mode is still the umask's.
  static Result<ListeningSocket> create(const std::string& path, std::optional<gid_t> group,
                                        int backlog);
  ListeningSocket(ListeningSocket&& other) noexcept;
  ListeningSocket& operator=(ListeningSocket&& other) noexcept;
  ListeningSocket(const ListeningSocket&) = delete;
  ListeningSocket& operator=(const ListeningSocket&) = delete;
  ~ListeningSocket();

  [[nodiscard]] int fd() const { return fd_.get(); }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  ListeningSocket() = default;
  void unlink_if_ours();

  UniqueFd fd_;
  std::string path_;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

}  // namespace bulkhead::api
