#include "isolation/tenant_namespaces.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "common/file_util.h"

namespace bulkhead::isolation {
namespace {

// Runs in the short-lived child that creates the namespaces; syscalls only.
int bring_up_loopback() {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    return -errno;
  }
  struct ifreq ifr {};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  int rc = ::ioctl(s, SIOCGIFFLAGS, &ifr);
  if (rc == 0) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    rc = ::ioctl(s, SIOCSIFFLAGS, &ifr);
  }
  int err = rc == 0 ? 0 : -errno;
  ::close(s);
  return err;
}

// Child protocol: wait for the parent to write the id maps, configure the new
// namespaces, report one int (0 or -errno), then wait until the parent has
// opened the nsfs files (it closes the pipe) and exit.
[[noreturn]] void namespace_child(int go_fd, int report_fd, int flags, const char* hostname) {
  char byte = 0;
  int result = 0;
  if (::unshare(flags) != 0) {
    result = -errno;
  }
  // Tell the parent the namespaces exist (or why not) so it can write the maps.
  if (::write(report_fd, &result, sizeof(result)) != sizeof(result) || result != 0) {
    _exit(1);
  }
  if (::read(go_fd, &byte, 1) != 1) {
    _exit(1);
  }
  if ((flags & CLONE_NEWUTS) != 0 && ::sethostname(hostname, std::strlen(hostname)) != 0) {
    result = -errno;
  }
  if (result == 0 && (flags & CLONE_NEWNET) != 0) {
    result = bring_up_loopback();
  }
  if (::write(report_fd, &result, sizeof(result)) != sizeof(result)) {
    _exit(1);
  }
  (void)::read(go_fd, &byte, 1);  // EOF: the parent holds the namespaces now
  _exit(0);
}

Result<int> read_report(int fd, const char* what) {
  int value = 0;
  ssize_t n = ::read(fd, &value, sizeof(value));
  if (n != sizeof(value)) {
    return make_error(std::string("namespace helper exited before ") + what);
  }
  if (value < 0) {
    return Error{-value, what};
  }
  return value;
}

Result<UniqueFd> open_ns(pid_t pid, const char* name) {
  std::string path = "/proc/" + std::to_string(pid) + "/ns/" + name;
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    return errno_error("open " + path);
  }
  return fd;
}

}  // namespace

Result<std::unique_ptr<TenantNamespaces>> TenantNamespaces::create(const config::IdRange& ids,
                                                                   const std::string& hostname,
                                                                   const config::Namespaces& ns) {
  int flags = CLONE_NEWUSER | CLONE_NEWIPC;
  if (ns.net) {
    flags |= CLONE_NEWNET;
  }
  if (ns.uts) {
    flags |= CLONE_NEWUTS;
  }
  int go[2];
  int report[2];
  if (::pipe2(go, O_CLOEXEC) != 0) {
    return errno_error("pipe");
  }
  UniqueFd go_read(go[0]);
  UniqueFd go_write(go[1]);
  if (::pipe2(report, O_CLOEXEC) != 0) {
    return errno_error("pipe");
  }
  UniqueFd report_read(report[0]);
  UniqueFd report_write(report[1]);

  pid_t pid = ::fork();
  if (pid < 0) {
    return errno_error("fork namespace helper");
  }
  if (pid == 0) {
    go_write.reset();
    report_read.reset();
    namespace_child(go_read.get(), report_write.get(), flags, hostname.c_str());
  }
  go_read.reset();
  report_write.reset();

  // Whatever happens below, the helper is told to exit and is reaped.
  auto reap = [&go_write, pid] {
    go_write.reset();
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  };

  auto created = read_report(report_read.get(), "creating the tenant's namespaces");
  if (!created.ok()) {
    reap();
    return created.error();
  }
  // The map is written by the (privileged) parent, which keeps setgroups allowed
  // inside; the sandbox clears supplementary groups itself.
  std::string map = "0 " + std::to_string(ids.base) + " " + std::to_string(ids.count) + "\n";
  std::string proc = "/proc/" + std::to_string(pid);
  auto uid_map = write_file(proc + "/uid_map", map);
  auto gid_map = uid_map.ok() ? write_file(proc + "/gid_map", map) : uid_map;
  if (!gid_map.ok()) {
    reap();
    return gid_map.error().context("mapping tenant ids " + std::to_string(ids.base) + "+" +
                                   std::to_string(ids.count));
  }
  char go_byte = 1;
  if (::write(go_write.get(), &go_byte, 1) != 1) {
    Error e = errno_error("waking namespace helper");
    reap();
    return e;
  }
  auto configured = read_report(report_read.get(), "setting hostname and loopback");
  if (!configured.ok()) {
    reap();
    return configured.error();
  }

  std::unique_ptr<TenantNamespaces> out(new TenantNamespaces());
  out->ids_ = ids;
  auto user = open_ns(pid, "user");
  Result<UniqueFd> net = UniqueFd();
  if (ns.net) {
    net = open_ns(pid, "net");
  }
  auto ipc = open_ns(pid, "ipc");
  Result<UniqueFd> uts = UniqueFd();
  if (ns.uts) {
    uts = open_ns(pid, "uts");
  }
  reap();
  for (auto* r : {&user, &net, &ipc, &uts}) {
    if (!r->ok()) {
      return r->error();
    }
  }
  out->user_ = std::move(*user);
  out->net_ = std::move(*net);
  out->ipc_ = std::move(*ipc);
  out->uts_ = std::move(*uts);
  return out;
}

}  // namespace bulkhead::isolation
