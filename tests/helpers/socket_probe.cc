// socket_probe: creates sockets and reports how each attempt ended, so a test
// can check the socket-family rules from inside a real sandbox.
//
//   socket_probe <family>:<type>...     e.g. unix:stream inet:dgram packet:raw
//   socket_probe @<name>                connect a unix stream socket to the
//                                       abstract address <name>
//
// Prints "<argument>=<errno>" per argument on one line (0: created, or
// connected). Families: unix, inet, inet6, netlink, packet, alg. Types:
// stream, dgram, raw. Self-contained on purpose: static, libc only.
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace {

int family_of(const char* s, size_t n) {
  struct {
    const char* name;
    int family;
  } const kFamilies[] = {{"unix", AF_UNIX},       {"inet", AF_INET},     {"inet6", AF_INET6},
                         {"netlink", AF_NETLINK}, {"packet", AF_PACKET}, {"alg", AF_ALG}};
  for (const auto& f : kFamilies) {
    if (strlen(f.name) == n && strncmp(s, f.name, n) == 0) {
      return f.family;
    }
  }
  return -1;
}

int type_of(const char* s) {
  if (strcmp(s, "stream") == 0) {
    return SOCK_STREAM;
  }
  if (strcmp(s, "dgram") == 0) {
    return SOCK_DGRAM;
  }
  if (strcmp(s, "raw") == 0) {
    return SOCK_RAW;
  }
  return -1;
}

// 0 when a unix stream socket connects to the abstract address `name`, else errno.
int connect_abstract(const char* name) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  const size_t len = strlen(name);
  if (len + 1 > sizeof(sa.sun_path)) {
    return ENAMETOOLONG;
  }
  memcpy(sa.sun_path + 1, name, len);  // sun_path[0] stays 0: the abstract namespace
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return errno;
  }
  const auto size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + len);
  int err = connect(fd, reinterpret_cast<sockaddr*>(&sa), size) == 0 ? 0 : errno;
  close(fd);
  return err;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] == '@') {
      printf("%s%s=%d", i > 1 ? " " : "", argv[i], connect_abstract(argv[i] + 1));
      continue;
    }
    const char* colon = strchr(argv[i], ':');
    int family = colon != nullptr ? family_of(argv[i], static_cast<size_t>(colon - argv[i])) : -1;
    int type = colon != nullptr ? type_of(colon + 1) : -1;
    if (family < 0 || type < 0) {
      (void)fprintf(stderr, "socket_probe: bad argument %s\n", argv[i]);
      return 2;
    }
    // Raw IP sockets need a protocol; ICMP is the harmless one.
    int protocol = type == SOCK_RAW && (family == AF_INET || family == AF_INET6)
                       ? (family == AF_INET ? int{IPPROTO_ICMP} : int{IPPROTO_ICMPV6})
                       : 0;
    int fd = socket(family, type | SOCK_CLOEXEC, protocol);
    int err = fd >= 0 ? 0 : errno;
    if (fd >= 0) {
      close(fd);
    }
    printf("%s%s=%d", i > 1 ? " " : "", argv[i], err);
  }
  printf("\n");
  return 0;
}
