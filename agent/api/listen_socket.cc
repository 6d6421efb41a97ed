#include "api/listen_socket.h"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstring>
#include <filesystem>

#include "common/file_util.h"
#include "common/scope_exit.h"

namespace bulkhead::api {
namespace {

Result<sockaddr_un> unix_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return make_error("socket path '" + path + "' must be 1 to " +
                      std::to_string(sizeof(addr.sun_path) - 1) + " bytes long");
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

Status ensure_parent_dir(const std::string& path, std::optional<gid_t> group) {
  std::string parent = std::filesystem::path(path).parent_path().string();
  if (parent.empty()) {
    return {};
  }
  struct stat st {};
  if (::stat(parent.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return make_error(parent + " is not a directory");
    }
    return {};
  }
  if (errno != ENOENT) {
    return errno_error("stat " + parent);
  }
  BULKHEAD_TRY(make_dirs(parent, 0750));
  // The umask may have taken bits away, and the group is what lets members in.
  if (::chmod(parent.c_str(), 0750) != 0) {
    return errno_error("chmod " + parent);
  }
  if (::chown(parent.c_str(), static_cast<uid_t>(-1), group.value_or(0)) != 0) {
    return errno_error("chown " + parent);
  }
  return {};
}

// ENOENT: nothing there. Ok: a stale socket that may be replaced.
Status check_existing(const std::string& path, const sockaddr_un& addr) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? Status{} : errno_error("lstat " + path);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return make_error(path + " exists and is not a socket; not removing it");
  }
  UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!probe) {
    return errno_error("socket");
  }
  if (::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0 ||
      errno == EAGAIN || errno == EINPROGRESS) {
    // EAGAIN: its backlog is full, which still means someone is listening.
    return make_error("another agent is using " + path);
  }
  if (errno == ECONNREFUSED || errno == ENOENT) {
    spdlog::info("replacing stale socket {}", path);
    return {};
  }
  return errno_error("probing existing socket " + path);
}

}  // namespace

Result<ListeningSocket> ListeningSocket::create(const std::string& path, std::optional<gid_t> group,
                                                int backlog) {
  auto addr = unix_address(path);
  if (!addr.ok()) {
    return addr.error();
  }
  const std::string tmp = path + "." + std::to_string(::getpid()) + ".tmp";
  auto tmp_addr = unix_address(tmp);
  if (!tmp_addr.ok()) {
    return tmp_addr.error().context("temporary name for " + path);
  }
  BULKHEAD_TRY_CTX(ensure_parent_dir(path, group), "socket directory");
  BULKHEAD_TRY(check_existing(path, *addr));

  ListeningSocket s;
  s.fd_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!s.fd_) {
    return errno_error("socket");
  }
  ::unlink(tmp.c_str());  // a leftover of a crashed agent with our pid
  if (::bind(s.fd_.get(), reinterpret_cast<const sockaddr*>(&*tmp_addr), sizeof(*tmp_addr)) != 0) {
    return errno_error("bind " + tmp);
  }
  ScopeExit remove_tmp([&tmp] { ::unlink(tmp.c_str()); });
  const mode_t mode = group ? 0660 : 0600;
  if (::chmod(tmp.c_str(), mode) != 0) {
    return errno_error("chmod " + tmp);
  }
  if (::chown(tmp.c_str(), static_cast<uid_t>(-1), group.value_or(0)) != 0) {
    return errno_error("chown " + tmp);
  }
  if (::listen(s.fd_.get(), backlog) != 0) {
    return errno_error("listen " + tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    return errno_error("rename " + tmp + " to " + path);
  }
  remove_tmp.dismiss();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return errno_error("stat " + path);
  }
  s.path_ = path;
  s.dev_ = st.st_dev;
  s.ino_ = st.st_ino;
  return s;
}

ListeningSocket::ListeningSocket(ListeningSocket&& other) noexcept
    : fd_(std::move(other.fd_)),
      path_(std::exchange(other.path_, std::string())),
      dev_(other.dev_),
      ino_(other.ino_) {}

ListeningSocket& ListeningSocket::operator=(ListeningSocket&& other) noexcept {
  if (this != &other) {
    unlink_if_ours();
    fd_ = std::move(other.fd_);
    path_ = std::exchange(other.path_, std::string());
    dev_ = other.dev_;
    ino_ = other.ino_;
  }
  return *this;
}

ListeningSocket::~ListeningSocket() { unlink_if_ours(); }

void ListeningSocket::unlink_if_ours() {
  if (path_.empty()) {
    return;
  }
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) {
    ::unlink(path_.c_str());
  }
  path_.clear();
}

}  // namespace bulkhead::api
