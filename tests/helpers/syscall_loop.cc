// syscall_loop: a syscall-heavy loop for the event-stream overhead benchmark,
// run inside a tenant. Prints the mean nanoseconds per iteration.
//
//   syscall_loop open N PATH       N x open(PATH, O_RDONLY) + close
//   syscall_loop open-write N PATH N x open(PATH, O_WRONLY) + close
//   syscall_loop exec N            N x fork + execve(self, "noop") + wait
//   syscall_loop noop              exit at once (the exec'd child)
//
// Exit 0 on success, 1 when a call fails, 2 on a usage error. Static, libc only.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace {

long long now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int open_loop(long n, const char* path, int flags) {
  int fd = open(path, O_WRONLY | O_CREAT, 0644);  // make sure it exists
  if (fd < 0) {
    perror("create");
    return 1;
  }
  close(fd);
  long long start = now_ns();
  for (long i = 0; i < n; ++i) {
    fd = open(path, flags);
    if (fd < 0) {
      perror("open");
      return 1;
    }
    close(fd);
  }
  (void)printf("%.1f\n", static_cast<double>(now_ns() - start) / static_cast<double>(n));
  return 0;
}

int exec_loop(long n, const char* self) {
  long long start = now_ns();
  for (long i = 0; i < n; ++i) {
    pid_t pid = fork();
    if (pid < 0) {
      perror("fork");
      return 1;
    }
    if (pid == 0) {
      char* args[] = {const_cast<char*>(self), const_cast<char*>("noop"), nullptr};
      execve(self, args, environ);
      _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      (void)fprintf(stderr, "child failed\n");
      return 1;
    }
  }
  (void)printf("%.1f\n", static_cast<double>(now_ns() - start) / static_cast<double>(n));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && strcmp(argv[1], "noop") == 0) {
    return 0;
  }
  if (argc == 4 && strcmp(argv[1], "open") == 0) {
    return open_loop(atol(argv[2]), argv[3], O_RDONLY);
  }
  if (argc == 4 && strcmp(argv[1], "open-write") == 0) {
    return open_loop(atol(argv[2]), argv[3], O_WRONLY);
  }
  if (argc == 3 && strcmp(argv[1], "exec") == 0) {
    return exec_loop(atol(argv[2]), argv[0]);
  }
  (void)fprintf(stderr, "usage: syscall_loop open|open-write N PATH | exec N | noop\n");
  return 2;
}
