// syscall_loop: a syscall-heavy loop for the event-stream overhead benchmark,
// run inside a tenant. Prints the mean nanoseconds per iteration.
//
//   syscall_loop open N PATH       N x open(PATH, O_RDONLY) + close
//   syscall_loop open-write N PATH N x open(PATH, O_WRONLY) + close
//   syscall_loop exec N            N x fork + execve(self, "noop") + wait
//   syscall_loop noop              exit at once (the exec'd child)
//   syscall_loop unlink-rate RATE SECONDS START
//       unlink(2) of a missing file (one event each, the call fails with
//       ENOENT after a short lookup) at RATE calls per second (0: as fast as
//       it can) for SECONDS, starting at START (CLOCK_REALTIME, ns since the
//       epoch, so several generators start together). Prints "CALLS NS":
//       the calls made and the nanoseconds they took.
//
// Exit 0 on success, 1 when a call fails, 2 on a usage error. Static, libc only.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace {

long long clock_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

long long now_ns() { return clock_ns(CLOCK_MONOTONIC); }

void sleep_until(clockid_t clock, long long ns) {
  timespec ts{};
  ts.tv_sec = ns / 1000000000LL;
  ts.tv_nsec = ns % 1000000000LL;
  while (clock_nanosleep(clock, TIMER_ABSTIME, &ts, nullptr) != 0) {
  }
}

// Paced in batches of about a millisecond's worth of calls: checking the clock
// after every call would cost as much as the call.
int unlink_rate(double rate, double seconds, long long start_realtime) {
  sleep_until(CLOCK_REALTIME, start_realtime);
  const long long start = now_ns();
  const long long end = start + static_cast<long long>(seconds * 1e9);
  const long batch = rate > 0 ? (rate >= 1000 ? static_cast<long>(rate / 1000) : 1) : 256;
  long long calls = 0;
  long long now = start;
  while (now < end) {
    for (long i = 0; i < batch; ++i) {
      if (unlink("/tmp/missing") == 0 || errno != ENOENT) {
        perror("unlink");
        return 1;
      }
    }
    calls += batch;
    if (rate > 0) {
      const long long due = start + static_cast<long long>(static_cast<double>(calls) / rate * 1e9);
      if (due > end) {
        sleep_until(CLOCK_MONOTONIC, end);
      } else if (due > now_ns()) {
        sleep_until(CLOCK_MONOTONIC, due);
      }
    }
    now = now_ns();
  }
  (void)printf("%lld %lld\n", calls, now - start);
  return 0;
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
  if (argc == 5 && strcmp(argv[1], "unlink-rate") == 0) {
    return unlink_rate(atof(argv[2]), atof(argv[3]), atoll(argv[4]));
  }
  (void)fprintf(stderr,
                "usage: syscall_loop open|open-write N PATH | exec N | noop |"
                " unlink-rate RATE SECONDS START\n");
  return 2;
}
