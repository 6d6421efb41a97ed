// event_actions: performs one security-relevant action inside a sandbox, so a
// kernel test can check that exactly the matching event arrives.
//
//   event_actions <action> [args...]
//
//   noop                 nothing (the exec itself is the action)
//   spawn                fork, and exec "event_actions noop" in the child
//   write PATH           open(PATH, O_WRONLY|O_CREAT|O_TRUNC, 0640)
//   read PATH            open(PATH, O_RDONLY); a missing file is fine
//   writes N PATH        N write opens of PATH, as fast as possible
//   unlink PATH          create PATH, then unlink it
//   rename OLD NEW       create OLD, then rename it to NEW
//   chmod PATH MODE      create PATH, then chmod it to MODE (octal)
//   net PORT             listen on 127.0.0.1:PORT, connect to it, accept
//   setuid UID           setuid(UID)
//   ptrace               ptrace(PTRACE_TRACEME)
//   unshare              unshare(CLONE_NEWNS)
//   mount                mount("none", "/tmp", "tmpfs", MS_NOSUID, NULL)
//   memfd-exec           copy this binary into a memfd and execveat it ("noop")
//
// Prints "<action> result=<return value> errno=<n>" and exits 0 whether or not
// the call succeeded: the tests look at the events, not at the outcome. Exit 2
// on a usage error. Self-contained on purpose: static, libc only.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

int report(const char* action, long ret) {
  (void)printf("%s result=%ld errno=%d\n", action, ret, ret < 0 ? errno : 0);
  return 0;
}

void touch(const char* path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd >= 0) {
    close(fd);
  }
}

int do_net(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (server < 0 || client < 0) {
    return report("socket", -1);
  }
  int one = 1;
  setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return report("bind", -1);
  }
  if (listen(server, 4) != 0) {
    return report("listen", -1);
  }
  if (connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return report("connect", -1);
  }
  int conn = accept(server, nullptr, nullptr);
  report("net", conn);
  close(conn);
  close(client);
  close(server);
  return 0;
}

int do_memfd_exec(const char* self) {
  int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  int mem = static_cast<int>(syscall(SYS_memfd_create, "payload", MFD_CLOEXEC));
  if (src < 0 || mem < 0) {
    return report("memfd_create", -1);
  }
  char buf[65536];
  ssize_t n;
  while ((n = read(src, buf, sizeof(buf))) > 0) {
    if (write(mem, buf, static_cast<size_t>(n)) != n) {
      return report("write", -1);
    }
  }
  close(src);
  char* argv[] = {const_cast<char*>(self), const_cast<char*>("noop"), nullptr};
  // Only returns on failure.
  long ret = syscall(SYS_execveat, mem, "", argv, environ, AT_EMPTY_PATH);
  return report("execveat", ret);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    (void)fprintf(stderr, "usage: event_actions <action> [args...]\n");
    return 2;
  }
  const char* action = argv[1];
  auto need = [&](int n) {
    if (argc < 2 + n) {
      (void)fprintf(stderr, "%s: needs %d argument(s)\n", action, n);
      exit(2);
    }
  };
  if (strcmp(action, "noop") == 0) {
    return report(action, 0);
  }
  if (strcmp(action, "spawn") == 0) {
    pid_t pid = fork();
    if (pid == 0) {
      char* args[] = {argv[0], const_cast<char*>("noop"), nullptr};
      execve("/proc/self/exe", args, environ);
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return report(action, pid);
  }
  if (strcmp(action, "write") == 0) {
    need(1);
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0640);
    report(action, fd);
    return fd >= 0 ? close(fd) : 0;
  }
  if (strcmp(action, "read") == 0) {
    need(1);
    int fd = open(argv[2], O_RDONLY);
    report(action, fd);
    return fd >= 0 ? close(fd) : 0;
  }
  if (strcmp(action, "writes") == 0) {
    need(2);
    long count = strtol(argv[2], nullptr, 10);
    for (long i = 0; i < count; ++i) {
      int fd = open(argv[3], O_WRONLY | O_CREAT, 0640);
      if (fd >= 0) {
        close(fd);
      }
    }
    return report(action, count);
  }
  if (strcmp(action, "unlink") == 0) {
    need(1);
    touch(argv[2]);
    return report(action, unlink(argv[2]));
  }
  if (strcmp(action, "rename") == 0) {
    need(2);
    touch(argv[2]);
    return report(action, rename(argv[2], argv[3]));
  }
  if (strcmp(action, "chmod") == 0) {
    need(2);
    touch(argv[2]);
    return report(action, chmod(argv[2], static_cast<mode_t>(strtol(argv[3], nullptr, 8))));
  }
  if (strcmp(action, "net") == 0) {
    need(1);
    return do_net(atoi(argv[2]));
  }
  if (strcmp(action, "setuid") == 0) {
    need(1);
    return report(action, syscall(SYS_setuid, atoi(argv[2])));
  }
  if (strcmp(action, "ptrace") == 0) {
    return report(action, ptrace(PTRACE_TRACEME, 0, nullptr, nullptr));
  }
  if (strcmp(action, "unshare") == 0) {
    return report(action, unshare(CLONE_NEWNS));
  }
  if (strcmp(action, "mount") == 0) {
    return report(action, mount("none", "/tmp", "tmpfs", MS_NOSUID, nullptr));
  }
  if (strcmp(action, "memfd-exec") == 0) {
    return do_memfd_exec(argv[0]);
  }
  (void)fprintf(stderr, "unknown action: %s\n", action);
  return 2;
}
