// Test helper: forks up to N children that wait, stops at the first fork that
// fails, prints how many it got, then ends them. Exit 0 when fork failed with
// EAGAIN (a pids limit), 1 when all N forks succeeded, 2 on other errors.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  long max = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 1000;
  int got = 0;
  int err = 0;
  for (long i = 0; i < max; ++i) {
    pid_t pid = fork();
    if (pid < 0) {
      err = errno;
      break;
    }
    if (pid == 0) {
      pause();
      _exit(0);
    }
    ++got;
  }
  std::printf("%d\n", got);
  (void)std::fflush(stdout);
  (void)signal(SIGTERM, SIG_IGN);
  kill(0, SIGTERM);
  while (wait(nullptr) > 0) {
  }
  if (err == EAGAIN) {
    return 0;
  }
  return err == 0 ? 1 : 2;
}
